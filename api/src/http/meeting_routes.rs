//! `/api/meetings/*`.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{AppState, AuthUser, ClientIp, Json, Path, Query};
use crate::error::{Error, ErrorBody, Result};
use crate::host_action::HostAction;
use crate::meeting::{Meeting, MeetingOptions};
use crate::meeting_service::MeetingPage;
use crate::participant::Participant;
use crate::user::User;

const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateMeetingRequest {
    /// 1 to 200 characters after trimming.
    #[schema(example = "Weekly sync")]
    pub title: String,
    /// Newcomers wait in the lobby until a host or co-host admits them (default false; hosts
    /// can also turn it on and off in the meeting).
    #[serde(default)]
    pub lobby: bool,
    /// People without an account may join by the link with a display name (default false);
    /// they always wait in the lobby.
    #[serde(default)]
    pub allow_guests: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct GuestRequest {
    /// The name the others see, 1 to 100 characters after trimming.
    #[schema(example = "Grace (guest)")]
    pub name: String,
}

/// A guest's access: a token for this meeting's signaling only (the REST API refuses it).
#[derive(Debug, Serialize, ToSchema)]
pub struct GuestAccess {
    pub access_token: String,
    pub token_type: &'static str,
    /// Seconds the token is valid.
    pub expires_in: u64,
    pub user: User,
    pub meeting: Meeting,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListMeetingsParams {
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// Rows to skip (default 0); use `next_offset` of the previous page.
    pub offset: Option<i64>,
}

/// Creates a meeting hosted by the caller.
#[utoipa::path(post, path = "/api/meetings", tag = "meetings",
    request_body = CreateMeetingRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Meeting),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    Json(body): Json<CreateMeetingRequest>,
) -> Result<(StatusCode, Json<Meeting>)> {
    let options = MeetingOptions {
        lobby: body.lobby,
        allow_guests: body.allow_guests,
    };
    let meeting = state
        .meetings()
        .create(user.id, &body.title, options)
        .await?;
    Ok((StatusCode::CREATED, Json(meeting)))
}

/// Meetings the caller hosts or has joined, newest first.
#[utoipa::path(get, path = "/api/meetings", tag = "meetings",
    params(ListMeetingsParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page", body = MeetingPage),
        (status = 400, description = "`invalid_query`: not a number", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "`validation_failed`: limit or offset out of range", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    Query(params): Query<ListMeetingsParams>,
) -> Result<Json<MeetingPage>> {
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::validation("limit", "must be between 1 and 100"));
    }
    let offset = params.offset.unwrap_or(0);
    if offset < 0 {
        return Err(Error::validation("offset", "must not be negative"));
    }
    Ok(Json(
        state.meetings().list_for(user.id, limit, offset).await?,
    ))
}

/// A meeting by its code. Any signed-in user who knows the code may read it. A malformed code
/// is answered like an unknown one: 404 `meeting_not_found`.
#[utoipa::path(get, path = "/api/meetings/{code}", tag = "meetings",
    params(("code" = String, Path, description = "Join code, `abc-defg-hij` (case-insensitive)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The meeting", body = Meeting),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "`meeting_not_found`", body = ErrorBody),
    ))]
pub async fn get(
    State(state): State<AppState>,
    _user: AuthUser,
    Path(code): Path<String>,
) -> Result<Json<Meeting>> {
    Ok(Json(state.meetings().get(&code).await?))
}

/// Ends the meeting (host only). Ending an ended meeting returns it unchanged. Live
/// participants are disconnected through the `meeting-events` bus.
#[utoipa::path(post, path = "/api/meetings/{code}/end", tag = "meetings",
    params(("code" = String, Path, description = "Join code")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The ended meeting", body = Meeting),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "`not_host`", body = ErrorBody),
        (status = 404, description = "`meeting_not_found`", body = ErrorBody),
    ))]
pub async fn end(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
) -> Result<Json<Meeting>> {
    Ok(Json(state.meetings().end(user.id, &code).await?))
}

/// Joins as a guest: no account, a display name only, for a meeting whose host allows guests.
/// The token opens that meeting's signaling; a guest waits in the lobby until admitted.
#[utoipa::path(post, path = "/api/meetings/{code}/guests", tag = "meetings",
    params(("code" = String, Path, description = "Join code")),
    request_body = GuestRequest,
    responses(
        (status = 201, description = "A guest token", body = GuestAccess),
        (status = 403, description = "`guests_not_allowed`", body = ErrorBody),
        (status = 404, description = "`meeting_not_found`", body = ErrorBody),
        (status = 409, description = "`meeting_ended`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the name", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many guests from this address", body = ErrorBody),
    ))]
pub async fn guest(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
    Json(body): Json<GuestRequest>,
) -> Result<(StatusCode, Json<GuestAccess>)> {
    let (meeting, user) = state.meetings().add_guest(&code, &body.name, ip).await?;
    let access_token = state.tokens().issue_guest_access(&user, &meeting.code)?;
    let access = GuestAccess {
        access_token,
        token_type: "Bearer",
        expires_in: state.tokens().access_ttl().as_secs(),
        user,
        meeting,
    };
    Ok((StatusCode::CREATED, Json(access)))
}

/// What the host and co-hosts did in the meeting (mute, remove, lock, ...), oldest first.
/// Host only.
#[utoipa::path(get, path = "/api/meetings/{code}/host-actions", tag = "meetings",
    params(("code" = String, Path, description = "Join code")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Host actions", body = [HostAction]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "`not_host`", body = ErrorBody),
        (status = 404, description = "`meeting_not_found`", body = ErrorBody),
    ))]
pub async fn host_actions(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
) -> Result<Json<Vec<HostAction>>> {
    Ok(Json(state.meetings().host_actions(user.id, &code).await?))
}

/// Everyone who joined the meeting, in order of joining. Only for the host and for people who
/// took part.
#[utoipa::path(get, path = "/api/meetings/{code}/participants", tag = "meetings",
    params(("code" = String, Path, description = "Join code")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Participants", body = [Participant]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "`not_participant`: neither host nor participant", body = ErrorBody),
        (status = 404, description = "`meeting_not_found`", body = ErrorBody),
    ))]
pub async fn participants(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
) -> Result<Json<Vec<Participant>>> {
    Ok(Json(state.meetings().participants(user.id, &code).await?))
}
