//! What signaling needs from the rest of the server: authentication and persistence.
//!
//! Signaling does not depend on the API crate; the server binary implements [`Directory`] over
//! the token service and the repositories, so this crate stays free of HTTP, JWT and SQL.

use async_trait::async_trait;

use crate::protocol::ParticipantId;

/// A user whose access token was verified.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub user_id: i64,
    pub name: String,
    /// A guest: the code of the one meeting its token may join.
    pub guest_of: Option<String>,
}

/// The persisted part of a meeting that a room needs.
#[derive(Clone, Debug)]
pub struct MeetingRecord {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub host_user_id: i64,
    pub status: MeetingStatus,
    /// Newcomers wait in the lobby.
    pub lobby: bool,
    /// Guests (no account) may join, through the lobby.
    pub allow_guests: bool,
}

/// The seed's meeting lifecycle states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeetingStatus {
    Created,
    Active,
    Paused,
    Ended,
}

/// A room's claim on its meeting, taken when the room starts. The room's writes carry it and
/// land only while no later room (on this node or another) claimed the meeting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MeetingClaim {
    pub meeting_id: i64,
    pub epoch: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The token is missing, malformed, expired or revoked.
    #[error("invalid or expired token")]
    Unauthenticated,
    /// A dependency (the cache that holds revocations, the database) does not answer, so the
    /// token could not be checked either way.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("storage error: {0}")]
    Storage(String),
    /// A later room claimed the meeting: this room's write did not land, and the room should
    /// hand its people to the meeting's owner.
    #[error("another room runs this meeting now")]
    Fenced,
}

#[async_trait]
pub trait Directory: Send + Sync + 'static {
    async fn authenticate(&self, token: &str) -> Result<AuthUser, DirectoryError>;
    async fn find_meeting(&self, code: &str) -> Result<Option<MeetingRecord>, DirectoryError>;
    /// Opens (or returns the already open) participation of `user_id` in the meeting.
    async fn open_participation(
        &self,
        meeting_id: i64,
        user_id: i64,
    ) -> Result<ParticipantId, DirectoryError>;
    /// Sets `left_at`; closing an already closed participation is harmless.
    async fn close_participation(&self, id: ParticipantId) -> Result<(), DirectoryError>;
    /// Claims the meeting for a room that starts now, fencing every earlier room's writes.
    async fn claim_meeting(&self, meeting_id: i64) -> Result<MeetingClaim, DirectoryError>;
    /// Records a host action in the meeting's history (`action`: a snake_case name such as
    /// `mute_microphone` or `remove_and_ban`; `target`: whom it was about, if anyone).
    async fn record_action(
        &self,
        claim: MeetingClaim,
        actor: ParticipantId,
        target: Option<ParticipantId>,
        action: &str,
    ) -> Result<(), DirectoryError>;
    /// Persists the meeting's lobby setting, so a paused meeting keeps it.
    async fn set_lobby(&self, claim: MeetingClaim, enabled: bool) -> Result<(), DirectoryError>;
    /// Persists whether guests may join.
    async fn set_allow_guests(
        &self,
        claim: MeetingClaim,
        allowed: bool,
    ) -> Result<(), DirectoryError>;
    /// Persists a lifecycle transition (`started_at`/`ended_at` are set by the implementation).
    async fn set_meeting_status(
        &self,
        claim: MeetingClaim,
        status: MeetingStatus,
    ) -> Result<(), DirectoryError>;
}
