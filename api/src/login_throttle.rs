//! Failed-login limits per account and per client IP, counted in the shared cache so every
//! node enforces the same budget.

use std::net::IpAddr;

use crate::api_config::ThrottleConfig;
use crate::cache::Cache;
use crate::error::{Error, Result};
use crate::refresh_token::hex_sha256;

#[derive(Debug, Clone)]
pub struct LoginThrottle {
    cache: Cache,
    config: ThrottleConfig,
}

impl LoginThrottle {
    pub fn new(cache: Cache, config: ThrottleConfig) -> Self {
        Self { cache, config }
    }

    /// Refuses with [`Error::RateLimited`] if the account or the IP has used its failures.
    pub async fn check(&self, email: &str, ip: IpAddr) -> Result<()> {
        let limits = [
            (account_key(email), self.config.max_failures_per_account),
            (ip_key(ip), self.config.max_failures_per_ip),
        ];
        for (key, max) in limits {
            let window = self.cache.peek_window(&key).await?;
            if let Some(window) = window.filter(|w| w.count >= max) {
                return Err(Error::RateLimited {
                    retry_after: window.resets_in,
                });
            }
        }
        Ok(())
    }

    pub async fn record_failure(&self, email: &str, ip: IpAddr) -> Result<()> {
        let window = self.config.window;
        self.cache.incr_window(&account_key(email), window).await?;
        self.cache.incr_window(&ip_key(ip), window).await?;
        Ok(())
    }

    /// A successful login clears the account's failures (not the IP's: one shared IP may
    /// carry an attacker and a legitimate user).
    pub async fn record_success(&self, email: &str) -> Result<()> {
        self.cache.del(&account_key(email)).await
    }
}

/// Hashed so arbitrary user input never becomes a cache key as such.
fn account_key(email: &str) -> String {
    format!("login-fail:account:{}", hex_sha256(email.as_bytes()))
}

fn ip_key(ip: IpAddr) -> String {
    format!("login-fail:ip:{ip}")
}
