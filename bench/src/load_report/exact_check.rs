//! [`ExactCheck`]: the exact end-of-run accounting of one receiving track against its publisher.

use crate::track_stats::TrackStats;

/// Exact end-of-run accounting of one receiving track against its publisher, after the
/// publisher stopped and in-flight media drained: every unit from the first one received to the
/// last one sent is either received or reported lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExactCheck {
    pub sent: u64,
    pub first: u64,
    pub received: u64,
    pub lost: u64,
    /// The last unit sent arrived (nothing silently missing at the tail).
    pub tail_complete: bool,
}

impl ExactCheck {
    /// `sent`: units the publisher sent on this track (probe seqs 0..sent).
    pub fn of(sent: u64, s: &TrackStats) -> Self {
        let q = &s.sequence;
        ExactCheck {
            sent,
            first: q.first.unwrap_or(sent),
            received: q.received,
            lost: q.lost,
            tail_complete: sent > 0 && q.highest == Some(sent - 1),
        }
    }

    /// received == (sent - first) - lost, with the tail delivered and nothing corrupted.
    pub fn holds(&self) -> bool {
        self.tail_complete && self.received + self.lost == self.sent - self.first.min(self.sent)
    }
}
