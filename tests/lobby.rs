//! The lobby (waiting room), over the signaling protocol: newcomers wait without the roster,
//! media or chat until a host or co-host admits or denies them; hosts see who waits; turning
//! the lobby off lets everyone in; waiting is bounded in time; the setting is kept with the
//! meeting. On SQLite, and on PostgreSQL + Redis when configured.

mod common;

use common::{TestServer, Timers, WsClient, backends};
use serde_json::{Value, json};

/// Creates a meeting with its lobby on.
async fn lobby_meeting(s: &TestServer, token: &str, title: &str) -> String {
    let res = reqwest::Client::new()
        .post(format!("{}/api/meetings", s.base))
        .bearer_auth(token)
        .json(&json!({"title": title, "lobby": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["lobby"], true);
    body["code"].as_str().unwrap().to_string()
}

/// A signaling client that asked to join and was put in the lobby.
async fn waiting(s: &TestServer, token: &str, code: &str) -> WsClient {
    let mut c = s.ws(token).await;
    c.send(json!({"type": "join", "meeting_code": code})).await;
    let w = c.expect("lobby_waiting").await;
    assert_eq!(w["meeting"]["code"], code);
    assert_eq!(w["meeting"]["lobby"], true);
    c
}

/// The names in the next `lobby_updated` that satisfies `pred`.
async fn lobby(c: &mut WsClient, pred: impl Fn(&[&str]) -> bool) -> Vec<(u64, String)> {
    let m = c
        .expect_where("lobby_updated", |m| {
            let names = names(m);
            pred(&names.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>())
        })
        .await;
    names(&m)
}

fn names(m: &Value) -> Vec<(u64, String)> {
    (m["waiting"].as_array().unwrap().iter())
        .map(|w| {
            assert_eq!(w["is_guest"], false, "{w}");
            let id = w["lobby_id"].as_u64().unwrap();
            (id, w["name"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn newcomers_wait_until_a_host_admits_or_denies_them() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let (tb, _) = s.user("Bob").await;
        let (tc, _) = s.user("Cy").await;
        let code = lobby_meeting(&s, &ta, "Interviews").await;
        let (mut a, ja) = s.joined(&ta, &code).await;
        assert_eq!(ja["meeting"]["lobby"], true, "the host goes straight in");
        assert_eq!(ja["you"]["is_host"], true);

        let mut b = waiting(&s, &tb, &code).await;
        let queue = lobby(&mut a, |n| n == ["Bob"]).await;
        let bob = queue[0].0;
        // Waiting gives nothing: no chat, no roster, no way to act.
        b.send(json!({"type": "chat", "text": "let me in"})).await;
        b.expect_error("not_joined").await;
        b.send(json!({"type": "media_state", "audio_muted": false, "video_muted": false}))
            .await;
        b.expect_error("not_joined").await;
        a.send(json!({"type": "chat", "text": "private"})).await;
        a.expect_where("chat", |m| m["text"] == "private").await;

        let mut c = waiting(&s, &tc, &code).await;
        let queue = lobby(&mut a, |n| n == ["Bob", "Cy"]).await;
        let cy = queue[1].0;

        a.send(json!({"type": "admit", "lobby_id": bob})).await;
        let jb = b.expect("joined").await;
        assert_eq!(jb["you"]["name"], "Bob");
        let others: Vec<&str> = (jb["participants"].as_array().unwrap().iter())
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(others, ["Ada"]);
        assert!(
            b.seen.iter().all(|m| m["type"] != "chat"),
            "a waiter heard the chat: {:?}",
            b.seen
        );
        assert!(
            jb["chat_history"].as_array().unwrap().len() == 1,
            "admitted: the history"
        );
        a.expect_where("participant_joined", |m| m["participant"]["name"] == "Bob")
            .await;
        lobby(&mut a, |n| n == ["Cy"]).await;
        b.send(json!({"type": "chat", "text": "thanks"})).await;
        a.expect_where("chat", |m| m["text"] == "thanks").await;

        // Only hosts and co-hosts may let people in; an unknown lobby id is refused.
        b.send(json!({"type": "admit", "lobby_id": cy})).await;
        b.expect_error("not_host").await;
        a.send(json!({"type": "admit", "lobby_id": 4_000_000_000u64}))
            .await;
        a.expect_error("unknown_participant").await;

        a.send(json!({"type": "deny", "lobby_id": cy})).await;
        c.expect_error("lobby_denied").await;
        lobby(&mut a, |n| n.is_empty()).await;
        // Denied, Cy may knock again; the host appoints Bob co-host, who sees the lobby and
        // lets everyone in.
        c.send(json!({"type": "join", "meeting_code": code})).await;
        c.expect("lobby_waiting").await;
        let idb = jb["participant_id"].as_i64().unwrap();
        a.send(json!({"type": "set_cohost", "participant_id": idb, "cohost": true}))
            .await;
        lobby(&mut b, |n| n == ["Cy"]).await;
        // Rights taken away, the list goes with them; given back, it comes back.
        a.send(json!({"type": "set_cohost", "participant_id": idb, "cohost": false}))
            .await;
        lobby(&mut b, |n| n.is_empty()).await;
        a.send(json!({"type": "set_cohost", "participant_id": idb, "cohost": true}))
            .await;
        lobby(&mut b, |n| n == ["Cy"]).await;
        b.send(json!({"type": "admit_all"})).await;
        let jc = c.expect("joined").await;
        assert_eq!(jc["participants"].as_array().unwrap().len(), 2);

        // Admitted once, a reload goes straight back in.
        drop(c);
        let (_c, again) = s.joined(&tc, &code).await;
        assert_eq!(again["you"]["name"], "Cy");

        let (_, actions) = s
            .get(&ta, &format!("/api/meetings/{code}/host-actions"))
            .await;
        let names: Vec<&str> = (actions.as_array().unwrap().iter())
            .map(|a| a["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "admit",
                "deny",
                "cohost_granted",
                "cohost_revoked",
                "cohost_granted",
                "admit_all"
            ]
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn turning_the_lobby_off_lets_everyone_in_and_the_meeting_keeps_the_setting() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let (tb, _) = s.user("Bob").await;
        let code = s.create_meeting(&ta, "Open").await;
        let (_, m) = s.get(&ta, &format!("/api/meetings/{code}")).await;
        assert_eq!(m["lobby"], false);
        let (mut a, _) = s.joined(&ta, &code).await;

        a.send(json!({"type": "set_lobby", "enabled": true})).await;
        assert_eq!(a.expect("meeting_updated").await["meeting"]["lobby"], true);
        let (_, m) = s.get(&ta, &format!("/api/meetings/{code}")).await;
        assert_eq!(m["lobby"], true, "persisted");
        let mut b = waiting(&s, &tb, &code).await;
        lobby(&mut a, |n| n == ["Bob"]).await;

        a.send(json!({"type": "set_lobby", "enabled": false})).await;
        let jb = b.expect("joined").await;
        assert_eq!(jb["meeting"]["lobby"], false);
        lobby(&mut a, |n| n.is_empty()).await;
        let (_, m) = s.get(&ta, &format!("/api/meetings/{code}")).await;
        assert_eq!(m["lobby"], false);
        s.stop().await;
    }
}

#[tokio::test]
async fn nobody_admitting_in_time_sends_the_waiter_away() {
    for backend in backends() {
        let timers = Timers {
            lobby_max_wait_secs: 1,
            ..Timers::default()
        };
        let s = TestServer::start_with(backend, timers).await;
        let (ta, _) = s.user("Ada").await;
        let (tb, _) = s.user("Bob").await;
        let code = lobby_meeting(&s, &ta, "Office hours").await;
        // Nobody there to admit: the waiter is sent away, and may knock again.
        let mut b = waiting(&s, &tb, &code).await;
        b.expect_error("lobby_timeout").await;
        b.send(json!({"type": "join", "meeting_code": code})).await;
        b.expect("lobby_waiting").await;
        b.expect_error("lobby_timeout").await;
        s.stop().await;
    }
}

#[tokio::test]
async fn a_waiter_who_goes_leaves_the_list_and_the_end_reaches_waiters() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let (tb, _) = s.user("Bob").await;
        let (tc, _) = s.user("Cy").await;
        let code = lobby_meeting(&s, &ta, "Office hours").await;
        let mut b = waiting(&s, &tb, &code).await;
        // A host who joins later is shown who already waits.
        let (mut a, _) = s.joined(&ta, &code).await;
        lobby(&mut a, |n| n == ["Bob"]).await;
        b.send(json!({"type": "leave"})).await;
        assert_eq!(b.expect_close().await, 1000);
        lobby(&mut a, |n| n.is_empty()).await;
        // A waiter whose connection drops goes too.
        let c = waiting(&s, &tc, &code).await;
        lobby(&mut a, |n| n == ["Cy"]).await;
        c.drop_abruptly();
        lobby(&mut a, |n| n.is_empty()).await;

        let mut c = waiting(&s, &tc, &code).await;
        lobby(&mut a, |n| n == ["Cy"]).await;
        a.send(json!({"type": "end_meeting"})).await;
        assert_eq!(c.expect("meeting_ended").await["reason"], "host_ended");
        assert_eq!(c.expect_close().await, 4010);
        s.stop().await;
    }
}
