//! The room's claim on its meeting: once a later room claimed it, the earlier room's writes
//! (settings, lifecycle, host actions) do not land, and the latest room's do.

use mm_api::store::now;
use mm_api::{Error, MeetingId, MeetingStatus, Store};

use crate::{meeting, user};

pub(crate) async fn a_later_claim_fences_the_earlier_rooms_writes(store: &Store) {
    let host = user(store, "Host").await;
    let m = meeting(store, &host, "own-erep-och", "Fenced").await;
    let p = store
        .open_participation(m.id, host.id, now())
        .await
        .unwrap();
    let first = store.claim_meeting(m.id).await.unwrap();
    store.set_meeting_lobby(m.id, true, first).await.unwrap();
    (store.record_host_action(m.id, first, p.id, None, "lock", now()))
        .await
        .unwrap();
    (store.mark_meeting_as(m.id, MeetingStatus::Active, first, now()))
        .await
        .unwrap();

    let second = store.claim_meeting(m.id).await.unwrap();
    assert!(second > first, "{second} after {first}");
    let fenced = |r: Result<(), Error>| matches!(r, Err(Error::Fenced));
    assert!(fenced(store.set_meeting_lobby(m.id, false, first).await));
    assert!(fenced(store.set_meeting_guests(m.id, true, first).await));
    let late = store.record_host_action(m.id, first, p.id, None, "unlock", now());
    assert!(fenced(late.await));
    for to in [MeetingStatus::Paused, MeetingStatus::Ended] {
        let r = store.mark_meeting_as(m.id, to, first, now()).await;
        assert!(matches!(r, Err(Error::Fenced)), "{to}: {r:?}");
    }
    let read = store.meeting_by_id(m.id).await.unwrap().unwrap();
    assert!(read.lobby && !read.allow_guests, "{read:?}");
    assert_eq!(read.status, MeetingStatus::Active);
    let actions = store.host_actions_of(m.id).await.unwrap();
    let names: Vec<&str> = actions.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(names, ["lock"]);

    // The latest room writes as before.
    store.set_meeting_lobby(m.id, false, second).await.unwrap();
    (store.mark_meeting_as(m.id, MeetingStatus::Ended, second, now()))
        .await
        .unwrap();
    let read = store.meeting_by_id(m.id).await.unwrap().unwrap();
    assert!(!read.lobby);
    assert_eq!(read.status, MeetingStatus::Ended);
    // Ending an ended meeting is no change, from any room.
    let again = store.mark_meeting_as(m.id, MeetingStatus::Ended, first, now());
    assert_eq!(again.await.unwrap().status, MeetingStatus::Ended);
    assert!(matches!(
        store.claim_meeting(MeetingId(i64::MAX)).await,
        Err(Error::MeetingNotFound)
    ));
}
