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

use crate::config::Config;
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
}

impl Server {
    pub async fn start(config: Config) -> Result<Self> {
        let store = Store::connect(&config.database_url)
            .await
            .context("connecting to the database")?;
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
        purge_expired_sessions(store.clone());
        let cache = Cache::connect(config.redis_url.as_deref())
            .await
            .context("connecting to the cache")?;
        let mut api_config = ApiConfig::new(jwt_secret(&config)?);
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
            ..SignalingConfig::default()
        };
        let directory = Arc::new(MeetingDirectory {
            store: store.clone(),
            tokens,
        });
        let trust_proxy = config.trust_proxy;
        let client_ip: ClientIpResolver =
            Arc::new(move |headers, peer| mm_api::ClientIp::resolve(headers, peer, trust_proxy).0);
        let hub = Hub::with_client_ip(signaling, directory, sfu.clone(), client_ip);
        follow_meeting_events(&cache, hub.clone()).await?;
        register_gauges(&state, &hub, &sfu);
        let reaper = PausedMeetingReaper {
            store: store.clone(),
            hub: hub.clone(),
            timeout: config.paused_timeout,
        };
        // Meetings the previous run (or a dead node) left paused past their timeout end now.
        reaper.sweep().await?;
        reaper.spawn();

        let app = Router::new()
            .merge(mm_signaling::router(hub.clone()))
            .merge(mm_api::router(state))
            .fallback_service(web_app::router(&config.web_dir));
        let listener = TcpListener::bind(config.http_addr)
            .await
            .with_context(|| format!("binding {}", config.http_addr))?;
        let http = HttpServer::new(listener, config.http);
        let http_addr = http.local_addr()?;
        Ok(Self {
            http,
            app,
            hub,
            sfu,
            store,
            http_addr,
        })
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    pub fn sfu_addrs(&self) -> Vec<SocketAddr> {
        self.sfu.local_addrs()
    }

    /// Serves until `shutdown` completes, then closes every room (participations get
    /// `left_at`), stops accepting, gives in-flight requests `SHUTDOWN_GRACE_SECS` and drops
    /// the rest, then stops the SFU and the database pool.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let hub = self.hub.clone();
        self.http
            .serve(self.app, async move {
                shutdown.await;
                // WebSockets are long-lived: end them first, before the grace starts.
                hub.shutdown().await;
            })
            .await;
        self.sfu.shutdown().await;
        self.store.close().await;
        info!("stopped");
        Ok(())
    }
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
fn register_gauges(state: &AppState, hub: &Hub, sfu: &mm_sfu::Sfu) {
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
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            tick.tick().await;
            let h = hub.stats().await;
            let s = sfu.stats().await;
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
