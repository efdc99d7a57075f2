//! A meeting left `paused` with no live room (the state a restart or a dead node leaves) ends
//! after `PAUSED_TIMEOUT_SECS`; one that someone is still in stays (issue 12, finding 9).
//! Runs once per backend.

mod common;

use chrono::{Duration, Utc};
use common::{Backend, TestServer, Timers};
use mm_api::Store;

#[tokio::test]
async fn paused_meetings_nobody_is_in_end_after_the_timeout() {
    for backend in common::backends() {
        paused_meetings_end(backend).await;
    }
}

async fn paused_meetings_end(backend: Backend) {
    let s = TestServer::start_with(
        backend,
        Timers {
            paused_timeout_secs: 1,
            ..Timers::default()
        },
    )
    .await;
    let (token, user) = s.user("Host").await;
    let abandoned = s.create_meeting(&token, "left paused by a restart").await;
    let occupied = s.create_meeting(&token, "someone is still in it").await;

    // What a previous run leaves: the participation closed at its shutdown, the meeting paused.
    let store = Store::connect(&s.database_url).await.unwrap();
    let long_ago = Utc::now() - Duration::minutes(10);
    for code in [&abandoned, &occupied] {
        let meeting = store.meeting_by_code(code).await.unwrap().unwrap();
        store
            .mark_meeting_active(meeting.id, long_ago)
            .await
            .unwrap();
        let p = store
            .open_participation(meeting.id, mm_api::UserId(user), long_ago)
            .await
            .unwrap();
        if code == &abandoned {
            store.close_participation(p.id, long_ago).await.unwrap();
        }
        store.mark_meeting_paused(meeting.id).await.unwrap();
    }
    assert_eq!(s.meeting_status(&token, &abandoned).await, "paused");

    s.wait_status(&token, &abandoned, "ended").await;
    let (_, ended) = s.get(&token, &format!("/api/meetings/{abandoned}")).await;
    assert!(ended["ended_at"].is_string(), "ended_at is set: {ended}");
    // The same sweep saw both; an open participation means someone may be in a live room.
    assert_eq!(
        s.meeting_status(&token, &occupied).await,
        "paused",
        "{backend:?}"
    );
    store.close().await;
    s.stop().await;
}
