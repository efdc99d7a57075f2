//! Settings of the API, filled in by the binary from its configuration.

use std::fmt;
use std::time::Duration;

use rand::RngCore;

use crate::error::{Error, Result};

/// Key material that must never reach a log: `Debug` prints `Secret(..)`.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Minimum HS256 key length: as long as the hash output.
    pub const MIN_LEN: usize = 32;

    /// Wraps a key of at least [`Secret::MIN_LEN`] bytes.
    pub fn new(bytes: Vec<u8>) -> Result<Self> {
        if bytes.len() < Self::MIN_LEN {
            return Err(Error::Config(format!(
                "the JWT secret must be at least {} bytes",
                Self::MIN_LEN
            )));
        }
        Ok(Self(bytes))
    }

    /// A fresh random key: tokens die with the process, fine for development and tests.
    pub fn random() -> Self {
        let mut bytes = vec![0u8; 64];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Limits on failed logins, counted in the [`crate::Cache`]; see [`crate::login_throttle`].
#[derive(Debug, Clone)]
pub struct ThrottleConfig {
    /// Failed logins per account (email), from any address, before the account's back-off.
    pub max_failures_per_account: u64,
    /// Longest back-off of an account: what its owner may have to wait, never a lockout.
    pub max_account_delay: Duration,
    /// Failed logins per (account, client IP) before that pair's back-off (up to `window`).
    pub max_failures_per_pair: u64,
    /// Failed logins per client IP per window before 429.
    pub max_failures_per_ip: u64,
    /// How long failures are remembered.
    pub window: Duration,
    /// Any `/api` requests per client IP per minute before 429: a ceiling on what one client
    /// can make the server do (registrations, meeting creation, lookups).
    pub max_api_requests_per_minute: u64,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            max_failures_per_account: 10,
            max_account_delay: Duration::from_secs(30),
            max_failures_per_pair: 5,
            max_failures_per_ip: 50,
            window: Duration::from_secs(15 * 60),
            max_api_requests_per_minute: 600,
        }
    }
}

/// Everything the API needs to know from the operator.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// HS256 key for access tokens.
    pub jwt_secret: Secret,
    /// `iss` claim written and required.
    pub issuer: String,
    /// `aud` claim written and required.
    pub audience: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// Origins allowed by CORS; empty means same-origin only (no CORS headers at all).
    pub cors_origins: Vec<String>,
    /// Maximum request body in bytes.
    pub body_limit: usize,
    /// Take the client IP from `X-Forwarded-For` (rightmost entry); only behind a proxy you run.
    pub trust_proxy: bool,
    pub throttle: ThrottleConfig,
    /// Longest a `/api` request may take before it is answered 503 `unavailable`: a database
    /// that accepts connections but never answers must not hold requests forever.
    pub request_timeout: Duration,
}

impl ApiConfig {
    /// Defaults: issuer and audience `mini-meeting`, 15 min access tokens, 30 day refresh
    /// tokens, no CORS, 1 MiB bodies, proxy headers ignored, 10 s per request.
    pub fn new(jwt_secret: Secret) -> Self {
        Self {
            jwt_secret,
            issuer: "mini-meeting".to_owned(),
            audience: "mini-meeting".to_owned(),
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            cors_origins: Vec::new(),
            body_limit: 1024 * 1024,
            trust_proxy: false,
            throttle: ThrottleConfig::default(),
            request_timeout: Duration::from_secs(10),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_is_redacted() {
        let secret = Secret::new(vec![b'k'; 40]).unwrap();
        assert_eq!(format!("{secret:?}"), "Secret(..)");
        let config = ApiConfig::new(secret);
        assert!(!format!("{config:?}").contains("107"));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(Secret::new(vec![0; 31]).is_err());
    }
}
