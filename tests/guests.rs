//! Guests: a meeting whose host allows it lets people in without an account, with a name
//! only, by its link. A guest's token opens that one meeting's signaling and nothing of the
//! REST API, and a guest always waits in the lobby until a host admits them. On SQLite, and on
//! PostgreSQL + Redis when configured.

mod common;

use common::{TestServer, backends};
use serde_json::{Value, json};

/// `POST /api/meetings` with these options; returns the code.
async fn meeting(s: &TestServer, token: &str, body: Value) -> String {
    let res = reqwest::Client::new()
        .post(format!("{}/api/meetings", s.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let m: Value = res.json().await.unwrap();
    m["code"].as_str().unwrap().to_string()
}

/// `POST /api/meetings/{code}/guests` without any token.
async fn guest(s: &TestServer, code: &str, name: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{}/api/meetings/{code}/guests", s.base))
        .json(&json!({ "name": name }))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_guest_joins_by_the_link_through_the_lobby_and_only_that_meeting() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let code = meeting(&s, &ta, json!({"title": "Open day", "allow_guests": true})).await;
        let other = meeting(&s, &ta, json!({"title": "Private"})).await;
        let (mut a, ja) = s.joined(&ta, &code).await;
        assert_eq!(ja["meeting"]["allow_guests"], true);

        let (status, access) = guest(&s, &code, "  Grace  ").await;
        assert_eq!(status, 201, "{access}");
        assert_eq!(access["user"]["name"], "Grace");
        assert_eq!(access["meeting"]["code"], code.as_str());
        assert!(access.get("refresh_token").is_none());
        let token = access["access_token"].as_str().unwrap();

        // The REST API refuses a guest's token.
        let (status, body) = s.get(token, "/api/users/me").await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (401, json!("unauthorized"))
        );
        let (status, _) = s.get(token, &format!("/api/meetings/{code}")).await;
        assert_eq!(status, 401);

        // Another meeting is refused; its own puts the guest in the lobby, even with the
        // lobby off.
        let mut g = s.ws(token).await;
        g.send(json!({"type": "join", "meeting_code": other})).await;
        g.expect_error("guests_not_allowed").await;
        g.send(json!({"type": "join", "meeting_code": code})).await;
        g.expect("lobby_waiting").await;
        let waiting = a.expect("lobby_updated").await;
        assert_eq!(waiting["waiting"][0]["name"], "Grace");
        assert_eq!(waiting["waiting"][0]["is_guest"], true);
        let lobby_id = waiting["waiting"][0]["lobby_id"].clone();
        a.send(json!({"type": "admit", "lobby_id": lobby_id})).await;
        let joined = g.expect("joined").await;
        assert_eq!(joined["you"]["is_guest"], true);
        let seen = a
            .expect_where("participant_joined", |m| {
                m["participant"]["name"] == "Grace"
            })
            .await;
        assert_eq!(seen["participant"]["is_guest"], true);
        assert_eq!(ja["you"]["is_guest"], false);

        // The host stops letting guests in: a new guest link is refused, a new guest token
        // cannot join; the guest inside stays.
        a.send(json!({"type": "allow_guests", "allowed": false}))
            .await;
        let m = g.expect("meeting_updated").await;
        assert_eq!(m["meeting"]["allow_guests"], false);
        let (status, body) = guest(&s, &code, "Late").await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (403, json!("guests_not_allowed"))
        );
        g.send(json!({"type": "chat", "text": "still here"})).await;
        a.expect_where("chat", |m| m["text"] == "still here").await;
        s.stop().await;
    }
}

#[tokio::test]
async fn guest_links_are_refused_where_they_cannot_work() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let closed = meeting(&s, &ta, json!({"title": "Members"})).await;
        let (status, body) = guest(&s, &closed, "Grace").await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (403, json!("guests_not_allowed"))
        );
        let (status, body) = guest(&s, "zzz-zzzz-zzz", "Grace").await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (404, json!("meeting_not_found"))
        );

        let open = meeting(&s, &ta, json!({"title": "Open", "allow_guests": true})).await;
        for name in ["", "   ", &"x".repeat(101)] {
            let (status, body) = guest(&s, &open, name).await;
            assert_eq!(
                (status, body["error"]["code"].clone()),
                (422, json!("validation_failed"))
            );
        }
        // A guest's (made-up) email cannot sign in: it has no password.
        let (status, access) = guest(&s, &open, "Grace").await;
        assert_eq!(status, 201);
        let res = reqwest::Client::new()
            .post(format!("{}/api/auth/login", s.base))
            .json(&json!({"email": access["user"]["email"], "password": "!"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        // A guest of a meeting that ended cannot be added.
        let (status, _) = s.post(&ta, &format!("/api/meetings/{open}/end")).await;
        assert_eq!(status, 200);
        let (status, body) = guest(&s, &open, "Grace").await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (409, json!("meeting_ended"))
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn guests_from_one_address_are_limited() {
    let backend = backends().into_iter().next().expect("SQLite");
    let s = TestServer::start(backend).await;
    let (ta, _) = s.user("Ada").await;
    let open = meeting(&s, &ta, json!({"title": "Crowd", "allow_guests": true})).await;
    for i in 0..30 {
        let (status, _) = guest(&s, &open, &format!("g{i}")).await;
        assert_eq!(status, 201);
    }
    let (status, body) = guest(&s, &open, "one too many").await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (429, json!("rate_limited"))
    );
    s.stop().await;
}
