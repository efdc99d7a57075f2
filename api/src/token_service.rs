//! JWT access tokens: HS256 only, short-lived, revocable through the cache.
//!
//! Public so the signaling server can authenticate WebSocket clients with the same rules.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::api_config::ApiConfig;
use crate::cache::Cache;
use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::user::User;

/// Clock skew tolerated between nodes when checking `exp`.
const LEEWAY_SECS: u64 = 30;

/// Claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id, as a string as RFC 7519 wants.
    #[serde(with = "user_id_string")]
    pub sub: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    pub iat: i64,
    pub iss: String,
    pub aud: String,
    /// Unique id, the handle for revocation.
    pub jti: String,
    /// A guest's token: the one meeting (its code) it may join. The REST API refuses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtg: Option<String>,
}

impl AccessClaims {
    pub fn user_id(&self) -> UserId {
        self.sub
    }
}

mod user_id_string {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    use crate::ids::UserId;

    pub fn serialize<S: Serializer>(id: &UserId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&id.0.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<UserId, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map(UserId).map_err(D::Error::custom)
    }
}

/// Issues and verifies access tokens. Cheap to clone.
#[derive(Clone)]
pub struct TokenService {
    inner: Arc<Inner>,
}

struct Inner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    access_ttl: Duration,
    cache: Cache,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("issuer", &self.inner.issuer)
            .field("audience", &self.inner.audience)
            .finish_non_exhaustive()
    }
}

impl TokenService {
    pub fn new(config: &ApiConfig, cache: Cache) -> Self {
        let key = config.jwt_secret.expose();
        // Pinned to HS256: a token naming any other algorithm (or `none`) is refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        Self {
            inner: Arc::new(Inner {
                encoding: EncodingKey::from_secret(key),
                decoding: DecodingKey::from_secret(key),
                validation,
                issuer: config.issuer.clone(),
                audience: config.audience.clone(),
                access_ttl: config.access_ttl,
                cache,
            }),
        }
    }

    pub fn access_ttl(&self) -> Duration {
        self.inner.access_ttl
    }

    /// Signs a new access token for `user`.
    pub fn issue_access(&self, user: &User) -> Result<String> {
        let now = Utc::now().timestamp();
        let ttl = i64::try_from(self.inner.access_ttl.as_secs()).unwrap_or(i64::MAX);
        let claims = AccessClaims {
            sub: user.id,
            name: Some(user.name.clone()),
            iat: now,
            exp: now.saturating_add(ttl),
            iss: self.inner.issuer.clone(),
            aud: self.inner.audience.clone(),
            jti: uuid::Uuid::new_v4().to_string(),
            mtg: None,
        };
        self.sign(&claims)
    }

    /// Signs an access token for a guest of meeting `code`: good for joining that meeting's
    /// signaling only, with the usual lifetime (a guest has no refresh token).
    pub fn issue_guest_access(&self, guest: &User, code: &str) -> Result<String> {
        let now = Utc::now().timestamp();
        let ttl = i64::try_from(self.inner.access_ttl.as_secs()).unwrap_or(i64::MAX);
        let claims = AccessClaims {
            sub: guest.id,
            name: Some(guest.name.clone()),
            iat: now,
            exp: now.saturating_add(ttl),
            iss: self.inner.issuer.clone(),
            aud: self.inner.audience.clone(),
            jti: uuid::Uuid::new_v4().to_string(),
            mtg: Some(code.to_owned()),
        };
        self.sign(&claims)
    }

    /// Signs arbitrary claims with the service key (tests use it to forge expired tokens).
    pub fn sign(&self, claims: &AccessClaims) -> Result<String> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.inner.encoding)
            .map_err(|e| Error::Internal(format!("signing access token: {e}")))
    }

    /// Checks signature, algorithm, `exp`, `iss`, `aud`, and that the token was not revoked.
    pub async fn verify_access(&self, token: &str) -> Result<AccessClaims> {
        let data = jsonwebtoken::decode::<AccessClaims>(
            token,
            &self.inner.decoding,
            &self.inner.validation,
        )
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => Error::TokenExpired,
            _ => Error::Unauthorized,
        })?;
        if self
            .inner
            .cache
            .exists(&revoked_key(&data.claims.jti))
            .await?
        {
            return Err(Error::Unauthorized);
        }
        Ok(data.claims)
    }

    /// Puts the token's `jti` on the revocation list until the token would expire anyway.
    pub async fn revoke_access(&self, claims: &AccessClaims) -> Result<()> {
        let remaining = claims.exp - Utc::now().timestamp() + LEEWAY_SECS as i64;
        if remaining > 0 {
            let ttl = Duration::from_secs(remaining.unsigned_abs());
            self.inner
                .cache
                .set_ex(&revoked_key(&claims.jti), b"1", ttl)
                .await?;
        }
        Ok(())
    }
}

fn revoked_key(jti: &str) -> String {
    format!("revoked-jti:{jti}")
}
