//! Where a meeting's room lives: on this node, or on the node that owns it.
//!
//! In a cluster a live meeting has one owner node, by a fenced lease (the server binary
//! implements [`Placement`] over Redis). A session whose meeting is owned elsewhere forwards
//! its socket to the owner (`forward.rs`); the room, its state and its media live there.
//! A single server is its own owner of everything ([`SingleNode`]).

use async_trait::async_trait;

/// This node's claim on a meeting, kept while its room lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ownership {
    pub meeting_code: String,
    /// Grows with every change of owner; a room whose fence went stale must stop.
    pub fence: u64,
}

/// Another node that a session should reach instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteNode {
    pub id: String,
    /// Its HTTP base URL, as it advertises it to other nodes (`http://10.0.0.2:8080`).
    pub url: String,
}

/// The answer to [`Placement::claim`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Run the room here.
    Owner(Ownership),
    /// Forward to this node.
    Elsewhere(RemoteNode),
}

/// How a renewal went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kept {
    Yes,
    /// Another node owns the meeting now: end the room here, its people reconnect.
    Lost,
    /// The lease store does not answer; keep the room and try again (media does not depend on
    /// it, and no other node can be granted the lease while nobody can reach the store).
    Unknown,
}

#[derive(Debug, thiserror::Error)]
pub enum PlacementError {
    #[error("placement unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Placement: Send + Sync + 'static {
    /// The owner of the meeting, claiming it for this node when nobody owns it. `forwarded`:
    /// the session came from another node that chose this one; never send it on by load.
    async fn claim(&self, meeting_code: &str, forwarded: bool) -> Result<Claim, PlacementError>;
    /// Extends this node's ownership; called every [`Placement::renew_every`] while the room
    /// lives.
    async fn renew(&self, ownership: &Ownership) -> Kept;
    /// Gives the meeting up (its room ended here).
    async fn release(&self, ownership: &Ownership);
    fn renew_every(&self) -> std::time::Duration;
}

/// A server on its own: every meeting is its own.
pub struct SingleNode;

#[async_trait]
impl Placement for SingleNode {
    async fn claim(&self, meeting_code: &str, _forwarded: bool) -> Result<Claim, PlacementError> {
        Ok(Claim::Owner(Ownership {
            meeting_code: meeting_code.to_owned(),
            fence: 1,
        }))
    }

    async fn renew(&self, _ownership: &Ownership) -> Kept {
        Kept::Yes
    }

    async fn release(&self, _ownership: &Ownership) {}

    fn renew_every(&self) -> std::time::Duration {
        std::time::Duration::from_secs(3600)
    }
}
