//! Refresh-token sessions: one row per issued refresh token, linked into a family per login.

use chrono::{DateTime, Utc};

use crate::ids::{RefreshSessionId, UserId};

/// A stored refresh token. `token_hash` is the hex SHA-256 of the opaque token.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RefreshSession {
    pub id: RefreshSessionId,
    pub user_id: UserId,
    /// Shared by every token descended from one login, so reuse can revoke them all.
    pub family_id: String,
    pub token_hash: String,
    pub parent_id: Option<RefreshSessionId>,
    /// Set when the token was exchanged; a second exchange is a reuse.
    pub used_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// What is needed to store a new refresh token.
#[derive(Debug, Clone)]
pub struct NewRefreshSession {
    pub user_id: UserId,
    pub family_id: String,
    pub token_hash: String,
    pub parent_id: Option<RefreshSessionId>,
    pub expires_at: DateTime<Utc>,
}
