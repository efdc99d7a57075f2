//! Test harness shared by the integration tests: databases, caches and a served app.
//!
//! SQLite (temp file) and the in-process cache are always used. PostgreSQL runs when
//! `TEST_DATABASE_URL` is set, Redis when `TEST_REDIS_URL` is set; then a connection failure
//! fails the test. Every PostgreSQL test gets its own schema and every Redis test its own key
//! prefix, so tests run in parallel without seeing each other.

#![allow(dead_code)]

pub mod account;
pub mod api_suite;
pub mod http;
mod redis_server;
mod tcp_proxy;

#[allow(unused_imports)] // used by the suites that play a Redis outage
pub use redis_server::RedisServer;
#[allow(unused_imports)] // used by the suite that plays a database outage
pub use tcp_proxy::{Mode as ProxyMode, TcpProxy};

use std::net::SocketAddr;
use std::path::PathBuf;

use mm_api::{ApiConfig, AppState, Cache, Secret, Store, router};

pub fn random_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A unique email for one test.
pub fn email() -> String {
    format!("user-{}@example.com", random_suffix())
}

/// A database that removes itself (file or schema) when dropped.
pub struct TestDb {
    pub store: Store,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    Schema { admin_url: String, schema: String },
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(format!("mm-api-test-{}", random_suffix()));
        // A nested, missing directory: `Store::connect` must create it.
        let path = dir.join("db").join("test.sqlite");
        let store = Store::connect(&format!("sqlite:{}", path.display()))
            .await
            .expect("open SQLite store");
        Self {
            store,
            cleanup: Cleanup::File(dir),
        }
    }

    /// `None` (with a note on stderr) when `TEST_DATABASE_URL` is unset.
    pub async fn postgres() -> Option<Self> {
        let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
            eprintln!("skipped: TEST_DATABASE_URL is not set, PostgreSQL not tested");
            return None;
        };
        let schema = format!("mm_test_{}", random_suffix());
        let admin = sqlx::postgres::PgPoolOptions::new()
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect(&admin_url)
            .await
            .expect("TEST_DATABASE_URL is set but PostgreSQL is unreachable");
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .expect("create test schema");
        admin.close().await;
        let url = schema_url(&admin_url, &schema);
        // With a streaming replica of TEST_DATABASE_URL, lists are read there (the schema
        // arrives by replication).
        let replica = std::env::var("TEST_DATABASE_REPLICA_URL")
            .ok()
            .map(|r| schema_url(&r, &schema));
        let store = Store::connect_with_replica(&url, replica.as_deref())
            .await
            .expect("open PostgreSQL store");
        Some(Self {
            store,
            cleanup: Cleanup::Schema { admin_url, schema },
        })
    }
}

impl TestDb {
    /// The URL of this PostgreSQL schema (`None` for SQLite), to open more pools on it.
    pub fn postgres_url(&self) -> Option<String> {
        match &self.cleanup {
            Cleanup::Schema { admin_url, schema } => Some(schema_url(admin_url, schema)),
            Cleanup::File(_) => None,
        }
    }
}

fn schema_url(admin_url: &str, schema: &str) -> String {
    let separator = if admin_url.contains('?') { '&' } else { '?' };
    format!("{admin_url}{separator}options=-c%20search_path%3D{schema}")
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Schema { admin_url, schema } => {
                // Drop may run inside a runtime: do the async cleanup on a thread of its own.
                let (url, sql) = (admin_url.clone(), format!("DROP SCHEMA {schema} CASCADE"));
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime");
                    runtime.block_on(async {
                        if let Ok(pool) = sqlx::PgPool::connect(&url).await {
                            let _ = sqlx::query(&sql).execute(&pool).await;
                            pool.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// Redis with a fresh key prefix, or `None` (with a note) when `TEST_REDIS_URL` is unset.
pub async fn redis_cache() -> Option<Cache> {
    let Ok(url) = std::env::var("TEST_REDIS_URL") else {
        eprintln!("skipped: TEST_REDIS_URL is not set, Redis not tested");
        return None;
    };
    let namespace = format!("mm_test_{}:", random_suffix());
    Some(
        Cache::redis(&url, &namespace)
            .await
            .expect("TEST_REDIS_URL is set but Redis is unreachable"),
    )
}

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    /// SQLite file + in-process cache.
    Sqlite,
    /// PostgreSQL + Redis (in-process cache if `TEST_REDIS_URL` is unset).
    Postgres,
}

/// A running server on 127.0.0.1:0.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub store: Store,
    pub cache: Cache,
    _db: TestDb,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Config used by the tests: generous IP limit so parallel tests from 127.0.0.1 don't collide.
pub fn test_config() -> ApiConfig {
    let mut config = ApiConfig::new(Secret::random());
    config.throttle.max_failures_per_account = 3;
    config.throttle.max_failures_per_pair = 3;
    config.throttle.max_failures_per_ip = 1000;
    config.throttle.max_api_requests_per_minute = 100_000;
    config
}

/// Builds store and cache for `backend`, serves the router, or `None` if the backend is not
/// configured in this environment.
pub async fn spawn_app(
    backend: Backend,
    configure: impl FnOnce(&mut ApiConfig),
) -> Option<TestApp> {
    let (db, cache) = match backend {
        Backend::Sqlite => (TestDb::sqlite().await, Cache::memory()),
        Backend::Postgres => {
            let db = TestDb::postgres().await?;
            let cache = match redis_cache().await {
                Some(cache) => cache,
                None => Cache::memory(),
            };
            (db, cache)
        }
    };
    Some(serve(db, cache, configure).await)
}

/// Serves the router over `db` and `cache` on 127.0.0.1:0.
pub async fn serve(db: TestDb, cache: Cache, configure: impl FnOnce(&mut ApiConfig)) -> TestApp {
    let mut config = test_config();
    configure(&mut config);
    let state = AppState::new(config, db.store.clone(), cache.clone()).expect("app state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        state,
        store: db.store.clone(),
        cache,
        _db: db,
    }
}
