//! Conformance tests of participations: one open stay per user and meeting, and closing them.

use chrono::Duration;
use mm_api::Store;
use mm_api::store::now;

use crate::{meeting, user};

pub(crate) async fn one_open_participation_per_user_and_meeting(store: &Store) {
    let host = user(store, "Host").await;
    let guest = user(store, "Guest").await;
    let meeting = meeting(store, &host, "par-tici-pat", "P").await;
    let first = store
        .open_participation(meeting.id, guest.id, now())
        .await
        .unwrap();
    let reconnect = store
        .open_participation(meeting.id, guest.id, now())
        .await
        .unwrap();
    assert_eq!(first, reconnect, "an open participation is reused");
    let closed = store
        .close_participation(first.id, now())
        .await
        .unwrap()
        .unwrap();
    assert!(closed.left_at.is_some());
    let second = store
        .open_participation(meeting.id, guest.id, now())
        .await
        .unwrap();
    assert_ne!(second.id, first.id, "after leaving, a new stay begins");
    store
        .open_participation(meeting.id, host.id, now())
        .await
        .unwrap();

    let listed = store.participants_of(meeting.id).await.unwrap();
    let names: Vec<(&str, bool)> = listed
        .iter()
        .map(|p| (p.name.as_str(), p.left_at.is_some()))
        .collect();
    assert_eq!(names, [("Guest", true), ("Guest", false), ("Host", false)]);
    assert_eq!(listed[0].user_id, guest.id);
}

pub(crate) async fn closing_participations(store: &Store) {
    let host = user(store, "Host").await;
    let guest = user(store, "Guest").await;
    let m1 = meeting(store, &host, "clo-sing-one", "1").await;
    let m2 = meeting(store, &host, "clo-sing-two", "2").await;
    let p = store
        .open_participation(m1.id, guest.id, now())
        .await
        .unwrap();
    let t_left = now();
    let closed = store
        .close_participation(p.id, t_left)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(closed.left_at, Some(t_left));
    // Closing twice keeps the first time.
    let again = store
        .close_participation(p.id, t_left + Duration::seconds(9))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.left_at, Some(t_left));
    assert!(
        store
            .close_participation(mm_api::ParticipationId(i64::MAX), now())
            .await
            .unwrap()
            .is_none()
    );

    store
        .open_participation(m1.id, host.id, now())
        .await
        .unwrap();
    store
        .open_participation(m1.id, guest.id, now())
        .await
        .unwrap();
    store
        .open_participation(m2.id, guest.id, now())
        .await
        .unwrap();
    assert_eq!(
        store.close_open_participations(m1.id, now()).await.unwrap(),
        2
    );
    assert_eq!(
        store.close_open_participations(m1.id, now()).await.unwrap(),
        0
    );
    assert!(
        store
            .participants_of(m1.id)
            .await
            .unwrap()
            .iter()
            .all(|p| p.left_at.is_some())
    );
    assert!(
        store
            .participants_of(m2.id)
            .await
            .unwrap()
            .iter()
            .any(|p| p.left_at.is_none())
    );
    // Crash recovery closes the rest everywhere.
    assert_eq!(store.close_all_open_participations(now()).await.unwrap(), 1);
    assert!(
        store
            .participants_of(m2.id)
            .await
            .unwrap()
            .iter()
            .all(|p| p.left_at.is_some())
    );
}

/// A participation closes only on the node that holds it: after it moved to another node, the
/// node it left cannot close it.
pub(crate) async fn a_moved_participation_is_closed_only_by_its_node(store: &Store) {
    let host = user(store, "Host").await;
    let guest = user(store, "Guest").await;
    let meeting = meeting(store, &host, "mov-edpa-rti", "M").await;
    let on_a = store
        .open_participation_on(meeting.id, guest.id, now(), Some("node-a"))
        .await
        .unwrap();
    let on_b = store
        .open_participation_on(meeting.id, guest.id, now(), Some("node-b"))
        .await
        .unwrap();
    assert_eq!(
        on_a.id, on_b.id,
        "a reconnect elsewhere moves the same stay"
    );
    let by_a = store
        .close_participation_held_by(on_a.id, Some("node-a"), now())
        .await
        .unwrap();
    assert_eq!(by_a, None, "node a no longer holds it");
    let open: Vec<bool> = store
        .participants_of(meeting.id)
        .await
        .unwrap()
        .iter()
        .map(|p| p.left_at.is_none())
        .collect();
    assert_eq!(open, [true], "still present");
    let by_b = store
        .close_participation_held_by(on_b.id, Some("node-b"), now())
        .await
        .unwrap()
        .expect("node b holds it");
    assert!(by_b.left_at.is_some());
    // Rows of a single server from before nodes were recorded: closed by "no node".
    let old = store
        .open_participation(meeting.id, host.id, now())
        .await
        .unwrap();
    let closed = store
        .close_participation_held_by(old.id, None, now())
        .await
        .unwrap();
    assert!(closed.is_some_and(|p| p.left_at.is_some()));
}
