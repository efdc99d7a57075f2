//! [`LinkReport`]: what a `--loss` run's relays did over the window, against what was set,
//! and the warnings when the relays rather than the setting shaped the loss. Pure.

use serde::Serialize;

use crate::lossy_link::LossSpec;
use crate::lossy_relay::RelayCounts;
use crate::process_stats::ThreadUsage;

/// `--loss` over the window: what was asked for and what the relays did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkWindow {
    pub spec: LossSpec,
    pub counts: RelayCounts,
}

/// The lossy link in the report.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LinkReport {
    pub set_pct: f64,
    pub seed: u64,
    /// The relays' counters over the window.
    pub counts: RelayCounts,
    /// Datagrams dropped / relayed, both directions, % (`None`: nothing passed).
    pub measured_pct: Option<f64>,
    pub to_server_pct: Option<f64>,
    pub to_client_pct: Option<f64>,
}

impl LinkReport {
    pub fn of(w: &LinkWindow) -> Self {
        LinkReport {
            set_pct: w.spec.percent,
            seed: w.spec.seed,
            counts: w.counts,
            measured_pct: w.counts.loss_pct(),
            to_server_pct: w.counts.to_server_loss_pct(),
            to_client_pct: w.counts.to_client_loss_pct(),
        }
    }

    /// Whether the measured share is further from the set one than chance explains (more than
    /// 4 standard deviations of a binomial share, and more than 0.1 points).
    pub fn off_target(&self) -> bool {
        let n = (self.counts.forwarded() + self.counts.dropped()) as f64;
        let Some(m) = self.measured_pct else {
            return false;
        };
        let p = (self.set_pct / 100.0).clamp(0.0, 1.0);
        let sd_pct = (p * (1.0 - p) / n).sqrt() * 100.0;
        (m - self.set_pct).abs() > (4.0 * sd_pct).max(0.1)
    }

    /// Warnings for the report: `packets_received` by the participants in the window, and the
    /// relays' thread's CPU.
    pub fn warnings(
        &self,
        packets_received: u64,
        relay_thread: Option<&ThreadUsage>,
    ) -> Vec<String> {
        let c = &self.counts;
        let mut w = vec![];
        if c.forwarded() == 0 && packets_received > 0 {
            w.push(
                "the lossy relays forwarded nothing in the window while receivers got media: \
                 the media bypassed them, so the loss figures are not the link's"
                    .into(),
            );
        }
        if c.kernel_drops > 0 {
            w.push(format!(
                "the lossy relays lost {} datagrams in their own socket buffers (too slow): \
                 the link lost more than the {:.3}% set",
                c.kernel_drops, self.set_pct
            ));
        }
        if c.send_errors > 0 {
            w.push(format!(
                "the lossy relays could not send {} datagrams",
                c.send_errors
            ));
        }
        if self.off_target() {
            w.push(format!(
                "the relays dropped {:.3}% of the datagrams, not the {:.3}% set",
                self.measured_pct.unwrap_or(0.0),
                self.set_pct
            ));
        }
        if let Some(t) = relay_thread.filter(|t| t.core_pct >= 90.0) {
            w.push(format!(
                "the relay thread used {:.0}% of a core: the relay may be the bottleneck",
                t.core_pct
            ));
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(percent: f64, fwd: u64, dropped: u64) -> LinkReport {
        LinkReport::of(&LinkWindow {
            spec: LossSpec { percent, seed: 3 },
            counts: RelayCounts {
                to_server_forwarded: fwd / 10,
                to_server_dropped: dropped / 10,
                to_client_forwarded: fwd - fwd / 10,
                to_client_dropped: dropped - dropped / 10,
                ..Default::default()
            },
        })
    }

    #[test]
    fn on_target_within_chance_and_off_target_beyond_it() {
        let l = link(5.0, 19_000, 1_000);
        assert!((l.measured_pct.unwrap() - 5.0).abs() < 1e-9);
        assert!(!l.off_target());
        assert!(l.warnings(10_000, None).is_empty());
        // 7 % measured over 20k datagrams against 5 % set: 13 standard deviations off.
        let l = link(5.0, 18_600, 1_400);
        assert!(l.off_target());
        assert!(l.warnings(10_000, None)[0].contains("not the 5.000% set"));
        // 5.2 % over 2,000 datagrams is within chance (sd 0.49 points).
        assert!(!link(5.0, 1_896, 104).off_target());
        // 0 % set: nothing may be dropped (beyond 0.1 points, the floor of the rule).
        assert!(!link(0.0, 1_000, 0).off_target());
        assert!(link(0.0, 995, 5).off_target());
    }

    #[test]
    fn a_bypassed_overflowing_or_saturated_relay_is_flagged() {
        let bypassed = link(5.0, 0, 0);
        assert!(bypassed.warnings(100, None)[0].contains("bypassed"));
        assert!(
            bypassed.warnings(0, None).is_empty(),
            "no media, nothing to say"
        );
        let mut overflowed = link(5.0, 19_000, 1_000);
        overflowed.counts.kernel_drops = 12;
        assert!(overflowed.warnings(100, None)[0].contains("12 datagrams"));
        let busy = ThreadUsage {
            tid: 1,
            name: "mm-bench-relay".into(),
            cpu_secs: 4.7,
            core_pct: 94.0,
        };
        let w = link(5.0, 19_000, 1_000).warnings(100, Some(&busy));
        assert!(w[0].contains("bottleneck"), "{w:?}");
    }
}
