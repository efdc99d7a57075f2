//! [`Live`]: a run's state shared with its once-a-second progress printer ([`progress`]).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::TargetKind;
use super::peer::Peer;
use crate::process_stats::{ProcTarget, ProcUsage};

/// Shared between the run and its progress printer.
#[derive(Default)]
pub(super) struct Live {
    pub(super) phase: Mutex<String>,
    pub(super) peers: Mutex<Vec<Arc<Peer>>>,
    pub(super) joining: AtomicUsize,
    pub(super) done: AtomicBool,
    /// Server RSS before the first participant joins (after accounts were created).
    pub(super) baseline: Mutex<Option<u64>>,
    /// The server's processes (a cluster's nodes), when every pid is known.
    pub(super) servers: Vec<ProcTarget>,
}

impl Live {
    pub(super) fn set_phase(&self, p: &str) {
        *self.phase.lock().expect("lock") = p.to_owned();
    }

    pub(super) fn add(&self, p: Arc<Peer>) {
        self.peers.lock().expect("lock").push(p);
    }

    pub(super) fn peers(&self) -> Vec<Arc<Peer>> {
        self.peers.lock().expect("lock").clone()
    }

    /// Records the server's RSS now (summed over a cluster's nodes) as the baseline.
    pub(super) fn set_baseline(&self) {
        let rss: Option<u64> = if self.servers.is_empty() {
            None
        } else {
            self.servers
                .iter()
                .map(|p| p.sample().map(|s| s.rss_bytes))
                .sum()
        };
        *self.baseline.lock().expect("lock") = rss;
    }
}

pub(super) async fn progress(
    live: Arc<Live>,
    target: TargetKind,
    server: Option<u32>,
    total: usize,
) {
    let started = Instant::now();
    let mut last_pkts = 0u64;
    let mut last_server = server.and_then(|p| ProcTarget::Pid(p).sample());
    let mut last_gen = ProcTarget::SelfProcess.sample();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    while !live.done.load(Ordering::Relaxed) {
        tick.tick().await;
        let peers = live.peers();
        let pkts: u64 = peers.iter().map(|p| p.packets()).sum();
        let srv = server.and_then(|p| ProcTarget::Pid(p).sample());
        let gen_s = ProcTarget::SelfProcess.sample();
        let cores = |a: &Option<_>, b: &Option<_>| match (a, b) {
            (Some(a), Some(b)) => format!("{:.2}", ProcUsage::between(a, b).cores),
            _ => "-".into(),
        };
        eprintln!(
            "[{target} {:>4.0}s] {:<10} peers {}/{} (joining {}) rx {:>7.0} pkt/s  server {} cores  generator {} cores",
            started.elapsed().as_secs_f64(),
            live.phase.lock().expect("lock"),
            peers.len(),
            total,
            live.joining.load(Ordering::Relaxed),
            pkts.saturating_sub(last_pkts) as f64,
            cores(&last_server, &srv),
            cores(&last_gen, &gen_s),
        );
        last_pkts = pkts;
        last_server = srv;
        last_gen = gen_s;
    }
}
