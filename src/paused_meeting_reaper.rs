//! Ends `paused` meetings that no live room will ever end (issue 12, finding 9). A live room
//! ends its own paused meeting after `PAUSED_TIMEOUT_SECS`; but a meeting paused by a restart,
//! or left paused by a node that died, has no room, and nothing else would end it.

use std::time::Duration;

use mm_api::Store;
use mm_signaling::Hub;
use mm_signaling::protocol::EndReason;
use tracing::{info, warn};

pub struct PausedMeetingReaper {
    pub store: Store,
    pub hub: Hub,
    /// `PAUSED_TIMEOUT_SECS`: how long a paused meeting with nobody in it may stay paused.
    pub timeout: Duration,
}

impl PausedMeetingReaper {
    /// How often to look: a fraction of the timeout, so a meeting ends at most a quarter of
    /// the timeout late, but at most once a minute and at least once a second.
    pub fn period(&self) -> Duration {
        (self.timeout / 4).clamp(Duration::from_secs(1), Duration::from_secs(60))
    }

    /// Ends what is overdue now; returns how many meetings it ended.
    pub async fn sweep(&self) -> mm_api::Result<usize> {
        let now = mm_api::store::now();
        let timeout = chrono::Duration::from_std(self.timeout).unwrap_or(chrono::Duration::MAX);
        let idle_since = now.checked_sub_signed(timeout).unwrap_or(now);
        let ended = self
            .store
            .end_abandoned_paused_meetings(idle_since, now)
            .await?;
        for code in &ended {
            // No room should be live (it would hold an open participation); close one if a
            // race left it, so room and database agree.
            self.hub.end_meeting(code, EndReason::Empty).await;
        }
        if !ended.is_empty() {
            info!(
                ended = ended.len(),
                "ended paused meetings nobody came back to"
            );
        }
        Ok(ended.len())
    }

    /// Sweeps every [`Self::period`] for the life of the process.
    pub fn spawn(self) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(self.period());
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = self.sweep().await {
                    warn!(error = %e, "ending abandoned paused meetings failed");
                }
            }
        });
    }
}
