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
        self.open_participation_on(meeting_id, user_id, now, None)
            .await
    }

    /// [`Store::open_participation`] held by `node` (a cluster node's id): a reconnect that
    /// lands on another node moves the open participation there.
    pub async fn open_participation_on(
        &self,
        meeting_id: MeetingId,
        user_id: UserId,
        now: DateTime<Utc>,
        node: Option<&str>,
    ) -> Result<Participation> {
        let upsert = format!(
            "INSERT INTO participants (meeting_id, user_id, joined_at, node_id) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (meeting_id, user_id) WHERE left_at IS NULL \
             DO UPDATE SET node_id = excluded.node_id \
             RETURNING {PARTICIPATION_COLUMNS}"
        );
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, Participation>(&upsert)
            .bind(meeting_id)
            .bind(user_id)
            .bind(now)
            .bind(node)
            .fetch_one(pool)
            .await)?,
        )
    }

    /// The nodes holding open participations (`None`: rows of a single server, or from
    /// before nodes were recorded).
    pub async fn nodes_with_open_participations(&self) -> Result<Vec<Option<String>>> {
        let sql = "SELECT DISTINCT node_id FROM participants WHERE left_at IS NULL";
        let rows: Vec<(Option<String>,)> =
            on_pool!(self, pool => sqlx::query_as(sql).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(|(n,)| n).collect())
    }

    /// Closes the open participations `node` held (it died); returns the meetings they were in.
    pub async fn close_participations_of_node(
        &self,
        node: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<MeetingId>> {
        let sql = "UPDATE participants SET left_at = $1 \
                   WHERE left_at IS NULL AND (node_id = $2 OR ($2 IS NULL AND node_id IS NULL)) \
                   RETURNING meeting_id";
        let rows: Vec<(MeetingId,)> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(now)
            .bind(node)
            .fetch_all(pool)
            .await)?;
        let mut meetings: Vec<MeetingId> = rows.into_iter().map(|(m,)| m).collect();
        meetings.sort_by_key(|m| m.0);
        meetings.dedup();
        Ok(meetings)
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

    /// [`Store::close_participation`] by the node that holds it: a participation that moved to
    /// another node (its participant reconnected there after this node lost the meeting) is
    /// left open, so a deposed owner's late write cannot mark someone present as gone.
    /// `None` if there is no such row or another node holds it.
    pub async fn close_participation_held_by(
        &self,
        id: ParticipationId,
        node: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<Participation>> {
        let sql = format!(
            "UPDATE participants SET left_at = COALESCE(left_at, $2) \
             WHERE id = $1 AND (node_id = $3 OR ($3 IS NULL AND node_id IS NULL)) \
             RETURNING {PARTICIPATION_COLUMNS}"
        );
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, Participation>(&sql)
            .bind(id)
            .bind(now)
            .bind(node)
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
