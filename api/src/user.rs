//! Users as the API shows them, and the record login needs.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::ids::UserId;

/// A registered user. Holds no secret, so it can be serialized anywhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, ToSchema)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// A user together with the password hash; only the login path reads it, it is never serialized.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    #[sqlx(flatten)]
    pub user: User,
    pub password_hash: String,
}
