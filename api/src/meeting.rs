//! Meetings: the persistent thing with a join code, a host and a lifecycle.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{MeetingId, UserId};

/// What a host chooses for a meeting (at creation, and later in the meeting).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MeetingOptions {
    /// Newcomers wait in the lobby until a host or co-host admits them.
    pub lobby: bool,
    /// People without an account may join by the link with a name only (in the lobby).
    pub allow_guests: bool,
}

/// Lifecycle state, stored as lowercase text (`created`, `active`, `paused`, `ended`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MeetingStatus {
    Created,
    Active,
    Paused,
    Ended,
}

impl MeetingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Ended => "ended",
        }
    }
}

impl fmt::Display for MeetingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status string found in the database that this code does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown meeting status {0:?}")]
pub struct UnknownStatus(String);

impl FromStr for MeetingStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "created" => Ok(Self::Created),
            "active" => Ok(Self::Active),
            "paused" => Ok(Self::Paused),
            "ended" => Ok(Self::Ended),
            other => Err(UnknownStatus(other.to_owned())),
        }
    }
}

impl TryFrom<String> for MeetingStatus {
    type Error = UnknownStatus;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// A meeting row, also the API's meeting representation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, ToSchema)]
pub struct Meeting {
    pub id: MeetingId,
    /// Join code, `abc-defg-hij`.
    #[schema(example = "abc-defg-hij")]
    pub code: String,
    pub title: String,
    pub host_id: UserId,
    #[sqlx(try_from = "String")]
    pub status: MeetingStatus,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Newcomers wait in the lobby until a host or co-host admits them.
    pub lobby: bool,
    /// People without an account may join by the link (`POST .../guests`), through the lobby.
    pub allow_guests: bool,
}
