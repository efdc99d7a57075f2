//! `/api/meetings/*`.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{AppState, AuthUser, Json, Path, Query};
use crate::error::{Error, ErrorBody, Result};
use crate::host_action::HostAction;
use crate::meeting::Meeting;
use crate::meeting_service::MeetingPage;
use crate::participant::Participant;

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
    let meeting = state
        .meetings()
        .create(user.id, &body.title, body.lobby)
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
