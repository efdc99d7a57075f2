//! HTTP API tests of accounts and tokens: register, login, refresh, logout and bad tokens.
//!
//! On SQLite + in-process cache always, PostgreSQL + Redis when `TEST_DATABASE_URL` /
//! `TEST_REDIS_URL` are set (split out of the former `api.rs`).

mod common;

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use mm_api::{AccessClaims, ApiConfig, Secret, TokenService};
use reqwest::StatusCode;
use serde_json::{Value, json};

use common::account::register;
use common::api_suite::app;
use common::http::{error_code, send};
use common::{Backend, TestApp};

api_tests!(
    register_login_me,
    taken_email_answers_like_a_new_one,
    registration_validation_is_422,
    unknown_email_and_wrong_password_look_the_same,
    refresh_rotates_and_reuse_revokes_the_family,
    logout_kills_access_and_refresh_tokens,
    bad_tokens_are_401,
);

async fn me(app: &TestApp, token: &str) -> (StatusCode, Value) {
    send(app.client.get(app.url("/api/users/me")).bearer_auth(token)).await
}

fn assert_no_secrets(body: &Value) {
    let text = body.to_string();
    assert!(!text.contains("password"), "{text}");
    assert!(!text.contains("argon2"), "{text}");
}

async fn register_login_me(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let email = common::email();
    let (status, body) = send(app.client.post(app.url("/api/auth/register")).json(
        &json!({"email": email.to_uppercase(), "password": "s3cret-pass", "name": "  Alice  "}),
    ))
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body, json!({"status": "accepted"}), "no tokens, no user");

    let (status, login) = send(
        app.client
            .post(app.url("/api/auth/login"))
            .json(&json!({"email": format!("  {email} "), "password": "s3cret-pass"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    assert_eq!(login["user"]["email"], email, "stored lower-cased");
    assert_eq!(login["user"]["name"], "Alice", "trimmed");
    assert_eq!(login["token_type"], "Bearer");
    assert_eq!(login["expires_in"], 900);
    assert!(login["refresh_token"].as_str().unwrap().len() >= 43);
    assert_no_secrets(&login);

    let (status, user) = me(&app, login["access_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let keys: HashSet<&str> = user
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, HashSet::from(["id", "email", "name", "created_at"]));
    assert_eq!(user, login["user"]);
}

/// Registration must not reveal whether an address has an account: a new and a taken address
/// (in any case) get the same status and body, and the taken one keeps its account.
async fn taken_email_answers_like_a_new_one(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let account = register(&app, "Alice").await;
    let attempt = |email: String| {
        send(
            app.client
                .post(app.url("/api/auth/register"))
                .json(&json!({"email": email, "password": "another-pass", "name": "Eve"})),
        )
    };
    let fresh = attempt(common::email()).await;
    assert_eq!(fresh.0, StatusCode::ACCEPTED, "{}", fresh.1);
    for email in [account.email.clone(), account.email.to_uppercase()] {
        assert_eq!(attempt(email).await, fresh, "taken looks like new");
    }

    let login = |password: &str| {
        send(
            app.client
                .post(app.url("/api/auth/login"))
                .json(&json!({"email": account.email, "password": password})),
        )
    };
    let (status, body) = login("another-pass").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "password not replaced");
    assert_eq!(error_code(&body), "invalid_credentials");
    let (status, body) = login(&account.password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["id"], account.id);
    assert_eq!(body["user"]["name"], "Alice", "account unchanged");
}

async fn registration_validation_is_422(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let cases = [
        json!({"email": "not-an-email", "password": "long enough", "name": "A"}),
        json!({"email": common::email(), "password": "short", "name": "A"}),
        json!({"email": common::email(), "password": "x".repeat(129), "name": "A"}),
        json!({"email": common::email(), "password": "long enough", "name": "   "}),
        json!({"email": common::email(), "password": "long enough", "name": "n".repeat(101)}),
        // Long enough, but among the most common passwords.
        json!({"email": common::email(), "password": "password", "name": "A"}),
        json!({"email": common::email(), "password": "Baseball", "name": "A"}),
    ];
    for case in cases {
        let (status, body) = send(app.client.post(app.url("/api/auth/register")).json(&case)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{case}: {body}");
        assert_eq!(error_code(&body), "validation_failed");
        assert!(body["error"]["message"].as_str().unwrap().len() > 3);
    }
}

async fn unknown_email_and_wrong_password_look_the_same(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let account = register(&app, "Alice").await;
    let login = |email: String| {
        app.client
            .post(app.url("/api/auth/login"))
            .json(&json!({"email": email, "password": "wrong password"}))
    };
    let (status_wrong, body_wrong) = send(login(account.email.clone())).await;
    let (status_unknown, body_unknown) = send(login(common::email())).await;
    assert_eq!(status_wrong, StatusCode::UNAUTHORIZED);
    assert_eq!(status_unknown, status_wrong);
    assert_eq!(body_unknown, body_wrong);
    assert_eq!(error_code(&body_wrong), "invalid_credentials");
}

async fn refresh(app: &TestApp, token: &str) -> (StatusCode, Value) {
    send(
        app.client
            .post(app.url("/api/auth/refresh"))
            .json(&json!({ "refresh_token": token })),
    )
    .await
}

async fn refresh_rotates_and_reuse_revokes_the_family(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let account = register(&app, "Alice").await;
    let (status, second) = refresh(&app, &account.refresh).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, account.refresh, "rotated");
    assert_eq!(
        me(&app, second["access_token"].as_str().unwrap()).await.0,
        StatusCode::OK
    );

    // A second login is a separate family and must survive the theft below.
    let (_, other_login) = send(
        app.client
            .post(app.url("/api/auth/login"))
            .json(&json!({"email": account.email, "password": account.password})),
    )
    .await;
    let other_refresh = other_login["refresh_token"].as_str().unwrap().to_owned();

    // Replaying the first token: refused, and the whole family dies.
    let (status, body) = refresh(&app, &account.refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "invalid_refresh_token");
    let (status, _) = refresh(&app, &second_refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "descendant revoked too");

    let (status, _) = refresh(&app, &other_refresh).await;
    assert_eq!(status, StatusCode::OK, "other login unaffected");

    let (status, body) = refresh(&app, "no-such-token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "invalid_refresh_token");
}

async fn logout_kills_access_and_refresh_tokens(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let account = register(&app, "Alice").await;
    assert_eq!(me(&app, &account.access).await.0, StatusCode::OK);
    let response = app
        .client
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&account.access)
        .json(&json!({ "refresh_token": account.refresh }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (status, body) = me(&app, &account.access).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "access token dead at once"
    );
    assert_eq!(error_code(&body), "unauthorized");
    assert_eq!(
        refresh(&app, &account.refresh).await.0,
        StatusCode::UNAUTHORIZED
    );

    let (status, body) = send(
        app.client
            .post(app.url("/api/auth/logout"))
            .json(&json!({ "refresh_token": "x" })),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "logout needs a bearer token"
    );
    assert_eq!(error_code(&body), "unauthorized");
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

async fn bad_tokens_are_401(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let account = register(&app, "Alice").await;
    let victim = register(&app, "Bob").await;
    let config = app.state.config();
    let now = Utc::now().timestamp();
    let claims = |exp: i64| AccessClaims {
        sub: mm_api::UserId(account.id),
        name: None,
        exp,
        iat: now - 7200,
        iss: config.issuer.clone(),
        aud: config.audience.clone(),
        jti: uuid::Uuid::new_v4().to_string(),
        mtg: None,
    };

    let expired = app.state.tokens().sign(&claims(now - 3600)).unwrap();
    let (status, body) = me(&app, &expired).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "token_expired");

    let other_key = TokenService::new(&ApiConfig::new(Secret::random()), mm_api::Cache::memory());
    let wrong_key = other_key.sign(&claims(now + 600)).unwrap();

    let mut wrong_audience = claims(now + 600);
    wrong_audience.aud = "someone-else".to_owned();
    let wrong_audience = app.state.tokens().sign(&wrong_audience).unwrap();
    let mut wrong_issuer = claims(now + 600);
    wrong_issuer.iss = "someone-else".to_owned();
    let wrong_issuer = app.state.tokens().sign(&wrong_issuer).unwrap();

    let payload = serde_json::to_value(claims(now + 600)).unwrap();
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&payload)
    );
    let hs512 = format!(
        "{}.{}.{}",
        b64(&json!({"alg": "HS512", "typ": "JWT"})),
        b64(&payload),
        account.access.rsplit('.').next().unwrap()
    );

    // Same signature, payload changed to claim to be Bob.
    let parts: Vec<&str> = account.access.split('.').collect();
    let mut tampered: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    tampered["sub"] = json!(victim.id.to_string());
    let tampered = format!("{}.{}.{}", parts[0], b64(&tampered), parts[2]);

    for token in [
        "garbage",
        "a.b.c",
        &wrong_key,
        &wrong_audience,
        &wrong_issuer,
        &alg_none,
        &hs512,
        &tampered,
    ] {
        let (status, body) = me(&app, token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(error_code(&body), "unauthorized", "{token}");
    }

    let (status, body) = send(app.client.get(app.url("/api/users/me"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "missing header");
    assert_eq!(error_code(&body), "unauthorized");
    let (status, _) = send(
        app.client
            .get(app.url("/api/users/me"))
            .header("authorization", format!("Basic {}", account.access)),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "wrong scheme");
    // The genuine token still works.
    assert_eq!(me(&app, &account.access).await.0, StatusCode::OK);
}
