//! Ephemeral shared state and a message bus: throttling counters, revoked access tokens, and
//! cross-node events.
//!
//! Two implementations with the same behaviour: [`MemoryCache`] (one process, the default) and
//! [`RedisCache`] (several nodes). Nothing here is durable; losing it loses only counters and
//! revocations that expire soon anyway.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use crate::error::Result;

pub mod lease;
mod memory_cache;
pub mod redis_cache;
pub mod redis_connection;

pub use lease::{Lease, LeaseClaim, Renewal};
pub use memory_cache::MemoryCache;
pub use redis_cache::RedisCache;

/// State of a fixed window counter after [`Cache::incr_window`] or [`Cache::peek_window`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowCount {
    /// Increments since the window opened.
    pub count: u64,
    /// Time until the window closes and the count starts again at zero.
    pub resets_in: Duration,
}

/// The cache/bus the application was configured with. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Cache {
    Memory(MemoryCache),
    Redis(Arc<RedisCache>),
}

impl Cache {
    /// An in-process cache.
    pub fn memory() -> Self {
        Self::Memory(MemoryCache::new())
    }

    /// A Redis cache. Every key and channel is prefixed with `namespace` so several deployments
    /// (or test runs) can share one server.
    pub async fn redis(url: &str, namespace: &str) -> Result<Self> {
        Ok(Self::Redis(Arc::new(
            RedisCache::connect(url, namespace).await?,
        )))
    }

    /// Redis when a URL is given (every key under `namespace`), in-process otherwise.
    pub async fn connect(redis_url: Option<&str>, namespace: &str) -> Result<Self> {
        match redis_url {
            Some(url) => Self::redis(url, namespace).await,
            None => Ok(Self::memory()),
        }
    }

    /// Name of the backend, for logs.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Memory(_) => "memory",
            Self::Redis(_) => "redis",
        }
    }

    /// Adds one to the counter `key`; the first increment opens a window of `ttl`.
    pub async fn incr_window(&self, key: &str, ttl: Duration) -> Result<WindowCount> {
        match self {
            Self::Memory(c) => Ok(c.incr_window(key, ttl)),
            Self::Redis(c) => c.incr_window(key, ttl).await,
        }
    }

    /// Reads the counter `key` without changing it; `None` if no window is open.
    pub async fn peek_window(&self, key: &str) -> Result<Option<WindowCount>> {
        match self {
            Self::Memory(c) => Ok(c.peek_window(key)),
            Self::Redis(c) => c.peek_window(key).await,
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Self::Memory(c) => Ok(c.get(key)),
            Self::Redis(c) => c.get(key).await,
        }
    }

    /// Stores `value` under `key` for `ttl`.
    pub async fn set_ex(&self, key: &str, value: &[u8], ttl: Duration) -> Result<()> {
        match self {
            Self::Memory(c) => {
                c.set_ex(key, value, ttl);
                Ok(())
            }
            Self::Redis(c) => c.set_ex(key, value, ttl).await,
        }
    }

    pub async fn del(&self, key: &str) -> Result<()> {
        match self {
            Self::Memory(c) => {
                c.del(key);
                Ok(())
            }
            Self::Redis(c) => c.del(key).await,
        }
    }

    pub async fn exists(&self, key: &str) -> Result<bool> {
        match self {
            Self::Memory(c) => Ok(c.exists(key)),
            Self::Redis(c) => c.exists(key).await,
        }
    }

    /// Sends `payload` to every current subscriber of `channel` (on every node, with Redis).
    /// Fire and forget: nobody listening is not an error.
    pub async fn publish(&self, channel: &str, payload: &[u8]) -> Result<()> {
        match self {
            Self::Memory(c) => {
                c.publish(channel, payload);
                Ok(())
            }
            Self::Redis(c) => c.publish(channel, payload).await,
        }
    }

    /// Subscribes to `channel`. Messages published after this returns are delivered.
    pub async fn subscribe(&self, channel: &str) -> Result<Subscription> {
        match self {
            Self::Memory(c) => Ok(c.subscribe(channel)),
            Self::Redis(c) => c.subscribe(channel).await,
        }
    }

    /// Subscribes to `channel` for as long as the [`Subscription`] lives: with Redis, a lost
    /// connection is reopened and resubscribed with back-off (messages published meanwhile are
    /// lost), so the stream never ends. The in-process bus never drops, so it is [`Self::subscribe`].
    pub async fn subscribe_forever(&self, channel: &str) -> Subscription {
        match self {
            Self::Memory(c) => c.subscribe(channel),
            Self::Redis(c) => c.subscribe_forever(channel).await,
        }
    }

    /// Adds `member` to the set `key` (no expiry: callers prune members themselves).
    pub async fn set_add(&self, key: &str, member: &str) -> Result<()> {
        match self {
            Self::Memory(c) => {
                c.set_add(key, member);
                Ok(())
            }
            Self::Redis(c) => c.set_add(key, member).await,
        }
    }

    pub async fn set_remove(&self, key: &str, member: &str) -> Result<()> {
        match self {
            Self::Memory(c) => {
                c.set_remove(key, member);
                Ok(())
            }
            Self::Redis(c) => c.set_remove(key, member).await,
        }
    }

    pub async fn set_members(&self, key: &str) -> Result<Vec<String>> {
        match self {
            Self::Memory(c) => Ok(c.set_members(key)),
            Self::Redis(c) => c.set_members(key).await,
        }
    }

    /// Readiness probe.
    pub async fn ping(&self) -> Result<()> {
        match self {
            Self::Memory(_) => Ok(()),
            Self::Redis(c) => c.ping().await,
        }
    }
}

/// A stream of messages from one channel. Dropping it unsubscribes.
pub struct Subscription {
    messages: BoxStream<'static, Vec<u8>>,
}

impl Subscription {
    fn new(messages: BoxStream<'static, Vec<u8>>) -> Self {
        Self { messages }
    }

    /// The next message; `None` once the channel is gone (for example, Redis disconnected).
    pub async fn recv(&mut self) -> Option<Vec<u8>> {
        self.messages.next().await
    }

    /// The messages as a stream, for `select!` loops and combinators.
    pub fn into_stream(self) -> BoxStream<'static, Vec<u8>> {
        self.messages
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Subscription")
    }
}
