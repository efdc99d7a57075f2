//! Redis cache: keys with PX expiry, a Lua script for atomic windows, and PUBLISH/SUBSCRIBE.

use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::ConnectionManager;

use super::{Subscription, WindowCount};
use crate::error::Result;

/// INCR, start the window on the first increment (or if an expiry was lost), report the TTL.
const INCR_WINDOW: &str = r"
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
";

#[derive(Clone)]
pub struct RedisCache {
    client: redis::Client,
    connection: ConnectionManager,
    namespace: String,
    incr_window: redis::Script,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: show only the namespace.
        f.debug_struct("RedisCache")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl RedisCache {
    /// Connects (fails if the server does not answer); keys and channels get `namespace` prefixed.
    pub async fn connect(url: &str, namespace: &str) -> Result<Self> {
        let client = redis::Client::open(url)?;
        let connection = ConnectionManager::new(client.clone()).await?;
        Ok(Self {
            client,
            connection,
            namespace: namespace.to_owned(),
            incr_window: redis::Script::new(INCR_WINDOW),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.namespace)
    }

    pub async fn incr_window(&self, key: &str, ttl: Duration) -> Result<WindowCount> {
        let mut conn = self.connection.clone();
        let (count, ttl_ms): (u64, i64) = self
            .incr_window
            .key(self.key(key))
            .arg(millis(ttl))
            .invoke_async(&mut conn)
            .await?;
        Ok(WindowCount {
            count,
            resets_in: Duration::from_millis(ttl_ms.max(0).unsigned_abs()),
        })
    }

    pub async fn peek_window(&self, key: &str) -> Result<Option<WindowCount>> {
        let mut conn = self.connection.clone();
        let (count, ttl_ms): (Option<u64>, i64) = redis::pipe()
            .atomic()
            .get(self.key(key))
            .pttl(self.key(key))
            .query_async(&mut conn)
            .await?;
        Ok(count.map(|count| WindowCount {
            count,
            resets_in: Duration::from_millis(ttl_ms.max(0).unsigned_abs()),
        }))
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let mut conn = self.connection.clone();
        Ok(redis::cmd("GET")
            .arg(self.key(key))
            .query_async(&mut conn)
            .await?)
    }

    /// A zero `ttl` means "already expired": the key is deleted, as the memory cache behaves.
    pub async fn set_ex(&self, key: &str, value: &[u8], ttl: Duration) -> Result<()> {
        if ttl.is_zero() {
            return self.del(key).await;
        }
        let mut conn = self.connection.clone();
        redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(millis(ttl))
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    pub async fn del(&self, key: &str) -> Result<()> {
        let mut conn = self.connection.clone();
        redis::cmd("DEL")
            .arg(self.key(key))
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    pub async fn exists(&self, key: &str) -> Result<bool> {
        let mut conn = self.connection.clone();
        Ok(redis::cmd("EXISTS")
            .arg(self.key(key))
            .query_async(&mut conn)
            .await?)
    }

    pub async fn publish(&self, channel: &str, payload: &[u8]) -> Result<()> {
        let mut conn = self.connection.clone();
        redis::cmd("PUBLISH")
            .arg(self.key(channel))
            .arg(payload)
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// Opens a dedicated connection in subscriber mode; returns once the server confirmed.
    pub async fn subscribe(&self, channel: &str) -> Result<Subscription> {
        let mut pubsub = self.client.get_async_pubsub().await?;
        pubsub.subscribe(self.key(channel)).await?;
        let messages = pubsub
            .into_on_message()
            .map(|message| message.get_payload_bytes().to_vec());
        Ok(Subscription::new(messages.boxed()))
    }

    pub async fn ping(&self) -> Result<()> {
        let mut conn = self.connection.clone();
        redis::cmd("PING").query_async::<()>(&mut conn).await?;
        Ok(())
    }
}

/// Redis refuses a zero expiry; one millisecond is the closest it allows.
fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}
