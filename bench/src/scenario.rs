//! One load run against one target (our server or Janus VideoRoom): create accounts/meetings or
//! rooms, join publishers then receivers, wait for media, warm up, measure a window, and
//! account for everything through [`load_report`](crate::load_report).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use futures_util::stream;
use serde::Serialize;

use crate::api_client::ApiClient;
use crate::janus::{JanusPeer, JanusSession};
use crate::load_report::{
    ExactCheck, JoinRecord, LinkWindow, LoadInputs, LoadReport, PublisherWindow, TrackCounters,
    TrackWindow, summarize,
};
use crate::loopback::api_on_ip;
use crate::lossy_link::LossyLink;
use crate::media_profile::MediaProfile;
use crate::participant::{JoinOptions, Participant};
use crate::process_stats::{ProcSample, ProcTarget, ProcUsage, cpu_count, scrape_server};
use crate::publisher::PublisherStats;
use crate::track_receiver::TrackReceiver;
use crate::wire::{MediaKind, MediaState, ParticipantId};

/// Which server a run drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    Ours,
    Janus,
}

impl std::fmt::Display for TargetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TargetKind::Ours => "ours",
            TargetKind::Janus => "janus",
        })
    }
}

/// A server to drive.
#[derive(Clone, Debug)]
pub struct Target {
    pub kind: TargetKind,
    /// Ours: `http://127.0.0.1:PORT`; Janus: `http://10.99.0.2:8088/janus`.
    pub base_url: String,
    /// For CPU and RSS; `None`: not measured (with a note in the report).
    pub server_pid: Option<u32>,
    /// The only local address clients gather candidates on.
    pub client_ip: Ipv4Addr,
    /// Janus: the only remote candidate address accepted.
    pub janus_ip: Ipv4Addr,
    /// `--loss`: the relays every media datagram of this target goes through. For ours the
    /// server must have been spawned with the link's environment ([`LossyLink::for_ours`]).
    pub link: Option<Arc<LossyLink>>,
}

/// The server's counters: from `/proc` when we know its pid, else (ours) from its `/metrics`.
async fn server_sample(target: &Target, pid: Option<ProcTarget>) -> Option<ProcSample> {
    match (pid, target.kind) {
        (Some(p), _) => p.sample(),
        (None, TargetKind::Ours) => scrape_server(&target.base_url).await,
        (None, TargetKind::Janus) => None,
    }
}

/// The media a publisher sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
pub enum ProfileName {
    #[value(name = "audio")]
    #[serde(rename = "audio")]
    Audio,
    #[value(name = "360p")]
    #[serde(rename = "360p")]
    P360,
    #[value(name = "720p")]
    #[serde(rename = "720p")]
    P720,
}

impl ProfileName {
    pub fn profile(self) -> MediaProfile {
        match self {
            ProfileName::Audio => MediaProfile::audio_only(),
            ProfileName::P360 => MediaProfile::video_360p(),
            ProfileName::P720 => MediaProfile::video_720p(),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ProfileName::Audio => "audio",
            ProfileName::P360 => "360p",
            ProfileName::P720 => "720p",
        }
    }
}

/// What to run.
#[derive(Clone, Debug, Serialize)]
pub struct RunConfig {
    /// `fanout`, `meeting`, `join-storm`, `smoke`.
    pub scenario: String,
    pub meetings: usize,
    pub publishers: usize,
    pub subscribers: usize,
    pub profile: ProfileName,
    pub warmup: Duration,
    pub duration: Duration,
    /// Receivers joining at once.
    pub join_concurrency: usize,
    /// Per signaling step, and for media to start.
    pub timeout: Duration,
    /// Tokio worker threads of the generator.
    pub generator_threads: usize,
    /// Print a progress line every second.
    pub progress: bool,
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

enum PeerImpl {
    Ours(Participant),
    Janus(JanusPeer),
}

struct Peer {
    imp: PeerImpl,
    /// Receiving tracks expected.
    expected_tracks: usize,
    publishes: bool,
    /// Publisher key: our participant id, or Janus's feed id.
    publisher_key: Option<i64>,
    join: Option<Duration>,
}

impl Peer {
    fn with_receivers<R>(&self, f: impl FnOnce(&[TrackReceiver]) -> R) -> R {
        match &self.imp {
            PeerImpl::Ours(p) => p.with_receivers(f),
            PeerImpl::Janus(p) => p.with_receivers(f),
        }
    }

    fn publisher_stats(&self) -> Option<PublisherStats> {
        match &self.imp {
            PeerImpl::Ours(p) => p.publisher_stats(),
            PeerImpl::Janus(p) => p.publisher_stats(),
        }
    }

    fn stop_sending(&self) {
        match &self.imp {
            PeerImpl::Ours(p) => {
                let _ = p.set_media_state(MediaState {
                    audio_muted: true,
                    video_muted: true,
                    ..Default::default()
                });
            }
            PeerImpl::Janus(p) => p.stop_sending(),
        }
    }

    async fn close(&self) {
        match &self.imp {
            PeerImpl::Ours(p) => p.close().await,
            PeerImpl::Janus(p) => p.close().await,
        }
    }

    fn receiving(&self) -> usize {
        self.with_receivers(|rs| rs.iter().filter(|r| r.packets() > 0).count())
    }

    fn packets(&self) -> u64 {
        self.with_receivers(|rs| rs.iter().map(TrackReceiver::packets).sum())
    }

    /// The first intact video frame (or audio unit for audio-only media).
    fn first_frame(&self) -> Option<Duration> {
        self.with_receivers(|rs| {
            let stats: Vec<_> = rs.iter().map(TrackReceiver::stats).collect();
            let video = stats
                .iter()
                .filter(|s| s.label.kind == MediaKind::Video)
                .filter_map(|s| s.time_to_first_frame)
                .min();
            video.or_else(|| stats.iter().filter_map(|s| s.time_to_first_frame).min())
        })
    }
}

/// Shared between the run and its progress printer.
#[derive(Default)]
struct Live {
    phase: Mutex<String>,
    peers: Mutex<Vec<Arc<Peer>>>,
    joining: AtomicUsize,
    done: AtomicBool,
    /// Server RSS before the first participant joins (after accounts were created).
    baseline: Mutex<Option<u64>>,
    server: Option<ProcTarget>,
}

impl Live {
    fn set_phase(&self, p: &str) {
        *self.phase.lock().expect("lock") = p.to_owned();
    }

    fn add(&self, p: Arc<Peer>) {
        self.peers.lock().expect("lock").push(p);
    }

    fn peers(&self) -> Vec<Arc<Peer>> {
        self.peers.lock().expect("lock").clone()
    }
}

async fn progress(live: Arc<Live>, target: TargetKind, server: Option<u32>, total: usize) {
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
    let server_proc = target.server_pid.map(ProcTarget::Pid);
    let live = Arc::new(Live {
        server: server_proc,
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
    *live.baseline.lock().expect("lock") =
        server_proc.and_then(|p| p.sample()).map(|s| s.rss_bytes);

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
    live.set_phase("warmup");
    tokio::time::sleep(cfg.warmup).await;

    // The measured window.
    live.set_phase("measure");
    let mut starts: Vec<Vec<TrackCounters>> = vec![];
    let mut pub_start: Vec<Option<PublisherStats>> = vec![];
    let srv_a = server_sample(target, server_proc).await;
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
    let srv_b = server_sample(target, server_proc).await;
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
    let inputs = LoadInputs {
        window,
        tracks,
        publishers,
        joins,
        receivers,
        subscriptions: subscriptions.max(1),
        server: match (srv_a, srv_b) {
            (Some(a), Some(b)) => Some(ProcUsage::between(&a, &b)),
            _ => None,
        },
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

/// Unique-per-run e-mail addresses.
fn run_tag() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{t}-{:04x}", rand::random::<u16>())
}

async fn join_ours(
    target: &Target,
    cfg: &RunConfig,
    profile: &MediaProfile,
    live: &Arc<Live>,
) -> anyhow::Result<()> {
    let api = ApiClient::new(&target.base_url);
    let per_meeting = cfg.publishers + cfg.subscribers;
    let tag = run_tag();
    live.set_phase("accounts");
    let set_baseline = || {
        *live.baseline.lock().expect("lock") =
            live.server.and_then(|p| p.sample()).map(|s| s.rss_bytes);
    };
    let mut tokens: Vec<(usize, String)> = stream::iter(0..cfg.meetings * per_meeting)
        .map(|i| {
            let api = api.clone();
            let email = format!("bench-{tag}-{i}@example.com");
            async move {
                let s = api
                    .register(&email, "bench-password-123", &format!("bench {i}"))
                    .await?;
                anyhow::Ok((i, s.access_token))
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    tokens.sort();
    set_baseline();
    let per_pub = tracks_per_publisher(profile);
    for m in 0..cfg.meetings {
        let toks = &tokens[m * per_meeting..(m + 1) * per_meeting];
        let code = api
            .create_meeting(&toks[0].1, &format!("bench {m}"))
            .await?
            .code;
        live.set_phase("publishers");
        for (_, tok) in &toks[..cfg.publishers] {
            let mut o = JoinOptions::new(&target.base_url, tok, &code);
            o.profile = *profile;
            o.timeout = cfg.timeout;
            let t = Instant::now();
            let p = Participant::join(o).await.context("publisher join")?;
            let join = t.elapsed();
            let id = p.participant_id().map(|ParticipantId(i)| i);
            live.add(Arc::new(Peer {
                imp: PeerImpl::Ours(p),
                expected_tracks: (cfg.publishers - 1) * per_pub,
                publishes: true,
                publisher_key: id,
                join: Some(join),
            }));
        }
        live.set_phase("receivers");
        let results = stream::iter(toks[cfg.publishers..].iter())
            .map(|(_, tok)| {
                let mut o = JoinOptions::new(&target.base_url, tok, &code);
                o.profile = MediaProfile::none();
                o.publish = false;
                o.timeout = cfg.timeout;
                let live = live.clone();
                async move {
                    live.joining.fetch_add(1, Ordering::Relaxed);
                    let t = Instant::now();
                    let r = Participant::join(o).await;
                    live.joining.fetch_sub(1, Ordering::Relaxed);
                    match r {
                        Ok(p) => {
                            live.add(Arc::new(Peer {
                                imp: PeerImpl::Ours(p),
                                expected_tracks: cfg.publishers * per_pub,
                                publishes: false,
                                publisher_key: None,
                                join: Some(t.elapsed()),
                            }));
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                }
            })
            .buffer_unordered(cfg.join_concurrency.max(1))
            .collect::<Vec<_>>()
            .await;
        let errors: Vec<_> = results.into_iter().filter_map(Result::err).collect();
        if let Some(e) = errors.first() {
            eprintln!("{} receiver joins failed; first: {e}", errors.len());
        }
    }
    Ok(())
}

async fn join_janus(
    target: &Target,
    cfg: &RunConfig,
    profile: &MediaProfile,
    live: &Arc<Live>,
    s: &JanusSession,
) -> anyhow::Result<()> {
    let api = api_on_ip(target.client_ip)?;
    let per_pub = tracks_per_publisher(profile);
    let bitrate = profile.video.map_or(64_000, |v| v.bitrate_bps * 2);
    for _ in 0..cfg.meetings {
        let room = s.create_room(cfg.publishers, bitrate).await?;
        live.set_phase("publishers");
        let mut pubs = vec![];
        for _ in 0..cfg.publishers {
            let t = Instant::now();
            let mut p = JanusPeer::new(t);
            p.publish(s, &api, room, profile)
                .await
                .context("janus publish")?;
            pubs.push((p, t.elapsed()));
        }
        let feeds: Vec<u64> = pubs.iter().filter_map(|(p, _)| p.feed_id).collect();
        for (mut p, join) in pubs {
            let others: Vec<u64> = feeds
                .iter()
                .copied()
                .filter(|f| Some(*f) != p.feed_id)
                .collect();
            p.subscribe(s, &api, room, &others).await?;
            let key = p.feed_id.map(|f| f as i64);
            live.add(Arc::new(Peer {
                imp: PeerImpl::Janus(p),
                expected_tracks: (cfg.publishers - 1) * per_pub,
                publishes: true,
                publisher_key: key,
                join: Some(join),
            }));
        }
        live.set_phase("receivers");
        let feeds = &feeds;
        let api = &api;
        let results = stream::iter(0..cfg.subscribers)
            .map(|_| {
                let live = live.clone();
                async move {
                    live.joining.fetch_add(1, Ordering::Relaxed);
                    let t = Instant::now();
                    let mut p = JanusPeer::new(t);
                    let r = p.subscribe(s, api, room, feeds).await;
                    live.joining.fetch_sub(1, Ordering::Relaxed);
                    r?;
                    live.add(Arc::new(Peer {
                        imp: PeerImpl::Janus(p),
                        expected_tracks: feeds.len() * per_pub,
                        publishes: false,
                        publisher_key: None,
                        join: Some(t.elapsed()),
                    }));
                    Ok::<(), crate::BenchError>(())
                }
            })
            .buffer_unordered(cfg.join_concurrency.max(1))
            .collect::<Vec<_>>()
            .await;
        let errors: Vec<_> = results.into_iter().filter_map(Result::err).collect();
        if let Some(e) = errors.first() {
            eprintln!("{} janus receiver joins failed; first: {e}", errors.len());
        }
    }
    Ok(())
}
