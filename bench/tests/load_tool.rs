//! The load generator's accounting: pure arithmetic on crafted stats, and short runs against
//! the real server binary (spawned; skipped with a note when it is not built), one of them
//! through a lossy relay.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use mm_bench::janus::JANUS_IP;
use mm_bench::latency::LatencyHistogram;
use mm_bench::load_report::{
    JoinRecord, LoadInputs, PublisherWindow, TrackCounters, TrackWindow, summarize,
};
use mm_bench::lossy_link::{LossSpec, LossyLink};
use mm_bench::process_stats::{ProcUsage, parse_stat_ticks, parse_status};
use mm_bench::publisher::PublisherStats;
use mm_bench::scenario::{ProfileName, RunConfig, Target, TargetKind, run};
use mm_bench::server_process::{ServerProcess, default_server_bin};
use mm_bench::wire::MediaKind;

fn counters(units: u64, lost: u64, packets_per_unit: u64) -> TrackCounters {
    TrackCounters {
        packets: units * packets_per_unit,
        bytes: units * packets_per_unit * 1100,
        units,
        lost,
        ..Default::default()
    }
}

#[test]
fn fanout_accounting_adds_up() {
    // 1 publisher sent 300 video frames and 500 audio packets to 10 subscribers; subscriber 3
    // lost 6 frames.
    let mut tracks = vec![];
    for rx in 0..10 {
        let lost = if rx == 3 { 6 } else { 0 };
        tracks.push(TrackWindow {
            receiver: rx,
            kind: MediaKind::Video,
            start: TrackCounters::default(),
            end: counters(300 - lost, lost, 7),
            latency: LatencyHistogram::default(),
        });
        tracks.push(TrackWindow {
            receiver: rx,
            kind: MediaKind::Audio,
            start: counters(100, 0, 1),
            end: counters(600, 0, 1),
            latency: LatencyHistogram::default(),
        });
    }
    let usage = |cpu: f64| ProcUsage {
        wall_secs: 10.0,
        cpu_secs: cpu,
        cores: cpu / 10.0,
        rss_start_bytes: 0,
        rss_end_bytes: 100 << 20,
        threads: 3,
        busiest_thread: Some(("worker".into(), 0.3)),
        per_thread: vec![],
    };
    let inputs = LoadInputs {
        window: Duration::from_secs(10),
        tracks,
        publishers: vec![PublisherWindow {
            start: PublisherStats {
                audio_packets: 100,
                ..Default::default()
            },
            end: PublisherStats {
                audio_packets: 600,
                video_frames: 300,
                video_packets: 2100,
                ..Default::default()
            },
            receivers: 10,
        }],
        joins: vec![JoinRecord::default(); 11],
        receivers: 10,
        subscriptions: 20,
        server: Some(usage(2.0)),
        server_nodes: vec![],
        server_rss_baseline: Some(80 << 20),
        generator: usage(5.0),
        generator_threads: 2,
        cpus: 2,
        link: None,
    };
    let r = summarize(&inputs);
    assert_eq!(r.units_sent, 800);
    assert_eq!(r.units_expected, 8000);
    assert_eq!(r.units_received + r.units_lost, r.units_expected);
    assert_eq!(r.units_lost, 6);
    assert!((r.loss_pct - 6.0 * 100.0 / 8000.0).abs() < 1e-9);
    // Received: what arrived; forwarded: what was sent × receivers (loss included).
    assert_eq!(r.packets_received, 9 * 300 * 7 + 294 * 7 + 10 * 500);
    let packets = (2100 + 500) * 10;
    assert_eq!(r.packets_forwarded, packets);
    let us = r.server_cpu_us_per_packet.unwrap();
    assert!((us - 2e6 / packets as f64).abs() < 1e-6);
    // 20 MiB over 11 participants.
    assert!((r.server_rss_kb_per_participant.unwrap() - 20480.0 / 11.0).abs() < 1e-6);
    assert!(!r.generator_bound, "0.5 cores of 2 threads");
}

#[test]
fn proc_parsing_on_fixed_text() {
    let stat = "77 (bench) R 1 77 77 0 -1 0 0 0 0 0 250 50 0 0 20 0 4 0 1 1 1 1";
    assert_eq!(parse_stat_ticks(stat), Some((250, 50)));
    assert_eq!(
        parse_status("VmRSS:\t 1024 kB\nThreads:\t4\n"),
        Some((1024 * 1024, 4))
    );
}

/// 1 publisher -> 2 subscribers through the real server for 2 s: every subscriber track
/// receives exactly what was sent minus reported loss.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_fanout_against_the_real_server_accounts_for_every_unit() {
    let Some(bin) = default_server_bin() else {
        eprintln!("SKIPPED: target/debug/mini-meeting not built (cargo build --bin mini-meeting)");
        return;
    };
    let server = ServerProcess::spawn(&bin, &[]).expect("server starts");
    let target = Target {
        kind: TargetKind::Ours,
        base_url: server.base_url.clone(),
        server_pid: Some(server.pid),
        other_nodes: vec![],
        client_ip: Ipv4Addr::LOCALHOST,
        janus_ip: JANUS_IP,
        link: None,
    };
    let cfg = RunConfig {
        scenario: "test".into(),
        meetings: 1,
        publishers: 1,
        subscribers: 2,
        profile: ProfileName::P360,
        warmup: Duration::from_millis(500),
        duration: Duration::from_secs(2),
        join_concurrency: 2,
        timeout: Duration::from_secs(30),
        generator_threads: 2,
        progress: false,
    };
    let r = run(&target, &cfg).await.expect("run");
    assert_eq!(
        (r.exact_checked, r.exact_held),
        (4, 4),
        "{:?}",
        r.exact_failures
    );
    let p = &r.report;
    assert!(p.units_expected > 0 && p.units_received > 0);
    assert!(p.accounting_gap.unsigned_abs() <= 8, "{p:?}");
    assert_eq!(p.corrupted + p.malformed, 0);
    assert!(p.server_cpu_us_per_packet.is_some());
    // Every media worker (one per core by default), by name, with its CPU time over the
    // window. The threads and the process are read from /proc one after the other, in 10 ms
    // ticks: over a 2 s window a thread may show up to a couple of ticks (1 % of a core) more.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let names: Vec<&str> = p.server_workers.iter().map(|w| w.name.as_str()).collect();
    let expected: Vec<String> = (0..cores).map(|i| format!("mm-sfu-{i}")).collect();
    assert_eq!(names, expected, "{:?}", p.server_workers);
    for w in &p.server_workers {
        assert!(
            w.core_pct <= 100.0 * p.server_cores.unwrap() + 2.0,
            "{:?} vs {:?} cores",
            p.server_workers,
            p.server_cores
        );
    }
}

/// 1 publisher -> 2 subscribers through the real server with every media datagram passing a
/// relay that drops 5 % in each direction: the relay carries the media both ways and drops
/// about that share, and the receivers see loss (audio is not retransmitted) without
/// corruption.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_fanout_through_a_lossy_link_loses_what_the_relay_drops() {
    let Some(bin) = default_server_bin() else {
        eprintln!("SKIPPED: target/debug/mini-meeting not built (cargo build --bin mini-meeting)");
        return;
    };
    let spec = LossSpec {
        percent: 5.0,
        seed: 11,
    };
    let (link, env) = LossyLink::for_ours(spec, 1).expect("relay");
    let server = ServerProcess::spawn(&bin, &env).expect("server starts");
    let target = Target {
        kind: TargetKind::Ours,
        base_url: server.base_url.clone(),
        server_pid: Some(server.pid),
        other_nodes: vec![],
        client_ip: Ipv4Addr::LOCALHOST,
        janus_ip: JANUS_IP,
        link: Some(Arc::new(link)),
    };
    let cfg = RunConfig {
        scenario: "test".into(),
        meetings: 1,
        publishers: 1,
        subscribers: 2,
        profile: ProfileName::P360,
        warmup: Duration::from_millis(500),
        duration: Duration::from_secs(3),
        join_concurrency: 2,
        timeout: Duration::from_secs(30),
        generator_threads: 2,
        progress: false,
    };
    let r = run(&target, &cfg).await.expect("run");
    let p = &r.report;
    let l = p.link.expect("link figures");
    let c = l.counts;
    // Both directions carried media (about 2 × 110 packets/s down, 110 up, plus RTCP).
    assert!(
        c.to_server_forwarded > 200 && c.to_client_forwarded > 400,
        "{c:?}"
    );
    assert_eq!(c.kernel_drops, 0, "{c:?}");
    assert!(!l.off_target(), "{l:?}");
    let m = l.measured_pct.unwrap();
    assert!((2.0..=8.0).contains(&m), "{m} % dropped");
    assert_eq!((p.failed_joins, p.without_media), (0, 0));
    assert!(p.units_received > 0);
    assert!(p.units_lost > 0, "a 5 % link and nothing lost: {p:?}");
    assert_eq!(p.corrupted + p.malformed, 0);
    assert!(p.audio_latency.count > 0 && p.video_latency.count > 0);
    assert!(p.relay_thread.is_some(), "relay thread CPU");
    assert!(
        !p.warnings.iter().any(|w| w.contains("relay")),
        "{:?}",
        p.warnings
    );
}
