//! Meeting use cases: create, look up, list, end, list participants.

use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;
use utoipa::ToSchema;

use crate::cache::Cache;
use crate::error::{Error, Result};
use crate::host_action::HostAction;
use crate::ids::UserId;
use crate::meeting::{Meeting, MeetingOptions, MeetingStatus};
use crate::meeting_event::{MEETING_EVENTS_CHANNEL, MeetingEvent};
use crate::participant::Participant;
use crate::replica_reads::{ReplicaReads, Written};
use crate::store::{self, Store};
use crate::user::User;
use crate::{meeting_code, validation};

/// Guests one client address may add in an hour (each is a new user row).
pub const GUESTS_PER_IP_PER_HOUR: u64 = 30;

/// Attempts at drawing an unused code; a collision among 26^10 codes is already rare.
const CODE_ATTEMPTS: usize = 8;

/// One page of meetings, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeetingPage {
    pub items: Vec<Meeting>,
    /// Offset of the next page, absent on the last page.
    pub next_offset: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct MeetingService {
    store: Store,
    cache: Cache,
    reads: ReplicaReads,
}

impl MeetingService {
    pub fn new(store: Store, cache: Cache) -> Self {
        let reads = ReplicaReads::new(store.clone(), cache.clone());
        Self {
            store,
            cache,
            reads,
        }
    }

    /// Where lists are read (a replica when configured); writers elsewhere (signaling) tell it
    /// what they wrote.
    pub fn reads(&self) -> &ReplicaReads {
        &self.reads
    }

    /// A new meeting with the host's options (lobby, guests).
    pub async fn create(
        &self,
        host: UserId,
        title: &str,
        options: MeetingOptions,
    ) -> Result<Meeting> {
        let title = validation::title(title)?;
        for _ in 0..CODE_ATTEMPTS {
            let code = meeting_code::generate();
            if let Some(meeting) = self
                .store
                .create_meeting(&code, &title, host, options, store::now())
                .await?
            {
                (self.reads)
                    .wrote(&[Written::User(host), Written::Meeting(meeting.id)])
                    .await;
                return Ok(meeting);
            }
            tracing::info!("meeting code collision, drawing another");
        }
        Err(Error::Internal("no free meeting code found".to_owned()))
    }

    /// A malformed code is reported like an unknown one: both are simply not a meeting.
    pub async fn get(&self, code: &str) -> Result<Meeting> {
        let code = meeting_code::parse(code).ok_or(Error::MeetingNotFound)?;
        self.store
            .meeting_by_code(&code)
            .await?
            .ok_or(Error::MeetingNotFound)
    }

    /// `limit` must already be validated (1..=100).
    pub async fn list_for(&self, user: UserId, limit: i64, offset: i64) -> Result<MeetingPage> {
        // One extra row tells whether another page exists.
        let mut items = (self.reads)
            .read(&[Written::User(user)], |store| async move {
                store.meetings_for_user(user, limit + 1, offset).await
            })
            .await?;
        let more = items.len() > usize::try_from(limit).unwrap_or(usize::MAX);
        items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next_offset = more.then(|| offset + limit);
        Ok(MeetingPage { items, next_offset })
    }

    /// Host only. Ends the meeting, closes open participations and tells the signaling
    /// server through the bus. Ending an ended meeting returns it unchanged.
    pub async fn end(&self, user: UserId, code: &str) -> Result<Meeting> {
        let meeting = self.get(code).await?;
        if meeting.host_id != user {
            return Err(Error::NotHost);
        }
        let now = store::now();
        let (meeting, newly_ended) = self.store.mark_meeting_ended(meeting.id, now).await?;
        (self.reads)
            .wrote(&[Written::User(user), Written::Meeting(meeting.id)])
            .await;
        if newly_ended {
            self.store
                .close_open_participations(meeting.id, now)
                .await?;
            self.announce_end(&meeting).await;
        }
        Ok(meeting)
    }

    /// Only the host and people who took part may read who attended: names and times are
    /// private to the meeting, and knowing the code is not enough (403 `not_participant`).
    pub async fn participants(&self, user: UserId, code: &str) -> Result<Vec<Participant>> {
        let meeting = self.get(code).await?;
        let id = meeting.id;
        let participants = (self.reads)
            .read(
                &[Written::User(user), Written::Meeting(id)],
                |store| async move { store.participants_of(id).await },
            )
            .await?;
        if meeting.host_id != user && !participants.iter().any(|p| p.user_id == user) {
            return Err(Error::NotParticipant);
        }
        Ok(participants)
    }

    /// A guest of a meeting that allows guests: a user of its own, good for that meeting
    /// only. Each address may make [`GUESTS_PER_IP_PER_HOUR`] an hour.
    pub async fn add_guest(&self, code: &str, name: &str, ip: IpAddr) -> Result<(Meeting, User)> {
        let name = validation::name(name)?;
        let meeting = self.get(code).await?;
        if meeting.status == MeetingStatus::Ended {
            return Err(Error::MeetingEnded);
        }
        if !meeting.allow_guests {
            return Err(Error::GuestsNotAllowed);
        }
        let window = self
            .cache
            .incr_window(&format!("guests:{ip}"), Duration::from_secs(3600))
            .await?;
        if window.count > GUESTS_PER_IP_PER_HOUR {
            return Err(Error::RateLimited {
                retry_after: window.resets_in,
            });
        }
        let guest = self
            .store
            .create_guest(meeting.id, &name, store::now())
            .await?;
        self.reads.wrote(&[Written::Meeting(meeting.id)]).await;
        Ok((meeting, guest))
    }

    /// Host only: what the host and co-hosts did in the meeting, oldest first.
    pub async fn host_actions(&self, user: UserId, code: &str) -> Result<Vec<HostAction>> {
        let meeting = self.get(code).await?;
        if meeting.host_id != user {
            return Err(Error::NotHost);
        }
        let id = meeting.id;
        (self.reads)
            .read(
                &[Written::User(user), Written::Meeting(id)],
                |store| async move { store.host_actions_of(id).await },
            )
            .await
    }

    /// Best effort: the database already says "ended", which the signaling server checks on
    /// join; a lost event only delays closing a live room.
    async fn announce_end(&self, meeting: &Meeting) {
        let event = MeetingEvent::Ended {
            code: meeting.code.clone(),
        };
        let published = match serde_json::to_vec(&event) {
            Ok(payload) => self.cache.publish(MEETING_EVENTS_CHANNEL, &payload).await,
            Err(e) => Err(Error::Internal(e.to_string())),
        };
        if let Err(e) = published {
            tracing::warn!(error = %e, meeting_id = %meeting.id, "could not publish meeting end");
        }
    }
}
