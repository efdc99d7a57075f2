//! Repository methods for `refresh_sessions`.

use chrono::{DateTime, Utc};

use super::{Store, on_pool};
use crate::error::Result;
use crate::ids::RefreshSessionId;
use crate::refresh_session::{NewRefreshSession, RefreshSession};

const SESSION_COLUMNS: &str = "id, user_id, family_id, token_hash, parent_id, used_at, \
                               expires_at, revoked_at, created_at";

impl Store {
    pub async fn create_refresh_session(
        &self,
        new: &NewRefreshSession,
        now: DateTime<Utc>,
    ) -> Result<RefreshSession> {
        let sql = format!(
            "INSERT INTO refresh_sessions \
               (user_id, family_id, token_hash, parent_id, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {SESSION_COLUMNS}"
        );
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, RefreshSession>(&sql)
            .bind(new.user_id)
            .bind(&new.family_id)
            .bind(&new.token_hash)
            .bind(new.parent_id)
            .bind(new.expires_at)
            .bind(now)
            .fetch_one(pool)
            .await)?,
        )
    }

    pub async fn refresh_session_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshSession>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM refresh_sessions WHERE token_hash = $1");
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, RefreshSession>(&sql)
            .bind(token_hash)
            .fetch_optional(pool)
            .await)?,
        )
    }

    /// Marks `old` used and stores its successor, atomically. Returns `None` when `old` was
    /// already used or revoked: the caller is looking at a reuse and must revoke the family.
    pub async fn rotate_refresh_session(
        &self,
        old: RefreshSessionId,
        new_token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<RefreshSession>> {
        let claim = "UPDATE refresh_sessions SET used_at = $2 \
                     WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL";
        let insert = format!(
            "INSERT INTO refresh_sessions \
               (user_id, family_id, token_hash, parent_id, expires_at, created_at) \
             SELECT user_id, family_id, $2, id, $3, $4 FROM refresh_sessions WHERE id = $1 \
             RETURNING {SESSION_COLUMNS}"
        );
        Ok(on_pool!(self, pool => {
            // The conditional UPDATE is the claim: of two concurrent exchanges only one matches.
            let mut tx = pool.begin().await?;
            let claimed = sqlx::query(claim)
                .bind(old)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if claimed {
                let next = sqlx::query_as::<_, RefreshSession>(&insert)
                    .bind(old)
                    .bind(new_token_hash)
                    .bind(expires_at)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Some(next)
            } else {
                tx.rollback().await?;
                None
            }
        }))
    }

    /// Revokes every still-valid token of a family. Returns how many were revoked.
    pub async fn revoke_refresh_family(&self, family_id: &str, now: DateTime<Utc>) -> Result<u64> {
        let sql = "UPDATE refresh_sessions SET revoked_at = $2 \
                   WHERE family_id = $1 AND revoked_at IS NULL";
        Ok(on_pool!(self, pool => sqlx::query(sql)
            .bind(family_id)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?)
    }

    /// Revokes one token. Returns false if it was unknown or already revoked.
    pub async fn revoke_refresh_session(
        &self,
        id: RefreshSessionId,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let sql = "UPDATE refresh_sessions SET revoked_at = $2 \
                   WHERE id = $1 AND revoked_at IS NULL";
        Ok(on_pool!(self, pool => sqlx::query(sql)
            .bind(id)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?
            == 1)
    }

    /// Deletes tokens past their expiry: they are refused anyway, and reuse detection only
    /// needs the rows of tokens that could still be presented. Returns how many went.
    pub async fn purge_expired_refresh_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        let sql = "DELETE FROM refresh_sessions WHERE expires_at < $1";
        Ok(on_pool!(self, pool => sqlx::query(sql)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?)
    }
}
