//! Registration, login, refresh-token rotation and logout.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::cache::Cache;
use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::login_throttle::LoginThrottle;
use crate::meeting_event::{MEETING_EVENTS_CHANNEL, MeetingEvent};
use crate::password_hasher::PasswordHasher;
use crate::refresh_session::{NewRefreshSession, RefreshSession};
use crate::store::{self, Store};
use crate::token_service::{AccessClaims, TokenService};
use crate::user::User;
use crate::{refresh_token, validation};

/// What a client receives after login or refresh.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuthTokens {
    pub user: User,
    /// JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Opaque, single-use; exchange at `/api/auth/refresh` for a new pair.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Lifetime of the access token in seconds.
    pub expires_in: u64,
}

#[derive(Debug, Clone)]
pub struct AuthService {
    store: Store,
    passwords: PasswordHasher,
    tokens: TokenService,
    throttle: LoginThrottle,
    /// The bus on which revocations are announced to the signaling servers.
    cache: Cache,
    refresh_ttl: chrono::Duration,
}

impl AuthService {
    pub fn new(
        store: Store,
        passwords: PasswordHasher,
        tokens: TokenService,
        throttle: LoginThrottle,
        cache: Cache,
        refresh_ttl: std::time::Duration,
    ) -> Self {
        Self {
            store,
            passwords,
            tokens,
            throttle,
            cache,
            refresh_ttl: chrono::Duration::from_std(refresh_ttl)
                .unwrap_or(chrono::Duration::days(30)),
        }
    }

    /// Creates the account if the address is free. A taken address gets the same `Ok` after the
    /// same work (validation, one argon2 hash, one insert attempt) and changes nothing, so the
    /// answer does not reveal whether the address is registered; the caller signs in next.
    pub async fn register(&self, email: &str, password: &str, name: &str) -> Result<()> {
        let email = validation::email(email)?;
        let password = validation::password(password)?;
        let name = validation::name(name)?;
        let hash = self.passwords.hash(password).await?;
        match self
            .store
            .create_user(&email, &hash, &name, store::now())
            .await
        {
            Ok(user) => {
                tracing::info!(user_id = %user.id, "account registered");
                Ok(())
            }
            Err(Error::EmailTaken) => {
                // A real deployment would email the owner here ("someone tried to register
                // with your address"); we have no mail channel. The address is not logged.
                tracing::info!("registration for an address that already has an account");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Same answer and cost for an unknown email and a wrong password.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client_ip: IpAddr,
    ) -> Result<AuthTokens> {
        let email = validation::normalize_email(email);
        self.throttle.check(&email, client_ip).await?;
        let record = self.store.user_by_email(&email).await?;
        let hash = record.as_ref().map(|r| r.password_hash.as_str());
        let matches = self.passwords.verify(password, hash).await?;
        match record {
            Some(record) if matches => {
                self.throttle.record_success(&email, client_ip).await?;
                self.start_family(record.user).await
            }
            _ => {
                self.throttle.record_failure(&email, client_ip).await?;
                Err(Error::InvalidCredentials)
            }
        }
    }

    /// Exchanges a refresh token for a new pair. A token presented twice is a theft signal:
    /// the whole family (every token of that login) is revoked.
    pub async fn refresh(&self, token: &str) -> Result<AuthTokens> {
        let now = store::now();
        let session = self
            .store
            .refresh_session_by_hash(&refresh_token::hash(token))
            .await?
            .ok_or(Error::InvalidRefreshToken)?;
        if session.revoked_at.is_some() {
            return Err(Error::InvalidRefreshToken);
        }
        if session.used_at.is_some() {
            self.revoke_family(&session, now, "refresh token reused")
                .await?;
            return Err(Error::InvalidRefreshToken);
        }
        if session.expires_at <= now {
            return Err(Error::InvalidRefreshToken);
        }
        let user = self
            .store
            .user_by_id(session.user_id)
            .await?
            .ok_or(Error::InvalidRefreshToken)?;
        let next_token = refresh_token::generate();
        let rotated = self
            .store
            .rotate_refresh_session(
                session.id,
                &refresh_token::hash(&next_token),
                self.refresh_expiry(now),
                now,
            )
            .await?;
        if rotated.is_none() {
            // Lost a race against another exchange of the same token: also a reuse.
            self.revoke_family(&session, now, "refresh token reused concurrently")
                .await?;
            return Err(Error::InvalidRefreshToken);
        }
        self.tokens_for(user, next_token)
    }

    /// Ends the session: revokes the refresh token's family (if it belongs to the caller) and
    /// the access token itself, then tells every node to close the user's WebSockets.
    pub async fn logout(&self, claims: &AccessClaims, refresh_token: &str) -> Result<()> {
        let session = self
            .store
            .refresh_session_by_hash(&refresh_token::hash(refresh_token))
            .await?;
        if let Some(session) = session.filter(|s| s.user_id == claims.user_id()) {
            self.store
                .revoke_refresh_family(&session.family_id, store::now())
                .await?;
        }
        self.tokens.revoke_access(claims).await?;
        self.announce_signed_out(claims.user_id()).await;
        Ok(())
    }

    pub async fn user(&self, id: UserId) -> Result<User> {
        self.store.user_by_id(id).await?.ok_or(Error::UserNotFound)
    }

    /// Issues the first pair of a new login (a new refresh family).
    async fn start_family(&self, user: User) -> Result<AuthTokens> {
        let now = store::now();
        let token = refresh_token::generate();
        self.store
            .create_refresh_session(
                &NewRefreshSession {
                    user_id: user.id,
                    family_id: uuid::Uuid::new_v4().to_string(),
                    token_hash: refresh_token::hash(&token),
                    parent_id: None,
                    expires_at: self.refresh_expiry(now),
                },
                now,
            )
            .await?;
        self.tokens_for(user, token)
    }

    fn tokens_for(&self, user: User, refresh_token: String) -> Result<AuthTokens> {
        Ok(AuthTokens {
            access_token: self.tokens.issue_access(&user)?,
            refresh_token,
            token_type: "Bearer",
            expires_in: self.tokens.access_ttl().as_secs(),
            user,
        })
    }

    async fn revoke_family(
        &self,
        session: &RefreshSession,
        now: DateTime<Utc>,
        why: &str,
    ) -> Result<()> {
        let revoked = self
            .store
            .revoke_refresh_family(&session.family_id, now)
            .await?;
        tracing::warn!(user_id = %session.user_id, revoked, "{why}: refresh family revoked");
        self.announce_signed_out(session.user_id).await;
        Ok(())
    }

    /// Best effort, like the meeting-end event: the tokens are already revoked, so a lost event
    /// leaves a socket open only until its access token must be presented again.
    async fn announce_signed_out(&self, user_id: UserId) {
        let event = MeetingEvent::UserSignedOut { user_id };
        let published = match serde_json::to_vec(&event) {
            Ok(payload) => self.cache.publish(MEETING_EVENTS_CHANNEL, &payload).await,
            Err(e) => Err(Error::Internal(e.to_string())),
        };
        if let Err(e) = published {
            tracing::warn!(error = %e, %user_id, "could not publish sign-out");
        }
    }

    fn refresh_expiry(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + self.refresh_ttl
    }
}
