//! Probes, metrics and API documentation.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{Html, IntoResponse};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::{ApiDoc, AppState, Json};
use crate::error::{Error, ErrorBody, Result};

#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = Status)))]
pub async fn healthz() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// Readiness: the database and the cache answer, and the node is not draining.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Status),
        (status = 503, description = "`unavailable`", body = ErrorBody),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Status>> {
    if state.is_draining() {
        return Err(Error::Unavailable(
            "draining: this node takes no new participants".into(),
        ));
    }
    state
        .store()
        .ping()
        .await
        .map_err(|e| Error::Unavailable(format!("database: {e}")))?;
    state
        .cache()
        .ping()
        .await
        .map_err(|e| Error::Unavailable(format!("cache: {e}")))?;
    Ok(Json(Status { status: "ok" }))
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics().render(),
    )
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi() -> impl IntoResponse {
    axum::Json(ApiDoc::openapi())
}

/// Human-readable documentation rendered from `/api/openapi.json`; works offline.
pub async fn docs() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}

pub async fn api_not_found() -> Error {
    Error::RouteNotFound
}

pub async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}
