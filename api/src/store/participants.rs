//! Repository methods for `participants`.

use chrono::{DateTime, Utc};

use super::{Store, on_pool};
use crate::error::Result;
use crate::ids::{MeetingId, ParticipationId, UserId};
use crate::participant::{Participant, Participation};

const PARTICIPATION_COLUMNS: &str = "id, meeting_id, user_id, joined_at, left_at";

impl Store {
    /// Opens a participation, or returns the user's open one in this meeting (a reconnect).
    /// The partial unique index makes this safe against concurrent joins.
    pub async fn open_participation(
        &self,
        meeting_id: MeetingId,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<Participation> {
        let insert = format!(
            "INSERT INTO participants (meeting_id, user_id, joined_at) VALUES ($1, $2, $3) \
             ON CONFLICT (meeting_id, user_id) WHERE left_at IS NULL DO NOTHING \
             RETURNING {PARTICIPATION_COLUMNS}"
        );
        let select = format!(
            "SELECT {PARTICIPATION_COLUMNS} FROM participants \
             WHERE meeting_id = $1 AND user_id = $2 AND left_at IS NULL"
        );
        Ok(on_pool!(self, pool => {
            let inserted = sqlx::query_as::<_, Participation>(&insert)
                .bind(meeting_id)
                .bind(user_id)
                .bind(now)
                .fetch_optional(pool)
                .await?;
            match inserted {
                Some(p) => p,
                None => sqlx::query_as::<_, Participation>(&select)
                    .bind(meeting_id)
                    .bind(user_id)
                    .fetch_one(pool)
                    .await?,
            }
        }))
    }

    /// Sets `left_at` (once; closing twice keeps the first time). `None` if no such row.
    pub async fn close_participation(
        &self,
        id: ParticipationId,
        now: DateTime<Utc>,
    ) -> Result<Option<Participation>> {
        let sql = format!(
            "UPDATE participants SET left_at = COALESCE(left_at, $2) WHERE id = $1 \
             RETURNING {PARTICIPATION_COLUMNS}"
        );
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, Participation>(&sql)
            .bind(id)
            .bind(now)
            .fetch_optional(pool)
            .await)?,
        )
    }

    /// Closes every open participation of a meeting (it ended). Returns how many were open.
    pub async fn close_open_participations(
        &self,
        meeting_id: MeetingId,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let sql = "UPDATE participants SET left_at = $2 WHERE meeting_id = $1 AND left_at IS NULL";
        Ok(on_pool!(self, pool => sqlx::query(sql)
            .bind(meeting_id)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?)
    }

    /// Closes every open participation of every meeting. Called at startup: after a crash no
    /// one is connected, whatever the rows say.
    pub async fn close_all_open_participations(&self, now: DateTime<Utc>) -> Result<u64> {
        let sql = "UPDATE participants SET left_at = $1 WHERE left_at IS NULL";
        Ok(on_pool!(self, pool => sqlx::query(sql)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?)
    }

    /// Everyone who joined the meeting, with names, in order of joining.
    pub async fn participants_of(&self, meeting_id: MeetingId) -> Result<Vec<Participant>> {
        let sql = "SELECT p.user_id, u.name, p.joined_at, p.left_at \
                   FROM participants p JOIN users u ON u.id = p.user_id \
                   WHERE p.meeting_id = $1 ORDER BY p.joined_at, p.id";
        Ok(on_pool!(self, pool => sqlx::query_as::<_, Participant>(sql)
            .bind(meeting_id)
            .fetch_all(pool)
            .await)?)
    }
}
