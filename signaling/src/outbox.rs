//! The way from a room to one session's socket: a bounded queue, so one slow client can
//! never hold up a room (a full queue disconnects that client only), and a separate control
//! line that reaches the session even when its queue is full.

use tokio::sync::mpsc;

use crate::protocol::{ErrorCode, ServerMessage};

/// What a session writes to its socket.
#[derive(Debug)]
pub enum Outbound {
    Message(ServerMessage),
    Close {
        code: u16,
        reason: String,
    },
    /// The session left the lobby without being admitted (after the `error` that says why):
    /// it may join again.
    LeftLobby,
}

/// An order to end a session at once, without flushing its queue: it is too slow to read
/// it, or the server is shutting down, or its user signed out.
#[derive(Debug, Clone)]
pub struct Abort {
    /// Sent just before the close frame (best effort, bounded by the write timeout).
    pub last_words: Option<ServerMessage>,
    pub code: u16,
    pub reason: String,
}

/// The receiving end of a session's control line.
pub type AbortReceiver = mpsc::Receiver<Abort>;

/// Creates a session's control line. One pending order is enough: the first one wins.
pub fn abort_channel() -> (mpsc::Sender<Abort>, AbortReceiver) {
    mpsc::channel(1)
}

/// A room's link to the session currently holding a participant.
#[derive(Clone, Debug)]
pub struct SessionLink {
    pub id: u64,
    tx: mpsc::Sender<Outbound>,
    abort: mpsc::Sender<Abort>,
}

impl SessionLink {
    pub fn new(id: u64, tx: mpsc::Sender<Outbound>, abort: mpsc::Sender<Abort>) -> Self {
        Self { id, tx, abort }
    }

    /// Queues without waiting; false when the session is gone or its queue is full.
    pub fn send(&self, out: Outbound) -> bool {
        self.tx.try_send(out).is_ok()
    }

    /// Sends the error, then closes with its close code.
    pub fn close(&self, code: ErrorCode, message: &str) {
        self.send(Outbound::Message(ServerMessage::error(code, message)));
        self.close_with(code.close_code(), message);
    }

    pub fn close_normal(&self, reason: &str) {
        self.close_with(1000, reason);
    }

    /// Closes after what is queued; when the queue is full, at once through the control line,
    /// so a session can never outlive the room's decision to drop it.
    pub fn close_with(&self, code: u16, reason: &str) {
        let queued = self.send(Outbound::Close {
            code,
            reason: reason.into(),
        });
        if !queued {
            self.abort(Abort {
                last_words: None,
                code,
                reason: reason.into(),
            });
        }
    }

    /// Ends the session now, skipping its queue.
    pub fn abort(&self, order: Abort) {
        let _ = self.abort.try_send(order);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_reaches_a_session_whose_queue_is_full() {
        let (tx, mut rx) = mpsc::channel(1);
        let (abort_tx, mut abort_rx) = abort_channel();
        let link = SessionLink::new(7, tx, abort_tx);
        assert!(link.send(Outbound::Message(ServerMessage::Pong { nonce: None })));
        assert!(!link.send(Outbound::Message(ServerMessage::Pong { nonce: None })));
        link.close_with(1008, "too slow to keep up");
        let order = abort_rx
            .try_recv()
            .expect("the close took the control line");
        assert_eq!(order.code, 1008);
        // The queue still holds only the first message: nothing was lost or reordered.
        assert!(matches!(rx.try_recv(), Ok(Outbound::Message(_))));
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn a_close_follows_the_queue_when_there_is_room() {
        let (tx, mut rx) = mpsc::channel(4);
        let (abort_tx, mut abort_rx) = abort_channel();
        let link = SessionLink::new(7, tx, abort_tx);
        link.close(ErrorCode::MeetingEnded, "the meeting has ended");
        assert!(matches!(rx.try_recv(), Ok(Outbound::Message(_))));
        assert!(matches!(
            rx.try_recv(),
            Ok(Outbound::Close { code: 4010, .. })
        ));
        assert!(abort_rx.try_recv().is_err());
    }
}
