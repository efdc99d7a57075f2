//! How a session gets a participant: admitted anew, taking over the user's participant from
//! another tab, or resuming it with its resume token.

use std::collections::HashMap;
use std::time::Instant;

use mm_sfu::PeerId;
use tokio::sync::mpsc;
use tracing::{info, warn};

use super::{JoinOutcome, Participant, Room, RoomCmd, err, new_resume_token};
use crate::directory::{AuthUser, MeetingStatus};
use crate::outbox::SessionLink;
use crate::protocol::{ErrorBody, ErrorCode, MediaState, ParticipantId, ServerMessage};

impl Room {
    /// Admits a session: a new participant, a second tab taking one over, or a resume.
    pub(super) async fn join(
        &mut self,
        user: AuthUser,
        resume_token: Option<String>,
        media: MediaState,
        session: SessionLink,
    ) -> Result<JoinOutcome, ErrorBody> {
        if self.lifecycle.status() == MeetingStatus::Ended {
            return Err(err(ErrorCode::MeetingEnded, "the meeting has ended"));
        }
        if user
            .guest_of
            .as_ref()
            .is_some_and(|c| *c != self.meeting.code)
        {
            let message = "a guest may join only the meeting of its link";
            return Err(err(ErrorCode::GuestsNotAllowed, message));
        }
        if self.moderation.banned.contains(&user.user_id) {
            return Err(err(
                ErrorCode::Removed,
                "a host removed you from this meeting",
            ));
        }
        // The same user holds at most one participant: a second session takes it over.
        let existing = self
            .participants
            .values()
            .find(|p| p.user.user_id == user.user_id)
            .map(|p| p.id);
        if let Some(token) = &resume_token
            && existing.is_none_or(|id| self.participants[&id].resume_token != *token)
        {
            return Err(err(
                ErrorCode::ResumeFailed,
                "nothing to resume: the reconnection grace period is over",
            ));
        }
        let (id, resumed) = match existing {
            Some(id) => {
                let resumed = resume_token.is_some();
                self.take_over(id, session, resumed).await?;
                (id, resumed)
            }
            None => {
                let admitted = self.lobby.admitted.contains(&user.user_id);
                if self.moderation.locked && !self.has_host_rights(user.user_id) && !admitted {
                    return Err(err(ErrorCode::MeetingLocked, "the meeting is locked"));
                }
                if user.guest_of.is_some() && !self.moderation.allow_guests {
                    let message = "this meeting does not let guests in now";
                    return Err(err(ErrorCode::GuestsNotAllowed, message));
                }
                if self.must_wait(&user) {
                    let wait = self.config.lobby_max_wait;
                    return self.enter_lobby(user, media, session, wait);
                }
                (self.admit(user, media, session).await?, false)
            }
        };
        let participant = &self.participants[&id];
        let joined = ServerMessage::Joined {
            participant_id: id,
            meeting: self.meeting_info(),
            you: Box::new(self.info(participant)),
            participants: self
                .participants
                .values()
                .filter(|p| p.id != id)
                .map(|p| self.info(p))
                .collect(),
            ice_servers: self.ice_servers_for(participant.user.user_id),
            resume_token: participant.resume_token.clone(),
            resumed,
            chat_history: self.chat.recent(),
        };
        self.send_to(id, joined);
        self.send_speakers_to(id);
        self.tell_lobby_to(id);
        let info = self.info(&self.participants[&id]);
        let announce = if resumed || existing.is_some() {
            ServerMessage::ParticipantUpdated { participant: info }
        } else {
            ServerMessage::ParticipantJoined { participant: info }
        };
        self.broadcast_except(id, announce);
        Ok(JoinOutcome::Joined(id))
    }

    /// A new participant: a participation row, an SFU peer, a lifecycle step.
    async fn admit(
        &mut self,
        user: AuthUser,
        media: MediaState,
        session: SessionLink,
    ) -> Result<ParticipantId, ErrorBody> {
        let cap = self.config.max_participants;
        if self.participants.len() >= cap {
            return Err(err(
                ErrorCode::MeetingFull,
                &format!("the meeting is full ({cap} participants)"),
            ));
        }
        let id = self
            .directory
            .open_participation(self.meeting.id, user.user_id)
            .await
            .map_err(|e| {
                warn!(error = %e, "could not open participation");
                err(ErrorCode::Internal, "could not join the meeting")
            })?;
        if let Err(e) = self.join_sfu(id).await {
            let _ = self.directory.close_participation(id).await;
            return Err(e);
        }
        info!(participant = %id, user = user.user_id, "participant joined");
        self.participants.insert(
            id,
            Participant {
                id,
                user,
                media,
                declared: HashMap::new(),
                tracks: Vec::new(),
                session_id: session.id,
                session: Some(session),
                resume_token: new_resume_token(),
                media_down: [false; 2],
                lost_until: None,
                speaking: None,
                moderation: Default::default(),
            },
        );
        let t = self.lifecycle.connected(false);
        self.apply(t).await;
        Ok(id)
    }

    /// Moves an existing participant to a new session. Without a resume, its media
    /// connections start afresh, because the new client has new peer connections.
    async fn take_over(
        &mut self,
        id: ParticipantId,
        session: SessionLink,
        resumed: bool,
    ) -> Result<(), ErrorBody> {
        if !resumed {
            self.sfu.leave(PeerId(id.0 as u64)).await;
            self.join_sfu(id).await?;
            let p = self.participants.get_mut(&id).expect("present");
            p.tracks.clear();
            p.declared.clear();
            p.media_down = [false; 2];
            p.moderation.blocked.clear(); // a new SFU peer blocks nothing yet
        }
        let p = self.participants.get_mut(&id).expect("present");
        p.session_id = session.id;
        if let Some(old) = p.session.replace(session) {
            old.close(
                ErrorCode::Replaced,
                "another session of this user joined the meeting",
            );
        }
        // `join` announces the participant itself.
        self.refresh_connection(id, false).await;
        // Back on signaling but media still down: the new session gets a whole grace period
        // for its ICE restart, not what was left of the old one.
        let grace = self.config.reconnect_grace;
        if let Some(p) = self.participants.get_mut(&id)
            && p.lost_until.is_some()
        {
            p.lost_until = Some(Instant::now() + grace);
        }
        info!(participant = %id, resumed, "participant took over by a new session");
        Ok(())
    }

    async fn join_sfu(&mut self, id: ParticipantId) -> Result<(), ErrorBody> {
        let (tx, mut rx) = mpsc::channel(64);
        self.sfu.join(PeerId(id.0 as u64), tx).await.map_err(|e| {
            warn!(error = %e, "SFU refused the peer");
            err(
                ErrorCode::Internal,
                "the media server refused the participant",
            )
        })?;
        // One forwarder per peer (not per packet): SFU events enter the room's queue.
        let room = self.tx.clone();
        tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                if room
                    .send(RoomCmd::Peer {
                        participant: id,
                        event,
                    })
                    .await
                    .is_err()
                {
                    break;
                }
            }
        });
        Ok(())
    }
}

impl Room {
    /// The configured ICE servers, and TURN with credentials of this participant's own.
    fn ice_servers_for(&self, user_id: i64) -> Vec<crate::protocol::IceServer> {
        let mut servers = self.config.ice_servers.clone();
        if let Some(turn) = &self.config.turn {
            servers.push(turn.mint(user_id, std::time::SystemTime::now()));
        }
        servers
    }
}
