//! [`DropDecider`]: whether the lossy relay drops the next datagram, independently per datagram
//! with a fixed probability, from a seeded generator so that a run's drop pattern repeats.
//!
//! The generator is SplitMix64 (Steele, Lea and Flood), written out here rather than taken
//! from `rand` because `rand` does not promise the same sequence across its versions, and a
//! `--loss-seed` should mean the same drops next year.

/// Drops each datagram with probability `percent / 100`, independently.
#[derive(Clone, Debug)]
pub struct DropDecider {
    state: u64,
    /// Drop when the next 64-bit draw is below this; `u64::MAX` with `always` means 100 %.
    threshold: u64,
    always: bool,
}

impl DropDecider {
    /// `percent` is clamped to 0..=100; the same `seed` gives the same sequence of decisions.
    pub fn new(percent: f64, seed: u64) -> Self {
        let p = if percent.is_nan() {
            0.0
        } else {
            (percent / 100.0).clamp(0.0, 1.0)
        };
        DropDecider {
            state: seed,
            // 2^64 · p, exact enough: the f64 product has 53 significant bits.
            threshold: (p * 18_446_744_073_709_551_616.0) as u64,
            always: p >= 1.0,
        }
    }

    /// The next 64 pseudo-random bits (SplitMix64).
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Whether to drop the next datagram.
    pub fn drop_next(&mut self) -> bool {
        if self.always {
            return true;
        }
        if self.threshold == 0 {
            return false;
        }
        self.next_u64() < self.threshold
    }
}

/// A seed for stream `stream` (relay index and direction) derived from the run's seed, so
/// that the relays' decisions are independent of one another yet repeatable.
pub fn stream_seed(seed: u64, stream: u64) -> u64 {
    let mut d = DropDecider::new(0.0, seed ^ stream.wrapping_mul(0xd1b5_4a32_d192_ed03));
    d.next_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dropped(percent: f64, seed: u64, n: usize) -> usize {
        let mut d = DropDecider::new(percent, seed);
        (0..n).filter(|_| d.drop_next()).count()
    }

    #[test]
    fn drop_rate_matches_the_probability_over_many_datagrams() {
        // 200k draws at p = 0.05: standard deviation of the count is about 97, so ±600 is
        // over 6 standard deviations; the seeds are fixed, so this is deterministic anyway.
        for seed in [1, 2, 0xdead_beef] {
            let n = dropped(5.0, seed, 200_000);
            assert!((9_400..=10_600).contains(&n), "seed {seed}: {n} of 200000");
        }
        let n = dropped(0.5, 7, 200_000);
        assert!((800..=1_200).contains(&n), "0.5 %: {n}");
        let n = dropped(50.0, 7, 200_000);
        assert!((99_000..=101_000).contains(&n), "50 %: {n}");
    }

    #[test]
    fn bounds_never_and_always() {
        assert_eq!(dropped(0.0, 3, 10_000), 0);
        assert_eq!(dropped(-4.0, 3, 10_000), 0);
        assert_eq!(dropped(f64::NAN, 3, 10_000), 0);
        assert_eq!(dropped(100.0, 3, 10_000), 10_000);
        assert_eq!(dropped(250.0, 3, 10_000), 10_000);
    }

    #[test]
    fn the_same_seed_repeats_the_same_decisions() {
        let run = |seed| {
            let mut d = DropDecider::new(10.0, seed);
            (0..1000).map(|_| d.drop_next()).collect::<Vec<_>>()
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
        assert_ne!(stream_seed(42, 0), stream_seed(42, 1));
        assert_eq!(stream_seed(42, 1), stream_seed(42, 1));
    }

    #[test]
    fn decisions_are_not_bunched() {
        // Independent drops at 20 %: runs of 10 drops in a row are rare (0.2^10 ≈ 1e-7).
        let mut d = DropDecider::new(20.0, 9);
        let (mut run, mut longest) = (0, 0);
        for _ in 0..100_000 {
            if d.drop_next() {
                run += 1;
                longest = longest.max(run);
            } else {
                run = 0;
            }
        }
        assert!(longest < 10, "longest run of drops {longest}");
    }
}
