//! Repository methods for `host_actions`.

use chrono::{DateTime, Utc};

use super::{Store, on_pool};
use crate::error::{Error, Result};
use crate::host_action::HostAction;
use crate::ids::{MeetingId, OwnerEpoch, ParticipationId};

impl Store {
    /// Appends one host action to the meeting's history, by the room holding `owner`.
    pub async fn record_host_action(
        &self,
        meeting_id: MeetingId,
        owner: OwnerEpoch,
        actor: ParticipationId,
        target: Option<ParticipationId>,
        action: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let sql = "INSERT INTO host_actions (meeting_id, actor_id, target_id, action, created_at) \
                   SELECT $1, $2, $3, $4, $5 WHERE EXISTS \
                     (SELECT 1 FROM meetings WHERE id = $1 AND owner_epoch = $6)";
        let added = on_pool!(self, pool => sqlx::query(sql)
            .bind(meeting_id)
            .bind(actor)
            .bind(target)
            .bind(action)
            .bind(now)
            .bind(owner)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        if added == 0 {
            self.fenced_out(meeting_id, owner).await?;
            return Err(Error::MeetingNotFound);
        }
        Ok(())
    }

    /// The meeting's host actions, oldest first, with who did them to whom.
    pub async fn host_actions_of(&self, meeting_id: MeetingId) -> Result<Vec<HostAction>> {
        let sql = "SELECT h.action, a.user_id AS actor_user_id, au.name AS actor_name, \
                          t.user_id AS target_user_id, tu.name AS target_name, h.created_at \
                   FROM host_actions h \
                   JOIN participants a ON a.id = h.actor_id \
                   JOIN users au ON au.id = a.user_id \
                   LEFT JOIN participants t ON t.id = h.target_id \
                   LEFT JOIN users tu ON tu.id = t.user_id \
                   WHERE h.meeting_id = $1 ORDER BY h.id";
        Ok(on_pool!(self, pool => sqlx::query_as::<_, HostAction>(sql)
            .bind(meeting_id)
            .fetch_all(pool)
            .await)?)
    }
}
