//! Participations: one stay (joined_at .. left_at) of a user in a meeting.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::ids::{MeetingId, ParticipationId, UserId};

/// A row of `participants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Participation {
    pub id: ParticipationId,
    pub meeting_id: MeetingId,
    pub user_id: UserId,
    pub joined_at: DateTime<Utc>,
    pub left_at: Option<DateTime<Utc>>,
}

/// A participation as listed to users: who, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, ToSchema)]
pub struct Participant {
    pub user_id: UserId,
    pub name: String,
    pub joined_at: DateTime<Utc>,
    pub left_at: Option<DateTime<Utc>>,
}
