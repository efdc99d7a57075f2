//! Wiring: storage, cache, the SFU, signaling and the HTTP routes in one server, started and
//! stopped in order.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::Router;
use futures_util::StreamExt;
use mm_api::{ApiConfig, AppState, Cache, MeetingEvent, Secret, Store};
use mm_signaling::{ClientIpResolver, Hub, SignalingConfig};
use tokio::net::TcpListener;
use tracing::{info, warn};

use crate::admin_routes::{self, AdminState};
use crate::cluster;
use crate::config::Config;
use crate::drain::Drain;
use crate::http_server::HttpServer;
use crate::meeting_directory::MeetingDirectory;
use crate::paused_meeting_reaper::PausedMeetingReaper;
use crate::web_app;

/// A started server: its sockets are bound, it serves once [`Server::run_until`] runs.
pub struct Server {
    http: HttpServer,
    app: Router,
    hub: Hub,
    sfu: mm_sfu::Sfu,
    store: Store,
    http_addr: SocketAddr,
    registry: cluster::NodeRegistry,
    drain: Drain,
    /// On Redis: SIGTERM drains (people move to other nodes) before the shutdown.
    clustered: bool,
}

impl Server {
    pub async fn start(config: Config) -> Result<Self> {
        let store = Store::connect_with_replica(
            &config.database_url,
            config.database_replica_url.as_deref(),
        )
        .await
        .context("connecting to the database")?;
        // One server: after a crash or restart nobody is connected, whatever the rows say. In a
        // cluster the other nodes' people are, so the participation reaper closes only what
        // nodes that are gone left open.
        let clustered = config.redis_url.is_some();
        if !clustered {
            let closed = store
                .close_all_open_participations(chrono::Utc::now())
                .await?;
            let paused = store.pause_active_meetings().await?;
            if closed > 0 || paused > 0 {
                info!(
                    closed,
                    paused, "closed participations and paused meetings of an earlier run"
                );
            }
        }
        purge_expired_sessions(store.clone());
        let cache = Cache::connect(
            config.redis_url.as_deref(),
            &config.cluster.redis_key_prefix,
        )
        .await
        .context("connecting to the cache")?;
        let secret = jwt_secret(&config)?;
        let node_token = cluster::node_token(secret.expose());
        let mut api_config = ApiConfig::new(secret);
        api_config.issuer = config.jwt_issuer.clone();
        api_config.audience = config.jwt_issuer.clone();
        api_config.access_ttl = config.access_token_ttl;
        api_config.refresh_ttl = config.refresh_token_ttl;
        api_config.cors_origins = config.cors_origins.clone();
        api_config.trust_proxy = config.trust_proxy;
        api_config.throttle.max_api_requests_per_minute = config.api_rate_limit_per_minute;
        api_config.request_timeout = config.api_request_timeout;
        let state = AppState::new(api_config, store.clone(), cache.clone())?;
        let tokens = state.tokens().clone();

        let sfu = mm_sfu::Sfu::start(config.sfu.clone())
            .await
            .context("starting the SFU")?;
        info!(udp = ?sfu.local_addrs(), "SFU started");
        // Bound before anything is announced, so the node's URL has its real port.
        let listener = TcpListener::bind(config.http_addr)
            .await
            .with_context(|| format!("binding {}", config.http_addr))?;
        let http = HttpServer::new(listener, config.http);
        let http_addr = http.local_addr()?;
        let registry = node_registry(&config, &cache, &sfu, http_addr);
        let me = registry.me().await;
        info!(node = %me.id, url = %me.url, clustered, "node registered");

        let signaling = SignalingConfig {
            heartbeat_interval: config.heartbeat_interval,
            reconnect_grace: config.reconnect_grace,
            empty_grace: config.empty_meeting_grace,
            paused_timeout: config.paused_timeout,
            join_timeout: config.join_timeout,
            lobby_max_wait: config.lobby_max_wait,
            max_unauthenticated_per_ip: config.ws_max_unauthenticated_per_ip,
            max_sessions_per_user: config.ws_max_sessions_per_user,
            max_participants: config.max_participants_per_meeting,
            allowed_origins: config.cors_origins.clone(),
            ice_servers: config.ice_servers.clone(),
            turn: config.turn.clone(),
            node_token: Some(node_token),
            ..SignalingConfig::default()
        };
        let directory = Arc::new(MeetingDirectory {
            store: store.clone(),
            tokens,
            node_id: me.id.clone(),
            reads: state.meetings().reads().clone(),
        });
        let trust_proxy = config.trust_proxy;
        let client_ip: ClientIpResolver =
            Arc::new(move |headers, peer| mm_api::ClientIp::resolve(headers, peer, trust_proxy).0);
        let placement = cluster::LeasePlacement::new(
            cache.clone(),
            registry.clone(),
            mm_signaling::RemoteNode {
                id: me.id.clone(),
                url: me.url.clone(),
            },
            config.cluster.meeting_lease,
        );
        let hub = Hub::with_client_ip(signaling, directory, sfu.clone(), client_ip)
            .with_placement(Arc::new(placement));
        follow_meeting_events(&cache, hub.clone()).await?;
        register_gauges(&state, &hub, &sfu, &registry);
        let reaper = PausedMeetingReaper {
            store: store.clone(),
            hub: hub.clone(),
            timeout: config.paused_timeout,
        };
        // Meetings the previous run (or a dead node) left paused past their timeout end now.
        reaper.sweep().await?;
        reaper.spawn();
        if clustered {
            let grace = config
                .reconnect_grace
                .max(cluster::node_registry::ENTRY_TTL);
            cluster::ParticipationReaper::new(
                store.clone(),
                cache.clone(),
                registry.clone(),
                grace,
            )
            .spawn();
        }
        let drain = Drain::new(
            registry.clone(),
            hub.clone(),
            state.clone(),
            config.cluster.drain_timeout,
        );
        let admin = AdminState {
            registry: registry.clone(),
            token: config.cluster.admin_token.clone().map(Into::into),
            drain: drain.clone(),
        };

        let app = Router::new()
            .merge(mm_signaling::router(hub.clone()))
            .merge(admin_routes::router(admin))
            .merge(mm_api::router(state))
            .fallback_service(web_app::router(&config.web_dir));
        Ok(Self {
            http,
            app,
            hub,
            sfu,
            store,
            http_addr,
            registry,
            drain,
            clustered,
        })
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    pub fn sfu_addrs(&self) -> Vec<SocketAddr> {
        self.sfu.local_addrs()
    }

    /// This node's entry in the cluster.
    pub fn registry(&self) -> &cluster::NodeRegistry {
        &self.registry
    }

    /// Serves until `shutdown` completes (in a cluster it drains first: people move to other
    /// nodes, for at most `DRAIN_TIMEOUT_SECS`) or a drain requested by `POST /admin/drain`
    /// has finished. Then closes every room (participations get `left_at`), stops accepting,
    /// gives in-flight requests `SHUTDOWN_GRACE_SECS` and drops the rest, then stops the SFU
    /// and the database pool.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let hub = self.hub.clone();
        let drain = self.drain.clone();
        let clustered = self.clustered;
        self.registry.spawn_refresh();
        self.http
            .serve(self.app, async move {
                tokio::select! {
                    () = shutdown => if clustered { drain.run().await },
                    () = drain.requested() => drain.run().await,
                }
                // WebSockets are long-lived: end them first, before the grace starts.
                hub.shutdown().await;
            })
            .await;
        self.registry.withdraw().await;
        self.sfu.shutdown().await;
        self.store.close().await;
        info!("stopped");
        Ok(())
    }
}

/// This node's entry: its id and URL derived unless configured.
fn node_registry(
    config: &Config,
    cache: &Cache,
    sfu: &mm_sfu::Sfu,
    http_addr: SocketAddr,
) -> cluster::NodeRegistry {
    let id = (config.cluster.node_id.clone()).unwrap_or_else(|| cluster::derive_node_id(http_addr));
    let url = (config.cluster.node_url.clone())
        .unwrap_or_else(|| cluster::derive_node_url(http_addr, &config.sfu.public_ips));
    cluster::NodeRegistry::new(
        cache.clone(),
        cluster::NodeInfo {
            id,
            url,
            media: sfu.local_addrs().iter().map(ToString::to_string).collect(),
            participants: 0,
            rooms: 0,
            down_tracks: 0,
            draining: false,
            started_at: chrono::Utc::now(),
        },
    )
}

/// The configured secret, or one generated on first start and kept in the data directory.
fn jwt_secret(config: &Config) -> Result<Secret> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(Secret::new(secret.as_bytes().to_vec())?);
    }
    let path = config.data_dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read(&path) {
        return Ok(Secret::new(existing)?);
    }
    warn!(path = %path.display(), "JWT_SECRET is not set; generated one and keeping it in the data directory (set JWT_SECRET in production)");
    let secret = Secret::random();
    write_private(&path, secret.expose())?;
    Ok(secret)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, bytes)?;
    Ok(())
}

/// Expired refresh tokens are deleted hourly, so the table does not grow without bound.
fn purge_expired_sessions(store: Store) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match store
                .purge_expired_refresh_sessions(chrono::Utc::now())
                .await
            {
                Ok(0) => {}
                Ok(n) => info!(purged = n, "expired refresh tokens deleted"),
                Err(e) => warn!(error = %e, "purging expired refresh tokens failed"),
            }
        }
    });
}

/// Meetings ended through the REST API (on this node or another) close their live rooms, and
/// users who signed out lose their sockets. The subscription survives Redis restarts (events
/// published while Redis is down are lost; a join still reads the meeting's stored status).
async fn follow_meeting_events(cache: &Cache, hub: Hub) -> Result<()> {
    let mut events = cache
        .subscribe_forever(mm_api::MEETING_EVENTS_CHANNEL)
        .await
        .into_stream();
    tokio::spawn(async move {
        while let Some(payload) = events.next().await {
            match serde_json::from_slice::<MeetingEvent>(&payload) {
                Ok(MeetingEvent::Ended { code }) => {
                    hub.end_meeting(&code, mm_signaling::protocol::EndReason::HostEnded)
                        .await
                }
                Ok(MeetingEvent::UserSignedOut { user_id }) => {
                    let closed = hub.disconnect_user(user_id.0);
                    if closed > 0 {
                        info!(user = user_id.0, closed, "signed out: sockets closed");
                    }
                }
                Err(e) => warn!(error = %e, "unreadable meeting event"),
            }
        }
    });
    Ok(())
}

/// Room, participant and SFU gauges on `/metrics`, refreshed every few seconds.
fn register_gauges(
    state: &AppState,
    hub: &Hub,
    sfu: &mm_sfu::Sfu,
    registry: &cluster::NodeRegistry,
) {
    crate::process_metrics::register(state.metrics());
    let store = state.store().clone();
    state.metrics().register_gauge_fn(
        "mm_db_connections",
        "Database connections the pool holds open, idle or in use",
        move || f64::from(store.connections()),
    );
    let metrics = state.metrics().clone();
    let hub = hub.clone();
    let sfu = sfu.clone();
    let registry = registry.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(cluster::node_registry::REFRESH_EVERY);
        loop {
            tick.tick().await;
            let h = hub.stats().await;
            let s = sfu.stats().await;
            registry
                .set_load(h.participants, h.rooms, s.down_tracks as usize)
                .await;
            let nodes = registry.nodes().await.map(|n| n.len()).unwrap_or(0);
            metrics.set_gauge(
                "mm_cluster_nodes",
                "Live nodes in this node's cluster (itself included; 0 when the list cannot be read)",
                nodes as f64,
            );
            metrics.set_gauge(
                "mm_rooms",
                "Live rooms (meetings with someone in them)",
                h.rooms as f64,
            );
            metrics.set_gauge(
                "mm_participants",
                "Participants in live rooms",
                h.participants as f64,
            );
            metrics.set_gauge("mm_sfu_peers", "Peers on the SFU", s.peers as f64);
            metrics.set_gauge(
                "mm_sfu_up_tracks",
                "Published tracks on the SFU",
                s.up_tracks as f64,
            );
            metrics.set_gauge(
                "mm_sfu_down_tracks",
                "Forwarded track subscriptions on the SFU",
                s.down_tracks as f64,
            );
            metrics.set_gauge(
                "mm_sfu_tcp_connections",
                "Open ICE-TCP connections on the SFU",
                s.tcp_connections as f64,
            );
            for (name, help, value) in [
                (
                    "mm_sfu_packets_in_total",
                    "Datagrams the SFU received",
                    s.packets_in,
                ),
                (
                    "mm_sfu_packets_out_total",
                    "Datagrams the SFU sent",
                    s.packets_out,
                ),
                (
                    "mm_sfu_nacks_total",
                    "NACKs received from subscribers",
                    s.nacks,
                ),
                (
                    "mm_sfu_plis_total",
                    "Keyframe requests received from subscribers",
                    s.plis,
                ),
                (
                    "mm_sfu_keyframe_requests_total",
                    "Keyframe requests sent to publishers",
                    s.keyframe_requests,
                ),
                (
                    "mm_sfu_cache_starts_total",
                    "Video subscriptions started from the keyframe cache",
                    s.cache_starts,
                ),
                (
                    "mm_sfu_tcp_accepted_total",
                    "ICE-TCP connections the SFU accepted",
                    s.tcp_accepted,
                ),
                (
                    "mm_sfu_tcp_refused_total",
                    "ICE-TCP connections refused (network filter, connection limits)",
                    s.tcp_refused,
                ),
                (
                    "mm_sfu_tcp_expired_total",
                    "ICE-TCP connections closed by the SFU (no valid STUN in time, idle, peer gone)",
                    s.tcp_expired,
                ),
                (
                    "mm_sfu_tcp_frames_in_total",
                    "RFC 4571 frames received over ICE-TCP (also in mm_sfu_packets_in_total)",
                    s.tcp_frames_in,
                ),
                (
                    "mm_sfu_tcp_frames_out_total",
                    "Frames queued to ICE-TCP connections",
                    s.tcp_frames_out,
                ),
                (
                    "mm_sfu_tcp_dropped_total",
                    "Frames to ICE-TCP connections dropped (write queue full or connection gone)",
                    s.tcp_dropped,
                ),
            ] {
                metrics.set_counter(name, help, value);
            }
            set_worker_series(&metrics, &sfu.worker_stats().await);
        }
    });
}

/// Placement and load of each media worker, labelled `worker="<n>"` (its thread is
/// `mm-sfu-<n>`).
fn set_worker_series(metrics: &mm_api::metrics::Metrics, workers: &[mm_sfu::SfuStats]) {
    use mm_api::metrics::MetricKind::{Counter, Gauge};
    type Read = fn(&mm_sfu::SfuStats) -> u64;
    let series: [(&str, &str, _, Read); 6] = [
        (
            "mm_sfu_worker_placed_peers",
            "Peers placed on the worker by their rooms' homes",
            Gauge,
            |s| s.placed_peers,
        ),
        (
            "mm_sfu_worker_peers",
            "Peers running on the worker",
            Gauge,
            |s| s.peers,
        ),
        (
            "mm_sfu_worker_down_tracks",
            "Track subscriptions the worker forwards",
            Gauge,
            |s| s.down_tracks,
        ),
        (
            "mm_sfu_worker_packets_out_total",
            "Datagrams the worker sent",
            Counter,
            |s| s.packets_out,
        ),
        (
            "mm_sfu_worker_relayed_out_total",
            "Packets the worker relayed to other workers",
            Counter,
            |s| s.relayed_out,
        ),
        (
            "mm_sfu_worker_relayed_in_total",
            "Packets the worker received from other workers",
            Counter,
            |s| s.relayed_in,
        ),
    ];
    for (name, help, kind, read) in series {
        let values = workers
            .iter()
            .enumerate()
            .map(|(i, s)| (i.to_string(), read(s) as f64))
            .collect();
        metrics.set_series(name, help, kind, "worker", values);
    }
}
