//! [`RateMeter`]: the bitrate of one stream (an UpTrack's layer), measured from the bytes that
//! arrive and smoothed over windows, so the bandwidth allocator knows what a layer costs.

use std::time::{Duration, Instant};

/// Windows shorter than this are not closed (a tick that came early would overstate).
const MIN_WINDOW: Duration = Duration::from_millis(200);

/// Bits per second of one stream: bytes are counted as packets arrive (one addition per
/// packet) and turned into a rate when a window closes, smoothed with the previous windows.
#[derive(Debug, Clone, Default)]
pub(crate) struct RateMeter {
    bytes: u64,
    window_start: Option<Instant>,
    /// Smoothed rate; `None` until the first window closed.
    bps: Option<u64>,
}

impl RateMeter {
    /// Counts one packet of `bytes` (payload and headers).
    pub fn add(&mut self, bytes: usize) {
        self.bytes += bytes as u64;
    }

    /// Closes the window when it is long enough: the new rate is the mean of the window's and
    /// the previous smoothed rate (a keyframe's burst moves it half way, not all the way).
    pub fn close_window(&mut self, now: Instant) {
        let Some(start) = self.window_start else {
            self.window_start = Some(now);
            self.bytes = 0;
            return;
        };
        let elapsed = now.saturating_duration_since(start);
        if elapsed < MIN_WINDOW {
            return;
        }
        let window = self.bytes * 8 * 1000 / elapsed.as_millis().max(1) as u64;
        self.bps = Some(match self.bps {
            Some(old) => (old + window) / 2,
            None => window,
        });
        self.bytes = 0;
        self.window_start = Some(now);
    }

    /// The smoothed rate in bits per second, once a window closed.
    pub fn bps(&self) -> Option<u64> {
        self.bps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_and_smooths_the_rate() {
        let t0 = Instant::now();
        let mut m = RateMeter::default();
        assert_eq!(m.bps(), None);
        m.add(1000); // before the first window: not counted
        m.close_window(t0);
        assert_eq!(m.bps(), None);
        for _ in 0..50 {
            m.add(1250); // 62.5 kB in 500 ms: 1 Mbit/s
        }
        m.close_window(t0 + Duration::from_millis(500));
        assert_eq!(m.bps(), Some(1_000_000));
        // A silent window halves it.
        m.close_window(t0 + Duration::from_millis(1000));
        assert_eq!(m.bps(), Some(500_000));
    }

    #[test]
    fn a_short_window_is_not_closed() {
        let t0 = Instant::now();
        let mut m = RateMeter::default();
        m.close_window(t0);
        m.add(10_000);
        m.close_window(t0 + Duration::from_millis(50));
        assert_eq!(m.bps(), None);
        m.close_window(t0 + Duration::from_millis(400));
        assert_eq!(m.bps(), Some(200_000));
    }
}
