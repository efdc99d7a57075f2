//! In-process cache: a map with expiry and tokio broadcast channels.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream;
use tokio::sync::broadcast;

use super::lease::MemoryLeases;
use super::{Subscription, WindowCount};

/// Expired entries are swept after this many writes, so the map cannot grow without bound
/// even when keys are never read again.
const SWEEP_EVERY: u32 = 256;
/// Messages a slow subscriber may fall behind before it starts losing the oldest ones.
const CHANNEL_CAPACITY: usize = 1024;

#[derive(Debug, Clone, Default)]
pub struct MemoryCache {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: Mutex<Entries>,
    channels: Mutex<HashMap<String, broadcast::Sender<Vec<u8>>>>,
    leases: MemoryLeases,
    sets: Mutex<HashMap<String, std::collections::BTreeSet<String>>>,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<String, Entry>,
    writes_since_sweep: u32,
}

#[derive(Debug)]
struct Entry {
    value: Vec<u8>,
    expires_at: Instant,
}

impl Entries {
    /// The live entry under `key`, dropping it if it has expired.
    fn live(&mut self, key: &str, now: Instant) -> Option<&mut Entry> {
        if self.map.get(key).is_some_and(|e| e.expires_at <= now) {
            self.map.remove(key);
        }
        self.map.get_mut(key)
    }

    fn note_write(&mut self, now: Instant) {
        self.writes_since_sweep += 1;
        if self.writes_since_sweep >= SWEEP_EVERY {
            self.writes_since_sweep = 0;
            self.map.retain(|_, e| e.expires_at > now);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The data stays consistent even if a holder panicked: every critical section is one step.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl MemoryCache {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn incr_window(&self, key: &str, ttl: Duration) -> WindowCount {
        let now = Instant::now();
        let mut entries = lock(&self.inner.entries);
        entries.note_write(now);
        match entries.live(key, now) {
            Some(entry) => {
                let count = parse_count(&entry.value) + 1;
                entry.value = count.to_string().into_bytes();
                WindowCount {
                    count,
                    resets_in: entry.expires_at - now,
                }
            }
            None => {
                entries.map.insert(
                    key.to_owned(),
                    Entry {
                        value: b"1".to_vec(),
                        expires_at: now + ttl,
                    },
                );
                WindowCount {
                    count: 1,
                    resets_in: ttl,
                }
            }
        }
    }

    pub fn peek_window(&self, key: &str) -> Option<WindowCount> {
        let now = Instant::now();
        let mut entries = lock(&self.inner.entries);
        entries.live(key, now).map(|entry| WindowCount {
            count: parse_count(&entry.value),
            resets_in: entry.expires_at - now,
        })
    }

    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        let now = Instant::now();
        lock(&self.inner.entries)
            .live(key, now)
            .map(|e| e.value.clone())
    }

    pub fn set_ex(&self, key: &str, value: &[u8], ttl: Duration) {
        let now = Instant::now();
        let mut entries = lock(&self.inner.entries);
        entries.note_write(now);
        entries.map.insert(
            key.to_owned(),
            Entry {
                value: value.to_vec(),
                expires_at: now + ttl,
            },
        );
    }

    pub fn del(&self, key: &str) {
        lock(&self.inner.entries).map.remove(key);
    }

    pub fn exists(&self, key: &str) -> bool {
        let now = Instant::now();
        lock(&self.inner.entries).live(key, now).is_some()
    }

    pub fn publish(&self, channel: &str, payload: &[u8]) {
        let mut channels = lock(&self.inner.channels);
        let delivered = channels
            .get(channel)
            .map(|sender| sender.send(payload.to_vec()).is_ok());
        if delivered == Some(false) {
            // The last subscriber is gone: forget the channel.
            channels.remove(channel);
        }
    }

    pub fn subscribe(&self, channel: &str) -> Subscription {
        let mut channels = lock(&self.inner.channels);
        channels.retain(|_, sender| sender.receiver_count() > 0);
        let receiver = channels
            .entry(channel.to_owned())
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe();
        let messages = stream::unfold(receiver, |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(message) => return Some((message, receiver)),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "slow cache subscriber lost messages");
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        Subscription::new(messages.boxed())
    }

    pub(super) fn leases(&self) -> &MemoryLeases {
        &self.inner.leases
    }

    pub fn set_add(&self, key: &str, member: &str) {
        let mut sets = lock(&self.inner.sets);
        sets.entry(key.to_owned())
            .or_default()
            .insert(member.to_owned());
    }

    pub fn set_remove(&self, key: &str, member: &str) {
        let mut sets = lock(&self.inner.sets);
        if let Some(set) = sets.get_mut(key) {
            set.remove(member);
            if set.is_empty() {
                sets.remove(key);
            }
        }
    }

    pub fn set_members(&self, key: &str) -> Vec<String> {
        let sets = lock(&self.inner.sets);
        sets.get(key)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Number of stored entries, expired ones included until swept.
    pub fn len(&self) -> usize {
        lock(&self.inner.entries).map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn parse_count(value: &[u8]) -> u64 {
    std::str::from_utf8(value)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_entries_are_swept_without_being_read() {
        let cache = MemoryCache::new();
        for i in 0..(SWEEP_EVERY * 4) {
            cache.set_ex(&format!("k{i}"), b"v", Duration::ZERO);
        }
        assert!(cache.len() < SWEEP_EVERY as usize, "len {}", cache.len());
    }

    #[test]
    fn live_entries_survive_a_sweep() {
        let cache = MemoryCache::new();
        cache.set_ex("keep", b"v", Duration::from_secs(3600));
        for i in 0..(SWEEP_EVERY * 2) {
            cache.set_ex(&format!("k{i}"), b"v", Duration::ZERO);
        }
        assert_eq!(cache.get("keep"), Some(b"v".to_vec()));
    }

    #[test]
    fn an_expired_window_starts_again() {
        let cache = MemoryCache::new();
        assert_eq!(cache.incr_window("w", Duration::ZERO).count, 1);
        assert_eq!(cache.incr_window("w", Duration::ZERO).count, 1);
        assert_eq!(cache.peek_window("w"), None);
    }
}
