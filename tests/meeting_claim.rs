//! A room's writes are fenced by its claim on the meeting: once another room claimed the
//! meeting (in a cluster, a node that took it over), the old room's host actions do not land,
//! and the room hands its people over (1012) to whoever runs the meeting now. On SQLite, and
//! on PostgreSQL + Redis when configured.

mod common;

use common::{TestServer, backends};
use serde_json::json;

#[tokio::test]
async fn a_room_whose_meeting_was_claimed_since_writes_nothing_and_moves_its_people() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let code = s.create_meeting(&ta, "Claimed").await;
        let (mut a, _) = s.joined(&ta, &code).await;

        // Another room claims the meeting, as a node that took it over would.
        let store = mm_api::Store::connect(&s.database_url).await.unwrap();
        let meeting = store.meeting_by_code(&code).await.unwrap().unwrap();
        store.claim_meeting(meeting.id).await.unwrap();

        a.send(json!({"type": "set_lobby", "enabled": true})).await;
        assert_eq!(a.expect_close().await, 1012, "handed over, to reconnect");
        let (_, m) = s.get(&ta, &format!("/api/meetings/{code}")).await;
        assert_eq!(m["lobby"], false, "the deposed room's setting did not land");
        let (_, actions) = s
            .get(&ta, &format!("/api/meetings/{code}/host-actions"))
            .await;
        assert_eq!(actions, json!([]), "nor its host action");

        // Coming back starts a room with a new claim, whose writes land.
        let (mut a, joined) = s.joined(&ta, &code).await;
        assert_eq!(joined["you"]["is_host"], true);
        a.send(json!({"type": "set_lobby", "enabled": true})).await;
        assert_eq!(a.expect("meeting_updated").await["meeting"]["lobby"], true);
        let (_, m) = s.get(&ta, &format!("/api/meetings/{code}")).await;
        assert_eq!(m["lobby"], true);
        let (_, actions) = s
            .get(&ta, &format!("/api/meetings/{code}/host-actions"))
            .await;
        assert_eq!(actions[0]["action"], "lobby_on", "{actions}");
        store.close().await;
        s.stop().await;
    }
}
