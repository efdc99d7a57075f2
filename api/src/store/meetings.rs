//! Repository methods for `meetings`, including the lifecycle transitions.

use chrono::{DateTime, Utc};

use super::{Store, on_pool};
use crate::error::{Error, Result};
use crate::ids::{MeetingId, OwnerEpoch, UserId};
use crate::meeting::{Meeting, MeetingOptions, MeetingStatus};

const MEETING_COLUMNS: &str =
    "id, code, title, host_id, status, started_at, ended_at, created_at, lobby, allow_guests";

impl Store {
    /// Inserts a meeting in state `created`. Returns `None` if `code` is already taken, so the
    /// caller can draw another code.
    pub async fn create_meeting(
        &self,
        code: &str,
        title: &str,
        host_id: UserId,
        options: MeetingOptions,
        now: DateTime<Utc>,
    ) -> Result<Option<Meeting>> {
        let sql = format!(
            "INSERT INTO meetings (code, title, host_id, status, created_at, lobby, allow_guests) \
             VALUES ($1, $2, $3, 'created', $4, $5, $6) ON CONFLICT (code) DO NOTHING \
             RETURNING {MEETING_COLUMNS}"
        );
        Ok(on_pool!(self, pool => sqlx::query_as::<_, Meeting>(&sql)
            .bind(code)
            .bind(title)
            .bind(host_id)
            .bind(now)
            .bind(options.lobby)
            .bind(options.allow_guests)
            .fetch_optional(pool)
            .await)?)
    }

    pub async fn meeting_by_code(&self, code: &str) -> Result<Option<Meeting>> {
        let sql = format!("SELECT {MEETING_COLUMNS} FROM meetings WHERE code = $1");
        Ok(on_pool!(self, pool => sqlx::query_as::<_, Meeting>(&sql)
            .bind(code)
            .fetch_optional(pool)
            .await)?)
    }

    pub async fn meeting_by_id(&self, id: MeetingId) -> Result<Option<Meeting>> {
        let sql = format!("SELECT {MEETING_COLUMNS} FROM meetings WHERE id = $1");
        Ok(on_pool!(self, pool => sqlx::query_as::<_, Meeting>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?)
    }

    /// Meetings the user hosts or has joined, newest first.
    pub async fn meetings_for_user(
        &self,
        user_id: UserId,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Meeting>> {
        let sql = format!(
            "SELECT {MEETING_COLUMNS} FROM meetings m \
             WHERE m.host_id = $1 OR EXISTS \
               (SELECT 1 FROM participants p WHERE p.meeting_id = m.id AND p.user_id = $1) \
             ORDER BY m.created_at DESC, m.id DESC LIMIT $2 OFFSET $3"
        );
        Ok(on_pool!(self, pool => sqlx::query_as::<_, Meeting>(&sql)
            .bind(user_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await)?)
    }

    /// `created`/`paused`/`active` -> `active`; sets `started_at` the first time only.
    pub async fn mark_meeting_active(&self, id: MeetingId, now: DateTime<Utc>) -> Result<Meeting> {
        let updated = self
            .transition(id, MeetingStatus::Active, now, None)
            .await?;
        self.transition_result(id, updated, MeetingStatus::Active)
            .await
    }

    /// At startup: every `active` meeting lost all its connections with the previous run, which
    /// is the lifecycle's `paused` (the first participant to come back reactivates it).
    pub async fn pause_active_meetings(&self) -> Result<u64> {
        let sql = "UPDATE meetings SET status = 'paused' WHERE status = 'active'";
        Ok(on_pool!(self, pool => sqlx::query(sql)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?)
    }

    /// `paused` -> `ended` for meetings nobody can come back to: no open participation, and
    /// nothing happened since `idle_since` (the last participation's `left_at`, else
    /// `started_at`, else `created_at`). Startup closes the previous run's participations at
    /// restart time, so a meeting paused by a restart ends one timeout after it. Returns the
    /// codes it ended.
    pub async fn end_abandoned_paused_meetings(
        &self,
        idle_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        let sql = "UPDATE meetings SET status = 'ended', ended_at = $2 \
             WHERE status = 'paused' \
               AND NOT EXISTS (SELECT 1 FROM participants p \
                               WHERE p.meeting_id = meetings.id AND p.left_at IS NULL) \
               AND COALESCE((SELECT MAX(p.left_at) FROM participants p \
                             WHERE p.meeting_id = meetings.id), started_at, created_at) < $1 \
             RETURNING code";
        Ok(on_pool!(self, pool => sqlx::query_scalar::<_, String>(sql)
            .bind(idle_since)
            .bind(now)
            .fetch_all(pool)
            .await)?)
    }

    /// `active`/`paused` -> `paused` (a connection problem of the live room).
    pub async fn mark_meeting_paused(&self, id: MeetingId) -> Result<Meeting> {
        let updated = (self.transition(id, MeetingStatus::Paused, Utc::now(), None)).await?;
        self.transition_result(id, updated, MeetingStatus::Paused)
            .await
    }

    /// Any state -> `ended`, setting `ended_at`. Idempotent: ending an ended meeting changes
    /// nothing. Returns the meeting and whether this call ended it.
    pub async fn mark_meeting_ended(
        &self,
        id: MeetingId,
        now: DateTime<Utc>,
    ) -> Result<(Meeting, bool)> {
        match self.transition(id, MeetingStatus::Ended, now, None).await? {
            Some(meeting) => Ok((meeting, true)),
            None => match self.meeting_by_id(id).await? {
                Some(meeting) => Ok((meeting, false)),
                None => Err(Error::MeetingNotFound),
            },
        }
    }

    /// A lifecycle transition by the room holding `owner`: as the unfenced ones, but
    /// [`Error::Fenced`] once another room claimed the meeting. Ending an ended meeting is
    /// still no change.
    pub async fn mark_meeting_as(
        &self,
        id: MeetingId,
        to: MeetingStatus,
        owner: OwnerEpoch,
        now: DateTime<Utc>,
    ) -> Result<Meeting> {
        if to == MeetingStatus::Created {
            return Err(Error::InvalidTransition {
                from: MeetingStatus::Created,
                to,
            });
        }
        if let Some(meeting) = self.transition(id, to, now, Some(owner)).await? {
            return Ok(meeting);
        }
        match self.meeting_by_id(id).await? {
            Some(m) if to == MeetingStatus::Ended && m.status == MeetingStatus::Ended => Ok(m),
            _ => {
                self.fenced_out(id, owner).await?;
                self.transition_result(id, None, to).await
            }
        }
    }

    /// The one statement of each transition: `to` from the states that may reach it, and
    /// only while `owner` is the meeting's latest claim when given. `None`: nothing changed.
    async fn transition(
        &self,
        id: MeetingId,
        to: MeetingStatus,
        now: DateTime<Utc>,
        owner: Option<OwnerEpoch>,
    ) -> Result<Option<Meeting>> {
        let (set, from) = match to {
            MeetingStatus::Active => (
                "status = 'active', started_at = COALESCE(started_at, $2)",
                "status IN ('created', 'active', 'paused')",
            ),
            MeetingStatus::Paused => ("status = 'paused'", "status IN ('active', 'paused')"),
            MeetingStatus::Ended => ("status = 'ended', ended_at = $2", "status <> 'ended'"),
            MeetingStatus::Created => return Ok(None),
        };
        // `$2` (now) is bound only where the statement uses it: PostgreSQL refuses extra ones.
        let uses_now = set.contains("$2");
        let fence = match (owner, uses_now) {
            (None, _) => String::new(),
            (Some(_), true) => " AND owner_epoch = $3".into(),
            (Some(_), false) => " AND owner_epoch = $2".into(),
        };
        let sql = format!(
            "UPDATE meetings SET {set} WHERE id = $1 AND {from}{fence} RETURNING {MEETING_COLUMNS}"
        );
        Ok(on_pool!(self, pool => {
            let mut q = sqlx::query_as::<_, Meeting>(&sql).bind(id);
            if uses_now {
                q = q.bind(now);
            }
            if let Some(owner) = owner {
                q = q.bind(owner);
            }
            q.fetch_optional(pool).await
        })?)
    }

    /// Explains why a conditional transition updated nothing.
    async fn transition_result(
        &self,
        id: MeetingId,
        updated: Option<Meeting>,
        to: MeetingStatus,
    ) -> Result<Meeting> {
        if let Some(meeting) = updated {
            return Ok(meeting);
        }
        match self.meeting_by_id(id).await? {
            None => Err(Error::MeetingNotFound),
            Some(m) if m.status == MeetingStatus::Ended => Err(Error::MeetingEnded),
            Some(m) => Err(Error::InvalidTransition { from: m.status, to }),
        }
    }

    /// Lets guests in, or not: by the room holding `owner`.
    pub async fn set_meeting_guests(
        &self,
        id: MeetingId,
        allowed: bool,
        owner: OwnerEpoch,
    ) -> Result<()> {
        self.set_room_flag(id, "allow_guests", allowed, owner).await
    }

    /// Turns the meeting's lobby on or off: by the room holding `owner`.
    pub async fn set_meeting_lobby(
        &self,
        id: MeetingId,
        lobby: bool,
        owner: OwnerEpoch,
    ) -> Result<()> {
        self.set_room_flag(id, "lobby", lobby, owner).await
    }

    async fn set_room_flag(
        &self,
        id: MeetingId,
        column: &'static str,
        value: bool,
        owner: OwnerEpoch,
    ) -> Result<()> {
        let sql = format!("UPDATE meetings SET {column} = $2 WHERE id = $1 AND owner_epoch = $3");
        let changed = on_pool!(self, pool => sqlx::query(&sql)
            .bind(id)
            .bind(value)
            .bind(owner)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        if changed == 0 {
            self.fenced_out(id, owner).await?;
            return Err(Error::MeetingNotFound);
        }
        Ok(())
    }
}
