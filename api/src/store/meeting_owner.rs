//! Repository methods for the room that runs a meeting: its claim (`meetings.owner_epoch`)
//! and the check behind every write fenced by it.
//!
//! In a cluster two rooms of one meeting can overlap for a while: a node that lost its lease
//! while cut off from Redis, or one whose queued work runs after the meeting moved. The
//! database is where their writes meet, so the fence lives there: each room takes the next
//! epoch when it starts, and the room's writes are conditional on it in the same statement.

use super::{Store, on_pool};
use crate::error::{Error, Result};
use crate::ids::{MeetingId, OwnerEpoch};

impl Store {
    /// Claims the meeting for a room that starts now: the next epoch, which fences every
    /// earlier room's writes from this statement on.
    pub async fn claim_meeting(&self, id: MeetingId) -> Result<OwnerEpoch> {
        let sql = "UPDATE meetings SET owner_epoch = owner_epoch + 1 WHERE id = $1 \
                   RETURNING owner_epoch";
        on_pool!(self, pool => sqlx::query_scalar::<_, OwnerEpoch>(sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?
        .ok_or(Error::MeetingNotFound)
    }

    /// Why a write fenced by `owner` changed nothing: [`Error::Fenced`] when a later room
    /// claimed the meeting, [`Error::MeetingNotFound`] when there is none; `Ok` when `owner`
    /// is still the latest claim (the write was refused for another reason).
    pub(super) async fn fenced_out(&self, id: MeetingId, owner: OwnerEpoch) -> Result<()> {
        let sql = "SELECT owner_epoch FROM meetings WHERE id = $1";
        let latest = on_pool!(self, pool => sqlx::query_scalar::<_, OwnerEpoch>(sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        match latest {
            None => Err(Error::MeetingNotFound),
            Some(latest) if latest != owner => Err(Error::Fenced),
            Some(_) => Ok(()),
        }
    }
}
