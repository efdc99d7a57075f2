//! Repository methods for `users`.

use chrono::{DateTime, Utc};

use super::{Store, is_unique_violation, on_pool};
use crate::error::{Error, Result};
use crate::ids::{MeetingId, UserId};
use crate::user::{User, UserRecord};

const USER_COLUMNS: &str = "id, email, name, created_at";

impl Store {
    /// Inserts a user; `email` must already be normalized. A taken email is [`Error::EmailTaken`].
    pub async fn create_user(
        &self,
        email: &str,
        password_hash: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<User> {
        let sql = format!(
            "INSERT INTO users (email, password_hash, name, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) RETURNING {USER_COLUMNS}"
        );
        let result = on_pool!(self, pool => sqlx::query_as::<_, User>(&sql)
            .bind(email)
            .bind(password_hash)
            .bind(name)
            .bind(now)
            .fetch_one(pool)
            .await);
        result.map_err(|e| {
            if is_unique_violation(&e) {
                Error::EmailTaken
            } else {
                e.into()
            }
        })
    }

    /// A guest of one meeting: a user without a usable password or a real email (neither can
    /// ever sign in), removed with its meeting.
    pub async fn create_guest(
        &self,
        meeting_id: MeetingId,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<User> {
        let email = format!("guest-{}@guest.invalid", uuid::Uuid::new_v4());
        let sql = format!(
            "INSERT INTO users (email, password_hash, name, created_at, updated_at, guest_of) \
             VALUES ($1, '!', $2, $3, $3, $4) RETURNING {USER_COLUMNS}"
        );
        Ok(on_pool!(self, pool => sqlx::query_as::<_, User>(&sql)
            .bind(&email)
            .bind(name)
            .bind(now)
            .bind(meeting_id)
            .fetch_one(pool)
            .await)?)
    }

    pub async fn user_by_id(&self, id: UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        Ok(on_pool!(self, pool => sqlx::query_as::<_, User>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?)
    }

    /// Looks a user up by normalized email, with the password hash for login.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1 AND guest_of IS NULL"
        );
        Ok(on_pool!(self, pool => sqlx::query_as::<_, UserRecord>(&sql)
            .bind(email)
            .fetch_optional(pool)
            .await)?)
    }
}
