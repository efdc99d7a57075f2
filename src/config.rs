//! The server's configuration: typed, with defaults, read from an optional TOML file and
//! overridden by environment variables, then by command-line flags. `--help` lists every key.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde::Deserialize;

pub use crate::http_server::HttpLimits;

/// Every setting is optional here; [`Config::load`] fills the defaults. A key is set in the
/// file as `snake_case = value`, in the environment as `SCREAMING_CASE`, or as `--kebab-case`.
#[derive(Parser, Deserialize, Default)]
#[command(
    name = "mini-meeting",
    version,
    about = "Mini Meeting: meetings, signaling and the SFU in one server"
)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// TOML file with any of the keys below (environment and flags override it)
    #[arg(long, env = "CONFIG_FILE")]
    #[serde(skip)]
    pub config_file: Option<PathBuf>,
    /// HTTP listen address [default: 127.0.0.1:8080]
    #[arg(long, env = "HTTP_ADDR")]
    pub http_addr: Option<SocketAddr>,
    /// Directory for the SQLite file and the generated JWT secret [default: ./data]
    #[arg(long, env = "DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite:PATH or postgres://... [default: sqlite:<DATA_DIR>/mini-meeting.db]
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// postgres://... of a streaming read replica for lists (a user's meetings, participants,
    /// host actions); writes and reads right after them stay on the primary [default: none]
    #[arg(long, env = "DATABASE_REPLICA_URL", hide_env_values = true)]
    pub database_replica_url: Option<String>,
    /// redis://host:port for the cache and bus, or a Redis Cluster's seed nodes separated by
    /// commas; unset = in-process
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// HMAC secret for access tokens (32+ bytes); unset = generated once and kept under DATA_DIR
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// `iss` and `aud` of access tokens [default: mini-meeting]
    #[arg(long, env = "JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Access token lifetime in seconds [default: 900]
    #[arg(long, env = "ACCESS_TOKEN_TTL_SECS")]
    pub access_token_ttl_secs: Option<u64>,
    /// Refresh token lifetime in seconds [default: 2592000 = 30 days]
    #[arg(long, env = "REFRESH_TOKEN_TTL_SECS")]
    pub refresh_token_ttl_secs: Option<u64>,
    /// Comma-separated browser origins allowed besides the server's own (CORS and WebSocket)
    #[arg(long, env = "CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Option<Vec<String>>,
    /// REST requests per client IP per minute before 429 [default: 600]
    #[arg(long, env = "API_RATE_LIMIT_PER_MINUTE")]
    pub api_rate_limit_per_minute: Option<u64>,
    /// Seconds a REST request may take before it is answered 503 unavailable [default: 10]
    #[arg(long, env = "API_REQUEST_TIMEOUT_SECS")]
    pub api_request_timeout_secs: Option<u64>,
    /// Trust X-Forwarded-For for the client address (behind a reverse proxy) [default: false]
    #[arg(long, env = "TRUST_PROXY")]
    pub trust_proxy: Option<bool>,
    /// text or json [default: text]
    #[arg(long, env = "LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
    /// tracing filter, e.g. info or mini_meeting=debug [default: info]
    #[arg(long, env = "LOG_LEVEL")]
    pub log_level: Option<String>,
    /// The built web app to serve [default: web/dist]
    #[arg(long, env = "WEB_DIR")]
    pub web_dir: Option<PathBuf>,
    /// UDP address of the first media worker; worker i uses port + i [default: 127.0.0.1:40000]
    #[arg(long, env = "SFU_UDP_ADDR")]
    pub sfu_udp_addr: Option<SocketAddr>,
    /// Comma-separated IPs announced in ICE candidates (NAT 1:1) [default: the UDP address's IP]
    #[arg(long, env = "SFU_PUBLIC_IPS", value_delimiter = ',')]
    pub sfu_public_ips: Option<Vec<IpAddr>>,
    /// Comma-separated networks media may come from, e.g. 10.0.0.0/8 [default: any]
    #[arg(long, env = "SFU_ALLOWED_NETWORKS", value_delimiter = ',')]
    pub sfu_allowed_networks: Option<Vec<String>>,
    /// Number of media workers, each with its own UDP port and thread [default: 1]
    #[arg(long, env = "SFU_WORKERS")]
    pub sfu_workers: Option<usize>,
    /// SO_RCVBUF/SO_SNDBUF of the media sockets in bytes [default: 4194304]
    #[arg(long, env = "SFU_SOCKET_BUFFER_BYTES")]
    pub sfu_socket_buffer_bytes: Option<usize>,
    /// Milliseconds a cached keyframe may serve new subscribers before one is requested
    /// from the publisher; 0 disables the cache [default: 3000]
    #[arg(long, env = "SFU_KEYFRAME_CACHE_MS")]
    pub sfu_keyframe_cache_ms: Option<u64>,
    /// Estimate each subscriber's bandwidth and fit its videos to it (simulcast layers,
    /// pauses); it adds pacing delay to keyframe bursts, see docs/media.md [default: false]
    #[arg(long, env = "SFU_BANDWIDTH_ESTIMATION")]
    pub sfu_bandwidth_estimation: Option<bool>,
    /// ICE over TCP: each media worker also listens on TCP and announces a passive TCP
    /// candidate, for clients whose UDP is blocked (no TURN needed) [default: true]
    #[arg(long, env = "SFU_ICE_TCP")]
    pub sfu_ice_tcp: Option<bool>,
    /// ICE-TCP port of the first media worker; worker i uses port + i, 0 picks free ports
    /// [default: the port of SFU_UDP_ADDR]
    #[arg(long, env = "SFU_ICE_TCP_PORT")]
    pub sfu_ice_tcp_port: Option<u16>,
    /// STUN/TURN servers for clients: comma-separated URLs, or a JSON array of
    /// {"urls":[...],"username":..,"credential":..} [default: none]
    #[arg(long, env = "ICE_SERVERS")]
    pub ice_servers: Option<String>,
    /// TURN server URLs to mint per-join credentials for, comma-separated (needs TURN_SECRET)
    /// [default: none]
    #[arg(long, env = "TURN_URLS", value_delimiter = ',')]
    pub turn_urls: Option<Vec<String>>,
    /// The TURN server's shared secret (coturn `static-auth-secret`) [default: none]
    #[arg(long, env = "TURN_SECRET", hide_env_values = true)]
    pub turn_secret: Option<String>,
    /// Seconds a minted TURN credential stays valid [default: 86400]
    #[arg(long, env = "TURN_CREDENTIAL_TTL_SECS")]
    pub turn_credential_ttl_secs: Option<u64>,
    /// Seconds between signaling pings; a connection silent for four intervals is dropped [default: 5]
    #[arg(long, env = "HEARTBEAT_INTERVAL_SECS")]
    pub heartbeat_interval_secs: Option<u64>,
    /// Seconds a participant may take to come back after its connection dropped [default: 30]
    #[arg(long, env = "RECONNECT_GRACE_SECS")]
    pub reconnect_grace_secs: Option<u64>,
    /// Seconds an empty meeting stays open before it ends [default: 60]
    #[arg(long, env = "EMPTY_MEETING_GRACE_SECS")]
    pub empty_meeting_grace_secs: Option<u64>,
    /// Seconds a paused meeting (everyone reconnecting) waits before it ends [default: 300]
    #[arg(long, env = "PAUSED_TIMEOUT_SECS")]
    pub paused_timeout_secs: Option<u64>,
    /// Seconds an authenticated signaling socket may stay without joining a meeting [default: 30]
    #[arg(long, env = "JOIN_TIMEOUT_SECS")]
    pub join_timeout_secs: Option<u64>,
    /// Seconds someone may wait in a meeting's lobby before it gives up [default: 600]
    #[arg(long, env = "LOBBY_MAX_WAIT_SECS")]
    pub lobby_max_wait_secs: Option<u64>,
    /// Signaling sockets one client address may hold open before authenticating [default: 16]
    #[arg(long, env = "WS_MAX_UNAUTHENTICATED_PER_IP")]
    pub ws_max_unauthenticated_per_ip: Option<usize>,
    /// Authenticated signaling sockets one user may hold open [default: 10]
    #[arg(long, env = "WS_MAX_SESSIONS_PER_USER")]
    pub ws_max_sessions_per_user: Option<usize>,
    /// People in one meeting at most; the next join is refused with meeting_full [default: 200]
    #[arg(long, env = "MAX_PARTICIPANTS_PER_MEETING")]
    pub max_participants_per_meeting: Option<usize>,
    /// Seconds a client may take to send a request's headers, idle keep-alive included [default: 10]
    #[arg(long, env = "HTTP_HEADER_READ_TIMEOUT_SECS")]
    pub http_header_read_timeout_secs: Option<u64>,
    /// Seconds an HTTP connection may move no bytes (e.g. a stalled body) before it is closed [default: 60]
    #[arg(long, env = "HTTP_IDLE_TIMEOUT_SECS")]
    pub http_idle_timeout_secs: Option<u64>,
    /// Open connections (HTTP and WebSocket) at most; more are answered 503 and closed
    /// [default: 10000, lowered to fit the open-file limit]
    #[arg(long, env = "HTTP_MAX_CONNECTIONS")]
    pub http_max_connections: Option<usize>,
    /// Seconds in-flight requests get to finish on shutdown before connections are dropped [default: 10]
    #[arg(long, env = "SHUTDOWN_GRACE_SECS")]
    pub shutdown_grace_secs: Option<u64>,
    /// This node's id in a cluster [default: <hostname>-<HTTP port>-<random>, new every start]
    #[arg(long, env = "NODE_ID")]
    pub node_id: Option<String>,
    /// The HTTP base URL other nodes reach this one at [default: http://<HTTP_ADDR>, or the
    /// first SFU_PUBLIC_IPS with the HTTP port when HTTP_ADDR binds every interface]
    #[arg(long, env = "NODE_URL")]
    pub node_url: Option<String>,
    /// Prefix of every Redis key and channel, so clusters (or test runs) can share a Redis [default: mm:]
    #[arg(long, env = "REDIS_KEY_PREFIX")]
    pub redis_key_prefix: Option<String>,
    /// Seconds a node's ownership of a live meeting lasts unless renewed (a third of it) [default: 8]
    #[arg(long, env = "MEETING_LEASE_SECS")]
    pub meeting_lease_secs: Option<u64>,
    /// Bearer token for the operator endpoints under /admin; unset = they answer 403 [default: none]
    #[arg(long, env = "ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Seconds a draining node gives its participants to move before it exits [default: 30]
    #[arg(long, env = "DRAIN_TIMEOUT_SECS")]
    pub drain_timeout_secs: Option<u64>,
}

impl Settings {
    /// Fills every key this one leaves unset from `base`. The destructuring is exhaustive on
    /// purpose: a new key that is not merged here does not compile (finding 10: two keys of the
    /// file were silently dropped by a hand-kept list).
    fn or(self, base: Settings) -> Settings {
        let Settings {
            config_file,
            http_addr,
            data_dir,
            database_url,
            database_replica_url,
            redis_url,
            jwt_secret,
            jwt_issuer,
            access_token_ttl_secs,
            refresh_token_ttl_secs,
            cors_origins,
            api_rate_limit_per_minute,
            api_request_timeout_secs,
            trust_proxy,
            log_format,
            log_level,
            web_dir,
            sfu_udp_addr,
            sfu_public_ips,
            sfu_allowed_networks,
            sfu_workers,
            sfu_socket_buffer_bytes,
            sfu_keyframe_cache_ms,
            sfu_bandwidth_estimation,
            sfu_ice_tcp,
            sfu_ice_tcp_port,
            ice_servers,
            turn_urls,
            turn_secret,
            turn_credential_ttl_secs,
            heartbeat_interval_secs,
            reconnect_grace_secs,
            empty_meeting_grace_secs,
            paused_timeout_secs,
            join_timeout_secs,
            lobby_max_wait_secs,
            ws_max_unauthenticated_per_ip,
            ws_max_sessions_per_user,
            max_participants_per_meeting,
            http_header_read_timeout_secs,
            http_idle_timeout_secs,
            http_max_connections,
            shutdown_grace_secs,
            node_id,
            node_url,
            redis_key_prefix,
            meeting_lease_secs,
            admin_token,
            drain_timeout_secs,
        } = self;
        Settings {
            config_file: config_file.or(base.config_file),
            http_addr: http_addr.or(base.http_addr),
            data_dir: data_dir.or(base.data_dir),
            database_url: database_url.or(base.database_url),
            database_replica_url: database_replica_url.or(base.database_replica_url),
            redis_url: redis_url.or(base.redis_url),
            jwt_secret: jwt_secret.or(base.jwt_secret),
            jwt_issuer: jwt_issuer.or(base.jwt_issuer),
            access_token_ttl_secs: access_token_ttl_secs.or(base.access_token_ttl_secs),
            refresh_token_ttl_secs: refresh_token_ttl_secs.or(base.refresh_token_ttl_secs),
            cors_origins: cors_origins.or(base.cors_origins),
            api_rate_limit_per_minute: api_rate_limit_per_minute.or(base.api_rate_limit_per_minute),
            api_request_timeout_secs: api_request_timeout_secs.or(base.api_request_timeout_secs),
            trust_proxy: trust_proxy.or(base.trust_proxy),
            log_format: log_format.or(base.log_format),
            log_level: log_level.or(base.log_level),
            web_dir: web_dir.or(base.web_dir),
            sfu_udp_addr: sfu_udp_addr.or(base.sfu_udp_addr),
            sfu_public_ips: sfu_public_ips.or(base.sfu_public_ips),
            sfu_allowed_networks: sfu_allowed_networks.or(base.sfu_allowed_networks),
            sfu_workers: sfu_workers.or(base.sfu_workers),
            sfu_socket_buffer_bytes: sfu_socket_buffer_bytes.or(base.sfu_socket_buffer_bytes),
            sfu_keyframe_cache_ms: sfu_keyframe_cache_ms.or(base.sfu_keyframe_cache_ms),
            sfu_bandwidth_estimation: sfu_bandwidth_estimation.or(base.sfu_bandwidth_estimation),
            sfu_ice_tcp: sfu_ice_tcp.or(base.sfu_ice_tcp),
            sfu_ice_tcp_port: sfu_ice_tcp_port.or(base.sfu_ice_tcp_port),
            ice_servers: ice_servers.or(base.ice_servers),
            turn_urls: turn_urls.or(base.turn_urls),
            turn_secret: turn_secret.or(base.turn_secret),
            turn_credential_ttl_secs: turn_credential_ttl_secs.or(base.turn_credential_ttl_secs),
            heartbeat_interval_secs: heartbeat_interval_secs.or(base.heartbeat_interval_secs),
            reconnect_grace_secs: reconnect_grace_secs.or(base.reconnect_grace_secs),
            empty_meeting_grace_secs: empty_meeting_grace_secs.or(base.empty_meeting_grace_secs),
            paused_timeout_secs: paused_timeout_secs.or(base.paused_timeout_secs),
            join_timeout_secs: join_timeout_secs.or(base.join_timeout_secs),
            lobby_max_wait_secs: lobby_max_wait_secs.or(base.lobby_max_wait_secs),
            ws_max_unauthenticated_per_ip: ws_max_unauthenticated_per_ip
                .or(base.ws_max_unauthenticated_per_ip),
            ws_max_sessions_per_user: ws_max_sessions_per_user.or(base.ws_max_sessions_per_user),
            max_participants_per_meeting: max_participants_per_meeting
                .or(base.max_participants_per_meeting),
            http_header_read_timeout_secs: http_header_read_timeout_secs
                .or(base.http_header_read_timeout_secs),
            http_idle_timeout_secs: http_idle_timeout_secs.or(base.http_idle_timeout_secs),
            http_max_connections: http_max_connections.or(base.http_max_connections),
            shutdown_grace_secs: shutdown_grace_secs.or(base.shutdown_grace_secs),
            node_id: node_id.or(base.node_id),
            node_url: node_url.or(base.node_url),
            redis_key_prefix: redis_key_prefix.or(base.redis_key_prefix),
            meeting_lease_secs: meeting_lease_secs.or(base.meeting_lease_secs),
            admin_token: admin_token.or(base.admin_token),
            drain_timeout_secs: drain_timeout_secs.or(base.drain_timeout_secs),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The resolved configuration. Not `Debug`: it holds secrets that must never be logged.
pub struct Config {
    pub http_addr: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub database_replica_url: Option<String>,
    pub redis_url: Option<String>,
    pub jwt_secret: Option<String>,
    pub jwt_issuer: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub cors_origins: Vec<String>,
    pub api_rate_limit_per_minute: u64,
    pub api_request_timeout: Duration,
    pub trust_proxy: bool,
    pub log_format: LogFormat,
    pub log_level: String,
    pub web_dir: PathBuf,
    pub sfu: mm_sfu::SfuConfig,
    pub ice_servers: Vec<mm_signaling::protocol::IceServer>,
    pub turn: Option<mm_signaling::turn_credentials::TurnConfig>,
    pub heartbeat_interval: Duration,
    pub reconnect_grace: Duration,
    pub empty_meeting_grace: Duration,
    pub paused_timeout: Duration,
    pub join_timeout: Duration,
    pub lobby_max_wait: Duration,
    pub ws_max_unauthenticated_per_ip: usize,
    pub ws_max_sessions_per_user: usize,
    pub max_participants_per_meeting: usize,
    pub http: HttpLimits,
    pub cluster: crate::cluster::ClusterConfig,
}

impl Config {
    /// Flags and environment, over the file named by `--config-file`, over the defaults.
    pub fn load() -> Result<Self> {
        Self::from_settings(Settings::parse())
    }

    pub fn from_settings(mut s: Settings) -> Result<Self> {
        if let Some(path) = s.config_file.clone() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let file: Settings =
                toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
            s = s.or(file);
        }
        let data_dir = s.data_dir.unwrap_or_else(|| PathBuf::from("data"));
        let database_url = s
            .database_url
            .unwrap_or_else(|| format!("sqlite:{}", data_dir.join("mini-meeting.db").display()));
        let sfu_defaults = mm_sfu::SfuConfig::default();
        let bind = s
            .sfu_udp_addr
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 40000)));
        let public_ips = s.sfu_public_ips.unwrap_or_default();
        if public_ips.is_empty() && bind.ip().is_unspecified() {
            bail!(
                "SFU_UDP_ADDR binds every interface: set SFU_PUBLIC_IPS to the address clients reach"
            );
        }
        let allowed_networks = s
            .sfu_allowed_networks
            .unwrap_or_default()
            .iter()
            .filter(|n| !n.trim().is_empty())
            .map(|n| {
                n.trim()
                    .parse()
                    .map_err(|e| anyhow::anyhow!("SFU_ALLOWED_NETWORKS: {n}: {e}"))
            })
            .collect::<Result<Vec<_>>>()?;
        let workers = s.sfu_workers.unwrap_or_else(default_workers);
        if workers == 0 {
            bail!("SFU_WORKERS must be at least 1");
        }
        Ok(Config {
            http_addr: s
                .http_addr
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            data_dir,
            database_url,
            database_replica_url: s.database_replica_url.filter(|u| !u.is_empty()),
            redis_url: s.redis_url.filter(|u| !u.is_empty()),
            jwt_secret: s.jwt_secret.filter(|u| !u.is_empty()),
            jwt_issuer: s.jwt_issuer.unwrap_or_else(|| "mini-meeting".into()),
            access_token_ttl: Duration::from_secs(s.access_token_ttl_secs.unwrap_or(900)),
            refresh_token_ttl: Duration::from_secs(
                s.refresh_token_ttl_secs.unwrap_or(30 * 24 * 3600),
            ),
            cors_origins: s.cors_origins.unwrap_or_default(),
            api_rate_limit_per_minute: s.api_rate_limit_per_minute.unwrap_or(600),
            api_request_timeout: positive_secs(
                "API_REQUEST_TIMEOUT_SECS",
                s.api_request_timeout_secs.unwrap_or(10),
            )?,
            trust_proxy: s.trust_proxy.unwrap_or(false),
            log_format: s.log_format.unwrap_or_default(),
            log_level: s.log_level.unwrap_or_else(|| "info".into()),
            web_dir: s.web_dir.unwrap_or_else(|| PathBuf::from("web/dist")),
            sfu: mm_sfu::SfuConfig {
                bind,
                public_ips,
                allowed_networks,
                workers,
                socket_buffer_bytes: s
                    .sfu_socket_buffer_bytes
                    .unwrap_or(sfu_defaults.socket_buffer_bytes),
                keyframe_cache_max_age: s
                    .sfu_keyframe_cache_ms
                    .map(Duration::from_millis)
                    .unwrap_or(sfu_defaults.keyframe_cache_max_age),
                bandwidth_estimation: s
                    .sfu_bandwidth_estimation
                    .unwrap_or(sfu_defaults.bandwidth_estimation),
                ice_tcp: s.sfu_ice_tcp.unwrap_or(sfu_defaults.ice_tcp),
                ice_tcp_port: s.sfu_ice_tcp_port.or(sfu_defaults.ice_tcp_port),
                ..sfu_defaults
            },
            ice_servers: parse_ice_servers(s.ice_servers.as_deref().unwrap_or(""))?,
            turn: turn_config(s.turn_urls, s.turn_secret, s.turn_credential_ttl_secs)?,
            heartbeat_interval: Duration::from_secs(s.heartbeat_interval_secs.unwrap_or(5).max(1)),
            reconnect_grace: Duration::from_secs(s.reconnect_grace_secs.unwrap_or(30)),
            empty_meeting_grace: Duration::from_secs(s.empty_meeting_grace_secs.unwrap_or(60)),
            paused_timeout: Duration::from_secs(s.paused_timeout_secs.unwrap_or(300)),
            join_timeout: positive_secs("JOIN_TIMEOUT_SECS", s.join_timeout_secs.unwrap_or(30))?,
            lobby_max_wait: positive_secs(
                "LOBBY_MAX_WAIT_SECS",
                s.lobby_max_wait_secs.unwrap_or(600),
            )?,
            ws_max_unauthenticated_per_ip: positive(
                "WS_MAX_UNAUTHENTICATED_PER_IP",
                s.ws_max_unauthenticated_per_ip.unwrap_or(16),
            )?,
            ws_max_sessions_per_user: positive(
                "WS_MAX_SESSIONS_PER_USER",
                s.ws_max_sessions_per_user.unwrap_or(10),
            )?,
            max_participants_per_meeting: positive(
                "MAX_PARTICIPANTS_PER_MEETING",
                s.max_participants_per_meeting
                    .unwrap_or(mm_signaling::config::DEFAULT_MAX_PARTICIPANTS),
            )?,
            http: HttpLimits {
                header_read_timeout: positive_secs(
                    "HTTP_HEADER_READ_TIMEOUT_SECS",
                    s.http_header_read_timeout_secs.unwrap_or(10),
                )?,
                idle_timeout: positive_secs(
                    "HTTP_IDLE_TIMEOUT_SECS",
                    s.http_idle_timeout_secs.unwrap_or(60),
                )?,
                max_connections: match s.http_max_connections {
                    Some(0) => bail!("HTTP_MAX_CONNECTIONS must be at least 1"),
                    Some(n) => n,
                    None => HttpLimits::DEFAULT_MAX_CONNECTIONS,
                },
                shutdown_grace: Duration::from_secs(s.shutdown_grace_secs.unwrap_or(10)),
            },
            cluster: crate::cluster::ClusterConfig {
                node_id: match s.node_id.filter(|v| !v.is_empty()) {
                    Some(id) if id.contains(char::is_whitespace) => {
                        bail!("NODE_ID must not contain spaces")
                    }
                    id => id,
                },
                node_url: match s.node_url.filter(|v| !v.is_empty()) {
                    Some(u) if !u.starts_with("http://") => bail!(
                        "NODE_URL must be http://host:port: nodes talk plain HTTP to each other, on the private network"
                    ),
                    u => u,
                },
                redis_key_prefix: s.redis_key_prefix.unwrap_or_else(|| "mm:".into()),
                meeting_lease: positive_secs(
                    "MEETING_LEASE_SECS",
                    s.meeting_lease_secs.unwrap_or(8),
                )?,
                admin_token: match s.admin_token.filter(|v| !v.is_empty()) {
                    Some(t) if t.len() < 16 => bail!("ADMIN_TOKEN must be at least 16 characters"),
                    t => t,
                },
                drain_timeout: positive_secs(
                    "DRAIN_TIMEOUT_SECS",
                    s.drain_timeout_secs.unwrap_or(30),
                )?,
            },
        })
    }
}

/// A timeout of zero would close every connection at once: refuse it rather than guess.
fn positive(key: &str, n: usize) -> Result<usize> {
    if n == 0 {
        bail!("{key} must be at least 1");
    }
    Ok(n)
}

fn positive_secs(key: &str, secs: u64) -> Result<Duration> {
    if secs == 0 {
        bail!("{key} must be at least 1");
    }
    Ok(Duration::from_secs(secs))
}

/// TURN credentials need both the URLs and the secret: one without the other is a mistake.
fn turn_config(
    urls: Option<Vec<String>>,
    secret: Option<String>,
    ttl_secs: Option<u64>,
) -> Result<Option<mm_signaling::turn_credentials::TurnConfig>> {
    use mm_signaling::turn_credentials::{DEFAULT_TURN_CREDENTIAL_TTL, TurnConfig};
    let urls: Vec<String> = urls
        .unwrap_or_default()
        .into_iter()
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .collect();
    let secret = secret.unwrap_or_default();
    if let Some(bad) = urls
        .iter()
        .find(|u| !u.starts_with("turn:") && !u.starts_with("turns:"))
    {
        bail!("TURN_URLS: {bad} is not a turn: or turns: URL");
    }
    match (urls.is_empty(), secret.is_empty()) {
        (true, true) => Ok(None),
        (false, true) => bail!("TURN_URLS is set but TURN_SECRET is not"),
        (true, false) => bail!("TURN_SECRET is set but TURN_URLS is not"),
        (false, false) => {
            let ttl = ttl_secs.map_or(DEFAULT_TURN_CREDENTIAL_TTL, Duration::from_secs);
            if ttl.is_zero() {
                bail!("TURN_CREDENTIAL_TTL_SECS must be at least 1");
            }
            Ok(TurnConfig::new(urls, &secret, ttl))
        }
    }
}

/// `stun:a,turn:b` or a JSON array of RTCIceServer-like objects.
fn parse_ice_servers(text: &str) -> Result<Vec<mm_signaling::protocol::IceServer>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    if text.starts_with('[') {
        return serde_json::from_str(text).context("ICE_SERVERS is not a JSON array of servers");
    }
    Ok(text
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| mm_signaling::protocol::IceServer {
            urls: vec![u.to_string()],
            username: None,
            credential: None,
        })
        .collect())
}

/// One media worker per core: one meeting's peers spread over all of them (the HTTP side's
/// work is small beside media forwarding).
fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
