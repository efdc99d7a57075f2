//! The crate's single error type and its HTTP mapping.
//!
//! Every failure, from a validation slip to a lost database, is an [`Error`]; the HTTP edge turns
//! it into `{"error":{"code","message"}}`. Client mistakes map to 4xx with a stable `code`;
//! server faults map to 5xx whose details are logged and never sent.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::meeting::MeetingStatus;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `mm-api`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A field failed domain validation (422 `validation_failed`).
    #[error("{0}")]
    Validation(String),
    /// The request could not be read: bad JSON, wrong types, bad path or query (400).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// No or unusable credentials (401 `unauthorized`).
    #[error("authentication required")]
    Unauthorized,
    /// The access token was valid once but has expired (401 `token_expired`).
    #[error("access token expired")]
    TokenExpired,
    /// Wrong email or password; deliberately the same for both (401 `invalid_credentials`).
    #[error("invalid email or password")]
    InvalidCredentials,
    /// Unknown, expired, revoked or reused refresh token (401 `invalid_refresh_token`).
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// Only the meeting's host may do this (403 `not_host`).
    #[error("only the host of the meeting may do this")]
    NotHost,
    /// Only the host and the meeting's participants may do this (403 `not_participant`).
    #[error("only the host and the participants of the meeting may do this")]
    NotParticipant,
    /// The meeting does not let people in without an account (403 `guests_not_allowed`).
    #[error("this meeting does not let guests in: sign in to join")]
    GuestsNotAllowed,
    /// No meeting with that code (404 `meeting_not_found`).
    #[error("meeting not found")]
    MeetingNotFound,
    /// No such user (404 `user_not_found`).
    #[error("user not found")]
    UserNotFound,
    /// No such API route (404 `not_found`).
    #[error("no such route")]
    RouteNotFound,
    /// The route exists but not with this method (405 `method_not_allowed`).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The email is already registered. Internal to the store: registration answers the same
    /// for a taken address, so this never reaches a client (no account enumeration).
    #[error("this email is already registered")]
    EmailTaken,
    /// The meeting has ended and cannot change any more (409 `meeting_ended`).
    #[error("the meeting has ended")]
    MeetingEnded,
    /// A room's write after another room claimed the meeting (see [`crate::OwnerEpoch`]):
    /// internal to rooms, which then hand their people to the meeting's owner (409
    /// `meeting_moved`).
    #[error("another room runs this meeting now")]
    Fenced,
    /// A lifecycle transition that the state machine forbids (409 `invalid_transition`).
    #[error("a meeting cannot go from {from} to {to}")]
    InvalidTransition {
        from: MeetingStatus,
        to: MeetingStatus,
    },
    /// The body is larger than the configured limit (413 `payload_too_large`).
    #[error("request body too large")]
    PayloadTooLarge,
    /// Too many attempts; retry after the given time (429 `rate_limited`).
    #[error("too many attempts, retry later")]
    RateLimited { retry_after: Duration },
    /// A dependency (database, cache) does not answer (503 `unavailable`).
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Invalid configuration given by the operator.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A database fault that is not an outage: a bug or a broken invariant (500 `internal`).
    /// Outages (no connection within the pool's acquire timeout, a lost connection) become
    /// [`Error::Unavailable`] on conversion, so clients retry instead of giving up.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A Redis error outside [`crate::Cache`]'s calls (which report [`Error::Unavailable`]),
    /// for example a malformed URL at startup (503 `unavailable`).
    #[error("cache error: {0}")]
    Redis(#[from] redis::RedisError),
    /// Any other server-side fault (500 `internal`).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => Self::Unavailable(format!("database: {err}")),
            err => Self::Database(err),
        }
    }
}

impl Error {
    /// Shorthand for a 422 naming the offending field.
    pub fn validation(field: &str, problem: &str) -> Self {
        Self::Validation(format!("{field}: {problem}"))
    }

    /// Shorthand for a 400 with a stable code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized
            | Self::TokenExpired
            | Self::InvalidCredentials
            | Self::InvalidRefreshToken => StatusCode::UNAUTHORIZED,
            Self::NotHost | Self::NotParticipant | Self::GuestsNotAllowed => StatusCode::FORBIDDEN,
            Self::MeetingNotFound | Self::UserNotFound | Self::RouteNotFound => {
                StatusCode::NOT_FOUND
            }
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::EmailTaken
            | Self::MeetingEnded
            | Self::Fenced
            | Self::InvalidTransition { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::Redis(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Config(_) | Self::Database(_) | Self::Migrate(_) | Self::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// Stable machine-readable code sent in the body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::BadRequest { code, .. } => code,
            Self::Unauthorized => "unauthorized",
            Self::TokenExpired => "token_expired",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidRefreshToken => "invalid_refresh_token",
            Self::NotHost => "not_host",
            Self::NotParticipant => "not_participant",
            Self::GuestsNotAllowed => "guests_not_allowed",
            Self::MeetingNotFound => "meeting_not_found",
            Self::UserNotFound => "user_not_found",
            Self::RouteNotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::EmailTaken => "email_taken",
            Self::MeetingEnded => "meeting_ended",
            Self::Fenced => "meeting_moved",
            Self::InvalidTransition { .. } => "invalid_transition",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable(_) | Self::Redis(_) => "unavailable",
            Self::Config(_) | Self::Database(_) | Self::Migrate(_) | Self::Internal(_) => {
                "internal"
            }
        }
    }
}

/// JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// The `error` object: a stable `code` for programs and a `message` for people.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() {
            // The details stay in the log; the client learns only that it was not its fault.
            tracing::error!(error = %self, "request failed");
            match self {
                Self::Unavailable(_) | Self::Redis(_) => "service unavailable".to_owned(),
                _ => "internal server error".to_owned(),
            }
        } else {
            self.to_string()
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Self::RateLimited { retry_after } = self {
            // Round up so a client that waits exactly this long is let through.
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            if let Ok(value) = HeaderValue::from_str(&secs.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}
