//! Conformance tests of meetings: unique codes, lobby setting, lifecycle, ending, listing, startup.

use chrono::Duration;
use mm_api::meeting::MeetingOptions;
use mm_api::store::now;
use mm_api::{Error, MeetingStatus, Store};

use crate::{meeting, user};

pub(crate) async fn startup_pauses_active_meetings(store: &Store) {
    let host = user(store, "Host").await;
    let live = meeting(store, &host, "liv-eliv-eli", "Live").await;
    let idle = meeting(store, &host, "idl-eidl-eid", "Idle").await;
    store.mark_meeting_active(live.id, now()).await.unwrap();
    assert_eq!(store.pause_active_meetings().await.unwrap(), 1);
    let live = store.meeting_by_id(live.id).await.unwrap().unwrap();
    assert_eq!(live.status, MeetingStatus::Paused);
    let idle = store.meeting_by_id(idle.id).await.unwrap().unwrap();
    assert_eq!(idle.status, MeetingStatus::Created);
}

pub(crate) async fn a_meeting_keeps_its_lobby_setting(store: &Store) {
    let host = user(store, "Host").await;
    let m = store
        .create_meeting(
            "lob-byon-lob",
            "Waiting room",
            host.id,
            MeetingOptions {
                lobby: true,
                ..Default::default()
            },
            now(),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(m.lobby);
    let room = store.claim_meeting(m.id).await.unwrap();
    store.set_meeting_lobby(m.id, false, room).await.unwrap();
    let read = store.meeting_by_id(m.id).await.unwrap().unwrap();
    assert!(!read.lobby);
    let other = meeting(store, &host, "lob-byof-lob", "Open").await;
    assert!(!other.lobby);
}

pub(crate) async fn meeting_codes_are_unique(store: &Store) {
    let host = user(store, "Host").await;
    let first = meeting(store, &host, "abc-defg-hij", "One").await;
    assert_eq!(first.status, MeetingStatus::Created);
    assert_eq!(first.host_id, host.id);
    assert!(first.started_at.is_none() && first.ended_at.is_none());
    let clash = store
        .create_meeting(
            "abc-defg-hij",
            "Two",
            host.id,
            MeetingOptions::default(),
            now(),
        )
        .await
        .unwrap();
    assert!(clash.is_none());
    assert_eq!(
        store.meeting_by_code("abc-defg-hij").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.meeting_by_id(first.id).await.unwrap(), Some(first));
    assert!(
        store
            .meeting_by_code("zzz-zzzz-zzz")
            .await
            .unwrap()
            .is_none()
    );
}

pub(crate) async fn meeting_lifecycle_transitions(store: &Store) {
    let host = user(store, "Host").await;
    let meeting = meeting(store, &host, "lif-ecyc-les", "Life").await;
    let paused = store.mark_meeting_paused(meeting.id).await;
    assert!(
        matches!(
            paused,
            Err(Error::InvalidTransition {
                from: MeetingStatus::Created,
                ..
            })
        ),
        "{paused:?}"
    );
    let t1 = now();
    let active = store.mark_meeting_active(meeting.id, t1).await.unwrap();
    assert_eq!(active.status, MeetingStatus::Active);
    assert_eq!(active.started_at, Some(t1));
    let paused = store.mark_meeting_paused(meeting.id).await.unwrap();
    assert_eq!(paused.status, MeetingStatus::Paused);
    // Becoming active again keeps the first start time.
    let again = store
        .mark_meeting_active(meeting.id, t1 + Duration::seconds(5))
        .await
        .unwrap();
    assert_eq!(again.status, MeetingStatus::Active);
    assert_eq!(again.started_at, Some(t1));
    store.mark_meeting_ended(meeting.id, now()).await.unwrap();
    assert!(matches!(
        store.mark_meeting_active(meeting.id, now()).await,
        Err(Error::MeetingEnded)
    ));
    assert!(matches!(
        store.mark_meeting_paused(meeting.id).await,
        Err(Error::MeetingEnded)
    ));
    assert!(matches!(
        store
            .mark_meeting_active(mm_api::MeetingId(i64::MAX), now())
            .await,
        Err(Error::MeetingNotFound)
    ));
}

pub(crate) async fn ending_is_idempotent(store: &Store) {
    let host = user(store, "Host").await;
    let meeting = meeting(store, &host, "end-ende-end", "End").await;
    let t1 = now();
    let (ended, changed) = store.mark_meeting_ended(meeting.id, t1).await.unwrap();
    assert!(changed);
    assert_eq!(ended.status, MeetingStatus::Ended);
    assert_eq!(ended.ended_at, Some(t1));
    let (again, changed) = store
        .mark_meeting_ended(meeting.id, t1 + Duration::seconds(60))
        .await
        .unwrap();
    assert!(!changed);
    assert_eq!(again, ended);
    assert!(matches!(
        store
            .mark_meeting_ended(mm_api::MeetingId(i64::MAX), now())
            .await,
        Err(Error::MeetingNotFound)
    ));
}

pub(crate) async fn meetings_for_user_lists_hosted_and_joined_newest_first(store: &Store) {
    let alice = user(store, "Alice").await;
    let bob = user(store, "Bob").await;
    let t0 = now();
    let mut codes = Vec::new();
    for (i, host) in [&alice, &bob, &alice, &bob].into_iter().enumerate() {
        let code = format!("lst-aaa{}-xyz", char::from(b'a' + u8::try_from(i).unwrap()));
        store
            .create_meeting(
                &code,
                "M",
                host.id,
                MeetingOptions::default(),
                t0 + Duration::seconds(i64::try_from(i).unwrap()),
            )
            .await
            .unwrap()
            .unwrap();
        codes.push(code);
    }
    // Alice joins Bob's first meeting (twice: still listed once); Bob's second is not hers.
    let joined = store.meeting_by_code(&codes[1]).await.unwrap().unwrap();
    let p = store
        .open_participation(joined.id, alice.id, now())
        .await
        .unwrap();
    store.close_participation(p.id, now()).await.unwrap();
    store
        .open_participation(joined.id, alice.id, now())
        .await
        .unwrap();

    let all = store.meetings_for_user(alice.id, 10, 0).await.unwrap();
    let listed: Vec<&str> = all.iter().map(|m| m.code.as_str()).collect();
    assert_eq!(listed, [&codes[2], &codes[1], &codes[0]]);
    let page = store.meetings_for_user(alice.id, 2, 1).await.unwrap();
    let listed: Vec<&str> = page.iter().map(|m| m.code.as_str()).collect();
    assert_eq!(listed, [&codes[1], &codes[0]]);
    assert!(
        store
            .meetings_for_user(alice.id, 10, 3)
            .await
            .unwrap()
            .is_empty()
    );
}
