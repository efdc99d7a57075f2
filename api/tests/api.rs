//! HTTP API tests against a real server on port 0: SQLite + in-process cache always,
//! PostgreSQL + Redis when `TEST_DATABASE_URL` / `TEST_REDIS_URL` are set.

mod common;

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use mm_api::{AccessClaims, ApiConfig, MEETING_EVENTS_CHANNEL, Secret, TokenService};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tower::ServiceExt;

use common::{Backend, TestApp, spawn_app};

macro_rules! api_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::common::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::common::Backend::Postgres).await;
                }
            )*
        }
    };
}

api_tests!(
    register_login_me,
    taken_email_answers_like_a_new_one,
    registration_validation_is_422,
    malformed_bodies_are_400,
    unknown_email_and_wrong_password_look_the_same,
    refresh_rotates_and_reuse_revokes_the_family,
    logout_kills_access_and_refresh_tokens,
    bad_tokens_are_401,
    failed_logins_per_account_are_throttled,
    failed_logins_per_ip_are_throttled,
    api_requests_per_ip_are_rate_limited,
    meetings_create_and_get,
    meeting_title_validation_is_422,
    meetings_list_is_paginated_newest_first,
    only_the_host_ends_a_meeting_and_ending_is_idempotent,
    unknown_and_malformed_codes_are_404,
    participants_are_listed,
    unknown_api_routes_are_json_404,
    oversized_bodies_are_413,
    probes_and_metrics,
    openapi_and_docs,
    request_ids_are_returned,
    cors_allows_only_configured_origins,
);

async fn app(backend: Backend) -> Option<TestApp> {
    spawn_app(backend, |_| {}).await
}

/// Status and JSON body (Null when the body is empty or not JSON).
async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request");
    let status = response.status();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<none>")
}

struct Account {
    email: String,
    password: String,
    access: String,
    refresh: String,
    id: i64,
}

async fn register(app: &TestApp, name: &str) -> Account {
    let email = common::email();
    let password = "correct horse battery".to_owned();
    let (status, body) = send(
        app.client
            .post(app.url("/api/auth/register"))
            .json(&json!({"email": email, "password": password, "name": name})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, body) = send(
        app.client
            .post(app.url("/api/auth/login"))
            .json(&json!({"email": email, "password": password})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Account {
        email,
        password,
        access: body["access_token"].as_str().unwrap().to_owned(),
        refresh: body["refresh_token"].as_str().unwrap().to_owned(),
        id: body["user"]["id"].as_i64().unwrap(),
    }
}

async fn me(app: &TestApp, token: &str) -> (StatusCode, Value) {
    send(app.client.get(app.url("/api/users/me")).bearer_auth(token)).await
}

async fn create_meeting(app: &TestApp, token: &str, title: &str) -> Value {
    let (status, body) = send(
        app.client
            .post(app.url("/api/meetings"))
            .bearer_auth(token)
            .json(&json!({ "title": title })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
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

fn assert_code_shape(code: &str) {
    let groups: Vec<&str> = code.split('-').collect();
    assert_eq!(
        groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
        [3, 4, 3],
        "{code}"
    );
    assert!(
        code.chars().all(|c| c == '-' || c.is_ascii_lowercase()),
        "{code}"
    );
}

async fn meetings_create_and_get(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let host = register(&app, "Host").await;
    let guest = register(&app, "Guest").await;
    let meeting = create_meeting(&app, &host.access, "  Weekly sync ").await;
    assert_eq!(meeting["title"], "Weekly sync");
    assert_eq!(meeting["host_id"], host.id);
    assert_eq!(meeting["status"], "created");
    assert_eq!(meeting["started_at"], Value::Null);
    assert_eq!(meeting["ended_at"], Value::Null);
    assert!(meeting["created_at"].is_string());
    let code = meeting["code"].as_str().unwrap();
    assert_code_shape(code);

    // Any signed-in user with the code can read it; codes are case-insensitive.
    let (status, got) = send(
        app.client
            .get(app.url(&format!("/api/meetings/{}", code.to_uppercase())))
            .bearer_auth(&guest.access),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, meeting);
    let (status, _) = send(app.client.get(app.url(&format!("/api/meetings/{code}")))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let mut codes = HashSet::new();
    for i in 0..20 {
        let m = create_meeting(&app, &host.access, &format!("m{i}")).await;
        let code = m["code"].as_str().unwrap().to_owned();
        assert_code_shape(&code);
        codes.insert(code);
    }
    assert_eq!(codes.len(), 20, "codes are unique");
}

async fn meeting_title_validation_is_422(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let host = register(&app, "Host").await;
    for title in [String::new(), "   ".to_owned(), "t".repeat(201)] {
        let (status, body) = send(
            app.client
                .post(app.url("/api/meetings"))
                .bearer_auth(&host.access)
                .json(&json!({ "title": title })),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{title:?}");
        assert_eq!(error_code(&body), "validation_failed");
    }
    let (status, body) = send(
        app.client
            .post(app.url("/api/meetings"))
            .bearer_auth(&host.access)
            .json(&json!({ "title": 42 })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "invalid_body");
}

async fn list(app: &TestApp, token: &str, query: &str) -> (StatusCode, Value) {
    send(
        app.client
            .get(app.url(&format!("/api/meetings{query}")))
            .bearer_auth(token),
    )
    .await
}

async fn meetings_list_is_paginated_newest_first(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let alice = register(&app, "Alice").await;
    let bob = register(&app, "Bob").await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(create_meeting(&app, &alice.access, &format!("a{i}")).await);
    }
    let bobs = create_meeting(&app, &bob.access, "bob's").await;
    let _other = create_meeting(&app, &bob.access, "not alice's").await;
    // Alice joins Bob's meeting (as the signaling server would record it).
    let joined = app
        .store
        .meeting_by_code(bobs["code"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    app.store
        .open_participation(joined.id, mm_api::UserId(alice.id), mm_api::store::now())
        .await
        .unwrap();

    let mut expected: Vec<Value> = created.iter().map(|m| m["code"].clone()).collect();
    expected.push(bobs["code"].clone());
    expected.reverse();

    let mut seen = Vec::new();
    let mut query = "?limit=2".to_owned();
    loop {
        let (status, page) = list(&app, &alice.access, &query).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|m| m["code"].clone()));
        match page["next_offset"].as_i64() {
            Some(next) => query = format!("?limit=2&offset={next}"),
            None => break,
        }
    }
    assert_eq!(seen, expected, "hosted and joined, newest first, each once");

    let (status, page) = list(&app, &alice.access, "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["items"].as_array().unwrap().len(), 6);
    assert_eq!(page["next_offset"], Value::Null);

    for bad in ["?limit=0", "?limit=101", "?offset=-1"] {
        let (status, body) = list(&app, &alice.access, bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(error_code(&body), "validation_failed");
    }
    assert_eq!(
        list(&app, &alice.access, "?limit=100").await.0,
        StatusCode::OK
    );
}

async fn only_the_host_ends_a_meeting_and_ending_is_idempotent(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let host = register(&app, "Host").await;
    let guest = register(&app, "Guest").await;
    let meeting = create_meeting(&app, &host.access, "To end").await;
    let code = meeting["code"].as_str().unwrap().to_owned();
    let stored = app.store.meeting_by_code(&code).await.unwrap().unwrap();
    app.store
        .open_participation(stored.id, mm_api::UserId(guest.id), mm_api::store::now())
        .await
        .unwrap();
    let mut events = app.cache.subscribe(MEETING_EVENTS_CHANNEL).await.unwrap();
    let end = |token: &str| {
        app.client
            .post(app.url(&format!("/api/meetings/{code}/end")))
            .bearer_auth(token.to_owned())
    };

    let (status, body) = send(end(&guest.access)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "not_host");

    let (status, ended) = send(end(&host.access)).await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    assert_eq!(ended["status"], "ended");
    assert!(ended["ended_at"].is_string());

    let event: Value = serde_json::from_slice(&events.recv().await.unwrap()).unwrap();
    assert_eq!(event, json!({"type": "ended", "code": code}));

    let (status, again) = send(end(&host.access)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, ended, "ending again changes nothing");

    // Open participations were closed.
    let participants = app.store.participants_of(stored.id).await.unwrap();
    assert!(participants.iter().all(|p| p.left_at.is_some()));
}

async fn unknown_and_malformed_codes_are_404(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let user = register(&app, "U").await;
    for path in [
        "/api/meetings/zzz-zzzz-zzz",
        "/api/meetings/not-a-code",
        "/api/meetings/zzz-zzzz-zzz/participants",
        "/api/meetings/%27%20or%201=1",
    ] {
        let (status, body) = send(app.client.get(app.url(path)).bearer_auth(&user.access)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_code(&body), "meeting_not_found", "{path}");
    }
    let (status, body) = send(
        app.client
            .post(app.url("/api/meetings/zzz-zzzz-zzz/end"))
            .bearer_auth(&user.access),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "meeting_not_found");
}

async fn participants_are_listed(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let host = register(&app, "Host").await;
    let guest = register(&app, "Guest").await;
    let meeting = create_meeting(&app, &host.access, "People").await;
    let code = meeting["code"].as_str().unwrap();
    let url = app.url(&format!("/api/meetings/{code}/participants"));
    // The host may read it; someone who only knows the code may not.
    let (status, body) = send(app.client.get(&url).bearer_auth(&host.access)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!([]));
    let (status, body) = send(app.client.get(&url).bearer_auth(&guest.access)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(error_code(&body), "not_participant");

    let stored = app.store.meeting_by_code(code).await.unwrap().unwrap();
    let now = mm_api::store::now();
    let p = app
        .store
        .open_participation(stored.id, mm_api::UserId(host.id), now)
        .await
        .unwrap();
    app.store.close_participation(p.id, now).await.unwrap();
    app.store
        .open_participation(stored.id, mm_api::UserId(guest.id), now)
        .await
        .unwrap();
    // Having taken part, the guest may read it.
    let (status, body) = send(app.client.get(&url).bearer_auth(&guest.access)).await;
    assert_eq!(status, StatusCode::OK);
    let rows = body.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["user_id"], host.id);
    assert_eq!(rows[0]["name"], "Host");
    assert!(rows[0]["left_at"].is_string());
    assert_eq!(rows[1]["name"], "Guest");
    assert_eq!(rows[1]["left_at"], Value::Null);
    assert!(rows[1]["joined_at"].is_string());
    let keys: HashSet<&str> = rows[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        HashSet::from(["user_id", "name", "joined_at", "left_at"])
    );
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
