//! Loss, duplicate and reordering accounting over the probes' 64-bit sequence numbers.
//!
//! The counters never wrap, so the only subtlety is the window: a unit is checked against the
//! last [`WINDOW`] sequence numbers to tell a duplicate from a late (reordered) arrival.

/// How far back (in sequence numbers) duplicates are still recognised.
pub const WINDOW: u64 = 4096;

/// How one arrival was classified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// The next or a later sequence number (a gap before it counts as loss until filled).
    InOrder,
    /// Lower than one already seen, and new: fills a gap.
    Reordered,
    /// Seen before.
    Duplicate,
    /// So far behind the highest that it cannot be checked; counted apart.
    TooOld,
}

/// Counters derived from the arrivals so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SequenceStats {
    /// Distinct sequence numbers received.
    pub received: u64,
    /// Sequence numbers from the first to the highest seen.
    pub expected: u64,
    /// `expected - received`: never arrived (or not yet).
    pub lost: u64,
    pub duplicates: u64,
    pub reordered: u64,
    pub too_old: u64,
    pub first: Option<u64>,
    pub highest: Option<u64>,
}

/// Classifies sequence numbers as they arrive.
#[derive(Clone, Debug)]
pub struct SequenceTracker {
    first: u64,
    highest: u64,
    started: bool,
    seen: Vec<u64>,
    stats: SequenceStats,
}

impl Default for SequenceTracker {
    fn default() -> Self {
        Self {
            first: 0,
            highest: 0,
            started: false,
            seen: vec![0; (WINDOW / 64) as usize],
            stats: SequenceStats::default(),
        }
    }
}

impl SequenceTracker {
    pub fn record(&mut self, seq: u64) -> Arrival {
        if !self.started {
            self.started = true;
            self.first = seq;
            self.highest = seq;
            self.set(seq);
            self.stats.received = 1;
            return Arrival::InOrder;
        }
        if seq > self.highest {
            let advance = seq - self.highest;
            if advance >= WINDOW {
                self.seen.iter_mut().for_each(|w| *w = 0);
            } else {
                for s in self.highest + 1..seq {
                    self.clear(s);
                }
            }
            self.highest = seq;
            self.set(seq);
            self.stats.received += 1;
            return Arrival::InOrder;
        }
        if self.highest - seq >= WINDOW {
            self.stats.too_old += 1;
            return Arrival::TooOld;
        }
        if seq >= self.first && self.is_set(seq) {
            self.stats.duplicates += 1;
            return Arrival::Duplicate;
        }
        if seq < self.first {
            // Earlier than the first arrival: the stream started before we thought. The bits
            // between are clear because nothing below `first` was ever recorded.
            for s in seq + 1..self.first {
                self.clear(s);
            }
            self.first = seq;
        }
        self.set(seq);
        self.stats.received += 1;
        self.stats.reordered += 1;
        Arrival::Reordered
    }

    pub fn stats(&self) -> SequenceStats {
        let mut s = self.stats;
        if self.started {
            s.expected = self.highest - self.first + 1;
            s.lost = s.expected.saturating_sub(s.received);
            s.first = Some(self.first);
            s.highest = Some(self.highest);
        }
        s
    }

    fn slot(seq: u64) -> (usize, u64) {
        let i = seq % WINDOW;
        ((i / 64) as usize, 1 << (i % 64))
    }
    fn set(&mut self, seq: u64) {
        let (w, b) = Self::slot(seq);
        self.seen[w] |= b;
    }
    fn clear(&mut self, seq: u64) {
        let (w, b) = Self::slot(seq);
        self.seen[w] &= !b;
    }
    fn is_set(&self, seq: u64) -> bool {
        let (w, b) = Self::slot(seq);
        self.seen[w] & b != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Arrival::*;

    fn run(seqs: &[u64]) -> (Vec<Arrival>, SequenceStats) {
        let mut t = SequenceTracker::default();
        let arrivals = seqs.iter().map(|&s| t.record(s)).collect();
        (arrivals, t.stats())
    }

    #[test]
    fn clean_stream() {
        let (a, s) = run(&[10, 11, 12, 13]);
        assert!(a.iter().all(|&x| x == InOrder));
        assert_eq!((s.received, s.expected, s.lost), (4, 4, 0));
        assert_eq!((s.duplicates, s.reordered), (0, 0));
    }

    #[test]
    fn gaps_are_loss_until_filled() {
        let (_, s) = run(&[0, 1, 4, 5]);
        assert_eq!((s.expected, s.lost), (6, 2));
        let (a, s) = run(&[0, 1, 4, 3, 2, 5]);
        assert_eq!(
            a,
            vec![InOrder, InOrder, InOrder, Reordered, Reordered, InOrder]
        );
        assert_eq!((s.lost, s.reordered, s.duplicates), (0, 2, 0));
    }

    #[test]
    fn duplicates_are_counted_once_not_as_received() {
        let (a, s) = run(&[5, 6, 6, 5, 7, 3, 3]);
        assert_eq!(
            a,
            vec![
                InOrder, InOrder, Duplicate, Duplicate, InOrder, Reordered, Duplicate
            ]
        );
        assert_eq!((s.received, s.duplicates, s.reordered), (4, 3, 1));
        assert_eq!((s.first, s.expected, s.lost), (Some(3), 5, 1));
    }

    #[test]
    fn big_jumps_clear_the_window() {
        let (a, s) = run(&[1, 2, 1 + WINDOW * 3, 3 + WINDOW * 3, 2 + WINDOW * 3, 2]);
        assert_eq!(
            a,
            vec![InOrder, InOrder, InOrder, InOrder, Reordered, TooOld]
        );
        assert_eq!(s.too_old, 1);
        assert_eq!(s.expected, WINDOW * 3 + 3);
        assert_eq!(s.lost, s.expected - 5);
    }

    #[test]
    fn reuse_of_a_slot_after_the_window_moved_is_not_a_duplicate() {
        let mut t = SequenceTracker::default();
        t.record(0);
        t.record(WINDOW - 1); // slot of 0 stays set: 0 is within the window
        assert_eq!(t.record(0), Duplicate);
        assert_eq!(t.record(WINDOW), InOrder); // moves past 0; its slot is reused
        assert_eq!(t.record(1), Reordered, "1 was a gap, its slot was cleared");
    }

    #[test]
    fn counters_near_u64_max_do_not_overflow() {
        let top = u64::MAX - 2;
        let (a, s) = run(&[top, top + 2, top + 1, top + 2]);
        assert_eq!(a, vec![InOrder, InOrder, Reordered, Duplicate]);
        assert_eq!((s.expected, s.lost, s.received), (3, 0, 3));
    }
}
