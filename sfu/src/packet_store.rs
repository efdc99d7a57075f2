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
//! Sequence numbers are compared by wrapping difference, as in
//! [`RtpRewriter`](crate::rtp_rewriter::RtpRewriter).
//!
//! Pure: no I/O, no str0m.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::rtp_rewriter::{SourceId, Vp8Ids};

/// [`MAX_AGE`] of video up to about 3 Mbit/s in 1200-byte packets: a longer run since the
/// keyframe is not worth replaying to a new subscriber in one burst.
const MAX_PACKETS: usize = 1024;
/// Several times 1024 full-size packets: binds only on unusually large payloads, and bounds
/// the memory one video UpTrack holds.
const MAX_BYTES: usize = 4 * 1024 * 1024;
/// Replaying an older keyframe shows a stale picture and sends seconds of video at once:
/// past this a keyframe request's round trip is the better start.
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
    /// The keyframe start first (when not empty), then the packets after it in order.
    packets: VecDeque<StoredPacket>,
    /// Sum of the payload lengths in `packets`.
    bytes: usize,
    /// The newest keyframe start taken, kept while the cache is invalid so that a late
    /// repair of it (or of an older one) does not restart the cache on a broken run.
    key: Option<(SourceId, u64)>,
}

impl PacketStore {
    pub fn new(limits: StoreLimits) -> Self {
        PacketStore {
            limits,
            packets: VecDeque::new(),
            bytes: 0,
            key: None,
        }
    }

    /// Records a packet of the UpTrack. A keyframe start newer than the last one taken (or
    /// of another source) restarts the cache at it; other packets of the cached source join
    /// when they belong after the cached keyframe (late repairs are put in order, duplicates
    /// ignored). Exceeding a limit empties the cache until the next keyframe.
    pub fn push(&mut self, p: StoredPacket) {
        if p.keyframe_start
            && self
                .key
                .is_none_or(|(source, seq)| source != p.source || newer(p.seq, seq))
        {
            self.restart_at(p);
            return;
        }
        let Some(head) = self.packets.front() else {
            return; // no keyframe yet, or invalid until the next
        };
        if p.source != head.source {
            return;
        }
        let key_seq = head.seq;
        let after_key = |seq: u64| seq.wrapping_sub(key_seq) as i64;
        let at = after_key(p.seq);
        if at <= 0 {
            return; // before the keyframe, or the keyframe again
        }
        let index = match self.packets.back() {
            Some(last) if at > after_key(last.seq) => self.packets.len(),
            _ => match self.packets.binary_search_by_key(&at, |q| after_key(q.seq)) {
                Ok(_) => return, // duplicate
                Err(i) => i,
            },
        };
        self.insert(index, p);
    }

    /// The cached packets from the keyframe on, when the keyframe is younger than the age
    /// limit at `now`. `None`: ask the publisher for a keyframe.
    pub fn keyframe_run(
        &self,
        now: Instant,
    ) -> Option<impl ExactSizeIterator<Item = &StoredPacket>> {
        let key = self.packets.front()?;
        debug_assert!(key.keyframe_start);
        let fresh = now.saturating_duration_since(key.arrival) <= self.limits.max_age;
        fresh.then(|| self.packets.iter())
    }

    /// Forgets everything (publisher changed, track removed): any keyframe starts it again.
    /// Not called in the crate yet: an UpTrack's store goes with it, and a new source is
    /// handled by `push`.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn clear(&mut self) {
        self.invalidate();
        self.key = None;
    }

    #[cfg_attr(not(test), allow(dead_code))]
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    #[cfg_attr(not(test), allow(dead_code))]
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    #[cfg_attr(not(test), allow(dead_code))]
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// The cache starts at keyframe `p`. Packets of its source already cached after it (its
    /// first packet came late) stay; older ones go.
    fn restart_at(&mut self, p: StoredPacket) {
        if self.key.is_some_and(|(source, _)| source == p.source) {
            while let Some(old) = self.packets.pop_front() {
                if newer(old.seq, p.seq) {
                    self.packets.push_front(old);
                    break;
                }
                self.bytes -= old.payload.len();
            }
        } else {
            self.invalidate();
        }
        self.key = Some((p.source, p.seq));
        self.insert(0, p);
    }

    /// Inserts at `index`, or invalidates the cache when a limit would be exceeded.
    fn insert(&mut self, index: usize, p: StoredPacket) {
        let bytes = self.bytes + p.payload.len();
        if self.packets.len() >= self.limits.max_packets || bytes > self.limits.max_bytes {
            self.invalidate();
            return;
        }
        self.bytes = bytes;
        self.packets.insert(index, p);
    }

    /// Empty until the next keyframe start newer than `key`.
    fn invalidate(&mut self) {
        self.packets.clear();
        self.bytes = 0;
    }
}

/// `a` comes after `b` (wrapping: str0m may extend a reordered first packet to near 2^64).
fn newer(a: u64, b: u64) -> bool {
    a.wrapping_sub(b) as i64 > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: SourceId = SourceId(1);
    const B: SourceId = SourceId(2);

    /// A packet of `len` payload bytes, arriving `seq` ms after `t0`.
    fn pkt(t0: Instant, source: SourceId, seq: u64, key: bool, len: usize) -> StoredPacket {
        StoredPacket {
            source,
            seq,
            timestamp: (seq as u32).wrapping_mul(3000),
            marker: false,
            arrival: t0 + Duration::from_millis(seq % 1000),
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
        assert!(s.is_empty());
        s.push(pkt(t0, A, 2, true, 10));
        s.push(pkt(t0, A, 3, false, 10));
        s.push(pkt(t0, A, 4, false, 10));
        assert_eq!(seqs(&s, t0), Some(vec![2, 3, 4]));
        assert_eq!((s.len(), s.bytes(), s.is_empty()), (3, 30, false));
        assert_eq!(s.keyframe_run(t0).unwrap().len(), 3);
        s.push(pkt(t0, A, 5, true, 7));
        assert_eq!(seqs(&s, t0), Some(vec![5]), "a new keyframe restarts it");
        assert_eq!(s.bytes(), 7);
    }

    #[test]
    fn payloads_are_shared_not_copied() {
        let t0 = Instant::now();
        let mut s = PacketStore::new(StoreLimits::default());
        let p = pkt(t0, A, 1, true, 100);
        let payload = p.payload.clone();
        s.push(p);
        let cached = s.keyframe_run(t0).unwrap().next().unwrap();
        assert!(Arc::ptr_eq(&cached.payload, &payload));
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
        s.push(pkt(t0, A, 10, true, 1));
        assert_eq!(seqs(&s, t0), Some(vec![10, 11, 12, 13]));
        assert_eq!(s.bytes(), 4, "duplicates are not counted");
        // An older keyframe arriving late does not replace the newer one.
        s.push(pkt(t0, A, 8, true, 1));
        assert_eq!(seqs(&s, t0), Some(vec![10, 11, 12, 13]));
        s.push(pkt(t0, A, 16, false, 1));
        s.push(pkt(t0, A, 14, false, 1));
        assert_eq!(seqs(&s, t0), Some(vec![10, 11, 12, 13, 14, 16]));
    }

    #[test]
    fn a_keyframe_that_came_late_keeps_what_follows_it() {
        let t0 = Instant::now();
        let mut s = PacketStore::new(StoreLimits::default());
        s.push(pkt(t0, A, 10, true, 1));
        s.push(pkt(t0, A, 11, false, 1));
        s.push(pkt(t0, A, 15, false, 2));
        s.push(pkt(t0, A, 16, false, 2));
        // The first packet of the next keyframe, overtaken by the two after it.
        s.push(pkt(t0, A, 14, true, 3));
        assert_eq!(seqs(&s, t0), Some(vec![14, 15, 16]));
        assert_eq!(s.bytes(), 7);
        s.push(pkt(t0, A, 13, false, 1));
        assert_eq!(seqs(&s, t0), Some(vec![14, 15, 16]), "13 is before it");
    }

    #[test]
    fn sequence_numbers_compare_across_wraps() {
        let t0 = Instant::now();
        let mut s = PacketStore::new(StoreLimits::default());
        // str0m extends a packet that precedes the first one (0) to just below 2^64.
        s.push(pkt(t0, A, 0, true, 1));
        s.push(pkt(t0, A, u64::MAX, true, 1));
        s.push(pkt(t0, A, u64::MAX - 1, false, 1));
        s.push(pkt(t0, A, 1, false, 1));
        assert_eq!(seqs(&s, t0), Some(vec![0, 1]));
        // Extended numbers crossing 2^16 stay in order.
        s.push(pkt(t0, A, 65_535, true, 1));
        s.push(pkt(t0, A, 65_537, false, 1));
        s.push(pkt(t0, A, 65_536, false, 1));
        assert_eq!(seqs(&s, t0), Some(vec![65_535, 65_536, 65_537]));
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
        // A late repair of the keyframe it dropped does not restart it.
        s.push(pkt(t0, A, 1, true, 1));
        assert_eq!(seqs(&s, t0), None);
        s.push(pkt(t0, A, 6, true, 600));
        s.push(pkt(t0, A, 7, false, 300));
        assert_eq!(seqs(&s, t0), Some(vec![6, 7]));
        s.push(pkt(t0, A, 8, false, 101));
        assert_eq!(seqs(&s, t0), None, "too many bytes");
        assert_eq!(s.bytes(), 0);
        // A keyframe alone beyond the bytes limit is not kept either.
        s.push(pkt(t0, A, 9, true, 1001));
        assert_eq!((seqs(&s, t0), s.bytes()), (None, 0));
        s.push(pkt(t0, A, 10, true, 1000));
        assert_eq!(seqs(&s, t0), Some(vec![10]));
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
        s.push(pkt(t0, A, 400, false, 1));
        let arrival = t0 + Duration::from_millis(1);
        assert!(
            s.keyframe_run(arrival + Duration::from_millis(500))
                .is_some()
        );
        assert!(
            s.keyframe_run(arrival + Duration::from_millis(501))
                .is_none(),
            "the keyframe's age counts, not the newest packet's"
        );
        assert_eq!(s.len(), 2, "kept: the next keyframe replaces it");
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
        assert_eq!(s.bytes(), 2);
    }

    #[test]
    fn clear_forgets_the_keyframe() {
        let t0 = Instant::now();
        let mut s = PacketStore::new(StoreLimits::default());
        s.push(pkt(t0, A, 50, true, 1));
        s.push(pkt(t0, A, 51, false, 1));
        s.clear();
        assert_eq!(seqs(&s, t0), None);
        assert_eq!((s.len(), s.bytes(), s.is_empty()), (0, 0, true));
        s.push(pkt(t0, A, 52, false, 1));
        assert_eq!(seqs(&s, t0), None, "no keyframe since");
        // After a clear any keyframe starts it, even an older one (a new publisher).
        s.push(pkt(t0, A, 3, true, 1));
        assert_eq!(seqs(&s, t0), Some(vec![3]));
    }
}
