//! The bridge from signaling to the API crate: signaling asks, the token service and the
//! repositories answer. Only the binary knows both sides.

use async_trait::async_trait;
use chrono::Utc;
use mm_api::{MeetingId, ParticipationId, ReplicaReads, Store, TokenService, UserId, Written};
use mm_signaling::protocol::ParticipantId;
use mm_signaling::{AuthUser, Directory, DirectoryError, MeetingRecord, MeetingStatus};

pub struct MeetingDirectory {
    pub store: Store,
    pub tokens: TokenService,
    /// Recorded on the participations this node opens.
    pub node_id: String,
    /// Told what rooms write, so lists read right after come from the primary.
    pub reads: ReplicaReads,
}

impl MeetingDirectory {
    /// Lists of this meeting come from the primary for a while (a read replica may lag).
    async fn wrote(&self, meeting_id: i64) {
        self.reads
            .wrote(&[Written::Meeting(MeetingId(meeting_id))])
            .await;
    }
}

fn storage(e: mm_api::Error) -> DirectoryError {
    DirectoryError::Storage(e.to_string())
}

#[async_trait]
impl Directory for MeetingDirectory {
    async fn authenticate(&self, token: &str) -> Result<AuthUser, DirectoryError> {
        let claims = self
            .tokens
            .verify_access(token)
            .await
            .map_err(|e| match e {
                // The revocation list could not be read: neither valid nor invalid.
                mm_api::Error::Unavailable(why) => DirectoryError::Unavailable(why),
                _ => DirectoryError::Unauthenticated,
            })?;
        let user = self
            .store
            .user_by_id(claims.user_id())
            .await
            .map_err(storage)?
            .ok_or(DirectoryError::Unauthenticated)?;
        Ok(AuthUser {
            user_id: user.id.0,
            name: user.name,
            guest_of: claims.mtg,
        })
    }

    async fn find_meeting(&self, code: &str) -> Result<Option<MeetingRecord>, DirectoryError> {
        let meeting = self.store.meeting_by_code(code).await.map_err(storage)?;
        Ok(meeting.map(|m| MeetingRecord {
            id: m.id.0,
            code: m.code,
            title: m.title,
            host_user_id: m.host_id.0,
            lobby: m.lobby,
            allow_guests: m.allow_guests,
            status: match m.status {
                mm_api::MeetingStatus::Created => MeetingStatus::Created,
                mm_api::MeetingStatus::Active => MeetingStatus::Active,
                mm_api::MeetingStatus::Paused => MeetingStatus::Paused,
                mm_api::MeetingStatus::Ended => MeetingStatus::Ended,
            },
        }))
    }

    async fn open_participation(
        &self,
        meeting_id: i64,
        user_id: i64,
    ) -> Result<ParticipantId, DirectoryError> {
        let p = self
            .store
            .open_participation_on(
                MeetingId(meeting_id),
                UserId(user_id),
                Utc::now(),
                Some(&self.node_id),
            )
            .await
            .map_err(storage)?;
        self.wrote(meeting_id).await;
        Ok(ParticipantId(p.id.0))
    }

    async fn close_participation(&self, id: ParticipantId) -> Result<(), DirectoryError> {
        let closed = self
            .store
            .close_participation_held_by(ParticipationId(id.0), Some(&self.node_id), Utc::now())
            .await
            .map_err(storage)?;
        if let Some(p) = closed {
            self.wrote(p.meeting_id.0).await;
        }
        Ok(())
    }

    async fn record_action(
        &self,
        meeting_id: i64,
        actor: ParticipantId,
        target: Option<ParticipantId>,
        action: &str,
    ) -> Result<(), DirectoryError> {
        let target = target.map(|t| ParticipationId(t.0));
        self.store
            .record_host_action(
                MeetingId(meeting_id),
                ParticipationId(actor.0),
                target,
                action,
                Utc::now(),
            )
            .await
            .map_err(storage)?;
        self.wrote(meeting_id).await;
        Ok(())
    }

    async fn set_lobby(&self, meeting_id: i64, enabled: bool) -> Result<(), DirectoryError> {
        (self.store.set_meeting_lobby(MeetingId(meeting_id), enabled))
            .await
            .map_err(storage)?;
        self.wrote(meeting_id).await;
        Ok(())
    }

    async fn set_allow_guests(&self, meeting_id: i64, allowed: bool) -> Result<(), DirectoryError> {
        (self
            .store
            .set_meeting_guests(MeetingId(meeting_id), allowed))
        .await
        .map_err(storage)?;
        self.wrote(meeting_id).await;
        Ok(())
    }

    async fn set_meeting_status(
        &self,
        meeting_id: i64,
        status: MeetingStatus,
    ) -> Result<(), DirectoryError> {
        let id = MeetingId(meeting_id);
        let now = Utc::now();
        match status {
            MeetingStatus::Created => return Ok(()),
            MeetingStatus::Active => self.store.mark_meeting_active(id, now).await.map(drop),
            MeetingStatus::Paused => self.store.mark_meeting_paused(id).await.map(drop),
            MeetingStatus::Ended => self.store.mark_meeting_ended(id, now).await.map(drop),
        }
        .map_err(storage)?;
        self.wrote(meeting_id).await;
        Ok(())
    }
}
