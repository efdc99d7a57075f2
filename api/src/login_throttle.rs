//! Failed-login back-off, counted in the shared cache so every node enforces the same budget.
//!
//! Back-off, not lockout (NIST SP 800-63B 5.2.2): after its free failures, each scope must wait
//! a delay that doubles with every further failure.
//!
//! - per (account, IP): free `max_failures_per_pair`, then 1 s, 2 s, 4 s ... up to `window`:
//!   one address guessing one account is slowed to a crawl;
//! - per account, from any address: free `max_failures_per_account`, then 1 s, 2 s ... but
//!   never more than `max_account_delay`, so the owner coming from another address waits at
//!   most that long however many addresses an attacker uses;
//! - per IP: `max_failures_per_ip` per `window`, then 429 until the window ends.
//!
//! A cache failure is [`Error::Unavailable`]: logins fail closed.

use std::net::IpAddr;
use std::time::Duration;

use chrono::Utc;

use crate::api_config::ThrottleConfig;
use crate::cache::Cache;
use crate::error::{Error, Result};
use crate::refresh_token::hex_sha256;

/// First delay once a scope's free failures are used.
const BASE_DELAY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct LoginThrottle {
    cache: Cache,
    config: ThrottleConfig,
}

/// `BASE_DELAY * 2^(failures - free - 1)` once `failures > free`, capped at `max`.
pub fn backoff(failures: u64, free: u64, max: Duration) -> Option<Duration> {
    let over = failures.checked_sub(free)?.checked_sub(1)?;
    let factor = 1u32
        .checked_shl(u32::try_from(over).unwrap_or(u32::MAX))
        .unwrap_or(u32::MAX);
    Some(BASE_DELAY.saturating_mul(factor).min(max))
}

impl LoginThrottle {
    pub fn new(cache: Cache, config: ThrottleConfig) -> Self {
        Self { cache, config }
    }

    /// Refuses with [`Error::RateLimited`] while the IP is over its budget or the pair or the
    /// account must still wait.
    pub async fn check(&self, email: &str, ip: IpAddr) -> Result<()> {
        let window = self.cache.peek_window(&ip_key(ip)).await?;
        if let Some(window) = window.filter(|w| w.count >= self.config.max_failures_per_ip) {
            return Err(Error::RateLimited {
                retry_after: window.resets_in,
            });
        }
        for key in [
            wait_key(&pair_key(email, ip)),
            wait_key(&account_key(email)),
        ] {
            if let Some(retry_after) = self.waiting(&key).await? {
                return Err(Error::RateLimited { retry_after });
            }
        }
        Ok(())
    }

    pub async fn record_failure(&self, email: &str, ip: IpAddr) -> Result<()> {
        let config = &self.config;
        self.cache.incr_window(&ip_key(ip), config.window).await?;
        let scopes = [
            (
                pair_key(email, ip),
                config.max_failures_per_pair,
                config.window,
            ),
            (
                account_key(email),
                config.max_failures_per_account,
                config.max_account_delay,
            ),
        ];
        for (key, free, max) in scopes {
            let failures = self.cache.incr_window(&key, config.window).await?.count;
            if let Some(delay) = backoff(failures, free, max) {
                let until = Utc::now().timestamp_millis()
                    + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
                self.cache
                    .set_ex(&wait_key(&key), until.to_string().as_bytes(), delay)
                    .await?;
            }
        }
        Ok(())
    }

    /// A successful login clears the account's and the pair's failures (not the IP's: one
    /// shared IP may carry an attacker and a legitimate user).
    pub async fn record_success(&self, email: &str, ip: IpAddr) -> Result<()> {
        for key in [account_key(email), pair_key(email, ip)] {
            self.cache.del(&wait_key(&key)).await?;
            self.cache.del(&key).await?;
        }
        Ok(())
    }

    /// Time left to wait under `key` (which holds the deadline in epoch milliseconds).
    async fn waiting(&self, key: &str) -> Result<Option<Duration>> {
        let Some(until) = self.cache.get(key).await? else {
            return Ok(None);
        };
        let until: i64 = String::from_utf8_lossy(&until).parse().unwrap_or(0);
        let left = until - Utc::now().timestamp_millis();
        Ok((left > 0).then(|| Duration::from_millis(left.unsigned_abs())))
    }
}

/// Hashed so arbitrary user input never becomes a cache key as such.
fn account_key(email: &str) -> String {
    format!("login-fail:account:{}", hex_sha256(email.as_bytes()))
}

fn pair_key(email: &str, ip: IpAddr) -> String {
    format!("login-fail:pair:{ip}:{}", hex_sha256(email.as_bytes()))
}

fn ip_key(ip: IpAddr) -> String {
    format!("login-fail:ip:{ip}")
}

fn wait_key(scope: &str) -> String {
    format!("{scope}:wait")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_after_the_free_failures_and_is_capped() {
        let max = Duration::from_secs(30);
        assert_eq!(backoff(3, 3, max), None);
        assert_eq!(backoff(4, 3, max), Some(Duration::from_secs(1)));
        assert_eq!(backoff(5, 3, max), Some(Duration::from_secs(2)));
        assert_eq!(backoff(7, 3, max), Some(Duration::from_secs(8)));
        assert_eq!(backoff(9, 3, max), Some(max));
        assert_eq!(backoff(u64::MAX, 3, max), Some(max));
    }
}
