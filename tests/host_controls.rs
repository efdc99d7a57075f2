//! Hosts in control, over the signaling protocol: locking, co-hosts, removing (and keeping
//! out), raised hands, reactions, and the history of host actions; every action refused to a
//! participant without host rights. On SQLite, and on PostgreSQL + Redis when configured.
//! That a host's mute stops the media at the SFU is in `host_mute.rs`.

mod common;

use common::{TestServer, WsClient, backends};
use serde_json::{Value, json};

fn id(joined: &Value) -> i64 {
    joined["participant_id"].as_i64().unwrap()
}

/// Waits for the `participant_updated` about `who` that satisfies `pred`.
async fn updated(c: &mut WsClient, who: i64, pred: impl Fn(&Value) -> bool) -> Value {
    c.expect_where("participant_updated", |m| {
        m["participant"]["id"] == who && pred(&m["participant"])
    })
    .await["participant"]
        .clone()
}

/// A round trip through the room: everything `c` sent before has been handled.
async fn settled(c: &mut WsClient, text: &str) {
    c.send(json!({"type": "chat", "text": text})).await;
    c.expect_where("chat", |m| m["text"] == text).await;
}

#[tokio::test]
async fn a_participant_without_host_rights_changes_nothing() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let (tb, _) = s.user("Bob").await;
        let (tc, _) = s.user("Cy").await;
        let code = s.create_meeting(&ta, "Standup").await;
        let (mut a, ja) = s.joined(&ta, &code).await;
        let (mut b, jb) = s.joined(&tb, &code).await;
        let (ida, idb) = (id(&ja), id(&jb));
        let attempts = [
            json!({"type": "mute_participant", "participant_id": ida, "source": "microphone"}),
            json!({"type": "ask_to_unmute", "participant_id": ida, "source": "camera"}),
            json!({"type": "remove_participant", "participant_id": ida, "ban": true}),
            json!({"type": "lock_meeting", "locked": true}),
            json!({"type": "set_cohost", "participant_id": idb, "cohost": true}),
            json!({"type": "lower_hand", "participant_id": ida}),
            json!({"type": "end_meeting"}),
        ];
        for attempt in &attempts {
            b.send(attempt.clone()).await;
            let e = b.expect_error("not_host").await;
            assert!(!e["message"].as_str().unwrap().is_empty(), "{attempt}");
        }
        settled(&mut b, "still here").await;
        // Nothing happened: nobody was told anything but the chat, the meeting is open.
        settled(&mut a, "me too").await;
        assert!(
            a.seen.iter().all(|m| m["type"] == "chat"
                || (m["type"] == "participant_joined" && m["participant"]["id"] == idb)),
            "Ada heard of something: {:?}",
            a.seen
        );
        let (_c, jc) = s.joined(&tc, &code).await;
        assert_eq!(jc["meeting"]["locked"], false);
        assert_eq!(jc["participants"].as_array().unwrap().len(), 2);
        let (status, body) = s
            .get(&tb, &format!("/api/meetings/{code}/host-actions"))
            .await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (403, json!("not_host"))
        );
        let (status, actions) = s
            .get(&ta, &format!("/api/meetings/{code}/host-actions"))
            .await;
        assert_eq!((status, actions), (200, json!([])));
        s.stop().await;
    }
}

#[tokio::test]
async fn a_locked_meeting_admits_only_hosts_and_co_hosts_act_for_the_host() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let (tb, _) = s.user("Bob").await;
        let (tc, _) = s.user("Cy").await;
        let (td, _) = s.user("Dee").await;
        let code = s.create_meeting(&ta, "Board").await;
        let (mut a, ja) = s.joined(&ta, &code).await;
        let (mut b, jb) = s.joined(&tb, &code).await;
        let (ida, idb) = (id(&ja), id(&jb));
        assert_eq!(ja["meeting"]["locked"], false);

        a.send(json!({"type": "lock_meeting", "locked": true}))
            .await;
        for c in [&mut a, &mut b] {
            let m = c.expect("meeting_updated").await;
            assert_eq!(m["meeting"]["locked"], true);
            assert_eq!(m["meeting"]["code"], code.as_str());
        }
        let mut cy = s.ws(&tc).await;
        cy.send(json!({"type": "join", "meeting_code": code})).await;
        cy.expect_error("meeting_locked").await;

        // Bob becomes a co-host: he may unlock, but not appoint others or touch the host.
        a.send(json!({"type": "set_cohost", "participant_id": idb, "cohost": true}))
            .await;
        let info = updated(&mut b, idb, |p| p["is_cohost"] == true).await;
        assert_eq!(info["is_host"], false);
        b.send(json!({"type": "set_cohost", "participant_id": idb, "cohost": false}))
            .await;
        b.expect_error("not_host").await;
        b.send(json!({"type": "mute_participant", "participant_id": ida, "source": "microphone"}))
            .await;
        b.expect_error("not_host").await;
        b.send(json!({"type": "remove_participant", "participant_id": 999_999}))
            .await;
        b.expect_error("unknown_participant").await;
        b.send(json!({"type": "lock_meeting", "locked": false}))
            .await;
        let m = a.expect("meeting_updated").await;
        assert_eq!(m["meeting"]["locked"], false);
        cy.send(json!({"type": "join", "meeting_code": code})).await;
        let jc = cy.expect("joined").await;
        assert_eq!(jc["meeting"]["locked"], false);
        let cohosts: Vec<&Value> = (jc["participants"].as_array().unwrap().iter())
            .filter(|p| p["is_cohost"] == true)
            .collect();
        assert_eq!(cohosts.len(), 1);
        assert_eq!(cohosts[0]["id"], idb);

        // Locked again: a co-host who left comes back in, a newcomer does not; then Bob
        // (a co-host) may end the meeting.
        a.send(json!({"type": "lock_meeting", "locked": true}))
            .await;
        b.expect("meeting_updated").await;
        b.send(json!({"type": "leave"})).await;
        assert_eq!(b.expect_close().await, 1000);
        let (mut b, jb2) = s.joined(&tb, &code).await;
        assert_eq!(jb2["meeting"]["locked"], true);
        let mut dee = s.ws(&td).await;
        dee.send(json!({"type": "join", "meeting_code": code}))
            .await;
        dee.expect_error("meeting_locked").await;
        b.send(json!({"type": "end_meeting"})).await;
        let ended = a.expect("meeting_ended").await;
        assert_eq!(ended["reason"], "host_ended");

        let (status, actions) = s
            .get(&ta, &format!("/api/meetings/{code}/host-actions"))
            .await;
        assert_eq!(status, 200);
        let names: Vec<&str> = (actions.as_array().unwrap().iter())
            .map(|a| a["action"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["lock", "cohost_granted", "unlock", "lock"]);
        assert_eq!(actions[1]["actor_name"], "Ada");
        assert_eq!(actions[1]["target_name"], "Bob");
        assert_eq!(actions[2]["actor_name"], "Bob");
        assert_eq!(actions[0]["target_user_id"], Value::Null);
        s.stop().await;
    }
}

#[tokio::test]
async fn a_removed_participant_is_told_and_a_banned_one_stays_out() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let (tb, _) = s.user("Bob").await;
        let (tc, _) = s.user("Cy").await;
        let code = s.create_meeting(&ta, "Class").await;
        let (mut a, ja) = s.joined(&ta, &code).await;
        let (mut b, jb) = s.joined(&tb, &code).await;
        let (mut c, jc) = s.joined(&tc, &code).await;
        let (ida, idb, idc) = (id(&ja), id(&jb), id(&jc));

        a.send(json!({"type": "remove_participant", "participant_id": ida}))
            .await;
        a.expect_error("bad_message").await;

        // Removed without a ban: told, closed with 4012, and may come back.
        a.send(json!({"type": "remove_participant", "participant_id": idc}))
            .await;
        let removed = c.expect("removed").await;
        assert_eq!(
            (removed["by"].as_i64(), removed["banned"].as_bool()),
            (Some(ida), Some(false))
        );
        assert_eq!(c.expect_close().await, 4012);
        let left = b
            .expect_where("participant_left", |m| m["participant_id"] == idc)
            .await;
        assert_eq!(left["reason"], "removed");
        let (_c, back) = s.joined(&tc, &code).await;
        assert_ne!(id(&back), idc, "a new participant, not a resume");

        // Removed with a ban: kept out, in this meeting only.
        a.send(json!({"type": "remove_participant", "participant_id": idb, "ban": true}))
            .await;
        assert_eq!(b.expect("removed").await["banned"], true);
        assert_eq!(b.expect_close().await, 4012);
        let mut again = s.ws(&tb).await;
        again
            .send(json!({"type": "join", "meeting_code": code}))
            .await;
        again.expect_error("removed").await;
        let other = s.create_meeting(&ta, "Another").await;
        again
            .send(json!({"type": "join", "meeting_code": other}))
            .await;
        again.expect("joined").await;

        let history = s
            .participants(&ta, &code)
            .await
            .into_iter()
            .filter(|p| p["name"] == "Bob")
            .count();
        assert_eq!(history, 1, "Bob's one stay is in the participant history");
        let (_, actions) = s
            .get(&ta, &format!("/api/meetings/{code}/host-actions"))
            .await;
        let names: Vec<(&str, &str)> = (actions.as_array().unwrap().iter())
            .map(|a| {
                let target = a["target_name"].as_str().unwrap();
                (a["action"].as_str().unwrap(), target)
            })
            .collect();
        assert_eq!(names, [("remove", "Cy"), ("remove_and_ban", "Bob")]);
        s.stop().await;
    }
}

#[tokio::test]
async fn hands_are_ordered_and_reactions_reach_everyone() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let (tb, _) = s.user("Bob").await;
        let (tc, _) = s.user("Cy").await;
        let code = s.create_meeting(&ta, "Q&A").await;
        let (mut a, _) = s.joined(&ta, &code).await;
        let (mut b, jb) = s.joined(&tb, &code).await;
        let (mut c, jc) = s.joined(&tc, &code).await;
        let (idb, idc) = (id(&jb), id(&jc));

        c.send(json!({"type": "raise_hand", "raised": true})).await;
        let cy = updated(&mut a, idc, |p| !p["raised_hand"].is_null()).await;
        b.send(json!({"type": "raise_hand", "raised": true})).await;
        let bob = updated(&mut a, idb, |p| !p["raised_hand"].is_null()).await;
        assert!(
            cy["raised_hand"].as_u64() < bob["raised_hand"].as_u64(),
            "Cy raised first: {cy} {bob}"
        );
        // A late joiner sees the hands.
        let (_d, jd) = s.joined(&s.user("Dee").await.0, &code).await;
        let raised = (jd["participants"].as_array().unwrap().iter())
            .filter(|p| !p["raised_hand"].is_null())
            .count();
        assert_eq!(raised, 2);

        // Bob may lower only his own hand; the host lowers Cy's.
        b.send(json!({"type": "lower_hand", "participant_id": idc}))
            .await;
        b.expect_error("not_host").await;
        a.send(json!({"type": "lower_hand", "participant_id": idc}))
            .await;
        updated(&mut c, idc, |p| p["raised_hand"].is_null()).await;
        b.send(json!({"type": "raise_hand", "raised": false})).await;
        updated(&mut a, idb, |p| p["raised_hand"].is_null()).await;

        b.send(json!({"type": "reaction", "emoji": "👏"})).await;
        for x in [&mut a, &mut b, &mut c] {
            let r = x.expect("reaction").await;
            assert_eq!(
                (r["participant_id"].as_i64(), r["emoji"].as_str()),
                (Some(idb), Some("👏"))
            );
        }
        c.send(json!({"type": "reaction", "emoji": "💩"})).await;
        c.expect_error("bad_message").await;
        c.send(json!({"type": "reaction", "emoji": "x".repeat(100)}))
            .await;
        c.expect_error("bad_message").await;
        // Faster than one every 250 ms: of five back to back, some are refused.
        for _ in 0..5 {
            c.send(json!({"type": "reaction", "emoji": "🎉"})).await;
        }
        c.expect_error("rate_limited").await;
        s.stop().await;
    }
}

#[tokio::test]
async fn a_host_stops_a_screen_share_until_the_participant_shares_again() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let (tb, _) = s.user("Bob").await;
        let code = s.create_meeting(&ta, "Demo").await;
        let (mut a, ja) = s.joined(&ta, &code).await;
        let (mut b, jb) = s.joined(&tb, &code).await;
        let (ida, idb) = (id(&ja), id(&jb));
        let sharing = json!({"type": "media_state", "audio_muted": false, "video_muted": false,
            "screen_sharing": true});
        b.send(sharing.clone()).await;
        updated(&mut a, idb, |p| p["media"]["screen_sharing"] == true).await;

        a.send(
            json!({"type": "mute_participant", "participant_id": idb, "source": "screen_share"}),
        )
        .await;
        let told = b.expect("muted_by_host").await;
        assert_eq!(
            (told["source"].as_str(), told["by"].as_i64()),
            (Some("screen_share"), Some(ida))
        );
        let info = updated(&mut a, idb, |p| p["media"]["screen_sharing"] == false).await;
        assert_eq!(
            info["media"]["audio_muted"], false,
            "only the share was stopped"
        );
        // Asking to turn a screen share back on is not a thing; sharing again is up to Bob.
        a.send(json!({"type": "ask_to_unmute", "participant_id": idb, "source": "screen_share"}))
            .await;
        a.expect_error("bad_message").await;
        b.send(sharing).await;
        updated(&mut a, idb, |p| p["media"]["screen_sharing"] == true).await;

        let (_, actions) = s
            .get(&ta, &format!("/api/meetings/{code}/host-actions"))
            .await;
        assert_eq!(actions[0]["action"], "stop_screen_share");
        assert_eq!(actions[0]["target_name"], "Bob");
        s.stop().await;
    }
}
