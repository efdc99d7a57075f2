//! HTTP API tests of the limits: login throttling, the per-IP request rate and body size.
//!
//! On SQLite + in-process cache always, PostgreSQL + Redis when `TEST_DATABASE_URL` /
//! `TEST_REDIS_URL` are set (split out of the former `api.rs`).

mod common;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tower::ServiceExt;

use common::account::register;
use common::api_suite::app;
use common::http::{error_code, send};
use common::{Backend, spawn_app};

api_tests!(
    failed_logins_per_account_are_throttled,
    failed_logins_per_ip_are_throttled,
    api_requests_per_ip_are_rate_limited,
    oversized_bodies_are_413,
);

async fn failed_logins_per_account_are_throttled(backend: Backend) {
    // test_config allows 3 free failures per account and per (account, IP); the fourth starts
    // a back-off of 1 s (see login_backoff.rs for the growth and the owner from elsewhere).
    let Some(app) = app(backend).await else {
        return;
    };
    let account = register(&app, "Alice").await;
    let login = |password: &str| {
        app.client
            .post(app.url("/api/auth/login"))
            .json(&json!({"email": account.email, "password": password}))
    };
    for _ in 0..4 {
        assert_eq!(
            send(login("wrong password")).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let response = login(&account.password).send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password"
    );
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "rate_limited");

    // Another account from the same IP is not affected.
    let other = register(&app, "Bob").await;
    let (status, _) = send(
        app.client
            .post(app.url("/api/auth/login"))
            .json(&json!({"email": other.email, "password": other.password})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

async fn failed_logins_per_ip_are_throttled(backend: Backend) {
    let Some(app) = spawn_app(backend, |config| {
        config.throttle.max_failures_per_account = 100;
        config.throttle.max_failures_per_ip = 2;
        // Separate the per-IP counter of this test from the others on a shared Redis.
        config.trust_proxy = true;
    })
    .await
    else {
        return;
    };
    let ip = format!("10.{}.{}.7", rand::random::<u8>(), rand::random::<u8>());
    let login = |email: String| {
        app.client
            .post(app.url("/api/auth/login"))
            .header("x-forwarded-for", format!("203.0.113.9, {ip}"))
            .json(&json!({"email": email, "password": "wrong password"}))
    };
    assert_eq!(
        send(login(common::email())).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(login(common::email())).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = send(login(common::email())).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(&body), "rate_limited");
}

async fn api_requests_per_ip_are_rate_limited(backend: Backend) {
    let Some(app) = spawn_app(backend, |config| {
        config.throttle.max_api_requests_per_minute = 3;
        // A client address of its own, so parallel tests on a shared Redis never count here.
        config.trust_proxy = true;
    })
    .await
    else {
        return;
    };
    let ip = format!("10.{}.{}.9", rand::random::<u8>(), rand::random::<u8>());
    let get = |path: &str| {
        app.client
            .get(app.url(path))
            .header("x-forwarded-for", ip.clone())
    };
    for _ in 0..3 {
        assert_eq!(
            send(get("/api/meetings/abc-defg-hij")).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let res = get("/api/meetings/abc-defg-hij").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(error_code(&body), "rate_limited");
    // Probes stay reachable for load balancers.
    assert_eq!(send(get("/healthz")).await.0, StatusCode::OK);
}

async fn oversized_bodies_are_413(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let big = "x".repeat(1024 * 1024 + 1);
    let (status, body) = send(
        app.client
            .post(app.url("/api/auth/register"))
            .json(&json!({"email": "a@b.co", "password": big, "name": "A"})),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&body), "payload_too_large");

    // Without Content-Length (a streamed body), the limit applies while reading. Sent to the
    // router in-process so the body is certainly streamed.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..20).map(|_| Ok(vec![b' '; 64 * 1024])).collect();
    let request = axum::http::Request::post("/api/auth/register")
        .header("content-type", "application/json")
        .body(axum::body::Body::from_stream(futures_util::stream::iter(
            chunks,
        )))
        .unwrap();
    let response = mm_api::router(app.state.clone())
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(error_code(&body), "payload_too_large");
}
