//! Time-limited TURN credentials, minted per join with the TURN REST API scheme that coturn's
//! `use-auth-secret` checks: the username is `<expiry unix time>:<user id>` and the password
//! is base64(HMAC-SHA1(shared secret, username)). The TURN server needs no user database and
//! a leaked credential stops working at its expiry.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::protocol::IceServer;

/// Lifetime of a minted credential by default: a day, as coturn's documentation suggests;
/// a reconnecting client joins again and gets a fresh one.
pub const DEFAULT_TURN_CREDENTIAL_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// TURN URLs and the secret shared with the TURN server. `Debug` never shows the secret.
#[derive(Clone)]
pub struct TurnConfig {
    urls: Vec<String>,
    secret: Vec<u8>,
    ttl: Duration,
}

impl fmt::Debug for TurnConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TurnConfig")
            .field("urls", &self.urls)
            .field("secret", &"<redacted>")
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl TurnConfig {
    /// None when there are no URLs or no secret: credentials need both.
    pub fn new(urls: Vec<String>, secret: &str, ttl: Duration) -> Option<Self> {
        (!urls.is_empty() && !secret.is_empty()).then(|| TurnConfig {
            urls,
            secret: secret.as_bytes().to_vec(),
            ttl,
        })
    }

    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The ICE server entry for one participant, valid for `ttl` from `now`.
    pub fn mint(&self, user_id: i64, now: SystemTime) -> IceServer {
        let expiry = (now + self.ttl)
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let username = format!("{expiry}:{user_id}");
        IceServer {
            urls: self.urls.clone(),
            credential: Some(self.password(&username)),
            username: Some(username),
        }
    }

    fn password(&self, username: &str) -> String {
        let mut mac = Hmac::<Sha1>::new_from_slice(&self.secret).expect("HMAC takes any key size");
        mac.update(username.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mints_the_rest_api_username_and_hmac_sha1_password() {
        let turn = TurnConfig::new(
            vec!["turn:127.0.0.1:3478".into()],
            "north-wind",
            Duration::from_secs(100),
        )
        .unwrap();
        let server = turn.mint(42, UNIX_EPOCH + Duration::from_secs(1_699_999_900));
        assert_eq!(server.urls, ["turn:127.0.0.1:3478"]);
        assert_eq!(server.username.as_deref(), Some("1700000000:42"));
        // python3: base64(hmac.new(b"north-wind", b"1700000000:42", hashlib.sha1).digest())
        assert_eq!(
            server.credential.as_deref(),
            Some("6hwnrZiUDHkxY5CYq4XHhx2DHas=")
        );
    }

    #[test]
    fn needs_urls_and_a_secret_and_never_shows_the_secret() {
        assert!(TurnConfig::new(vec![], "s", DEFAULT_TURN_CREDENTIAL_TTL).is_none());
        assert!(TurnConfig::new(vec!["turn:t".into()], "", DEFAULT_TURN_CREDENTIAL_TTL).is_none());
        let turn = TurnConfig::new(
            vec!["turn:t".into()],
            "hunter2",
            DEFAULT_TURN_CREDENTIAL_TTL,
        )
        .unwrap();
        assert!(!format!("{turn:?}").contains("hunter2"));
    }
}
