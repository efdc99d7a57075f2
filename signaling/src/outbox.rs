//! The way from a room to one session's socket: a bounded queue, so one slow client can
//! never hold up a room (a full queue disconnects that client only).

use tokio::sync::mpsc;

use crate::protocol::{ErrorCode, ServerMessage};

/// What a session writes to its socket.
#[derive(Debug)]
pub enum Outbound {
    Message(ServerMessage),
    Close { code: u16, reason: String },
}

/// A room's link to the session currently holding a participant.
#[derive(Clone, Debug)]
pub struct SessionLink {
    pub id: u64,
    tx: mpsc::Sender<Outbound>,
}

impl SessionLink {
    pub fn new(id: u64, tx: mpsc::Sender<Outbound>) -> Self {
        Self { id, tx }
    }

    /// Queues without waiting; false when the session is gone or its queue is full.
    pub fn send(&self, out: Outbound) -> bool {
        self.tx.try_send(out).is_ok()
    }

    /// Sends the error, then closes with its close code.
    pub fn close(&self, code: ErrorCode, message: &str) {
        self.send(Outbound::Message(ServerMessage::error(code, message)));
        self.send(Outbound::Close {
            code: code.close_code(),
            reason: message.into(),
        });
    }

    pub fn close_normal(&self, reason: &str) {
        self.send(Outbound::Close {
            code: 1000,
            reason: reason.into(),
        });
    }
}
