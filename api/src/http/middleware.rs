//! Middleware functions: rate limit, body size limit, request deadline, metrics, request span.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Span;

use super::{AppState, ClientIp};
use crate::error::Error;
use crate::metrics::Metrics;

/// Label for requests that matched no route, so raw paths never become labels.
const UNMATCHED: &str = "unmatched";

/// Refuses a declared `Content-Length` over the limit before reading anything. Bodies without
/// a length are cut off by `DefaultBodyLimit` while the `Json` extractor reads them.
pub async fn limit_body(State(limit): State<usize>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Error::PayloadTooLarge.into_response();
    }
    next.run(req).await
}

/// Answers 503 `unavailable` when the handler has not finished within the deadline; the
/// handler's future is dropped, which returns its database connection (closed if it was
/// mid-query). Bounds what a hung dependency costs: the cache has its own, shorter, timeout,
/// the database only the pool's acquire timeout, which a connected but silent server passes.
pub async fn deadline(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            Error::Unavailable(format!("request not answered within {limit:?}")).into_response()
        }
    }
}

/// Counts every `/api` request per client IP in one-minute windows in the cache (so the limit
/// holds across instances sharing Redis) and answers 429 with `Retry-After` past the limit.
/// While the cache fails, the same limit is counted per node in process memory instead: an
/// outage neither stops the API nor lifts the limit. Probes and metrics are not limited.
pub async fn limit_rate(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    req: Request,
    next: Next,
) -> Response {
    if !req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let limit = state.config().throttle.max_api_requests_per_minute;
    let key = format!("rate:api:{ip}");
    let window = Duration::from_secs(60);
    let counted = match state.cache().incr_window(&key, window).await {
        Ok(counted) => counted,
        Err(e) => {
            tracing::debug!(error = %e, "rate limit counted per node while the cache fails");
            state.local_limits().incr_window(&key, window)
        }
    };
    if counted.count > limit {
        return Error::RateLimited {
            retry_after: counted.resets_in,
        }
        .into_response();
    }
    next.run(req).await
}

/// Counts the request and its duration under the matched route template.
pub async fn record_metrics(State(metrics): State<Metrics>, req: Request, next: Next) -> Response {
    let route = route_of(&req);
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    metrics.record_request(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// The span of one request: method, route template and request id; no headers, no bodies.
pub fn request_span(req: &Request) -> Span {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %req.method(),
        route = %route_of(req),
        request_id = %request_id,
    )
}

fn route_of(req: &Request) -> String {
    req.extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_owned()
}
