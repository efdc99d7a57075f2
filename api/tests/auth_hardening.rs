//! Login back-off (no lockout of the owner) and the sign-out event on the bus, on SQLite +
//! in-process cache and on PostgreSQL + Redis.

mod common;

use std::time::{Duration, Instant};

use mm_api::{MEETING_EVENTS_CHANNEL, MeetingEvent, UserId};
use reqwest::StatusCode;
use serde_json::{Value, json};

use common::{Backend, TestApp, spawn_app};

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test] async fn $name() { super::$name(super::Backend::Sqlite).await; } )*
        }
        mod postgres {
            $( #[tokio::test] async fn $name() { super::$name(super::Backend::Postgres).await; } )*
        }
    };
}

on_both_backends!(
    attacker_backs_off_while_the_owner_logs_in_elsewhere,
    logout_and_family_revocation_announce_the_sign_out,
);

async fn register(app: &TestApp, email: &str, password: &str) -> Value {
    let response = app
        .client
        .post(app.url("/api/auth/register"))
        .json(&json!({"email": email, "password": password, "name": "Owner"}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    login(app, email, password, "10.9.9.9").await.1
}

async fn login(app: &TestApp, email: &str, password: &str, ip: &str) -> (StatusCode, Value, u64) {
    let response = app
        .client
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", ip)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map_or(0, |v| v.to_str().unwrap().parse().unwrap());
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        retry_after,
    )
}

async fn attacker_backs_off_while_the_owner_logs_in_elsewhere(backend: Backend) {
    let Some(app) = spawn_app(backend, |config| {
        config.trust_proxy = true;
        config.throttle.max_failures_per_pair = 2;
        config.throttle.max_failures_per_account = 3;
        config.throttle.max_account_delay = Duration::from_secs(1);
    })
    .await
    else {
        return;
    };
    let (attacker, owner) = (format!("10.{}.0.1", rand::random::<u8>()), "10.77.0.2");
    let email = common::email();
    register(&app, &email, "correct horse battery").await;

    for _ in 0..3 {
        assert_eq!(
            login(&app, &email, "wrong guess", &attacker).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (status, _, first_wait) = login(&app, &email, "wrong guess", &attacker).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    tokio::time::sleep(Duration::from_secs(first_wait)).await;
    assert_eq!(
        login(&app, &email, "wrong guess", &attacker).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, body, second_wait) = login(&app, &email, "wrong guess", &attacker).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(second_wait > first_wait, "{second_wait} after {first_wait}");

    // The owner, from another address, waits at most max_account_delay and gets in.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body, wait) = login(&app, &email, "correct horse battery", owner).await;
        if status == StatusCode::OK {
            break;
        }
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert!(
            wait <= 1,
            "the owner waits at most max_account_delay, not {wait} s"
        );
        assert!(Instant::now() < deadline, "the owner never got in");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // The attacker's own pair is still backing off, right password or not.
    let (status, _, _) = login(&app, &email, "correct horse battery", &attacker).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

async fn next_event(events: &mut mm_api::Subscription) -> MeetingEvent {
    let payload = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("an event within 5 s")
        .expect("bus open");
    serde_json::from_slice(&payload).unwrap()
}

async fn logout_and_family_revocation_announce_the_sign_out(backend: Backend) {
    let Some(app) = spawn_app(backend, |_| {}).await else {
        return;
    };
    let mut events = app.cache.subscribe_forever(MEETING_EVENTS_CHANNEL).await;
    let email = common::email();
    let tokens = register(&app, &email, "correct horse battery").await;
    let user_id = UserId(tokens["user"]["id"].as_i64().unwrap());
    let response = app
        .client
        .post(app.url("/api/auth/logout"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .json(&json!({"refresh_token": tokens["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        next_event(&mut events).await,
        MeetingEvent::UserSignedOut { user_id }
    );

    // A refresh token presented twice revokes its family: also a sign-out.
    let tokens = login(&app, &email, "correct horse battery", "10.9.9.8")
        .await
        .1;
    let refresh = |token: Value| {
        app.client
            .post(app.url("/api/auth/refresh"))
            .json(&json!({ "refresh_token": token }))
            .send()
    };
    assert_eq!(
        refresh(tokens["refresh_token"].clone())
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let reused = refresh(tokens["refresh_token"].clone()).await.unwrap();
    assert_eq!(reused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        next_event(&mut events).await,
        MeetingEvent::UserSignedOut { user_id }
    );
}
