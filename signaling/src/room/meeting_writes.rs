//! The room's writes to its meeting's stored state, under the room's claim on the meeting.
//!
//! The room claims the meeting when it starts (or at its first write, if the database did not
//! answer then). A write that finds a later claim did not land: another room runs the meeting
//! now, so this room is deposed and hands its people over as in a move.

use tracing::warn;

use super::Room;
use crate::directory::{DirectoryError, MeetingClaim, MeetingStatus};
use crate::protocol::ParticipantId;

/// One write of the room's.
pub(super) enum MeetingWrite<'a> {
    Status(MeetingStatus),
    Lobby(bool),
    AllowGuests(bool),
    Action {
        actor: ParticipantId,
        target: Option<ParticipantId>,
        action: &'a str,
    },
}

impl Room {
    /// Takes the room's claim on the meeting unless it holds one.
    pub(super) async fn claim(&mut self) -> Result<MeetingClaim, DirectoryError> {
        if let Some(claim) = self.claim {
            return Ok(claim);
        }
        let claim = self.directory.claim_meeting(self.meeting.id).await?;
        self.claim = Some(claim);
        Ok(claim)
    }

    /// Persists `write` under the room's claim. A failure is logged; a fenced write marks
    /// the room deposed, which its loop answers by moving everyone to the owner.
    pub(super) async fn persist(&mut self, write: MeetingWrite<'_>) -> bool {
        let result = match self.claim().await {
            Ok(claim) => {
                let d = &self.directory;
                match write {
                    MeetingWrite::Status(status) => d.set_meeting_status(claim, status).await,
                    MeetingWrite::Lobby(on) => d.set_lobby(claim, on).await,
                    MeetingWrite::AllowGuests(on) => d.set_allow_guests(claim, on).await,
                    MeetingWrite::Action {
                        actor,
                        target,
                        action,
                    } => d.record_action(claim, actor, target, action).await,
                }
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => true,
            Err(DirectoryError::Fenced) => {
                warn!("another room claimed the meeting; moving its people there");
                self.deposed = true;
                false
            }
            Err(e) => {
                warn!(error = %e, "could not persist a change of the meeting");
                false
            }
        }
    }

    /// Moves everyone out if a write found the room deposed; true when it did (the room ends).
    pub(super) async fn hand_over(&mut self) -> bool {
        if !self.deposed {
            return false;
        }
        self.moved().await;
        true
    }
}
