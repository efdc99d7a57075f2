//! Redis cache: keys with PX expiry, a Lua script for atomic windows, and PUBLISH/SUBSCRIBE.
//!
//! Every call is bounded by [`CALL_TIMEOUT`] and fails as [`Error::Unavailable`]; after a
//! failure the cache answers `Unavailable` at once for [`FAIL_FAST_FOR`] (a small circuit
//! breaker), so an outage costs each request microseconds instead of a timeout.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use redis::aio::ConnectionManagerConfig;
use tokio::sync::{mpsc, oneshot};

use super::lease;
use super::redis_connection::{RedisConnection, SubscribeTargets};
use super::{Subscription, WindowCount};
use crate::error::{Error, Result};

/// Longest any cache call may take, connecting included.
pub const CALL_TIMEOUT: Duration = Duration::from_millis(500);
/// After a failed call, calls fail immediately for this long instead of waiting again.
pub const FAIL_FAST_FOR: Duration = Duration::from_secs(1);
/// Resubscription back-off after the bus connection drops: doubles from the first to the second.
const RESUBSCRIBE_BACKOFF: (Duration, Duration) =
    (Duration::from_millis(100), Duration::from_secs(5));
/// Messages buffered between the bus connection and a slow subscriber.
const SUBSCRIPTION_BUFFER: usize = 1024;

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

/// The lease scripts, loaded once (EVALSHA, falling back to EVAL after a Redis restart).
pub(super) struct LeaseScripts {
    pub acquire: redis::Script,
    pub renew: redis::Script,
    pub release: redis::Script,
}

pub struct RedisCache {
    /// Where the bus subscribes (the server, or a cluster's seed nodes in turn).
    subscribe_targets: SubscribeTargets,
    connection: RedisConnection,
    namespace: String,
    incr_window: redis::Script,
    scripts: LeaseScripts,
    /// Time origin for `failing_until_ms`.
    epoch: Instant,
    /// Milliseconds since `epoch` until which calls fail fast; 0 when healthy.
    failing_until_ms: AtomicU64,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: show only the namespace.
        f.debug_struct("RedisCache")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

/// Connection-manager settings: short timeouts and one reconnection retry, so the manager never
/// spends seconds reconnecting inside a request (the default retries for about 9 s). Its own
/// timeouts are a little shorter than ours so that it, not our timer, sees the failure and
/// reconnects.
fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CALL_TIMEOUT * 4 / 5))
        .set_response_timeout(Some(CALL_TIMEOUT * 4 / 5))
        .set_number_of_retries(1)
        .set_min_delay(Duration::from_millis(50))
        .set_max_delay(Duration::from_millis(200))
}

fn unavailable(e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("cache: {e}"))
}

impl RedisCache {
    /// Connects (fails if the server does not answer); keys and channels get `namespace` prefixed.
    /// `url` is one server, or a cluster's seed nodes separated by commas.
    pub async fn connect(url: &str, namespace: &str) -> Result<Self> {
        let (connection, subscribe_targets) = tokio::time::timeout(
            CALL_TIMEOUT * 4,
            RedisConnection::open(url, CALL_TIMEOUT * 4 / 5, manager_config()),
        )
        .await
        .map_err(|_| unavailable("connecting timed out"))??;
        Ok(Self {
            subscribe_targets,
            connection,
            namespace: namespace.to_owned(),
            incr_window: redis::Script::new(INCR_WINDOW),
            scripts: LeaseScripts {
                acquire: redis::Script::new(lease::ACQUIRE),
                renew: redis::Script::new(lease::RENEW),
                release: redis::Script::new(lease::RELEASE),
            },
            epoch: Instant::now(),
            failing_until_ms: AtomicU64::new(0),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.namespace)
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Runs one call under the timeout and the breaker; every failure is `Unavailable`.
    async fn bounded<T>(&self, call: impl Future<Output = redis::RedisResult<T>>) -> Result<T> {
        if self.now_ms() < self.failing_until_ms.load(Ordering::Relaxed) {
            return Err(unavailable("failing fast after a recent failure"));
        }
        let outcome = match tokio::time::timeout(CALL_TIMEOUT, call).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(e)) => unavailable(e),
            Err(_) => unavailable("call timed out"),
        };
        let until = self.now_ms() + u64::try_from(FAIL_FAST_FOR.as_millis()).unwrap_or(1000);
        if self.failing_until_ms.swap(until, Ordering::Relaxed) == 0 {
            tracing::warn!(error = %outcome, "cache unavailable");
        }
        Err(outcome)
    }

    /// Clears the breaker after a success, so the next failure is logged again.
    fn healthy<T>(&self, result: Result<T>) -> Result<T> {
        if result.is_ok() && self.failing_until_ms.load(Ordering::Relaxed) != 0 {
            self.failing_until_ms.store(0, Ordering::Relaxed);
            tracing::info!("cache available again");
        }
        result
    }

    pub async fn incr_window(&self, key: &str, ttl: Duration) -> Result<WindowCount> {
        let mut conn = self.connection.clone();
        let mut invocation = self.incr_window.key(self.key(key));
        invocation.arg(millis(ttl));
        let (count, ttl_ms): (u64, i64) =
            self.healthy(self.bounded(invocation.invoke_async(&mut conn)).await)?;
        Ok(WindowCount {
            count,
            resets_in: Duration::from_millis(ttl_ms.max(0).unsigned_abs()),
        })
    }

    pub async fn peek_window(&self, key: &str) -> Result<Option<WindowCount>> {
        let mut conn = self.connection.clone();
        let pipe = redis::pipe()
            .atomic()
            .get(self.key(key))
            .pttl(self.key(key))
            .clone();
        let (count, ttl_ms): (Option<u64>, i64) =
            self.healthy(self.bounded(pipe.query_async(&mut conn)).await)?;
        Ok(count.map(|count| WindowCount {
            count,
            resets_in: Duration::from_millis(ttl_ms.max(0).unsigned_abs()),
        }))
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let mut conn = self.connection.clone();
        let cmd = redis::cmd("GET").arg(self.key(key)).clone();
        self.healthy(self.bounded(cmd.query_async(&mut conn)).await)
    }

    /// A zero `ttl` means "already expired": the key is deleted, as the memory cache behaves.
    pub async fn set_ex(&self, key: &str, value: &[u8], ttl: Duration) -> Result<()> {
        if ttl.is_zero() {
            return self.del(key).await;
        }
        let mut conn = self.connection.clone();
        let cmd = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(millis(ttl))
            .clone();
        self.healthy(self.bounded(cmd.query_async::<()>(&mut conn)).await)
    }

    pub async fn del(&self, key: &str) -> Result<()> {
        let mut conn = self.connection.clone();
        let cmd = redis::cmd("DEL").arg(self.key(key)).clone();
        self.healthy(self.bounded(cmd.query_async::<()>(&mut conn)).await)
    }

    pub async fn exists(&self, key: &str) -> Result<bool> {
        let mut conn = self.connection.clone();
        let cmd = redis::cmd("EXISTS").arg(self.key(key)).clone();
        self.healthy(self.bounded(cmd.query_async(&mut conn)).await)
    }

    pub async fn publish(&self, channel: &str, payload: &[u8]) -> Result<()> {
        let mut conn = self.connection.publisher();
        let cmd = redis::cmd("PUBLISH")
            .arg(self.key(channel))
            .arg(payload)
            .clone();
        self.healthy(self.bounded(cmd.query_async::<()>(&mut conn)).await)
    }

    /// Opens a dedicated connection in subscriber mode; returns once the server confirmed. The
    /// stream ends when that connection drops.
    pub async fn subscribe(&self, channel: &str) -> Result<Subscription> {
        let mut failure = unavailable("no server to subscribe on");
        let mut opened = None;
        for target in &self.subscribe_targets {
            match tokio::time::timeout(CALL_TIMEOUT, open_pubsub(target, &self.key(channel))).await
            {
                Ok(Ok(pubsub)) => {
                    opened = Some(pubsub);
                    break;
                }
                Ok(Err(e)) => failure = unavailable(e),
                Err(_) => failure = unavailable("subscribing timed out"),
            }
        }
        let pubsub = opened.ok_or(failure)?;
        let messages = pubsub
            .into_on_message()
            .map(|message| message.get_payload_bytes().to_vec());
        Ok(Subscription::new(messages.boxed()))
    }

    /// Like [`RedisCache::subscribe`], but the stream never ends: when the connection drops
    /// (Redis restarted, network cut) a background task reconnects and subscribes again with
    /// back-off, until the [`Subscription`] is dropped. Messages published while disconnected
    /// are lost. Waits for the first attempt (at most [`CALL_TIMEOUT`]) so that, with Redis up,
    /// messages published after this returns are delivered.
    pub async fn subscribe_forever(&self, channel: &str) -> Subscription {
        let (sender, receiver) = mpsc::channel(SUBSCRIPTION_BUFFER);
        let (first_attempt, attempted) = oneshot::channel();
        tokio::spawn(resubscribe_loop(
            self.subscribe_targets.clone(),
            self.key(channel),
            sender,
            first_attempt,
        ));
        let _ = tokio::time::timeout(CALL_TIMEOUT * 2, attempted).await;
        let messages = stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|message| (message, receiver))
        });
        Subscription::new(messages.boxed())
    }

    pub(super) fn scripts(&self) -> &LeaseScripts {
        &self.scripts
    }

    /// Runs a Lua script on namespaced `keys`.
    pub(super) async fn eval<T: redis::FromRedisValue>(
        &self,
        script: &redis::Script,
        keys: &[&str],
        args: &[String],
    ) -> Result<T> {
        let mut conn = self.connection.clone();
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(self.key(key));
        }
        for arg in args {
            invocation.arg(arg);
        }
        self.healthy(self.bounded(invocation.invoke_async(&mut conn)).await)
    }

    pub async fn set_add(&self, key: &str, member: &str) -> Result<()> {
        let mut conn = self.connection.clone();
        let cmd = redis::cmd("SADD").arg(self.key(key)).arg(member).clone();
        self.healthy(self.bounded(cmd.query_async::<()>(&mut conn)).await)
    }

    pub async fn set_remove(&self, key: &str, member: &str) -> Result<()> {
        let mut conn = self.connection.clone();
        let cmd = redis::cmd("SREM").arg(self.key(key)).arg(member).clone();
        self.healthy(self.bounded(cmd.query_async::<()>(&mut conn)).await)
    }

    pub async fn set_members(&self, key: &str) -> Result<Vec<String>> {
        let mut conn = self.connection.clone();
        let cmd = redis::cmd("SMEMBERS").arg(self.key(key)).clone();
        self.healthy(self.bounded(cmd.query_async(&mut conn)).await)
    }

    /// Readiness probe; fails fast during an outage like every other call.
    pub async fn ping(&self) -> Result<()> {
        let mut conn = self.connection.clone();
        let cmd = redis::cmd("PING");
        self.healthy(self.bounded(cmd.query_async::<()>(&mut conn)).await)
    }
}

async fn open_pubsub(
    client: &redis::Client,
    channel: &str,
) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    Ok(pubsub)
}

/// Keeps one subscription alive for `sender` until its receiver is dropped.
/// A failed attempt moves on to the next target (a cluster's next seed node).
async fn resubscribe_loop(
    targets: SubscribeTargets,
    channel: String,
    sender: mpsc::Sender<Vec<u8>>,
    first_attempt: oneshot::Sender<()>,
) {
    let mut first_attempt = Some(first_attempt);
    let (min_delay, max_delay) = RESUBSCRIBE_BACKOFF;
    let mut delay = min_delay;
    let mut attempt = 0usize;
    loop {
        let client = &targets[attempt % targets.len()];
        attempt += 1;
        let opened = tokio::select! {
            () = sender.closed() => return,
            opened = tokio::time::timeout(CALL_TIMEOUT, open_pubsub(client, &channel)) => opened,
        };
        if let Some(done) = first_attempt.take() {
            let _ = done.send(());
        }
        match opened {
            Ok(Ok(pubsub)) => {
                delay = min_delay;
                let mut messages = pubsub.into_on_message();
                loop {
                    let message = tokio::select! {
                        () = sender.closed() => return,
                        message = messages.next() => message,
                    };
                    let Some(message) = message else { break };
                    if sender
                        .send(message.get_payload_bytes().to_vec())
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                tracing::warn!(channel, "cache bus connection lost, resubscribing");
            }
            Ok(Err(e)) => tracing::warn!(channel, error = %e, "cache bus subscribe failed"),
            Err(_) => tracing::warn!(channel, "cache bus subscribe timed out"),
        }
        tokio::select! {
            () = sender.closed() => return,
            () = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(max_delay);
    }
}

/// Redis refuses a zero expiry; one millisecond is the closest it allows.
fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}
