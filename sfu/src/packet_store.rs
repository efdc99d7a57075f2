//! [`PacketStore`]: a video UpTrack's keyframe cache, the packets of its source since the
//! last keyframe.
//!
//! A new DownTrack (a late joiner, a reconnect) is started from it at once instead of waiting
//! for a keyframe request's round trip to the publisher (and the keyframe it costs every other
//! subscriber). Payloads are the `Arc<[u8]>` str0m filled at reception, shared with every
//! DownTrack: the cache costs a header per packet, not a copy. Bounded by packets, bytes and
//! age: a publisher that sends few keyframes makes the cache invalid until the next one, and a
//! start then asks the publisher as before.
//!
//! Pure: no I/O, no str0m.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::rtp_rewriter::{SourceId, Vp8Ids};

/// About 17 s of 720p at 60 packets/s, or 3 s of a 4 Mbit/s screen share.
const MAX_PACKETS: usize = 1024;
/// A large keyframe (1080p screen share) and the deltas after it.
const MAX_BYTES: usize = 4 * 1024 * 1024;
/// Older keyframes make a new subscriber replay too much: ask for a fresh one instead.
const MAX_AGE: Duration = Duration::from_secs(3);

/// One cached packet.
#[derive(Clone, Debug)]
pub(crate) struct StoredPacket {
    pub source: SourceId,
    pub seq: u64,
    pub timestamp: u32,
    pub marker: bool,
    pub arrival: Instant,
    pub keyframe_start: bool,
    pub payload: Arc<[u8]>,
    pub vp8: Option<Vp8Ids>,
    /// The publisher's payload type.
    pub pt: u8,
}

/// Bounds of one cache.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StoreLimits {
    pub max_packets: usize,
    pub max_bytes: usize,
    pub max_age: Duration,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            max_packets: MAX_PACKETS,
            max_bytes: MAX_BYTES,
            max_age: MAX_AGE,
        }
    }
}

/// The packets since the last keyframe start, in sequence order; empty when invalid.
#[derive(Debug)]
pub(crate) struct PacketStore {
    limits: StoreLimits,
    packets: VecDeque<StoredPacket>,
    bytes: usize,
}

impl PacketStore {
    pub fn new(limits: StoreLimits) -> Self {
        PacketStore {
            limits,
            packets: VecDeque::new(),
            bytes: 0,
        }
    }

    /// Records a packet of the UpTrack. A keyframe start (newer than the cached one, or of
    /// another source) restarts the cache; other packets join it when they belong after the
    /// cached keyframe (late repairs are put in order, duplicates ignored). Exceeding a limit
    /// empties the cache until the next keyframe.
    pub fn push(&mut self, p: StoredPacket) {
        let head = self.packets.front().map(|f| (f.source, f.seq));
        if p.keyframe_start && head.is_none_or(|(source, seq)| source != p.source || p.seq > seq) {
            self.clear();
            self.bytes = p.payload.len();
            self.packets.push_back(p);
            return;
        }
        let Some((source, first)) = head else {
            return; // no keyframe yet
        };
        if p.source != source || p.seq <= first {
            return;
        }
        match self.packets.back() {
            Some(last) if p.seq > last.seq => {
                self.bytes += p.payload.len();
                self.packets.push_back(p);
            }
            _ => match self.packets.binary_search_by_key(&p.seq, |q| q.seq) {
                Ok(_) => return, // duplicate
                Err(i) => {
                    self.bytes += p.payload.len();
                    self.packets.insert(i, p);
                }
            },
        }
        if self.packets.len() > self.limits.max_packets || self.bytes > self.limits.max_bytes {
            self.clear();
        }
    }

    /// The cached packets from the keyframe on, when the keyframe is younger than the age
    /// limit at `now`. `None`: ask the publisher for a keyframe.
    pub fn keyframe_run(&self, now: Instant) -> Option<impl Iterator<Item = &StoredPacket>> {
        let first = self.packets.front()?;
        let age = now.saturating_duration_since(first.arrival);
        (first.keyframe_start && age <= self.limits.max_age).then(|| self.packets.iter())
    }

    pub fn clear(&mut self) {
        self.packets.clear();
        self.bytes = 0;
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: SourceId = SourceId(1);
    const B: SourceId = SourceId(2);

    fn pkt(t0: Instant, source: SourceId, seq: u64, key: bool, len: usize) -> StoredPacket {
        StoredPacket {
            source,
            seq,
            timestamp: seq as u32 * 3000,
            marker: false,
            arrival: t0 + Duration::from_millis(seq),
            keyframe_start: key,
            payload: vec![seq as u8; len].into(),
            vp8: None,
            pt: 96,
        }
    }

    fn seqs(s: &PacketStore, now: Instant) -> Option<Vec<u64>> {
        s.keyframe_run(now).map(|r| r.map(|p| p.seq).collect())
    }

    #[test]
    fn keeps_the_packets_since_the_last_keyframe() {
        let t0 = Instant::now();
        let mut s = PacketStore::new(StoreLimits::default());
        s.push(pkt(t0, A, 1, false, 10));
        assert_eq!(seqs(&s, t0), None, "nothing before a keyframe");
        s.push(pkt(t0, A, 2, true, 10));
        s.push(pkt(t0, A, 3, false, 10));
        s.push(pkt(t0, A, 4, false, 10));
        assert_eq!(seqs(&s, t0), Some(vec![2, 3, 4]));
        assert_eq!(s.bytes(), 30);
        s.push(pkt(t0, A, 5, true, 7));
        assert_eq!(seqs(&s, t0), Some(vec![5]), "a new keyframe restarts it");
        assert_eq!(s.bytes(), 7);
    }

    #[test]
    fn late_packets_go_in_order_and_duplicates_are_ignored() {
        let t0 = Instant::now();
        let mut s = PacketStore::new(StoreLimits::default());
        s.push(pkt(t0, A, 10, true, 1));
        s.push(pkt(t0, A, 13, false, 1));
        s.push(pkt(t0, A, 11, false, 1));
        s.push(pkt(t0, A, 12, false, 1));
        s.push(pkt(t0, A, 12, false, 1));
        s.push(pkt(t0, A, 13, false, 1));
        s.push(pkt(t0, A, 9, false, 1));
        s.push(pkt(t0, A, 10, false, 1));
        assert_eq!(seqs(&s, t0), Some(vec![10, 11, 12, 13]));
        // An older keyframe arriving late does not replace the newer one.
        s.push(pkt(t0, A, 8, true, 1));
        assert_eq!(seqs(&s, t0), Some(vec![10, 11, 12, 13]));
    }

    #[test]
    fn limits_invalidate_until_the_next_keyframe() {
        let t0 = Instant::now();
        let limits = StoreLimits {
            max_packets: 3,
            max_bytes: 1000,
            max_age: Duration::from_secs(10),
        };
        let mut s = PacketStore::new(limits);
        s.push(pkt(t0, A, 1, true, 1));
        s.push(pkt(t0, A, 2, false, 1));
        s.push(pkt(t0, A, 3, false, 1));
        assert_eq!(s.len(), 3);
        s.push(pkt(t0, A, 4, false, 1));
        assert_eq!(seqs(&s, t0), None, "too many packets");
        s.push(pkt(t0, A, 5, false, 1));
        assert_eq!(s.len(), 0, "stays empty until a keyframe");
        s.push(pkt(t0, A, 6, true, 600));
        s.push(pkt(t0, A, 7, false, 300));
        assert_eq!(seqs(&s, t0), Some(vec![6, 7]));
        s.push(pkt(t0, A, 8, false, 101));
        assert_eq!(seqs(&s, t0), None, "too many bytes");
        assert_eq!(s.bytes(), 0);
    }

    #[test]
    fn an_old_keyframe_is_not_served() {
        let t0 = Instant::now();
        let limits = StoreLimits {
            max_age: Duration::from_millis(500),
            ..StoreLimits::default()
        };
        let mut s = PacketStore::new(limits);
        s.push(pkt(t0, A, 1, true, 1));
        let arrival = t0 + Duration::from_millis(1);
        assert!(
            s.keyframe_run(arrival + Duration::from_millis(500))
                .is_some()
        );
        assert!(
            s.keyframe_run(arrival + Duration::from_millis(501))
                .is_none()
        );
    }

    #[test]
    fn a_new_source_counts_from_its_own_keyframe() {
        let t0 = Instant::now();
        let mut s = PacketStore::new(StoreLimits::default());
        s.push(pkt(t0, A, 100, true, 1));
        s.push(pkt(t0, B, 101, false, 1));
        assert_eq!(seqs(&s, t0), Some(vec![100]), "B's delta is not cached");
        // B's keyframe restarts the cache even with a lower sequence number.
        s.push(pkt(t0, B, 5, true, 1));
        s.push(pkt(t0, A, 102, false, 1));
        s.push(pkt(t0, B, 6, false, 1));
        let run: Vec<(SourceId, u64)> = s
            .keyframe_run(t0)
            .unwrap()
            .map(|p| (p.source, p.seq))
            .collect();
        assert_eq!(run, vec![(B, 5), (B, 6)]);
        s.clear();
        assert_eq!(seqs(&s, t0), None);
        assert_eq!((s.len(), s.bytes()), (0, 0));
    }
}
