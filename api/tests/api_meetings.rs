//! HTTP API tests of meetings: create, get, list, end, unknown codes and participants.
//!
//! On SQLite + in-process cache always, PostgreSQL + Redis when `TEST_DATABASE_URL` /
//! `TEST_REDIS_URL` are set (split out of the former `api.rs`).

mod common;

use std::collections::HashSet;

use mm_api::MEETING_EVENTS_CHANNEL;
use reqwest::StatusCode;
use serde_json::{Value, json};

use common::account::register;
use common::api_suite::app;
use common::http::{error_code, send};
use common::{Backend, TestApp};

api_tests!(
    meetings_create_and_get,
    meeting_title_validation_is_422,
    meetings_list_is_paginated_newest_first,
    only_the_host_ends_a_meeting_and_ending_is_idempotent,
    unknown_and_malformed_codes_are_404,
    participants_are_listed,
);

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
