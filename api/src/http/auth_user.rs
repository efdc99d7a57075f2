//! The signed-in user, from `Authorization: Bearer <access token>`.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::AppState;
use crate::error::Error;
use crate::ids::UserId;
use crate::token_service::AccessClaims;

/// Extracting it authenticates the request; missing, invalid or revoked tokens are 401.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
    pub claims: AccessClaims,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let token = bearer_token(parts).ok_or(Error::Unauthorized)?;
        let claims = state.tokens().verify_access(token).await?;
        if claims.mtg.is_some() {
            // A guest's token opens its meeting's signaling, nothing of the REST API.
            return Err(Error::Unauthorized);
        }
        Ok(Self {
            id: claims.user_id(),
            claims,
        })
    }
}

fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
