//! One-way latency (send time in the probe -> arrival) as an HDR histogram, in microseconds.

use hdrhistogram::Histogram;

/// Largest latency tracked exactly; larger values are clamped (a minute is "broken" anyway).
const MAX_US: u64 = 60_000_000;

/// Percentiles of a [`LatencyHistogram`], µs.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct LatencySummary {
    pub count: u64,
    pub min_us: u64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
    pub mean_us: f64,
}

/// Records latencies; clock skew (arrival before send) records as 0 and is counted.
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    hist: Histogram<u64>,
    negative: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            hist: Histogram::new_with_bounds(1, MAX_US, 3).expect("valid bounds"),
            negative: 0,
        }
    }
}

impl LatencyHistogram {
    /// Records `received_us - sent_us`.
    pub fn record(&mut self, sent_us: u64, received_us: u64) {
        let value = received_us.checked_sub(sent_us).unwrap_or_else(|| {
            self.negative += 1;
            0
        });
        self.hist.saturating_record(value.min(MAX_US));
    }

    /// Samples whose arrival preceded their send time (should stay 0 on one machine).
    pub fn negative(&self) -> u64 {
        self.negative
    }

    pub fn summary(&self) -> LatencySummary {
        let h = &self.hist;
        if h.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            count: h.len(),
            min_us: h.min(),
            p50_us: h.value_at_quantile(0.5),
            p90_us: h.value_at_quantile(0.9),
            p99_us: h.value_at_quantile(0.99),
            p999_us: h.value_at_quantile(0.999),
            max_us: h.max(),
            mean_us: h.mean(),
        }
    }

    /// Forgets every sample (e.g. at the end of a warm-up).
    pub fn reset(&mut self) {
        self.hist.reset();
        self.negative = 0;
    }

    /// Adds another histogram's samples (e.g. to summarise many tracks at once).
    pub fn merge(&mut self, other: &LatencyHistogram) {
        let _ = self.hist.add(&other.hist);
        self.negative += other.negative;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn within(value: u64, expected: u64) -> bool {
        // 3 significant digits: relative error below 0.1 %.
        value.abs_diff(expected) * 1000 <= expected
    }

    #[test]
    fn empty_summary_is_zero() {
        assert_eq!(
            LatencyHistogram::default().summary(),
            LatencySummary::default()
        );
    }

    #[test]
    fn percentiles_of_a_uniform_ramp() {
        let mut h = LatencyHistogram::default();
        for us in 1..=10_000u64 {
            h.record(1_000_000, 1_000_000 + us);
        }
        let s = h.summary();
        assert_eq!(s.count, 10_000);
        assert_eq!(s.min_us, 1);
        assert!(within(s.p50_us, 5_000), "{s:?}");
        assert!(within(s.p99_us, 9_900), "{s:?}");
        assert!(within(s.p999_us, 9_990), "{s:?}");
        assert!(within(s.max_us, 10_000), "{s:?}");
        assert!((s.mean_us - 5_000.5).abs() < 10.0);
    }

    #[test]
    fn one_outlier_shows_in_p999_and_max_only() {
        let mut h = LatencyHistogram::default();
        for _ in 0..999 {
            h.record(0, 200);
        }
        h.record(0, 50_000);
        let s = h.summary();
        assert!(within(s.p99_us, 200));
        assert!(within(s.max_us, 50_000));
    }

    #[test]
    fn skew_and_huge_values_are_clamped() {
        let mut h = LatencyHistogram::default();
        h.record(10, 5);
        h.record(0, u64::MAX);
        assert_eq!(h.negative(), 1);
        let s = h.summary();
        assert_eq!(s.count, 2);
        assert_eq!(s.min_us, 0);
        assert!(within(s.max_us, MAX_US));
        let mut merged = LatencyHistogram::default();
        merged.merge(&h);
        assert_eq!(merged.summary().count, 2);
    }
}
