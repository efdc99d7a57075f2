//! The signaling protocol end to end against a real server: authentication, bad input, limits,
//! chat, the host ending a meeting, reconnection and the lifecycle persisted in the database.
//! Every scenario runs on SQLite, and on PostgreSQL + Redis when configured.

mod common;

use common::{TestServer, Timers, WsClient, backends};
use serde_json::json;

#[tokio::test]
async fn connections_must_authenticate_first() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        // A meeting message before hello.
        let mut c = WsClient::connect(&s.ws_url).await;
        c.send(json!({"type": "chat", "text": "hi"})).await;
        c.expect_error("unauthenticated").await;
        assert_eq!(c.expect_close().await, 4001);
        // A forged token.
        let mut c = WsClient::connect(&s.ws_url).await;
        c.send(json!({"type": "hello", "version": 1, "token": "eyJhbGciOiJub25lIn0.e30."}))
            .await;
        c.expect_error("unauthenticated").await;
        assert_eq!(c.expect_close().await, 4001);
        // Another protocol version.
        let (token, _) = s.user("Vera").await;
        let mut c = WsClient::connect(&s.ws_url).await;
        c.send(json!({"type": "hello", "version": 99, "token": token}))
            .await;
        c.expect_error("unsupported_version").await;
        assert_eq!(c.expect_close().await, 4003);
        // Silence: the auth deadline closes the socket.
        let mut c = WsClient::connect(&s.ws_url).await;
        c.expect_error("auth_timeout").await;
        assert_eq!(c.expect_close().await, 4002);
        s.stop().await;
    }
}

#[tokio::test]
async fn join_is_refused_for_unknown_codes_and_messages_need_a_join() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (token, _) = s.user("Ned").await;
        let mut c = s.ws(&token).await;
        c.send(json!({"type": "chat", "text": "early"})).await;
        c.expect_error("not_joined").await;
        // A second hello is refused as the protocol document says, and changes nothing.
        c.send(json!({"type": "hello", "version": 1, "token": token}))
            .await;
        c.expect_error("already_joined").await;
        c.send(json!({"type": "join", "meeting_code": "zzz-zzzz-zzz"}))
            .await;
        c.expect_error("meeting_not_found").await;
        let code = s.create_meeting(&token, "Planning").await;
        c.send(json!({"type": "join", "meeting_code": code})).await;
        let joined = c.expect("joined").await;
        assert_eq!(joined["meeting"]["code"], code.as_str());
        assert_eq!(joined["participants"], json!([]));
        c.send(json!({"type": "join", "meeting_code": code})).await;
        c.expect_error("already_joined").await;
        s.stop().await;
    }
}

#[tokio::test]
async fn chat_media_state_and_presence_reach_everyone() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, ua) = s.user("Ada").await;
        let (tb, ub) = s.user("Bob").await;
        let code = s.create_meeting(&ta, "Standup").await;
        let (mut a, joined_a) = s.joined(&ta, &code).await;
        let pa = joined_a["participant_id"].as_i64().unwrap();
        s.wait_status(&ta, &code, "active").await;

        let (mut b, joined_b) = s.joined(&tb, &code).await;
        let others = joined_b["participants"].as_array().unwrap();
        assert_eq!(others.len(), 1);
        assert_eq!(others[0]["user_id"], ua);
        assert_eq!(others[0]["is_host"], true);
        let joined_msg = a.expect("participant_joined").await;
        assert_eq!(joined_msg["participant"]["user_id"], ub);
        assert_eq!(joined_msg["participant"]["is_host"], false);

        a.send(json!({"type": "chat", "text": "  hello Bob  "}))
            .await;
        for c in [&mut a, &mut b] {
            let m = c.expect("chat").await;
            assert_eq!(m["text"], "hello Bob");
            assert_eq!(m["name"], "Ada");
            assert_eq!(m["participant_id"], pa);
            assert!(m["sent_at"].as_str().unwrap().contains('T'));
        }

        a.send(json!({"type": "media_state", "audio_muted": true, "video_muted": false}))
            .await;
        let upd = b
            .expect_where("participant_updated", |m| {
                m["participant"]["media"]["audio_muted"] == true
            })
            .await;
        assert_eq!(upd["participant"]["id"], pa);

        b.send(json!({"type": "leave"})).await;
        assert_eq!(b.expect_close().await, 1000);
        let left = a.expect("participant_left").await;
        assert_eq!(left["reason"], "left");
        let rows = s.participants(&ta, &code).await;
        let bob = rows.iter().find(|r| r["user_id"] == ub).unwrap();
        assert!(!bob["left_at"].is_null(), "a leave sets left_at: {rows:?}");
        s.stop().await;
    }
}

#[tokio::test]
async fn bad_input_gets_errors_and_disturbs_nobody_else() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let (tm, _) = s.user("Mallory").await;
        let code = s.create_meeting(&ta, "Robust").await;
        let (mut a, _) = s.joined(&ta, &code).await;
        let (mut m, _) = s.joined(&tm, &code).await;

        m.send_text("{not json".into()).await;
        m.expect_error("bad_message").await;
        m.send_text("[1,2,3]".into()).await;
        m.expect_error("bad_message").await;
        m.send(json!({"type": "teleport"})).await;
        m.expect_error("unknown_type").await;
        m.send(json!({"type": "chat", "text": 42})).await;
        m.expect_error("bad_message").await;
        m.send(json!({"type": "chat", "text": "   "})).await;
        m.expect_error("chat_invalid").await;
        m.send(json!({"type": "chat", "text": "x".repeat(5000)}))
            .await;
        m.expect_error("chat_invalid").await;
        // Over the 60 KiB SDP limit, under the 64 KiB frame limit.
        m.send(json!({"type": "publish_offer", "sdp": "a".repeat(62_000), "tracks": []}))
            .await;
        m.expect_error("sdp_too_large").await;
        m.send(json!({"type": "publish_offer", "sdp": "not an sdp", "tracks": []}))
            .await;
        m.expect_error("negotiation_failed").await;
        // A subscriber answer may be far larger (one m-line per remote track, up to 500 KiB
        // for a meeting of 200): 100 KB passes the size check (and is refused as SDP), just
        // over 500 KiB (still under the 512 KiB frame limit) is too large.
        m.send(json!({"type": "subscriber_answer", "sdp": "a".repeat(100_000)}))
            .await;
        m.expect_error("negotiation_failed").await;
        m.send(json!({"type": "subscriber_answer", "sdp": "a".repeat(513_000)}))
            .await;
        m.expect_error("sdp_too_large").await;
        m.send(json!({"type": "end_meeting"})).await;
        m.expect_error("not_host").await;

        // The others noticed nothing: chat still flows both ways.
        a.send(json!({"type": "chat", "text": "still here"})).await;
        m.expect_where("chat", |c| c["text"] == "still here").await;
        assert!(
            a.seen.iter().all(|msg| msg["type"] != "error"),
            "Ada saw errors: {:?}",
            a.seen
        );

        // An oversized frame (over 512 KiB) closes only that connection, with 1009.
        let big = json!({"type": "chat", "text": "y".repeat(530_000)}).to_string();
        m.try_send_text(big).await;
        assert_eq!(m.expect_close().await, 1009);
        assert!(
            m.seen.iter().any(|x| x["code"] == "message_too_large"),
            "the close is preceded by the documented error: {:?}",
            m.seen
        );
        a.send(json!({"type": "chat", "text": "after the big one"}))
            .await;
        a.expect_where("chat", |c| c["text"] == "after the big one")
            .await;
        s.stop().await;
    }
}

#[tokio::test]
async fn floods_are_rate_limited_then_closed() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let (tf, _) = s.user("Flood").await;
        let code = s.create_meeting(&ta, "Flooded").await;
        let (mut a, _) = s.joined(&ta, &code).await;
        let (mut f, _) = s.joined(&tf, &code).await;
        for i in 0..400 {
            if !f
                .try_send_text(json!({"type": "ping", "nonce": i}).to_string())
                .await
            {
                break;
            }
        }
        f.expect_error("rate_limited").await;
        assert_eq!(f.expect_close().await, 4029);
        // Ada's connection is untouched.
        a.send(json!({"type": "ping", "nonce": 7})).await;
        a.expect_where("pong", |p| p["nonce"] == 7).await;
        s.stop().await;
    }
}

#[tokio::test]
async fn host_ends_the_meeting_for_everyone() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Host").await;
        let (tb, _) = s.user("Guest").await;
        let code = s.create_meeting(&ta, "Ending").await;
        let (mut a, _) = s.joined(&ta, &code).await;
        let (mut b, _) = s.joined(&tb, &code).await;
        a.send(json!({"type": "end_meeting"})).await;
        for c in [&mut a, &mut b] {
            let ended = c.expect("meeting_ended").await;
            assert_eq!(ended["reason"], "host_ended");
            assert_eq!(c.expect_close().await, 4010);
        }
        let (_, meeting) = s.get(&ta, &format!("/api/meetings/{code}")).await;
        assert_eq!(meeting["status"], "ended");
        assert!(!meeting["ended_at"].is_null());
        let rows = s.participants(&ta, &code).await;
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| !r["left_at"].is_null()), "{rows:?}");
        // Joining an ended meeting is refused.
        let mut late = s.ws(&tb).await;
        late.send(json!({"type": "join", "meeting_code": code}))
            .await;
        late.expect_error("meeting_ended").await;
        s.stop().await;
    }
}

#[tokio::test]
async fn ending_through_rest_closes_the_live_room() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Host").await;
        let (tb, _) = s.user("Guest").await;
        let code = s.create_meeting(&ta, "Rest end").await;
        let (mut b, _) = s.joined(&tb, &code).await;
        let (status, _) = s.post(&tb, &format!("/api/meetings/{code}/end")).await;
        assert_eq!(status, 403, "only the host may end it");
        let (status, _) = s.post(&ta, &format!("/api/meetings/{code}/end")).await;
        assert_eq!(status, 200);
        b.expect("meeting_ended").await;
        assert_eq!(b.expect_close().await, 4010);
        let rows = s.participants(&ta, &code).await;
        assert!(rows.iter().all(|r| !r["left_at"].is_null()), "{rows:?}");
        s.stop().await;
    }
}

#[tokio::test]
async fn a_dropped_participant_can_resume_or_times_out() {
    for backend in backends() {
        let timers = Timers {
            reconnect_grace_secs: 2,
            ..Timers::default()
        };
        let s = TestServer::start_with(backend, timers).await;
        let (ta, _) = s.user("Ada").await;
        let (tb, ub) = s.user("Bob").await;
        let code = s.create_meeting(&ta, "Flaky").await;
        let (mut a, _) = s.joined(&ta, &code).await;
        let (b, joined_b) = s.joined(&tb, &code).await;
        let pb = joined_b["participant_id"].as_i64().unwrap();
        let resume = joined_b["resume_token"].as_str().unwrap().to_string();

        b.drop_abruptly();
        let upd = a
            .expect_where("participant_updated", |m| {
                m["participant"]["connection"] == "reconnecting"
            })
            .await;
        assert_eq!(upd["participant"]["id"], pb);

        // Back within the grace: the same participant, no "left" for the others.
        let mut b = s.ws(&tb).await;
        b.send(json!({"type": "join", "meeting_code": code, "resume_token": resume}))
            .await;
        let again = b.expect("joined").await;
        assert_eq!(again["resumed"], true);
        assert_eq!(again["participant_id"], pb);
        a.expect_where("participant_updated", |m| {
            m["participant"]["connection"] == "connected" && m["participant"]["id"] == pb
        })
        .await;
        assert!(a.seen.iter().all(|m| m["type"] != "participant_left"));
        let open: Vec<_> = s
            .participants(&ta, &code)
            .await
            .into_iter()
            .filter(|r| r["user_id"] == ub)
            .collect();
        assert_eq!(open.len(), 1, "a resume keeps one participation row");
        assert!(open[0]["left_at"].is_null());

        // Gone for good: after the grace the others are told and left_at is set.
        b.drop_abruptly();
        let left = a.expect("participant_left").await;
        assert_eq!(left["participant_id"], pb);
        assert_eq!(left["reason"], "timed_out");
        let rows = s.participants(&ta, &code).await;
        let bob = rows.iter().find(|r| r["user_id"] == ub).unwrap();
        assert!(!bob["left_at"].is_null());

        // A stale token no longer resumes.
        let mut b = s.ws(&tb).await;
        b.send(json!({"type": "join", "meeting_code": code, "resume_token": resume}))
            .await;
        b.expect_error("resume_failed").await;
        s.stop().await;
    }
}

#[tokio::test]
async fn lifecycle_pauses_resumes_and_ends_when_empty() {
    for backend in backends() {
        let timers = Timers {
            empty_meeting_grace_secs: 1,
            paused_timeout_secs: 2,
            ..Timers::default()
        };
        let s = TestServer::start_with(backend, timers).await;
        let (ta, _) = s.user("Ada").await;
        let code = s.create_meeting(&ta, "Lifecycle").await;
        assert_eq!(s.meeting_status(&ta, &code).await, "created");
        let (a, joined) = s.joined(&ta, &code).await;
        s.wait_status(&ta, &code, "active").await;
        let (_, m) = s.get(&ta, &format!("/api/meetings/{code}")).await;
        assert!(!m["started_at"].is_null());

        // Everyone lost: paused; back: active.
        a.drop_abruptly();
        s.wait_status(&ta, &code, "paused").await;
        let mut a = s.ws(&ta).await;
        a.send(
            json!({"type": "join", "meeting_code": code, "resume_token": joined["resume_token"]}),
        )
        .await;
        a.expect("joined").await;
        s.wait_status(&ta, &code, "active").await;

        // Paused for longer than the timeout: ended, with left_at for everyone.
        a.drop_abruptly();
        s.wait_status(&ta, &code, "ended").await;
        let rows = s.participants(&ta, &code).await;
        assert!(rows.iter().all(|r| !r["left_at"].is_null()), "{rows:?}");

        // A meeting everyone left ends after the empty grace.
        let code = s.create_meeting(&ta, "Empty").await;
        let (mut a, _) = s.joined(&ta, &code).await;
        a.send(json!({"type": "leave"})).await;
        a.expect_close().await;
        s.wait_status(&ta, &code, "ended").await;
        s.stop().await;
    }
}

#[tokio::test]
async fn shutdown_closes_participations() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let code = s.create_meeting(&ta, "Shutdown").await;
        let (mut a, _) = s.joined(&ta, &code).await;
        let database_url = s.database_url.clone();
        let dir = s.stop_keeping_data().await;
        assert_eq!(a.expect_close().await, 1001);
        // The database shows the participation closed.
        let store = mm_api::Store::connect(&database_url).await.unwrap();
        let meeting = store.meeting_by_code(&code).await.unwrap().unwrap();
        let rows = store.participants_of(meeting.id).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert!(rows[0].left_at.is_some(), "shutdown sets left_at");
        store.close().await;
        common::drop_schema(&database_url).await;
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[tokio::test]
async fn a_silent_connection_is_noticed_by_the_heartbeat() {
    for backend in backends() {
        let timers = Timers {
            heartbeat_interval_secs: 1,
            ..Timers::default()
        };
        let s = TestServer::start_with(backend, timers).await;
        let (ta, _) = s.user("Ada").await;
        let (tb, _) = s.user("Bob").await;
        let code = s.create_meeting(&ta, "Heartbeat").await;
        let (mut a, _) = s.joined(&ta, &code).await;
        // Bob's socket stays open but he never reads, so he never answers a ping.
        let (silent, joined_b) = s.joined(&tb, &code).await;
        let upd = a
            .expect_where("participant_updated", |m| {
                m["participant"]["connection"] == "reconnecting"
            })
            .await;
        assert_eq!(upd["participant"]["id"], joined_b["participant_id"]);
        drop(silent);
        s.stop().await;
    }
}

#[tokio::test]
async fn publishing_too_many_tracks_is_refused() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let code = s.create_meeting(&ta, "Tracks").await;
        let (mut a, _) = s.joined(&ta, &code).await;
        let tracks: Vec<_> = (0..9)
            .map(|i| json!({"mid": i.to_string(), "source": "camera"}))
            .collect();
        a.send(json!({"type": "publish_offer", "sdp": "v=0", "tracks": tracks}))
            .await;
        a.expect_error("too_many_tracks").await;
        a.send(json!({"type": "ping", "nonce": 1})).await;
        a.expect("pong").await;
        s.stop().await;
    }
}

#[tokio::test]
async fn a_crashed_run_leaves_closed_participations_and_paused_meetings() {
    let s = TestServer::start(common::Backend::Sqlite).await;
    let (ta, ua) = s.user("Ada").await;
    let code = s.create_meeting(&ta, "Crash").await;
    let url = s.database_url.clone();
    let dir = s.stop_keeping_data().await;
    // What a crashed run leaves behind: an open participation row.
    let store = mm_api::Store::connect(&url).await.unwrap();
    let meeting = store.meeting_by_code(&code).await.unwrap().unwrap();
    store
        .open_participation(meeting.id, mm_api::UserId(ua), mm_api::store::now())
        .await
        .unwrap();
    store
        .mark_meeting_active(meeting.id, mm_api::store::now())
        .await
        .unwrap();
    store.close().await;

    let again = TestServer::start_on(common::Backend::Sqlite, &dir).await;
    let rows = again.participants(&ta, &code).await;
    assert_eq!(rows.len(), 1);
    assert!(!rows[0]["left_at"].is_null(), "closed at start: {rows:?}");
    // Everyone lost their connection with the crash: the meeting is paused, not ended.
    assert_eq!(again.meeting_status(&ta, &code).await, "paused");
    again.stop().await;
}
