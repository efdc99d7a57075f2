//! `/api/users/*`.

use axum::extract::State;

use super::{AppState, AuthUser, Json};
use crate::error::{ErrorBody, Result};
use crate::user::User;

/// The signed-in user.
#[utoipa::path(get, path = "/api/users/me", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        (status = 404, description = "`user_not_found`: the account is gone", body = ErrorBody),
    ))]
pub async fn me(State(state): State<AppState>, user: AuthUser) -> Result<Json<User>> {
    Ok(Json(state.auth().user(user.id).await?))
}
