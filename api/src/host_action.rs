//! Host actions: what a host or co-host did in a meeting, as its history lists them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::ids::UserId;

/// One entry of a meeting's moderation history (`GET /api/meetings/{code}/host-actions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, ToSchema)]
pub struct HostAction {
    /// A snake_case name: `mute_microphone`, `mute_camera`, `stop_screen_share`, `remove`,
    /// `remove_and_ban`, `lock`, `unlock`, `cohost_granted`, `cohost_revoked`, `lower_hand`.
    pub action: String,
    pub actor_user_id: UserId,
    pub actor_name: String,
    /// Whom it was about; absent for a meeting-wide action (lock).
    pub target_user_id: Option<UserId>,
    pub target_name: Option<String>,
    pub created_at: DateTime<Utc>,
}
