//! The load generator's accounting, pure: counters of every receiving track at the start and
//! the end of the measured window, what the publishers sent, and the processes' CPU and memory
//! in (and, with `--loss`, the relays' counters); the figures of one run out. Unit-tested with
//! crafted [`TrackStats`].

use std::time::Duration;

use serde::Serialize;

use crate::latency::{LatencyHistogram, LatencySummary};
pub use crate::link_report::{LinkReport, LinkWindow};
use crate::lossy_link::RELAY_THREAD;
use crate::process_stats::{ProcUsage, ThreadUsage};
use crate::publisher::PublisherStats;
use crate::track_stats::TrackStats;
use crate::wire::MediaKind;

/// The counters of one receiving track that are diffed over the window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TrackCounters {
    pub packets: u64,
    pub bytes: u64,
    /// Intact units (audio packets, video frames).
    pub units: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub reordered: u64,
    pub corrupted: u64,
    pub malformed: u64,
}

impl From<&TrackStats> for TrackCounters {
    fn from(s: &TrackStats) -> Self {
        TrackCounters {
            packets: s.packets,
            bytes: s.bytes,
            units: s.sequence.received,
            lost: s.sequence.lost,
            duplicates: s.sequence.duplicates + s.duplicate_packets,
            reordered: s.sequence.reordered,
            corrupted: s.corrupted,
            malformed: s.malformed_packets,
        }
    }
}

impl TrackCounters {
    /// `self - start`, saturating (a gap counted as loss at the start may be filled later).
    pub fn since(&self, start: &TrackCounters) -> TrackCounters {
        TrackCounters {
            packets: self.packets.saturating_sub(start.packets),
            bytes: self.bytes.saturating_sub(start.bytes),
            units: self.units.saturating_sub(start.units),
            lost: self.lost.saturating_sub(start.lost),
            duplicates: self.duplicates.saturating_sub(start.duplicates),
            reordered: self.reordered.saturating_sub(start.reordered),
            corrupted: self.corrupted.saturating_sub(start.corrupted),
            malformed: self.malformed.saturating_sub(start.malformed),
        }
    }

    fn add(&mut self, o: &TrackCounters) {
        self.packets += o.packets;
        self.bytes += o.bytes;
        self.units += o.units;
        self.lost += o.lost;
        self.duplicates += o.duplicates;
        self.reordered += o.reordered;
        self.corrupted += o.corrupted;
        self.malformed += o.malformed;
    }
}

/// One receiving track over the window.
#[derive(Clone, Debug)]
pub struct TrackWindow {
    /// Index of the receiving participant (to add up its bitrate).
    pub receiver: usize,
    pub kind: MediaKind,
    pub start: TrackCounters,
    pub end: TrackCounters,
    /// Latency samples of the window only.
    pub latency: LatencyHistogram,
}

/// One publisher over the window: what it sent and how many participants should get it.
#[derive(Clone, Copy, Debug)]
pub struct PublisherWindow {
    pub start: PublisherStats,
    pub end: PublisherStats,
    /// Participants that receive this publisher's tracks (everyone else in its meeting).
    pub receivers: u64,
}

/// Join time and time to first frame of one participant.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct JoinRecord {
    pub join: Option<Duration>,
    pub first_frame: Option<Duration>,
    pub failed: bool,
    /// Expected media but got none.
    pub expects_media: bool,
}

/// Our SFU names its media worker threads `mm-sfu-0`, `mm-sfu-1`, ... (`sfu/src/sfu.rs`).
pub const SFU_WORKER_PREFIX: &str = "mm-sfu-";

/// Everything a run measured.
#[derive(Clone, Debug, Default)]
pub struct LoadInputs {
    pub window: Duration,
    pub tracks: Vec<TrackWindow>,
    pub publishers: Vec<PublisherWindow>,
    pub joins: Vec<JoinRecord>,
    /// Receiving participants (subscribers, and publishers that also receive).
    pub receivers: usize,
    /// DownTracks: receiving tracks expected in total.
    pub subscriptions: usize,
    pub server: Option<ProcUsage>,
    /// Server RSS before anyone joined, bytes.
    pub server_rss_baseline: Option<u64>,
    pub generator: ProcUsage,
    pub generator_threads: usize,
    pub cpus: usize,
    /// `--loss`: the relays over the window.
    pub link: Option<LinkWindow>,
}

/// Distribution of a per-participant duration, ms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Millis {
    pub count: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Millis {
    pub fn of(mut v: Vec<Duration>) -> Self {
        if v.is_empty() {
            return Self::default();
        }
        v.sort();
        let at = |q: f64| {
            let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1;
            v[i].as_secs_f64() * 1e3
        };
        Millis {
            count: v.len(),
            p50: at(0.5),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

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

/// Exact end-of-run accounting of one receiving track against its publisher, after the
/// publisher stopped and in-flight media drained: every unit from the first one received to the
/// last one sent is either received or reported lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExactCheck {
    pub sent: u64,
    pub first: u64,
    pub received: u64,
    pub lost: u64,
    /// The last unit sent arrived (nothing silently missing at the tail).
    pub tail_complete: bool,
}

impl ExactCheck {
    /// `sent`: units the publisher sent on this track (probe seqs 0..sent).
    pub fn of(sent: u64, s: &TrackStats) -> Self {
        let q = &s.sequence;
        ExactCheck {
            sent,
            first: q.first.unwrap_or(sent),
            received: q.received,
            lost: q.lost,
            tail_complete: sent > 0 && q.highest == Some(sent - 1),
        }
    }

    /// received == (sent - first) - lost, with the tail delivered and nothing corrupted.
    pub fn holds(&self) -> bool {
        self.tail_complete && self.received + self.lost == self.sent - self.first.min(self.sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lossy_link::LossSpec;
    use crate::lossy_relay::RelayCounts;
    use crate::sequence::SequenceTracker;
    use crate::track_stats::TrackLabel;

    fn stats(
        kind: MediaKind,
        seqs: impl IntoIterator<Item = u64>,
        packets_per_unit: u64,
    ) -> TrackStats {
        let mut q = SequenceTracker::default();
        let mut n = 0;
        for s in seqs {
            q.record(s);
            n += 1;
        }
        TrackStats {
            label: TrackLabel {
                kind,
                mid: None,
                participant_id: None,
                track_id: None,
                source: None,
            },
            ssrc: 1,
            packets: n * packets_per_unit,
            bytes: n * packets_per_unit * 1000,
            frames: n,
            keyframes: 0,
            first_frame_keyframe: None,
            time_to_first_frame: None,
            sequence: q.stats(),
            corrupted: 0,
            malformed_packets: 0,
            duplicate_packets: 0,
            incomplete_frames: 0,
            latency: LatencySummary::default(),
            bitrate_bps: 0.0,
            video_size: None,
            ended: false,
        }
    }

    fn usage(cpu: f64, wall: f64) -> ProcUsage {
        ProcUsage {
            wall_secs: wall,
            cpu_secs: cpu,
            cores: cpu / wall,
            rss_start_bytes: 50 << 20,
            rss_end_bytes: 60 << 20,
            threads: 4,
            busiest_thread: None,
            per_thread: vec![],
        }
    }

    fn publisher(video_frames: u64, audio: u64, receivers: u64) -> PublisherWindow {
        PublisherWindow {
            start: PublisherStats::default(),
            end: PublisherStats {
                audio_packets: audio,
                video_frames,
                video_packets: video_frames * 3,
                ..Default::default()
            },
            receivers,
        }
    }

    /// 1 publisher -> 3 subscribers, nothing lost: received = sent × subscribers.
    fn lossless_inputs() -> LoadInputs {
        let zero = TrackCounters::default();
        let mut tracks = vec![];
        for rx in 0..3 {
            let mut lat = LatencyHistogram::default();
            for i in 0..100 {
                lat.record(0, 1000 + i);
            }
            tracks.push(TrackWindow {
                receiver: rx,
                kind: MediaKind::Video,
                start: zero,
                end: TrackCounters::from(&stats(MediaKind::Video, 0..100, 3)),
                latency: lat,
            });
            tracks.push(TrackWindow {
                receiver: rx,
                kind: MediaKind::Audio,
                start: zero,
                end: TrackCounters::from(&stats(MediaKind::Audio, 0..150, 1)),
                latency: LatencyHistogram::default(),
            });
        }
        LoadInputs {
            window: Duration::from_secs(5),
            tracks,
            publishers: vec![publisher(100, 150, 3)],
            joins: vec![JoinRecord::default(); 4],
            receivers: 3,
            subscriptions: 6,
            server: Some(usage(0.5, 5.0)),
            server_rss_baseline: Some(40 << 20),
            generator: usage(2.5, 5.0),
            generator_threads: 2,
            cpus: 2,
            link: None,
        }
    }

    #[test]
    fn lossless_fanout_receives_sent_times_subscribers() {
        let r = summarize(&lossless_inputs());
        assert_eq!(r.units_sent, 250);
        assert_eq!(r.units_expected, 750);
        assert_eq!(r.units_received, 750);
        assert_eq!((r.units_lost, r.accounting_gap), (0, 0));
        assert_eq!(r.loss_pct, 0.0);
        assert_eq!(r.packets_forwarded, 3 * (300 + 150));
        assert_eq!(r.packets_received, 3 * (300 + 150));
        assert_eq!(r.video_latency.count, 300);
        assert_eq!(r.latency.count, 300);
        // 0.5 s of server CPU for 1350 packets.
        let us = r.server_cpu_us_per_packet.unwrap();
        assert!((us - 0.5e6 / 1350.0).abs() < 1e-6, "{us}");
        // 20 MiB grown over 4 participants / 6 subscriptions.
        assert!((r.server_rss_kb_per_participant.unwrap() - 5120.0).abs() < 1e-6);
        assert!((r.server_rss_kb_per_subscription.unwrap() - 20480.0 / 6.0).abs() < 1e-6);
        assert!((r.rx_kbps_mean - (450.0 * 1000.0 * 8.0 / 5.0 / 1e3)).abs() < 1e-6);
        assert!(!r.generator_bound);
    }

    #[test]
    fn loss_is_a_percentage_of_expected_units() {
        let mut i = lossless_inputs();
        // Subscriber 0 misses video frames 10..20 (10 of 100).
        i.tracks[0].end = TrackCounters::from(&stats(MediaKind::Video, (0..10).chain(20..100), 3));
        let r = summarize(&i);
        assert_eq!(r.units_lost, 10);
        assert_eq!(r.units_received, 740);
        assert_eq!(r.accounting_gap, 0);
        assert!((r.loss_pct - 10.0 * 100.0 / 750.0).abs() < 1e-9);
    }

    #[test]
    fn window_diffs_ignore_what_came_before() {
        let start = TrackCounters::from(&stats(MediaKind::Audio, 0..50, 1));
        let end = TrackCounters::from(&stats(MediaKind::Audio, (0..50).chain(52..100), 1));
        let d = end.since(&start);
        assert_eq!((d.units, d.lost, d.packets), (48, 2, 48));
    }

    #[test]
    fn cpu_per_packet_and_generator_bound() {
        assert_eq!(cpu_us_per_packet(1.0, 0), None);
        assert_eq!(cpu_us_per_packet(2.0, 100_000), Some(20.0));
        // 2 CPUs: server 0.6 cores, generator 1.3 cores ≥ 0.9 × 1.4.
        assert!(generator_bound(1.3, 2, 2, 0.6));
        assert!(!generator_bound(0.5, 2, 2, 0.6));
        assert!(generator_bound(1.85, 2, 8, 0.0));
    }

    #[test]
    fn saturated_generator_is_flagged_loudly() {
        let mut i = lossless_inputs();
        i.generator = usage(9.5, 5.0);
        let r = summarize(&i);
        assert!(r.generator_bound);
        assert!(r.warnings.iter().any(|w| w.contains("BOTTLENECK")));
    }

    #[test]
    fn exact_check_accounts_for_a_late_start_and_loss() {
        // Subscribed from unit 5; 7 and 8 lost; publisher sent 0..20.
        let s = stats(MediaKind::Video, (5..7).chain(9..20), 2);
        let c = ExactCheck::of(20, &s);
        assert_eq!((c.first, c.received, c.lost), (5, 13, 2));
        assert!(c.holds());
        // The last unit never arrived.
        let s = stats(MediaKind::Video, 0..19, 2);
        assert!(!ExactCheck::of(20, &s).holds());
    }

    fn thread(tid: u32, name: &str, secs: f64, wall: f64) -> ThreadUsage {
        ThreadUsage {
            tid,
            name: name.into(),
            cpu_secs: secs,
            core_pct: secs * 100.0 / wall,
        }
    }

    #[test]
    fn server_workers_and_busiest_thread_come_with_their_cpu_time() {
        let mut i = lossless_inputs();
        let mut s = usage(0.5, 5.0);
        s.per_thread = vec![
            thread(9, "mm-sfu-1", 0.3, 5.0),
            thread(8, "mm-sfu-0", 0.15, 5.0),
            thread(7, "tokio-runtime-w", 0.05, 5.0),
        ];
        i.server = Some(s);
        let r = summarize(&i);
        let names: Vec<&str> = r.server_workers.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["mm-sfu-0", "mm-sfu-1"]);
        assert!((r.server_workers[0].core_pct - 3.0).abs() < 1e-9);
        assert!((r.server_workers[1].cpu_secs - 0.3).abs() < 1e-9);
        let busiest = r.server_busiest.unwrap();
        assert_eq!((busiest.tid, busiest.name.as_str()), (9, "mm-sfu-1"));
        // Whole-process CPU and CPU per packet stay as they were.
        assert_eq!(r.server_cores, Some(0.1));
        assert!((r.server_cpu_us_per_packet.unwrap() - 0.5e6 / 1350.0).abs() < 1e-6);
    }

    fn link(percent: f64, fwd: u64, dropped: u64) -> LinkWindow {
        LinkWindow {
            spec: LossSpec { percent, seed: 3 },
            counts: RelayCounts {
                to_server_forwarded: fwd / 10,
                to_server_dropped: dropped / 10,
                to_client_forwarded: fwd - fwd / 10,
                to_client_dropped: dropped - dropped / 10,
                ..Default::default()
            },
        }
    }

    #[test]
    fn the_link_report_shows_set_and_measured_loss() {
        let mut i = lossless_inputs();
        i.link = Some(link(5.0, 19_000, 1_000));
        i.generator.per_thread = vec![thread(4, RELAY_THREAD, 0.5, 5.0)];
        let r = summarize(&i);
        let l = r.link.unwrap();
        assert_eq!((l.set_pct, l.seed), (5.0, 3));
        assert!((l.measured_pct.unwrap() - 5.0).abs() < 1e-9);
        assert!((l.to_server_pct.unwrap() - 5.0).abs() < 1e-9);
        assert!(!l.off_target());
        assert!((r.relay_thread.unwrap().core_pct - 10.0).abs() < 1e-9);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        // Media arrived, the relays saw none of it.
        i.link = Some(link(5.0, 0, 0));
        let r = summarize(&i);
        assert!(
            r.warnings.iter().any(|w| w.contains("bypassed")),
            "{:?}",
            r.warnings
        );
    }

    #[test]
    fn millis_percentiles() {
        let m = Millis::of((1..=100).map(Duration::from_millis).collect());
        assert_eq!((m.count, m.p50, m.p99, m.max), (100, 50.0, 99.0, 100.0));
        assert_eq!(Millis::of(vec![]), Millis::default());
    }
}
