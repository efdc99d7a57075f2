//! HTTP API tests of what every route shares: error bodies, probes, metrics, docs, request ids, CORS.
//!
//! On SQLite + in-process cache always, PostgreSQL + Redis when `TEST_DATABASE_URL` /
//! `TEST_REDIS_URL` are set (split out of the former `api.rs`).

mod common;

use reqwest::StatusCode;
use serde_json::json;

use common::account::register;
use common::api_suite::app;
use common::http::{error_code, send};
use common::{Backend, TestApp, spawn_app};

api_tests!(
    malformed_bodies_are_400,
    unknown_api_routes_are_json_404,
    probes_and_metrics,
    openapi_and_docs,
    request_ids_are_returned,
    cors_allows_only_configured_origins,
);

async fn malformed_bodies_are_400(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let url = app.url("/api/auth/register");
    let (status, body) = send(
        app.client
            .post(&url)
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "malformed_json");

    let (status, body) = send(
        app.client
            .post(&url)
            .json(&json!({"email": 5, "password": true, "name": []})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "invalid_body");

    let (status, body) = send(app.client.post(&url).json(&json!({"email": "a@b.co"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "missing fields");
    assert_eq!(error_code(&body), "invalid_body");

    let (status, body) = send(app.client.post(&url).body("email=a")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no JSON content type");
    assert_eq!(error_code(&body), "invalid_content_type");

    let account = register(&app, "Q").await;
    let (status, body) = send(
        app.client
            .get(app.url("/api/meetings?limit=ten"))
            .bearer_auth(&account.access),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "invalid_query");
}

async fn unknown_api_routes_are_json_404(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    for request in [
        app.client.get(app.url("/api/nope")),
        app.client.post(app.url("/api/meetings/abc-defg-hij/nope")),
        app.client.delete(app.url("/api")),
    ] {
        let (status, body) = send(request).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(error_code(&body), "not_found");
    }
    let (status, body) = send(app.client.delete(app.url("/api/meetings"))).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(&body), "method_not_allowed");
}

async fn probes_and_metrics(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let (status, body) = send(app.client.get(app.url("/healthz"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "ok"}));
    let (status, body) = send(app.client.get(app.url("/readyz"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "ok"}));

    let user = register(&app, "M").await;
    let _ = send(
        app.client
            .get(app.url("/api/meetings/abc-defg-hij"))
            .bearer_auth(&user.access),
    )
    .await;
    let _ = send(app.client.get(app.url("/api/unknown-thing"))).await;
    app.state
        .metrics()
        .set_gauge("mm_rooms", "Live rooms.", 2.0);
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    assert!(
        text.contains(
            r#"http_requests_total{route="/api/meetings/{code}",method="GET",status="404"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(
        r#"http_requests_total{route="/api/auth/register",method="POST",status="202"} 1"#
    ));
    assert!(text.contains("http_request_duration_seconds_bucket{route=\"/api/auth/register\""));
    assert!(
        !text.contains("abc-defg-hij"),
        "raw paths never become labels"
    );
    assert!(!text.contains("unknown-thing"));
    assert!(text.contains("mm_rooms 2"));

    // Once the database is gone, readiness fails with the JSON error shape.
    app.store.close().await;
    let (status, body) = send(app.client.get(app.url("/readyz"))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(&body), "unavailable");
    assert!(
        !body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("closed"),
        "details not sent"
    );
}

async fn openapi_and_docs(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let (status, spec) = send(app.client.get(app.url("/api/openapi.json"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();
    for path in [
        "/api/auth/register",
        "/api/auth/login",
        "/api/auth/refresh",
        "/api/auth/logout",
        "/api/users/me",
        "/api/meetings",
        "/api/meetings/{code}",
        "/api/meetings/{code}/end",
        "/api/meetings/{code}/participants",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    let register = paths["/api/auth/register"]["post"]["responses"]
        .as_object()
        .unwrap();
    assert!(register.contains_key("202"), "{register:?}");
    assert!(!register.contains_key("409"), "no email_taken answer");
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    for schema in [
        "RegisterRequest",
        "RegisterAccepted",
        "LoginRequest",
        "RefreshRequest",
        "LogoutRequest",
        "AuthTokens",
        "User",
        "Meeting",
        "MeetingPage",
        "CreateMeetingRequest",
        "Participant",
        "ErrorBody",
    ] {
        assert!(schemas.contains_key(schema), "{schema} missing");
    }
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    let response = app.client.get(app.url("/api/docs")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("/api/openapi.json"));
    assert!(
        !html.contains("https://"),
        "works offline: no external resources"
    );
}

async fn request_ids_are_returned(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "abc-123");
    let response = app.client.get(app.url("/api/nope")).send().await.unwrap();
    let generated = response.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(generated).is_ok(), "{generated}");
}

async fn cors_allows_only_configured_origins(backend: Backend) {
    let Some(app) = spawn_app(backend, |config| {
        config.cors_origins = vec!["https://meet.example.com".to_owned()];
    })
    .await
    else {
        return;
    };
    let preflight = |origin: &str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/meetings"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let allowed = preflight("https://meet.example.com").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://meet.example.com"
    );
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    // Default configuration: no CORS headers at all.
    let Some(same_origin) = app_default(backend).await else {
        return;
    };
    let response = same_origin
        .client
        .get(same_origin.url("/healthz"))
        .header("origin", "https://meet.example.com")
        .send()
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

async fn app_default(backend: Backend) -> Option<TestApp> {
    spawn_app(backend, |_| {}).await
}
