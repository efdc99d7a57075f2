//! The load generator's accounting, pure: counters of every receiving track at the start and
//! the end of the measured window, what the publishers sent, and the processes' CPU and memory
//! in (and, with `--loss`, the relays' counters); the figures of one run out. Unit-tested with
//! crafted [`TrackStats`](crate::track_stats::TrackStats).

mod exact_check;
mod load_inputs;
mod millis;
#[cfg(test)]
mod tests;
mod track_counters;

pub use exact_check::ExactCheck;
pub use load_inputs::{JoinRecord, LoadInputs, PublisherWindow, TrackWindow};
pub use millis::Millis;
pub use track_counters::TrackCounters;

use serde::Serialize;

use crate::latency::{LatencyHistogram, LatencySummary};
pub use crate::link_report::{LinkReport, LinkWindow};
use crate::lossy_link::RELAY_THREAD;
use crate::process_stats::ThreadUsage;
use crate::wire::MediaKind;

/// Our SFU names its media worker threads `mm-sfu-0`, `mm-sfu-1`, ... (`sfu/src/sfu.rs`).
pub const SFU_WORKER_PREFIX: &str = "mm-sfu-";

/// The figures of one run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LoadReport {
    pub window_secs: f64,
    /// Units (audio packets + video frames) the publishers sent in the window.
    pub units_sent: u64,
    /// `units_sent` × receivers of each publisher.
    pub units_expected: u64,
    pub units_received: u64,
    /// Gaps in the probe sequence numbers seen by receivers.
    pub units_lost: u64,
    pub loss_pct: f64,
    /// `units_expected - (units_received + units_lost)`: units in flight at the window's edges
    /// or never accounted; small against `units_expected` when the accounting holds.
    pub accounting_gap: i64,
    pub duplicates: u64,
    pub reordered: u64,
    pub corrupted: u64,
    pub malformed: u64,
    /// RTP packets received by all receivers, including any padding/probing/RTX the server adds.
    pub packets_received: u64,
    /// Media packets the publishers sent in the window × their receivers: the same for every
    /// target under the same load, so CPU per packet compares like with like.
    pub packets_forwarded: u64,
    pub packets_per_sec: f64,
    pub latency: LatencySummary,
    pub audio_latency: LatencySummary,
    pub video_latency: LatencySummary,
    /// Mean and lowest payload bitrate received per receiving participant, kbit/s.
    pub rx_kbps_mean: f64,
    pub rx_kbps_min: f64,
    pub join_ms: Millis,
    pub first_frame_ms: Millis,
    pub failed_joins: usize,
    pub without_media: usize,
    pub server_cores: Option<f64>,
    /// A cluster: each node's cores (in `--server` order); `server_cores` is their sum.
    pub server_node_cores: Vec<f64>,
    /// The server's busiest thread (e.g. the SFU worker) and its share of one core.
    pub server_busiest_thread: Option<(String, f64)>,
    /// The same thread with its CPU time over the window.
    pub server_busiest: Option<ThreadUsage>,
    /// Our SFU's media workers (`mm-sfu-N`, by N): CPU time over the window and % of a core.
    pub server_workers: Vec<ThreadUsage>,
    pub server_cpu_us_per_packet: Option<f64>,
    pub server_rss_mb: Option<f64>,
    pub server_rss_kb_per_participant: Option<f64>,
    pub server_rss_kb_per_subscription: Option<f64>,
    pub generator_cores: f64,
    pub generator_busiest_thread: Option<(String, f64)>,
    /// `--loss`: the relays' thread inside the generator (included in `generator_cores`).
    pub relay_thread: Option<ThreadUsage>,
    /// `--loss`: what the link was set to and what the relays did.
    pub link: Option<LinkReport>,
    pub generator_threads: usize,
    pub cpus: usize,
    /// The load generator, not the server, may be what limits this run.
    pub generator_bound: bool,
    pub warnings: Vec<String>,
}

/// Server CPU per forwarded packet, µs.
pub fn cpu_us_per_packet(cpu_secs: f64, packets: u64) -> Option<f64> {
    (packets > 0).then(|| cpu_secs * 1e6 / packets as f64)
}

/// Whether the generator may be the bottleneck: it used ≥ 90 % of its worker threads, or ≥ 90 %
/// of what the server left of the machine.
pub fn generator_bound(gen_cores: f64, threads: usize, cpus: usize, server_cores: f64) -> bool {
    gen_cores >= 0.9 * threads as f64 || gen_cores >= 0.9 * (cpus as f64 - server_cores)
}

/// A thread at ≥ 90 % of a core is saturated.
pub fn thread_saturated(t: &Option<(String, f64)>) -> bool {
    t.as_ref().is_some_and(|(_, c)| *c >= 0.9)
}

pub fn summarize(i: &LoadInputs) -> LoadReport {
    let secs = i.window.as_secs_f64();
    let mut r = LoadReport {
        window_secs: secs,
        generator_cores: i.generator.cores,
        generator_busiest_thread: i.generator.busiest_thread.clone(),
        generator_threads: i.generator_threads,
        cpus: i.cpus,
        ..Default::default()
    };
    for p in &i.publishers {
        let pkts = (p.end.audio_packets + p.end.video_packets)
            .saturating_sub(p.start.audio_packets + p.start.video_packets);
        r.packets_forwarded += pkts * p.receivers;
        let sent = (p.end.audio_packets - p.start.audio_packets.min(p.end.audio_packets))
            + (p.end.video_frames - p.start.video_frames.min(p.end.video_frames));
        r.units_sent += sent;
        r.units_expected += sent * p.receivers;
    }
    let mut total = TrackCounters::default();
    let mut all = LatencyHistogram::default();
    let mut audio = LatencyHistogram::default();
    let mut video = LatencyHistogram::default();
    let mut bytes_per_receiver = vec![0u64; i.receivers];
    for t in &i.tracks {
        let d = t.end.since(&t.start);
        total.add(&d);
        all.merge(&t.latency);
        match t.kind {
            MediaKind::Audio => audio.merge(&t.latency),
            MediaKind::Video => video.merge(&t.latency),
        }
        if let Some(b) = bytes_per_receiver.get_mut(t.receiver) {
            *b += d.bytes;
        }
    }
    r.units_received = total.units;
    r.units_lost = total.lost;
    let denom = total.units + total.lost;
    r.loss_pct = if denom > 0 {
        total.lost as f64 * 100.0 / denom as f64
    } else {
        0.0
    };
    r.accounting_gap = r.units_expected as i64 - denom as i64;
    r.duplicates = total.duplicates;
    r.reordered = total.reordered;
    r.corrupted = total.corrupted;
    r.malformed = total.malformed;
    r.packets_received = total.packets;
    r.packets_per_sec = if secs > 0.0 {
        r.packets_forwarded as f64 / secs
    } else {
        0.0
    };
    r.latency = all.summary();
    r.audio_latency = audio.summary();
    r.video_latency = video.summary();
    if !bytes_per_receiver.is_empty() && secs > 0.0 {
        let kbps: Vec<f64> = bytes_per_receiver
            .iter()
            .map(|b| *b as f64 * 8.0 / secs / 1e3)
            .collect();
        r.rx_kbps_mean = kbps.iter().sum::<f64>() / kbps.len() as f64;
        r.rx_kbps_min = kbps.iter().copied().fold(f64::INFINITY, f64::min);
    }
    r.join_ms = Millis::of(i.joins.iter().filter_map(|j| j.join).collect());
    r.first_frame_ms = Millis::of(i.joins.iter().filter_map(|j| j.first_frame).collect());
    r.failed_joins = i.joins.iter().filter(|j| j.failed).count();
    r.without_media = i
        .joins
        .iter()
        .filter(|j| !j.failed && j.expects_media && j.first_frame.is_none())
        .count();
    r.server_node_cores = i.server_nodes.iter().map(|n| n.cores).collect();
    if let Some(s) = &i.server {
        r.server_cores = Some(s.cores);
        r.server_busiest_thread = s.busiest_thread.clone();
        r.server_busiest = s.per_thread.first().cloned();
        r.server_workers = s.numbered_threads(SFU_WORKER_PREFIX);
        r.server_cpu_us_per_packet = cpu_us_per_packet(s.cpu_secs, r.packets_forwarded);
        r.server_rss_mb = Some(s.rss_end_bytes as f64 / 1048576.0);
        if let Some(base) = i.server_rss_baseline {
            let grown = s.rss_end_bytes.saturating_sub(base) as f64 / 1024.0;
            let participants = i.joins.len().max(1) as f64;
            r.server_rss_kb_per_participant = Some(grown / participants);
            r.server_rss_kb_per_subscription = Some(grown / i.subscriptions.max(1) as f64);
        }
    } else {
        r.warnings
            .push("server CPU/RSS not measured: pass --server-pid or --spawn-server".into());
    }
    let server_cores = r.server_cores.unwrap_or(0.0);
    r.generator_bound =
        generator_bound(i.generator.cores, i.generator_threads, i.cpus, server_cores);
    if r.generator_bound {
        r.warnings.push(format!(
            "LOAD GENERATOR IS THE BOTTLENECK: it used {:.2} cores ({} worker threads, {} CPUs, \
             server {:.2} cores; busiest generator thread {:?}). Latency, loss and bitrate \
             figures then describe the generator as much as the server; they are not the \
             server's.",
            i.generator.cores,
            i.generator_threads,
            i.cpus,
            server_cores,
            i.generator.busiest_thread
        ));
    }
    if let Some((name, c)) = r
        .server_busiest_thread
        .as_ref()
        .filter(|_| thread_saturated(&r.server_busiest_thread))
    {
        r.warnings.push(format!(
            "server thread '{name}' used {c:.2} of a core: that thread is saturated"
        ));
    }
    if let Some(w) = &i.link {
        let link = LinkReport::of(w);
        r.relay_thread = i.generator.thread(RELAY_THREAD).cloned();
        r.warnings
            .extend(link.warnings(r.packets_received, r.relay_thread.as_ref()));
        r.link = Some(link);
    }
    if r.corrupted > 0 || r.malformed > 0 {
        r.warnings.push(format!(
            "{} corrupted and {} malformed units received",
            r.corrupted, r.malformed
        ));
    }
    if r.failed_joins > 0 || r.without_media > 0 {
        r.warnings.push(format!(
            "{} joins failed, {} participants got no media",
            r.failed_joins, r.without_media
        ));
    }
    r
}
