//! The API router and its middleware stack.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use tower::ServiceBuilder;
use tower_http::classify::{NeverClassifyEos, ServerErrorsFailureClass};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::middleware::{deadline, limit_body, limit_rate, record_metrics, request_span};
use super::{AppState, auth_routes, health_routes, meeting_routes, user_routes};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// All API routes with their middleware, ready to merge with the WebSocket route and static
/// files and to serve with `into_make_service_with_connect_info::<SocketAddr>()`.
///
/// It sets no fallback (the binary's static files are the fallback); unknown `/api/*` paths
/// get a JSON 404 from a catch-all route instead.
///
/// Middleware, outermost first: CORS, request id (generated if absent, echoed in the
/// response), tracing span (method, route template, request id; never headers or bodies),
/// metrics, per-IP rate limit (429 JSON), request deadline (503 JSON), body limit (413 JSON).
/// Authentication is the `AuthUser` extractor.
pub fn router(state: AppState) -> Router {
    let config = state.config().clone();
    let layers = ServiceBuilder::new()
        .layer(cors(&config.cors_origins))
        // CORS needs a body type with `Default`; the trace layer's body has none.
        .map_response(into_response::<TraceBody>)
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(from_fn_with_state(state.metrics().clone(), record_metrics))
        .layer(from_fn_with_state(state.clone(), limit_rate))
        .layer(from_fn_with_state(config.request_timeout, deadline))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(from_fn_with_state(config.body_limit, limit_body));

    Router::new()
        .route("/api/auth/register", post(auth_routes::register))
        .route("/api/auth/login", post(auth_routes::login))
        .route("/api/auth/refresh", post(auth_routes::refresh))
        .route("/api/auth/logout", post(auth_routes::logout))
        .route("/api/users/me", get(user_routes::me))
        .route(
            "/api/meetings",
            post(meeting_routes::create).get(meeting_routes::list),
        )
        .route("/api/meetings/{code}", get(meeting_routes::get))
        .route("/api/meetings/{code}/end", post(meeting_routes::end))
        .route(
            "/api/meetings/{code}/participants",
            get(meeting_routes::participants),
        )
        .route("/api/meetings/{code}/guests", post(meeting_routes::guest))
        .route(
            "/api/meetings/{code}/host-actions",
            get(meeting_routes::host_actions),
        )
        .route("/api/openapi.json", get(health_routes::openapi))
        .route("/api/docs", get(health_routes::docs))
        .route("/api", any(health_routes::api_not_found))
        .route("/api/{*rest}", any(health_routes::api_not_found))
        .route("/healthz", get(health_routes::healthz))
        .route("/readyz", get(health_routes::readyz))
        .route("/metrics", get(health_routes::metrics))
        .method_not_allowed_fallback(health_routes::method_not_allowed)
        .with_state(state)
        .layer(layers)
}

type TraceBody = tower_http::trace::ResponseBody<Body, NeverClassifyEos<ServerErrorsFailureClass>>;

fn into_response<B>(response: axum::http::Response<B>) -> Response
where
    axum::http::Response<B>: IntoResponse,
{
    response.into_response()
}

/// No configured origin means no CORS headers: browsers then allow same-origin calls only.
fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| match HeaderValue::from_str(origin) {
            Ok(value) => Some(value),
            Err(_) => {
                tracing::warn!(origin, "ignoring invalid CORS origin");
                None
            }
        })
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, REQUEST_ID])
        .expose_headers([REQUEST_ID])
        .max_age(Duration::from_secs(3600))
}
