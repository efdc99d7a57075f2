//! Shared state of the API handlers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::api_config::ApiConfig;
use crate::auth_service::AuthService;
use crate::cache::{Cache, MemoryCache};
use crate::error::Result;
use crate::login_throttle::LoginThrottle;
use crate::meeting_service::MeetingService;
use crate::metrics::Metrics;
use crate::password_hasher::PasswordHasher;
use crate::store::Store;
use crate::token_service::TokenService;

/// Everything a handler may need. Cheap to clone (one `Arc`).
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: ApiConfig,
    store: Store,
    cache: Cache,
    tokens: TokenService,
    auth: AuthService,
    meetings: MeetingService,
    metrics: Metrics,
    /// Per-node counters used while the shared cache fails.
    local_limits: MemoryCache,
    /// The node drains: `/readyz` says so, so load balancers stop sending people here.
    draining: AtomicBool,
}

impl AppState {
    /// Wires the services. Computes one argon2 hash (the dummy used for unknown emails), so
    /// it takes a few tens of milliseconds.
    pub fn new(config: ApiConfig, store: Store, cache: Cache) -> Result<Self> {
        let tokens = TokenService::new(&config, cache.clone());
        let parallelism = std::thread::available_parallelism().map_or(2, usize::from);
        let passwords = PasswordHasher::new(parallelism)?;
        let throttle = LoginThrottle::new(cache.clone(), config.throttle.clone());
        let auth = AuthService::new(
            store.clone(),
            passwords,
            tokens.clone(),
            throttle,
            cache.clone(),
            config.refresh_ttl,
        );
        let meetings = MeetingService::new(store.clone(), cache.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                store,
                cache,
                tokens,
                auth,
                meetings,
                metrics: Metrics::new(),
                local_limits: MemoryCache::new(),
                draining: AtomicBool::new(false),
            }),
        })
    }

    pub fn config(&self) -> &ApiConfig {
        &self.inner.config
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn cache(&self) -> &Cache {
        &self.inner.cache
    }

    /// Access-token verification, also for the signaling server.
    pub fn tokens(&self) -> &TokenService {
        &self.inner.tokens
    }

    pub fn auth(&self) -> &AuthService {
        &self.inner.auth
    }

    pub fn meetings(&self) -> &MeetingService {
        &self.inner.meetings
    }

    /// In-process counters for limits that must hold while the shared cache is down.
    pub fn local_limits(&self) -> &MemoryCache {
        &self.inner.local_limits
    }

    /// From now on `/readyz` answers 503 `unavailable` (the node drains).
    pub fn set_draining(&self) {
        self.inner.draining.store(true, Ordering::Relaxed);
    }

    pub fn is_draining(&self) -> bool {
        self.inner.draining.load(Ordering::Relaxed)
    }

    /// The registry behind `GET /metrics`; the binary adds its gauges here.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }
}
