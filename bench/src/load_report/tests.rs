//! Unit tests of the load report's accounting, on crafted track stats and process figures.

use std::time::Duration;

use super::*;
use crate::lossy_link::LossSpec;
use crate::lossy_relay::RelayCounts;
use crate::process_stats::ProcUsage;
use crate::publisher::PublisherStats;
use crate::sequence::SequenceTracker;
use crate::track_stats::{TrackLabel, TrackStats};

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
        server_nodes: vec![],
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
