//! Shared by the end-to-end tests: a real server on port 0 (SQLite always, PostgreSQL when
//! `TEST_DATABASE_URL` is set), REST helpers and a raw signaling client.

#![allow(dead_code)]

pub mod leak_probe;
pub mod load_balancer;
#[path = "../../api/tests/common/redis_server.rs"]
pub mod redis_server;
pub mod turn_server;
pub mod udp_relay;
pub mod ws_client;

use std::path::PathBuf;
use std::time::Duration;

use mini_meeting::config::Settings;
use mini_meeting::{Config, Server};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub use ws_client::WsClient;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backends this run covers: PostgreSQL only when configured, and then it must answer.
pub fn backends() -> Vec<Backend> {
    let mut b = vec![Backend::Sqlite];
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        b.push(Backend::Postgres);
    } else {
        eprintln!("TEST_DATABASE_URL not set: PostgreSQL variant skipped");
    }
    b
}

/// Every test server's `JWT_SECRET`.
pub const JWT_SECRET: &str = "e2e-secret-e2e-secret-e2e-secret-e2e";

pub struct TestServer {
    pub base: String,
    pub ws_url: String,
    pub database_url: String,
    pub backend: Backend,
    /// The SFU's bound UDP addresses (not the announced ones).
    pub sfu_addrs: Vec<std::net::SocketAddr>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    dir: PathBuf,
    http: reqwest::Client,
}

/// A registered user's tokens.
pub struct Account {
    pub access_token: String,
    pub refresh_token: String,
    pub user_id: i64,
}

/// Short lifecycle timers so the tests can watch them expire, or another address for the SFU
/// to announce (a relay in front of it).
pub struct Timers {
    pub sfu_public_ip: &'static str,
    pub heartbeat_interval_secs: u64,
    pub reconnect_grace_secs: u64,
    pub empty_meeting_grace_secs: u64,
    pub paused_timeout_secs: u64,
    pub join_timeout_secs: u64,
    pub lobby_max_wait_secs: u64,
    /// A Redis of the test's own instead of the run's (`TEST_REDIS_URL`).
    pub redis_url: Option<String>,
    /// `SFU_WORKERS` (default: the server's, one per core).
    pub sfu_workers: Option<usize>,
    /// `MAX_PARTICIPANTS_PER_MEETING` (default: the server's).
    pub max_participants: Option<usize>,
    /// `SFU_BANDWIDTH_ESTIMATION` (default: the server's).
    pub bandwidth_estimation: Option<bool>,
    /// `TURN_URLS` and `TURN_SECRET` (default: none).
    pub turn: Option<(String, String)>,
    /// A database of another test server (a node of the same cluster) instead of a new one.
    pub database_url: Option<String>,
    /// `REDIS_KEY_PREFIX` (default: the server's): a cluster of the test's own on the run's Redis.
    pub redis_key_prefix: Option<String>,
    /// `ADMIN_TOKEN` (default: none).
    pub admin_token: Option<String>,
}

impl Default for Timers {
    fn default() -> Self {
        Self {
            sfu_public_ip: "127.0.0.1",
            heartbeat_interval_secs: 5,
            reconnect_grace_secs: 30,
            empty_meeting_grace_secs: 60,
            paused_timeout_secs: 300,
            join_timeout_secs: 30,
            lobby_max_wait_secs: 600,
            redis_url: None,
            sfu_workers: None,
            max_participants: None,
            bandwidth_estimation: None,
            turn: None,
            database_url: None,
            redis_key_prefix: None,
            admin_token: None,
        }
    }
}

impl TestServer {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, Timers::default()).await
    }

    pub async fn start_with(backend: Backend, timers: Timers) -> Self {
        let dir = std::env::temp_dir().join(format!("mm-e2e-{}", rand_suffix()));
        Self::start_in(backend, timers, &dir).await
    }

    /// A server on the data directory of an earlier one (SQLite: the same database file).
    pub async fn start_on(backend: Backend, dir: &std::path::Path) -> Self {
        Self::start_in(backend, Timers::default(), dir).await
    }

    async fn start_in(backend: Backend, timers: Timers, dir: &std::path::Path) -> Self {
        let dir = dir.to_path_buf();
        std::fs::create_dir_all(&dir).unwrap();
        let database_url = match (&timers.database_url, backend) {
            (Some(shared), _) => shared.clone(),
            (None, Backend::Sqlite) => format!("sqlite:{}", dir.join("mm.db").display()),
            (None, Backend::Postgres) => pg_schema_url().await,
        };
        let settings = Settings {
            http_addr: Some("127.0.0.1:0".parse().unwrap()),
            data_dir: Some(dir.clone()),
            database_url: Some(database_url.clone()),
            // With a streaming replica of TEST_DATABASE_URL, lists are read there.
            database_replica_url: match backend {
                Backend::Postgres => std::env::var("TEST_DATABASE_REPLICA_URL")
                    .ok()
                    .map(|r| same_schema(&r, &database_url)),
                Backend::Sqlite => None,
            },
            redis_url: match (&timers.redis_url, backend) {
                (Some(url), _) => Some(url.clone()),
                (None, Backend::Postgres) => std::env::var("TEST_REDIS_URL").ok(),
                (None, Backend::Sqlite) => None,
            },
            jwt_secret: Some(JWT_SECRET.into()),
            // Every test server of the run shares 127.0.0.1 (and, on PostgreSQL, one Redis).
            api_rate_limit_per_minute: Some(1_000_000),
            web_dir: Some(dir.join("web")),
            sfu_udp_addr: Some("127.0.0.1:0".parse().unwrap()),
            sfu_public_ips: Some(vec![timers.sfu_public_ip.parse().unwrap()]),
            sfu_allowed_networks: Some(vec!["127.0.0.0/8".into()]),
            sfu_workers: timers.sfu_workers,
            max_participants_per_meeting: timers.max_participants,
            sfu_bandwidth_estimation: timers.bandwidth_estimation,
            turn_urls: timers.turn.as_ref().map(|(url, _)| vec![url.clone()]),
            turn_secret: timers.turn.as_ref().map(|(_, secret)| secret.clone()),
            heartbeat_interval_secs: Some(timers.heartbeat_interval_secs),
            reconnect_grace_secs: Some(timers.reconnect_grace_secs),
            empty_meeting_grace_secs: Some(timers.empty_meeting_grace_secs),
            paused_timeout_secs: Some(timers.paused_timeout_secs),
            join_timeout_secs: Some(timers.join_timeout_secs),
            lobby_max_wait_secs: Some(timers.lobby_max_wait_secs),
            // A cluster of its own unless the test builds one: test servers of one run share
            // the run's Redis, and must not place meetings on each other.
            redis_key_prefix: Some(
                (timers.redis_key_prefix.clone())
                    .unwrap_or_else(|| format!("mm_e2e_{}:", rand_suffix())),
            ),
            admin_token: timers.admin_token.clone(),
            ..Settings::default()
        };
        let config = Config::from_settings(settings).unwrap();
        // Errors only: the expected warnings of abuse and failure tests would drown the output.
        mini_meeting::telemetry::init(config.log_format, "error");
        let server = Server::start(config).await.expect("server starts");
        let addr = server.http_addr();
        let sfu_addrs = server.sfu_addrs();
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(server.run_until(async {
            let _ = rx.await;
        }));
        TestServer {
            base: format!("http://{addr}"),
            ws_url: format!("ws://{addr}/ws"),
            database_url,
            backend,
            sfu_addrs,
            shutdown: Some(tx),
            task: Some(task),
            dir,
            http: reqwest::Client::new(),
        }
    }

    /// Waits for a server that stops by itself (a drain) to finish; keeps the data.
    pub async fn wait_stopped(mut self) {
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(60), task)
                .await
                .expect("the server stops by itself")
                .unwrap()
                .unwrap();
        }
    }

    /// Graceful stop, as on SIGTERM.
    pub async fn stop(mut self) {
        self.shut_down().await;
        drop_schema(&self.database_url).await;
    }

    /// Graceful stop that keeps the data (directory and PostgreSQL schema); returns the
    /// directory. The caller removes it and calls [`drop_schema`].
    pub async fn stop_keeping_data(mut self) -> PathBuf {
        self.shut_down().await;
        std::mem::take(&mut self.dir)
    }

    async fn shut_down(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    /// Registers a user; returns (access token, user id).
    pub async fn user(&self, name: &str) -> (String, i64) {
        let account = self.account(name).await;
        (account.access_token, account.user_id)
    }

    /// Registers a user and signs it in (register answers 202 without tokens); returns both
    /// tokens.
    pub async fn account(&self, name: &str) -> Account {
        let email = format!("{}-{}@example.org", name.to_lowercase(), rand_suffix());
        let credentials = json!({"email": email, "password": "correct horse battery"});
        let mut registration = credentials.clone();
        registration["name"] = json!(name);
        let res = self
            .http
            .post(format!("{}/api/auth/register", self.base))
            .json(&registration)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202);
        let res = self
            .http
            .post(format!("{}/api/auth/login", self.base))
            .json(&credentials)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        Account {
            access_token: body["access_token"].as_str().unwrap().to_string(),
            refresh_token: body["refresh_token"].as_str().unwrap().to_string(),
            user_id: body["user"]["id"].as_i64().unwrap(),
        }
    }

    /// Signs out (revokes both tokens).
    pub async fn logout(&self, account: &Account) -> u16 {
        self.http
            .post(format!("{}/api/auth/logout", self.base))
            .bearer_auth(&account.access_token)
            .json(&json!({"refresh_token": account.refresh_token}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    pub async fn create_meeting(&self, token: &str, title: &str) -> String {
        let res = self
            .http
            .post(format!("{}/api/meetings", self.base))
            .bearer_auth(token)
            .json(&json!({ "title": title }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await.unwrap();
        body["code"].as_str().unwrap().to_string()
    }

    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, token, path).await
    }

    pub async fn post(&self, token: &str, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::POST, token, path).await
    }

    async fn call(&self, method: reqwest::Method, token: &str, path: &str) -> (u16, Value) {
        let res = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn meeting_status(&self, token: &str, code: &str) -> String {
        let (_, m) = self.get(token, &format!("/api/meetings/{code}")).await;
        m["status"].as_str().unwrap_or_default().to_string()
    }

    /// Polls until the meeting reaches `status` (lifecycle timers run on the server).
    pub async fn wait_status(&self, token: &str, code: &str, status: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let now = self.meeting_status(token, code).await;
            if now == status {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "meeting {code} stayed {now:?}, expected {status:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn participants(&self, token: &str, code: &str) -> Vec<Value> {
        let (status, body) = self
            .get(token, &format!("/api/meetings/{code}/participants"))
            .await;
        assert_eq!(status, 200, "{body}");
        match body {
            Value::Array(items) => items,
            other => other["items"].as_array().cloned().unwrap_or_default(),
        }
    }

    /// A signaling client that has said hello.
    pub async fn ws(&self, token: &str) -> WsClient {
        let mut c = WsClient::connect(&self.ws_url).await;
        c.send(json!({"type": "hello", "version": 1, "token": token}))
            .await;
        c.expect("welcome").await;
        c
    }

    /// A signaling client that has joined `code`; returns it and the `joined` message.
    pub async fn joined(&self, token: &str, code: &str) -> (WsClient, Value) {
        let mut c = self.ws(token).await;
        c.send(json!({"type": "join", "meeting_code": code})).await;
        let joined = c.expect("joined").await;
        (c, joined)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Polls `done` every 100 ms until it holds; fails the test after `within` (a bound for slow
/// machines, not a timing assertion).
pub async fn wait_until<F, Fut>(what: &str, within: Duration, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not reached"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn rand_suffix() -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    format!("{n:x}")
}

/// Drops the PostgreSQL schema a test server used (nothing for SQLite).
pub async fn drop_schema(database_url: &str) {
    use sqlx::Connection;
    if let Some((url, schema)) = database_url.split_once("search_path%3D") {
        let base = url
            .trim_end_matches("options=-c%20")
            .trim_end_matches(['?', '&']);
        let mut conn = sqlx::PgConnection::connect(base).await.unwrap();
        // IF EXISTS: the nodes of a test cluster share one schema and each drops it.
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

/// `replica` with the search path of `primary` (a test server's schema).
fn same_schema(replica: &str, primary: &str) -> String {
    match primary.split_once("options=") {
        Some((_, options)) => {
            let sep = if replica.contains('?') { '&' } else { '?' };
            format!("{replica}{sep}options={options}")
        }
        None => replica.to_owned(),
    }
}

/// A fresh schema per test server, so tests on one PostgreSQL database never see each other.
pub async fn pg_schema_url() -> String {
    use sqlx::Connection;
    let url = std::env::var("TEST_DATABASE_URL").unwrap();
    let schema = format!("mm_e2e_{}", rand_suffix());
    let mut conn = sqlx::PgConnection::connect(&url)
        .await
        .expect("TEST_DATABASE_URL is set but PostgreSQL does not answer");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}
