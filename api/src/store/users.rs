//! Repository methods for `users`.

use chrono::{DateTime, Utc};

use super::{Store, is_unique_violation, on_pool};
use crate::error::{Error, Result};
use crate::ids::UserId;
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

    pub async fn user_by_id(&self, id: UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        Ok(on_pool!(self, pool => sqlx::query_as::<_, User>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?)
    }

    /// Looks a user up by normalized email, with the password hash for login.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1");
        Ok(on_pool!(self, pool => sqlx::query_as::<_, UserRecord>(&sql)
            .bind(email)
            .fetch_optional(pool)
            .await)?)
    }
}
