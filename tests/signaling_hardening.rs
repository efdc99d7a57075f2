//! Signaling under abuse and failure: every way a session ends leads to exactly one of resumed
//! or left; sockets are capped per address and per user; an ended meeting admits nobody; a
//! shutdown says goodbye properly. Every scenario runs on SQLite, and on PostgreSQL + Redis when
//! configured.

mod common;

use std::time::Duration;

use common::{TestServer, Timers, WsClient, backends};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// A bound on waiting for an eventual state on a loaded machine, not a timing assertion.
const EVENTUALLY: Duration = Duration::from_secs(30);

/// Waits until every participation of the meeting has `left_at`; returns the rows.
async fn wait_all_left(s: &TestServer, token: &str, code: &str) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + EVENTUALLY;
    loop {
        let rows = s.participants(token, code).await;
        let open = rows.iter().filter(|r| r["left_at"].is_null()).count();
        if open == 0 {
            return rows;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{open} participations of {code} were never closed: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn everyone_leaving_at_once_leaves_no_ghosts() {
    const MEETINGS: usize = 4;
    const PEOPLE: usize = 6;
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let mut users = Vec::new();
        for i in 0..PEOPLE {
            users.push(s.user(&format!("P{i}")).await.0);
        }
        let mut codes = Vec::new();
        let mut clients = Vec::new();
        for m in 0..MEETINGS {
            let code = s.create_meeting(&users[0], &format!("Crowd {m}")).await;
            for token in &users {
                clients.push(s.joined(token, &code).await.0);
            }
            codes.push(code);
        }
        // Everyone says leave and closes at the same moment: rooms keep sending to sessions
        // that are already gone while their `leave` is still queued.
        let leaves = clients.into_iter().map(|mut c| async move {
            c.send(json!({"type": "leave"})).await;
            c.drop_abruptly();
        });
        futures_util::future::join_all(leaves).await;
        for code in &codes {
            let rows = wait_all_left(&s, &users[0], code).await;
            assert_eq!(rows.len(), PEOPLE);
        }
        // A newcomer sees nobody left behind as "connected".
        let (_c, joined) = s.joined(&users[1], &codes[0]).await;
        assert_eq!(joined["participants"], json!([]), "ghosts: {joined}");
        s.stop().await;
    }
}

/// A client socket with a tiny receive buffer, so that a client that stops reading stops
/// the server's writes after a few kilobytes.
async fn stubborn_client(
    s: &TestServer,
    token: &str,
    code: &str,
) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    let addr = s.base.trim_start_matches("http://").to_string();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(2048).unwrap();
    let stream = socket.connect(addr.parse().unwrap()).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(s.ws_url.as_str(), stream)
        .await
        .unwrap();
    for msg in [
        json!({"type": "hello", "version": 1, "token": token}),
        json!({"type": "join", "meeting_code": code}),
    ] {
        ws.send(Message::Text(msg.to_string().into()))
            .await
            .unwrap();
    }
    loop {
        let frame = tokio::time::timeout(EVENTUALLY, ws.next()).await.unwrap();
        if let Some(Ok(Message::Text(t))) = frame
            && t.contains("\"joined\"")
        {
            break;
        }
    }
    // From here on nobody reads this socket.
    ws
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_and_the_others_are_told() {
    for backend in backends() {
        let timers = Timers {
            reconnect_grace_secs: 2,
            ..Timers::default()
        };
        let s = TestServer::start_with(backend, timers).await;
        let (ta, _) = s.user("Ada").await;
        let (tz, zed_user) = s.user("Zed").await;
        let code = s.create_meeting(&ta, "Zombie").await;
        let (mut a, _) = s.joined(&ta, &code).await;
        let zed = stubborn_client(&s, &tz, &code).await;
        let joined_z = a.expect("participant_joined").await;
        let z = joined_z["participant"]["id"].clone();
        // Ada talks; Zed never reads. Each message is ~4 KB, far more than Zed's buffers.
        let text = "x".repeat(3900);
        for _ in 0..40 {
            a.send(json!({"type": "chat", "text": text})).await;
        }
        let update = a
            .expect_where("participant_updated", |m| {
                m["participant"]["id"] == z && m["participant"]["connection"] == "reconnecting"
            })
            .await;
        assert_eq!(update["participant"]["name"], "Zed");
        let left = a
            .expect_where("participant_left", |m| m["participant_id"] == z)
            .await;
        assert_eq!(left["reason"], "timed_out");
        wait_left(&s, &ta, &code, zed_user).await;
        drop(zed);
        s.stop().await;
    }
}

/// Waits until the participation of `user_id` has `left_at`.
async fn wait_left(s: &TestServer, token: &str, code: &str, user_id: i64) {
    let deadline = tokio::time::Instant::now() + EVENTUALLY;
    loop {
        let rows = s.participants(token, code).await;
        if rows
            .iter()
            .any(|r| r["user_id"] == user_id && !r["left_at"].is_null())
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the participation of user {user_id} never closed: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn unauthenticated_sockets_are_capped_per_address() {
    // The server's default: 16 sockets per address before `hello`.
    const CAP: usize = 16;
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let mut waiting = Vec::new();
        for _ in 0..CAP {
            waiting.push(WsClient::connect(&s.ws_url).await);
        }
        let refused = tokio_tungstenite::connect_async(s.ws_url.as_str()).await;
        match refused {
            Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
                assert_eq!(res.status(), 429);
            }
            other => panic!("socket {} over the cap was accepted: {other:?}", CAP + 1),
        }
        // Authenticating frees a place.
        let (token, _) = s.user("Ada").await;
        let mut first = waiting.remove(0);
        first
            .send(json!({"type": "hello", "version": 1, "token": token}))
            .await;
        first.expect("welcome").await;
        let _again = WsClient::connect(&s.ws_url).await;
        s.stop().await;
    }
}

#[tokio::test]
async fn one_user_holds_a_bounded_number_of_sockets() {
    // The server's default: 10 authenticated sockets per user.
    const CAP: usize = 10;
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (token, _) = s.user("Ada").await;
        let mut open = Vec::new();
        for _ in 0..CAP {
            open.push(s.ws(&token).await);
        }
        let mut over = WsClient::connect(&s.ws_url).await;
        over.send(json!({"type": "hello", "version": 1, "token": token}))
            .await;
        over.expect_error("too_many_sessions").await;
        assert_eq!(over.expect_close().await, 1008);
        // Closing one lets the next in.
        open.pop().unwrap().drop_abruptly();
        let deadline = tokio::time::Instant::now() + EVENTUALLY;
        loop {
            let mut c = WsClient::connect(&s.ws_url).await;
            c.send(json!({"type": "hello", "version": 1, "token": token}))
                .await;
            let reply = c.next().await.expect("a reply");
            if reply["type"] == "welcome" {
                break;
            }
            assert_eq!(reply["code"], "too_many_sessions");
            assert!(tokio::time::Instant::now() < deadline, "no place freed");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        s.stop().await;
    }
}

#[tokio::test]
async fn a_meeting_ended_behind_the_live_rooms_back_admits_nobody() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let (tb, _) = s.user("Bob").await;
        let code = s.create_meeting(&ta, "Missed event").await;
        let (mut a, _) = s.joined(&ta, &code).await;
        // The meeting ends in the database without this node hearing of it (a lost bus
        // event): the next join must see it.
        let store = mm_api::Store::connect(&s.database_url).await.unwrap();
        let meeting = store.meeting_by_code(&code).await.unwrap().unwrap();
        store
            .mark_meeting_ended(meeting.id, chrono::Utc::now())
            .await
            .unwrap();
        store.close().await;
        let mut b = s.ws(&tb).await;
        b.send(json!({"type": "join", "meeting_code": code})).await;
        b.expect_error("meeting_ended").await;
        // The live room ends too, and nobody's participation outlives the meeting.
        a.expect("meeting_ended").await;
        assert_eq!(a.expect_close().await, 4010);
        let rows = wait_all_left(&s, &ta, &code).await;
        assert_eq!(rows.len(), 1, "Bob never got a participation: {rows:?}");
        s.stop().await;
    }
}

#[tokio::test]
async fn shutdown_says_goodbye_and_pauses_a_meeting_in_its_empty_grace() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let (tb, _) = s.user("Bob").await;
        let busy = s.create_meeting(&ta, "Busy").await;
        let empty = s.create_meeting(&ta, "Empty").await;
        let (mut a, _) = s.joined(&ta, &busy).await;
        // Bob leaves "Empty" alone: it waits in its empty-meeting grace.
        let (mut b, _) = s.joined(&tb, &empty).await;
        b.send(json!({"type": "leave"})).await;
        assert_eq!(b.expect_close().await, 1000);
        // A socket that is in no meeting.
        let mut idle = s.ws(&tb).await;
        let database_url = s.database_url.clone();
        let dir = s.stop_keeping_data().await;
        let ended = a.expect("meeting_ended").await;
        assert_eq!(ended["reason"], "server_shutdown");
        assert_eq!(a.expect_close().await, 1001);
        assert_eq!(
            idle.expect_close().await,
            1001,
            "a close frame, not a reset"
        );
        let store = mm_api::Store::connect(&database_url).await.unwrap();
        for code in [&busy, &empty] {
            let m = store.meeting_by_code(code).await.unwrap().unwrap();
            assert_eq!(m.status, mm_api::MeetingStatus::Paused, "{code}");
        }
        store.close().await;
        common::drop_schema(&database_url).await;
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[tokio::test]
async fn an_authenticated_socket_that_never_joins_is_closed() {
    for backend in backends() {
        let timers = Timers {
            join_timeout_secs: 1,
            ..Timers::default()
        };
        let s = TestServer::start_with(backend, timers).await;
        let (token, _) = s.user("Idle").await;
        let mut c = s.ws(&token).await;
        c.expect_error("join_timeout").await;
        assert_eq!(c.expect_close().await, 4005);
        // Joining in time is not affected.
        let code = s.create_meeting(&token, "On time").await;
        let (mut joined, _) = s.joined(&token, &code).await;
        joined.send(json!({"type": "ping", "nonce": 1})).await;
        joined.expect("pong").await;
        s.stop().await;
    }
}

#[tokio::test]
async fn signing_out_closes_that_users_sockets() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ada = s.account("Ada").await;
        let (tb, _) = s.user("Bob").await;
        let code = s.create_meeting(&ada.access_token, "Sign-out").await;
        let (mut a, _) = s.joined(&ada.access_token, &code).await;
        let mut a_idle = s.ws(&ada.access_token).await;
        let (mut b, _) = s.joined(&tb, &code).await;
        assert_eq!(s.logout(&ada).await, 204);
        a.expect_error("unauthenticated").await;
        assert_eq!(a.expect_close().await, 4001);
        assert_eq!(a_idle.expect_close().await, 4001);
        // Bob is not affected and sees Ada go.
        b.expect_where("participant_updated", |m| {
            m["participant"]["name"] == "Ada" && m["participant"]["connection"] == "reconnecting"
        })
        .await;
        b.send(json!({"type": "ping", "nonce": 2})).await;
        b.expect("pong").await;
        s.stop().await;
    }
}

#[tokio::test]
async fn a_redis_outage_refuses_new_sockets_as_unavailable_and_spares_running_meetings() {
    for backend in backends() {
        let mut redis = common::redis_server::RedisServer::start().await;
        let timers = Timers {
            redis_url: Some(redis.url()),
            ..Timers::default()
        };
        let s = TestServer::start_with(backend, timers).await;
        let (ta, _) = s.user("Ada").await;
        let (tb, _) = s.user("Bob").await;
        let code = s.create_meeting(&ta, "Outage").await;
        let (mut a, _) = s.joined(&ta, &code).await;
        let (mut b, _) = s.joined(&tb, &code).await;
        redis.kill();

        // A new socket cannot have its token checked: "try again later", not "signed out".
        let mut c = WsClient::connect(&s.ws_url).await;
        c.send(json!({"type": "hello", "version": 1, "token": tb}))
            .await;
        c.expect_error("unavailable").await;
        assert_eq!(c.expect_close().await, 1013);
        // The meeting in progress goes on.
        a.send(json!({"type": "chat", "text": "still here"})).await;
        let chat = b.expect("chat").await;
        assert_eq!(chat["text"], "still here");

        // Redis is back: sockets are accepted again, and the bus was resubscribed, so ending
        // the meeting through REST reaches the live room.
        redis.restart().await;
        let deadline = tokio::time::Instant::now() + EVENTUALLY;
        loop {
            let mut c = WsClient::connect(&s.ws_url).await;
            c.send(json!({"type": "hello", "version": 1, "token": tb}))
                .await;
            let reply = c.next().await.expect("a reply");
            if reply["type"] == "welcome" {
                break;
            }
            assert_eq!(reply["code"], "unavailable", "{reply}");
            assert!(
                tokio::time::Instant::now() < deadline,
                "Redis never came back"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // The bus resubscribes with back-off: probe it with throwaway meetings first, so the
        // real end is not published before anyone listens again.
        let deadline = tokio::time::Instant::now() + EVENTUALLY;
        loop {
            let probe = s.create_meeting(&tb, "Probe").await;
            let (mut p, _) = s.joined(&tb, &probe).await;
            let (status, body) = s.post(&tb, &format!("/api/meetings/{probe}/end")).await;
            assert_eq!(status, 200, "{body}");
            let heard = tokio::time::timeout(Duration::from_secs(2), p.expect("meeting_ended"));
            if heard.await.is_ok() {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the bus never came back"
            );
        }
        let (status, body) = s.post(&ta, &format!("/api/meetings/{code}/end")).await;
        assert_eq!(status, 200, "{body}");
        let ended = a.expect("meeting_ended").await;
        assert_eq!(ended["reason"], "host_ended");
        s.stop().await;
    }
}
