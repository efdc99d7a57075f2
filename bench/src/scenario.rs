//! One load run against one target (our server or Janus VideoRoom): create accounts/meetings or
//! rooms, join publishers then receivers, wait for media, warm up, measure a window, and
//! account for everything through [`load_report`](crate::load_report).

mod join;
mod live;
mod peer;
mod run_config;
mod target;

pub use run_config::{ProfileName, RunConfig};
pub use target::{Node, Target, TargetKind};

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use futures_util::stream;
use serde::Serialize;

use crate::janus::JanusSession;
use crate::load_report::{
    ExactCheck, JoinRecord, LinkWindow, LoadInputs, LoadReport, PublisherWindow, TrackCounters,
    TrackWindow, summarize,
};
use crate::media_profile::MediaProfile;
use crate::process_stats::{ProcSample, ProcTarget, ProcUsage, cpu_count, scrape_server};
use crate::publisher::PublisherStats;
use crate::wire::{MediaKind, ParticipantId};
use join::{join_janus, join_ours};
use live::{Live, progress};

/// Each node's counters: from `/proc` when we know its pid, else (ours) from its `/metrics`.
async fn server_samples(target: &Target) -> Vec<Option<ProcSample>> {
    let mut out = vec![];
    for (url, pid) in target.nodes() {
        out.push(match (pid, target.kind) {
            (Some(p), _) => ProcTarget::Pid(p).sample(),
            (None, TargetKind::Ours) => scrape_server(&url).await,
            (None, TargetKind::Janus) => None,
        });
    }
    out
}

/// The server's usage over the window (the sum over a cluster's nodes, when every node was
/// measured), and each node's.
fn server_usage(
    a: &[Option<ProcSample>],
    b: &[Option<ProcSample>],
) -> (Option<ProcUsage>, Vec<ProcUsage>) {
    let per_node: Option<Vec<ProcUsage>> = a
        .iter()
        .zip(b)
        .map(|(a, b)| Some(ProcUsage::between(a.as_ref()?, b.as_ref()?)))
        .collect();
    match per_node {
        Some(nodes) if nodes.len() == 1 => (nodes.first().cloned(), vec![]),
        Some(nodes) => (Some(ProcUsage::sum(&nodes)), nodes),
        None => (None, vec![]),
    }
}

/// The result of one run.
#[derive(Clone, Debug, Serialize)]
pub struct RunOutcome {
    pub target: TargetKind,
    pub config: RunConfig,
    pub report: LoadReport,
    /// Receiving tracks checked exactly after the publishers stopped, and how many held.
    pub exact_checked: usize,
    pub exact_held: usize,
    pub exact_failures: Vec<String>,
}

/// Tracks each publisher sends with this profile.
fn tracks_per_publisher(p: &MediaProfile) -> usize {
    usize::from(p.audio) + usize::from(p.video.is_some())
}

/// Runs one configuration against one target.
pub async fn run(target: &Target, cfg: &RunConfig) -> anyhow::Result<RunOutcome> {
    let profile = cfg.profile.profile();
    let per_pub = tracks_per_publisher(&profile);
    let peers_per_meeting = cfg.publishers + cfg.subscribers;
    let total = cfg.meetings * peers_per_meeting;
    if cfg.publishers == 0 {
        bail!("at least one publisher per meeting");
    }
    let servers: Option<Vec<ProcTarget>> = target
        .nodes()
        .iter()
        .map(|(_, pid)| pid.map(ProcTarget::Pid))
        .collect();
    let live = Arc::new(Live {
        servers: servers.unwrap_or_default(),
        ..Live::default()
    });
    live.set_phase("setup");
    let progress_task = cfg.progress.then(|| {
        tokio::spawn(progress(
            live.clone(),
            target.kind,
            target.server_pid,
            total,
        ))
    });
    live.set_baseline();

    let mut joins: Vec<JoinRecord> = vec![];
    let mut janus: Option<JanusSession> = None;
    let result = async {
        match target.kind {
            TargetKind::Ours => join_ours(target, cfg, &profile, &live).await?,
            TargetKind::Janus => {
                let mut s = JanusSession::connect(
                    &target.base_url,
                    IpAddr::V4(target.janus_ip),
                    cfg.timeout,
                )
                .await
                .context("connecting to Janus (is it up? `bench janus-up`)")?;
                if let Some(link) = &target.link {
                    let relay = link.relays().first().context("the link has no relay")?;
                    s.relay_through(relay.clone());
                }
                let r = join_janus(target, cfg, &profile, &live, &s).await;
                janus = Some(s);
                r?
            }
        }
        anyhow::Ok(())
    }
    .await;
    let peers = live.peers();
    let failed = total.saturating_sub(peers.len());
    if let Err(e) = &result {
        eprintln!("setup/join error on {}: {e:#}", target.kind);
    }

    // Wait for media on every receiver.
    live.set_phase("connecting");
    let media_deadline =
        Instant::now() + cfg.timeout.max(Duration::from_millis(100 * total as u64));
    while Instant::now() < media_deadline
        && !peers.iter().all(|p| p.receiving() >= p.expected_tracks)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Who is still without media, and how its connections stand: the first thing to read when
    // a run reports participants without media.
    for (i, p) in peers.iter().enumerate() {
        if p.receiving() < p.expected_tracks
            && let peer::PeerImpl::Ours(x) = &p.imp
        {
            let st = x.state();
            eprintln!(
                "[{}] peer {i} receives {} of {} tracks after the media wait: publish {:?}, subscribe {:?}",
                target.kind,
                p.receiving(),
                p.expected_tracks,
                st.publish_pc,
                st.subscribe_pc
            );
        }
    }
    live.set_phase("warmup");
    tokio::time::sleep(cfg.warmup).await;

    // The measured window.
    live.set_phase("measure");
    let mut starts: Vec<Vec<TrackCounters>> = vec![];
    let mut pub_start: Vec<Option<PublisherStats>> = vec![];
    let srv_a = server_samples(target).await;
    let gen_a = ProcTarget::SelfProcess.sample();
    let link_a = target.link.as_ref().map(|l| l.counts());
    let t0 = Instant::now();
    for p in &peers {
        pub_start.push(p.publisher_stats());
        starts.push(p.with_receivers(|rs| {
            rs.iter()
                .map(|r| {
                    r.reset_latency();
                    TrackCounters::from(&r.stats())
                })
                .collect()
        }));
    }
    tokio::time::sleep(cfg.duration).await;
    let srv_b = server_samples(target).await;
    let gen_b = ProcTarget::SelfProcess.sample();
    let link_window = match (&target.link, link_a) {
        (Some(l), Some(a)) => Some(LinkWindow {
            spec: l.spec(),
            counts: l.counts().since(&a),
        }),
        _ => None,
    };
    let window = t0.elapsed();
    let mut tracks = vec![];
    let mut publishers = vec![];
    let mut receiver_index = vec![usize::MAX; peers.len()];
    for (n, i) in (0..peers.len())
        .filter(|&i| peers[i].expected_tracks > 0)
        .enumerate()
    {
        receiver_index[i] = n;
    }
    for (i, p) in peers.iter().enumerate() {
        if let (Some(a), Some(b)) = (pub_start[i], p.publisher_stats()) {
            publishers.push(PublisherWindow {
                start: a,
                end: b,
                receivers: (peers_per_meeting - 1) as u64,
            });
        }
        p.with_receivers(|rs| {
            for (j, r) in rs.iter().enumerate() {
                let s = r.stats();
                tracks.push(TrackWindow {
                    receiver: receiver_index[i],
                    kind: s.label.kind,
                    start: starts[i].get(j).copied().unwrap_or_default(),
                    end: TrackCounters::from(&s),
                    latency: r.latency_histogram(),
                });
            }
        });
    }

    // Exact accounting: stop the publishers, let media drain, check every track.
    live.set_phase("drain");
    for p in peers.iter().filter(|p| p.publishes) {
        p.stop_sending();
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    let sent: HashMap<(i64, bool), u64> = peers
        .iter()
        .filter_map(|p| Some((p.publisher_key?, p.publisher_stats()?)))
        .flat_map(|(k, s)| [((k, false), s.audio_packets), ((k, true), s.video_frames)])
        .collect();
    let (mut checked, mut held, mut failures) = (0, 0, vec![]);
    for (i, p) in peers.iter().enumerate() {
        p.with_receivers(|rs| {
            for r in rs {
                let s = r.stats();
                let Some(owner) = s.label.participant_id.map(|ParticipantId(id)| id) else {
                    continue;
                };
                let Some(&n) = sent.get(&(owner, s.label.kind == MediaKind::Video)) else {
                    continue;
                };
                checked += 1;
                let c = ExactCheck::of(n, &s);
                if c.holds() && s.corrupted == 0 && s.malformed_packets == 0 {
                    held += 1;
                } else if failures.len() < 10 {
                    failures.push(format!(
                        "peer {i} {:?} from {owner}: {c:?}, corrupted {}, malformed {}",
                        s.label.kind, s.corrupted, s.malformed_packets
                    ));
                }
            }
        });
    }

    for p in &peers {
        joins.push(JoinRecord {
            join: p.join,
            first_frame: p.first_frame(),
            failed: false,
            expects_media: p.expected_tracks > 0,
        });
    }
    joins.extend((0..failed).map(|_| JoinRecord {
        failed: true,
        ..Default::default()
    }));

    live.set_phase("closing");
    live.done.store(true, Ordering::Relaxed);
    stream::iter(peers.iter().map(|p| p.close()))
        .buffer_unordered(32)
        .collect::<Vec<()>>()
        .await;
    if let Some(s) = janus {
        s.destroy().await;
    }
    if let Some(t) = progress_task {
        t.abort();
    }
    let receivers = peers.iter().filter(|p| p.expected_tracks > 0).count();
    let subscriptions = cfg.meetings * cfg.publishers * per_pub * (peers_per_meeting - 1);
    let (server, server_nodes) = server_usage(&srv_a, &srv_b);
    let inputs = LoadInputs {
        window,
        tracks,
        publishers,
        joins,
        receivers,
        subscriptions: subscriptions.max(1),
        server,
        server_nodes,
        server_rss_baseline: *live.baseline.lock().expect("lock"),
        generator: match (gen_a, gen_b) {
            (Some(a), Some(b)) => ProcUsage::between(&a, &b),
            _ => ProcUsage::default(),
        },
        generator_threads: cfg.generator_threads,
        cpus: cpu_count(),
        link: link_window,
    };
    let mut report = summarize(&inputs);
    if let Err(e) = result {
        report.warnings.push(format!("setup/join error: {e:#}"));
    }
    Ok(RunOutcome {
        target: target.kind,
        config: cfg.clone(),
        report,
        exact_checked: checked,
        exact_held: held,
        exact_failures: failures,
    })
}
