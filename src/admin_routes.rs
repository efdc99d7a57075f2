//! Operator endpoints under `/admin`, behind `ADMIN_TOKEN` (a bearer token compared in
//! constant time). Without a configured token they answer 403: nothing here is ever open.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::cluster::NodeRegistry;
use crate::drain::Drain;

#[derive(Clone)]
pub struct AdminState {
    pub registry: NodeRegistry,
    pub token: Option<Arc<str>>,
    pub drain: Drain,
}

pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/admin/cluster", get(cluster))
        .route("/admin/drain", post(drain))
        .with_state(state)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "error": { "code": code, "message": message } });
    (status, axum::Json(body)).into_response()
}

/// Why an operator request was refused.
enum Refusal {
    /// No `ADMIN_TOKEN` is configured.
    Disabled,
    Unauthorized,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Disabled => error(
                StatusCode::FORBIDDEN,
                "admin_disabled",
                "set ADMIN_TOKEN to use the operator endpoints",
            ),
            Self::Unauthorized => error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid operator token is required",
            ),
        }
    }
}

/// `Ok` for the operator.
fn authorize(state: &AdminState, headers: &HeaderMap) -> Result<(), Refusal> {
    let expected = state.token.as_ref().ok_or(Refusal::Disabled)?;
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if bool::from(subtle::ConstantTimeEq::ct_eq(
        presented.as_bytes(),
        expected.as_bytes(),
    )) {
        Ok(())
    } else {
        Err(Refusal::Unauthorized)
    }
}

/// This node and every live node of the cluster, with their load.
async fn cluster(State(state): State<AdminState>, headers: HeaderMap) -> Response {
    if let Err(refused) = authorize(&state, &headers) {
        return refused.into_response();
    }
    let me = state.registry.me().await;
    match state.registry.nodes().await {
        Ok(nodes) => axum::Json(json!({ "node": me.id, "nodes": nodes })).into_response(),
        Err(e) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            &format!("the node list cannot be read: {e}"),
        ),
    }
}

/// Starts a drain: answered at once (202), the node exits when it is done.
async fn drain(State(state): State<AdminState>, headers: HeaderMap) -> Response {
    if let Err(refused) = authorize(&state, &headers) {
        return refused.into_response();
    }
    let first = state.drain.request();
    let status = if first {
        "draining"
    } else {
        "already_draining"
    };
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({ "status": status })),
    )
        .into_response()
}
