//! Participations a dead node left open: a surviving node closes them (`left_at`) once the
//! node has been gone for the grace (its participants had that long to reconnect elsewhere,
//! which moves their open participation to their new node), and pauses the meetings they were
//! in when nobody owns them any more (the paused-meeting reaper ends those in time).
//!
//! Every node runs it; closing twice is harmless. It never reaps on a failed read: a Redis
//! outage must not look like the whole cluster died.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use mm_api::{Cache, MeetingStatus, Store};
use tracing::{info, warn};

use super::NodeRegistry;

pub struct ParticipationReaper {
    pub store: Store,
    pub cache: Cache,
    pub registry: NodeRegistry,
    /// How long a node must be gone before its participations close.
    pub grace: Duration,
    /// When each absent node was first seen absent (`None`: rows with no node).
    missing_since: HashMap<Option<String>, Instant>,
}

/// How often to look.
const PERIOD: Duration = Duration::from_secs(5);

impl ParticipationReaper {
    pub fn new(store: Store, cache: Cache, registry: NodeRegistry, grace: Duration) -> Self {
        Self {
            store,
            cache,
            registry,
            grace,
            missing_since: HashMap::new(),
        }
    }

    /// One look; returns how many nodes' participations it closed.
    pub async fn sweep(&mut self) -> mm_api::Result<usize> {
        let holders = self.store.nodes_with_open_participations().await?;
        let live: Vec<String> = self
            .registry
            .nodes()
            .await?
            .into_iter()
            .map(|n| n.id)
            .collect();
        let me = self.registry.me().await.id;
        let now = Instant::now();
        let absent: Vec<Option<String>> = holders
            .into_iter()
            .filter(|n| n.as_deref() != Some(me.as_str()))
            .filter(|n| n.as_ref().is_none_or(|id| !live.contains(id)))
            .collect();
        self.missing_since.retain(|n, _| absent.contains(n));
        let mut reaped = 0;
        for node in absent {
            let since = *self.missing_since.entry(node.clone()).or_insert(now);
            if now.duration_since(since) < self.grace {
                continue;
            }
            let meetings = self
                .store
                .close_participations_of_node(node.as_deref(), mm_api::store::now())
                .await?;
            info!(node = ?node, meetings = meetings.len(), "closed the participations of a node that is gone");
            for id in meetings {
                self.pause_if_unowned(id).await?;
            }
            self.missing_since.remove(&node);
            reaped += 1;
        }
        Ok(reaped)
    }

    async fn pause_if_unowned(&self, id: mm_api::MeetingId) -> mm_api::Result<()> {
        let Some(meeting) = self.store.meeting_by_id(id).await? else {
            return Ok(());
        };
        let name = super::lease_placement::lease_name(&meeting.code);
        if meeting.status == MeetingStatus::Active
            && self.cache.lease_holder(&name).await?.is_none()
        {
            self.store.mark_meeting_paused(id).await?;
        }
        Ok(())
    }

    pub fn spawn(mut self) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PERIOD);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = self.sweep().await {
                    warn!(error = %e, "reaping the participations of dead nodes failed");
                }
            }
        });
    }
}
