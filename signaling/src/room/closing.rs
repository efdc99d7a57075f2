//! How a room closes: the host or emptiness ends the meeting, a server shutdown pauses it, and
//! a move hands it to the node that owns it next. Each closes every session and the SFU room.

use tracing::{info, warn};

use super::{MeetingWrite, Room};
use crate::directory::MeetingStatus;
use crate::protocol::{EndReason, ErrorCode, ServerMessage};

impl Room {
    /// Ends the meeting from outside the lifecycle's own timers (host, REST, shutdown).
    pub(super) async fn end(&mut self, reason: EndReason) {
        let _ = self.lifecycle.end(reason);
        self.finish(reason).await;
    }

    /// Persists the end first (so whoever is told can rely on it), then tells everyone and
    /// closes every session and the SFU room.
    pub(super) async fn finish(&mut self, reason: EndReason) {
        info!(?reason, "meeting ended");
        self.persist(MeetingWrite::Status(MeetingStatus::Ended))
            .await;
        self.close_participations().await;
        let ended = ServerMessage::MeetingEnded { reason };
        let code = ErrorCode::MeetingEnded.close_code();
        self.close_lobby(&ended, code, "the meeting has ended");
        self.broadcast(ended);
        for p in self.participants.values() {
            if let Some(s) = &p.session {
                s.close(ErrorCode::MeetingEnded, "the meeting has ended");
            }
        }
        self.participants.clear();
        self.sfu.close().await;
    }

    /// Server shutdown: participations are closed but the meeting is only paused, so people
    /// can come back to it after the restart.
    /// A room in its empty-meeting grace is paused too: after the restart it ends by the
    /// paused timeout instead of staying `active` for ever.
    pub(super) async fn shutdown(&mut self) {
        self.close_participations().await;
        if matches!(
            self.lifecycle.status(),
            MeetingStatus::Active | MeetingStatus::Paused
        ) {
            self.persist(MeetingWrite::Status(MeetingStatus::Paused))
                .await;
        }
        let ended = ServerMessage::MeetingEnded {
            reason: EndReason::ServerShutdown,
        };
        self.close_lobby(&ended, 1001, "server shutting down");
        self.broadcast(ended);
        for p in self.participants.values() {
            if let Some(s) = &p.session {
                s.close_with(1001, "server shutting down");
            }
        }
        self.participants.clear();
        self.sfu.close().await;
    }

    /// The meeting moves to another node (this node lost its lease, or drains). Participations
    /// stay open: people reconnect to the next owner, whose join takes the same rows over (the
    /// same participant ids), and the owner's room owns the meeting's status from now on; the
    /// cluster's reaper closes what nobody came back for. Sessions close with 1012 (service
    /// restart), which clients answer by reconnecting.
    pub(super) async fn moved(&mut self) {
        for w in self.lobby.waiting.drain(..) {
            w.session.close_with(1012, "meeting moved to another node");
        }
        for p in self.participants.values() {
            if let Some(s) = &p.session {
                s.close_with(1012, "meeting moved to another node");
            }
        }
        self.participants.clear();
        self.sfu.close().await;
    }

    pub(super) async fn close_participations(&self) {
        for id in self.participants.keys() {
            if let Err(e) = self.directory.close_participation(*id).await {
                warn!(participant = %id, error = %e, "could not close participation");
            }
        }
    }
}
