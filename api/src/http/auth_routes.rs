//! `/api/auth/*`: register, login, refresh, logout.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{AppState, AuthUser, ClientIp, Json};
use crate::auth_service::AuthTokens;
use crate::error::{ErrorBody, Result};

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    #[schema(example = "alice@example.com")]
    pub email: String,
    /// 8 to 128 characters.
    pub password: String,
    /// 1 to 100 characters after trimming.
    #[schema(example = "Alice")]
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LogoutRequest {
    pub refresh_token: String,
}

/// The answer to every accepted registration, new address or taken.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterAccepted {
    #[schema(example = "accepted")]
    pub status: &'static str,
}

/// Creates an account if the address is free. The answer is the same whether or not the
/// address is already registered (no account enumeration); sign in with
/// `/api/auth/login` next. A taken address keeps its account and password unchanged.
#[utoipa::path(post, path = "/api/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 202, description = "Accepted, new or taken address alike; sign in next",
            body = RegisterAccepted, example = json!({"status": "accepted"})),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
        (status = 429, description = "`rate_limited`, see `Retry-After`", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub async fn register(
    State(state): State<AppState>,
    Json(body): Json<RegisterRequest>,
) -> Result<(StatusCode, Json<RegisterAccepted>)> {
    state
        .auth()
        .register(&body.email, &body.password, &body.name)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(RegisterAccepted { status: "accepted" }),
    ))
}

/// Signs in with email and password. Throttled per account and per client IP.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = AuthTokens),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "`invalid_credentials`, same for unknown email and wrong password", body = ErrorBody),
        (status = 429, description = "`rate_limited`, see `Retry-After`", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<LoginRequest>,
) -> Result<Json<AuthTokens>> {
    Ok(Json(
        state.auth().login(&body.email, &body.password, ip).await?,
    ))
}

/// Exchanges a refresh token for a new pair. Each refresh token works once; presenting a
/// used one revokes every token of that login.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New token pair", body = AuthTokens),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "`invalid_refresh_token`", body = ErrorBody),
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> Result<Json<AuthTokens>> {
    Ok(Json(state.auth().refresh(&body.refresh_token).await?))
}

/// Signs out: revokes the refresh token's login and the presented access token.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    request_body = LogoutRequest,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
    ))]
pub async fn logout(
    State(state): State<AppState>,
    user: AuthUser,
    Json(body): Json<LogoutRequest>,
) -> Result<StatusCode> {
    state
        .auth()
        .logout(&user.claims, &body.refresh_token)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
