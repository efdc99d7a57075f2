//! Leases: a node's time-limited, fenced claim on a name (a live meeting's ownership).
//!
//! A lease is granted to one holder at a time and carries a fence: a number that grows with
//! every grant of that name and never goes back, so a holder that was paused or partitioned
//! and lost its lease finds out at its next renewal and can never act as the owner again.
//! We build no consensus of our own: with Redis, each operation is one Lua script, atomic on
//! the server; in process, one mutex.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Cache;
use crate::error::Result;

/// How long a fence counter outlives its last grant or renewal (a meeting idle longer starts
/// its fences again from 1, which is safe: nobody holds a lease it could confuse).
const FENCE_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// A granted lease: renew it before `ttl` passes, release it when done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    /// Grows with every grant of `name`.
    pub fence: u64,
}

/// The answer to [`Cache::acquire_lease`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseClaim {
    Granted(Lease),
    /// Someone else holds it.
    Held {
        holder: String,
        fence: u64,
    },
}

/// What a renewal found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
    /// Still ours, for another `ttl`.
    Kept,
    /// Granted to someone else since: stop acting as the holder.
    Lost,
}

impl Lease {
    fn value(&self) -> String {
        format!("{}:{}", self.fence, self.holder)
    }
}

/// `"{fence}:{holder}"` as stored.
fn parse_value(value: &str) -> Option<(u64, String)> {
    let (fence, holder) = value.split_once(':')?;
    Some((fence.parse().ok()?, holder.to_owned()))
}

/// Redis keys of a lease and its fence counter; the braces put both in one Redis Cluster slot.
fn keys(name: &str) -> (String, String) {
    (format!("lease:{{{name}}}"), format!("fence:{{{name}}}"))
}

/// Grant if free: a new fence, the value stored with the TTL. Otherwise report the holder.
pub(super) const ACQUIRE: &str = r"
local v = redis.call('GET', KEYS[1])
if v then return {0, v} end
local f = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
local nv = f .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], nv, 'PX', ARGV[2])
return {1, nv}
";

/// Extend if still ours. If the lease is gone (expired while we were slow, or Redis restarted
/// empty) and nobody was granted it since (the fence is not past ours), take it back and make
/// sure the counter is at least our fence, so the next grant is still newer than ours.
pub(super) const RENEW: &str = r"
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
  return 1
end
if v then return 0 end
local f = tonumber(redis.call('GET', KEYS[2]) or '0')
if f > tonumber(ARGV[3]) then return 0 end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
";

/// Delete only if still ours.
pub(super) const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
";

impl Cache {
    /// Grants `name` to `holder` for `ttl` unless someone holds it.
    pub async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<LeaseClaim> {
        match self {
            Self::Memory(c) => Ok(c.leases().acquire(name, holder, ttl)),
            Self::Redis(c) => {
                let (key, fence_key) = keys(name);
                let (granted, value): (u8, String) = c
                    .eval(
                        &c.scripts().acquire,
                        &[&key, &fence_key],
                        &[holder.to_owned(), millis(ttl), millis(FENCE_TTL)],
                    )
                    .await?;
                let (fence, current) = parse_value(&value).unwrap_or((0, value));
                Ok(if granted == 1 {
                    LeaseClaim::Granted(Lease {
                        name: name.to_owned(),
                        holder: holder.to_owned(),
                        fence,
                    })
                } else {
                    LeaseClaim::Held {
                        holder: current,
                        fence,
                    }
                })
            }
        }
    }

    /// Extends `lease` by `ttl`, or reports that it was granted to someone else.
    pub async fn renew_lease(&self, lease: &Lease, ttl: Duration) -> Result<Renewal> {
        let kept = match self {
            Self::Memory(c) => c.leases().renew(lease, ttl),
            Self::Redis(c) => {
                let (key, fence_key) = keys(&lease.name);
                let kept: u8 = c
                    .eval(
                        &c.scripts().renew,
                        &[&key, &fence_key],
                        &[
                            lease.value(),
                            millis(ttl),
                            lease.fence.to_string(),
                            millis(FENCE_TTL),
                        ],
                    )
                    .await?;
                kept == 1
            }
        };
        Ok(if kept { Renewal::Kept } else { Renewal::Lost })
    }

    /// Gives `lease` up, if it is still ours.
    pub async fn release_lease(&self, lease: &Lease) -> Result<()> {
        match self {
            Self::Memory(c) => c.leases().release(lease),
            Self::Redis(c) => {
                let (key, _) = keys(&lease.name);
                let _: u8 = c
                    .eval(&c.scripts().release, &[&key], &[lease.value()])
                    .await?;
            }
        }
        Ok(())
    }

    /// The current holder of `name` and its fence, if anyone holds it.
    pub async fn lease_holder(&self, name: &str) -> Result<Option<(String, u64)>> {
        match self {
            Self::Memory(c) => Ok(c.leases().holder(name)),
            Self::Redis(_) => {
                let value = self.get(&keys(name).0).await?;
                Ok(value
                    .and_then(|v| String::from_utf8(v).ok())
                    .and_then(|v| parse_value(&v))
                    .map(|(fence, holder)| (holder, fence)))
            }
        }
    }
}

fn millis(ttl: Duration) -> String {
    ttl.as_millis().max(1).to_string()
}

/// The in-process leases: one node, so every grant is this node's, but the rules are the same.
#[derive(Debug, Default, Clone)]
pub struct MemoryLeases {
    inner: Arc<Mutex<LeaseTable>>,
}

#[derive(Debug, Default)]
struct LeaseTable {
    held: HashMap<String, (Lease, Instant)>,
    fences: HashMap<String, u64>,
}

impl LeaseTable {
    fn live(&mut self, name: &str, now: Instant) -> Option<&Lease> {
        if self.held.get(name).is_some_and(|(_, until)| *until <= now) {
            self.held.remove(name);
        }
        self.held.get(name).map(|(lease, _)| lease)
    }
}

impl MemoryLeases {
    fn table(&self) -> std::sync::MutexGuard<'_, LeaseTable> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn acquire(&self, name: &str, holder: &str, ttl: Duration) -> LeaseClaim {
        let now = Instant::now();
        let mut table = self.table();
        if let Some(lease) = table.live(name, now) {
            return LeaseClaim::Held {
                holder: lease.holder.clone(),
                fence: lease.fence,
            };
        }
        let fence = table.fences.entry(name.to_owned()).or_default();
        *fence += 1;
        let lease = Lease {
            name: name.to_owned(),
            holder: holder.to_owned(),
            fence: *fence,
        };
        table
            .held
            .insert(name.to_owned(), (lease.clone(), now + ttl));
        LeaseClaim::Granted(lease)
    }

    fn renew(&self, lease: &Lease, ttl: Duration) -> bool {
        let now = Instant::now();
        let mut table = self.table();
        let current = table.live(&lease.name, now).cloned();
        let granted_since = table.fences.get(&lease.name).copied().unwrap_or(0) > lease.fence;
        match current {
            Some(current) if current == *lease => {}
            Some(_) => return false,
            None if granted_since => return false,
            None => {}
        }
        table
            .held
            .insert(lease.name.clone(), (lease.clone(), now + ttl));
        true
    }

    fn release(&self, lease: &Lease) {
        let mut table = self.table();
        if table.held.get(&lease.name).is_some_and(|(l, _)| l == lease) {
            table.held.remove(&lease.name);
        }
    }

    fn holder(&self, name: &str) -> Option<(String, u64)> {
        let mut table = self.table();
        table
            .live(name, Instant::now())
            .map(|l| (l.holder.clone(), l.fence))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_with_colons_in_the_holder() {
        let lease = Lease {
            name: "m".into(),
            holder: "host:8080".into(),
            fence: 7,
        };
        assert_eq!(parse_value(&lease.value()), Some((7, "host:8080".into())));
        assert_eq!(parse_value("x:y"), None);
    }

    #[test]
    fn both_keys_share_a_cluster_slot() {
        let (lease, fence) = keys("abc-defg-hij");
        assert_eq!(lease, "lease:{abc-defg-hij}");
        assert_eq!(fence, "fence:{abc-defg-hij}");
    }
}
