//! [`TrackCounters`]: the counters of one receiving track that are diffed over the window.

use serde::Serialize;

use crate::track_stats::TrackStats;

/// The counters of one receiving track that are diffed over the window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TrackCounters {
    pub packets: u64,
    pub bytes: u64,
    /// Intact units (audio packets, video frames).
    pub units: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub reordered: u64,
    pub corrupted: u64,
    pub malformed: u64,
}

impl From<&TrackStats> for TrackCounters {
    fn from(s: &TrackStats) -> Self {
        TrackCounters {
            packets: s.packets,
            bytes: s.bytes,
            units: s.sequence.received,
            lost: s.sequence.lost,
            duplicates: s.sequence.duplicates + s.duplicate_packets,
            reordered: s.sequence.reordered,
            corrupted: s.corrupted,
            malformed: s.malformed_packets,
        }
    }
}

impl TrackCounters {
    /// `self - start`, saturating (a gap counted as loss at the start may be filled later).
    pub fn since(&self, start: &TrackCounters) -> TrackCounters {
        TrackCounters {
            packets: self.packets.saturating_sub(start.packets),
            bytes: self.bytes.saturating_sub(start.bytes),
            units: self.units.saturating_sub(start.units),
            lost: self.lost.saturating_sub(start.lost),
            duplicates: self.duplicates.saturating_sub(start.duplicates),
            reordered: self.reordered.saturating_sub(start.reordered),
            corrupted: self.corrupted.saturating_sub(start.corrupted),
            malformed: self.malformed.saturating_sub(start.malformed),
        }
    }

    pub(super) fn add(&mut self, o: &TrackCounters) {
        self.packets += o.packets;
        self.bytes += o.bytes;
        self.units += o.units;
        self.lost += o.lost;
        self.duplicates += o.duplicates;
        self.reordered += o.reordered;
        self.corrupted += o.corrupted;
        self.malformed += o.malformed;
    }
}
