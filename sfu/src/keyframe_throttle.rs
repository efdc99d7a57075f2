//! [`KeyframeThrottle`]: at most one keyframe request per UpTrack per interval.
//!
//! Unlike a plain rate limiter, a request that arrives too early is not lost: it is remembered
//! and fires once the interval has passed (a late joiner's request must not be swallowed just
//! because another subscriber asked 100 ms earlier).

use std::time::{Duration, Instant};

/// Throttles keyframe requests for one UpTrack. Pure: time is passed in.
#[derive(Debug, Clone)]
pub struct KeyframeThrottle {
    min_interval: Duration,
    last_sent: Option<Instant>,
    pending: bool,
}

impl KeyframeThrottle {
    /// A throttle allowing one request per `min_interval`.
    pub fn new(min_interval: Duration) -> Self {
        KeyframeThrottle {
            min_interval,
            last_sent: None,
            pending: false,
        }
    }

    /// Someone wants a keyframe. `true`: send a request to the publisher now. `false`: one was
    /// sent recently; this request is deferred until [`Self::deadline`].
    pub fn request(&mut self, now: Instant) -> bool {
        if self.may_send(now) {
            self.last_sent = Some(now);
            self.pending = false;
            true
        } else {
            self.pending = true;
            false
        }
    }

    /// Call when the clock reaches [`Self::deadline`]: `true` if a deferred request must be
    /// sent now.
    pub fn poll(&mut self, now: Instant) -> bool {
        if self.pending && self.may_send(now) {
            self.last_sent = Some(now);
            self.pending = false;
            true
        } else {
            false
        }
    }

    /// When a deferred request becomes due, if any.
    pub fn deadline(&self) -> Option<Instant> {
        match (self.pending, self.last_sent) {
            (true, Some(t)) => Some(t + self.min_interval),
            _ => None,
        }
    }

    fn may_send(&self, now: Instant) -> bool {
        self.last_sent
            .is_none_or(|t| now.saturating_duration_since(t) >= self.min_interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn first_request_passes_then_throttles() {
        let t0 = Instant::now();
        let mut k = KeyframeThrottle::new(500 * MS);
        assert!(k.request(t0));
        assert_eq!(k.deadline(), None);
        assert!(!k.request(t0 + 100 * MS));
        assert!(!k.request(t0 + 499 * MS));
        assert_eq!(k.deadline(), Some(t0 + 500 * MS));
        assert!(k.request(t0 + 500 * MS), "interval elapsed");
        assert_eq!(k.deadline(), None, "sending clears the deferred one");
    }

    #[test]
    fn deferred_request_fires_once_at_deadline() {
        let t0 = Instant::now();
        let mut k = KeyframeThrottle::new(500 * MS);
        assert!(k.request(t0));
        assert!(!k.request(t0 + 10 * MS));
        assert!(!k.request(t0 + 20 * MS), "many requests collapse into one");
        assert!(!k.poll(t0 + 499 * MS));
        assert!(k.poll(t0 + 500 * MS));
        assert!(!k.poll(t0 + 2000 * MS), "only once");
        assert_eq!(k.deadline(), None);
        // After the deferred send, the next request is again throttled from that point.
        assert!(!k.request(t0 + 700 * MS));
        assert_eq!(k.deadline(), Some(t0 + 1000 * MS));
    }

    #[test]
    fn poll_without_pending_is_noop() {
        let t0 = Instant::now();
        let mut k = KeyframeThrottle::new(500 * MS);
        assert!(!k.poll(t0));
        assert!(k.request(t0 + 10 * MS));
    }

    #[test]
    fn zero_interval_never_throttles() {
        let t0 = Instant::now();
        let mut k = KeyframeThrottle::new(Duration::ZERO);
        assert!(k.request(t0));
        assert!(k.request(t0));
    }
}
