//! The bridge from signaling to the API crate: signaling asks, the token service and the
//! repositories answer. Only the binary knows both sides.

use async_trait::async_trait;
use chrono::Utc;
use mm_api::{
    MeetingId, OwnerEpoch, ParticipationId, ReplicaReads, Store, TokenService, UserId, Written,
};
use mm_signaling::protocol::ParticipantId;
use mm_signaling::{
    AuthUser, Directory, DirectoryError, MeetingClaim, MeetingRecord, MeetingStatus,
};

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
    match e {
        mm_api::Error::Fenced => DirectoryError::Fenced,
        e => DirectoryError::Storage(e.to_string()),
    }
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

    async fn claim_meeting(&self, meeting_id: i64) -> Result<MeetingClaim, DirectoryError> {
        let epoch = (self.store.claim_meeting(MeetingId(meeting_id)))
            .await
            .map_err(storage)?;
        Ok(MeetingClaim {
            meeting_id,
            epoch: epoch.0,
        })
    }

    async fn record_action(
        &self,
        claim: MeetingClaim,
        actor: ParticipantId,
        target: Option<ParticipantId>,
        action: &str,
    ) -> Result<(), DirectoryError> {
        let target = target.map(|t| ParticipationId(t.0));
        self.store
            .record_host_action(
                MeetingId(claim.meeting_id),
                OwnerEpoch(claim.epoch),
                ParticipationId(actor.0),
                target,
                action,
                Utc::now(),
            )
            .await
            .map_err(storage)?;
        self.wrote(claim.meeting_id).await;
        Ok(())
    }

    async fn set_lobby(&self, claim: MeetingClaim, enabled: bool) -> Result<(), DirectoryError> {
        let (id, owner) = (MeetingId(claim.meeting_id), OwnerEpoch(claim.epoch));
        (self.store.set_meeting_lobby(id, enabled, owner))
            .await
            .map_err(storage)?;
        self.wrote(claim.meeting_id).await;
        Ok(())
    }

    async fn set_allow_guests(
        &self,
        claim: MeetingClaim,
        allowed: bool,
    ) -> Result<(), DirectoryError> {
        let (id, owner) = (MeetingId(claim.meeting_id), OwnerEpoch(claim.epoch));
        (self.store.set_meeting_guests(id, allowed, owner))
            .await
            .map_err(storage)?;
        self.wrote(claim.meeting_id).await;
        Ok(())
    }

    async fn set_meeting_status(
        &self,
        claim: MeetingClaim,
        status: MeetingStatus,
    ) -> Result<(), DirectoryError> {
        let to = match status {
            MeetingStatus::Created => return Ok(()),
            MeetingStatus::Active => mm_api::MeetingStatus::Active,
            MeetingStatus::Paused => mm_api::MeetingStatus::Paused,
            MeetingStatus::Ended => mm_api::MeetingStatus::Ended,
        };
        let (id, owner) = (MeetingId(claim.meeting_id), OwnerEpoch(claim.epoch));
        (self.store.mark_meeting_as(id, to, owner, Utc::now()))
            .await
            .map_err(storage)?;
        self.wrote(claim.meeting_id).await;
        Ok(())
    }
}
