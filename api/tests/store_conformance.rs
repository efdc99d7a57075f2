//! The same repository tests against SQLite (always) and PostgreSQL (`TEST_DATABASE_URL`).

mod common;

use chrono::Duration;
use mm_api::meeting::MeetingOptions;
use mm_api::refresh_session::NewRefreshSession;
use mm_api::store::now;
use mm_api::{Error, MeetingStatus, Store, User};

use common::TestDb;

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = super::TestDb::sqlite().await;
                    super::$name(&db.store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = super::TestDb::postgres().await else { return };
                    super::$name(&db.store).await;
                }
            )*
        }
    };
}

conformance!(
    users_round_trip,
    email_is_unique_case_insensitively,
    meeting_codes_are_unique,
    a_meeting_keeps_its_lobby_setting,
    meeting_lifecycle_transitions,
    ending_is_idempotent,
    meetings_for_user_lists_hosted_and_joined_newest_first,
    one_open_participation_per_user_and_meeting,
    closing_participations,
    refresh_rotation_is_single_use,
    refresh_family_revocation,
    expired_refresh_sessions_are_purged,
    startup_pauses_active_meetings,
    ping_answers,
);

async fn expired_refresh_sessions_are_purged(store: &Store) {
    let alice = user(store, "Alice").await;
    let mut old = new_session(&alice, "fam-old", "hash-old");
    old.expires_at = now() - Duration::hours(1);
    store.create_refresh_session(&old, now()).await.unwrap();
    store
        .create_refresh_session(&new_session(&alice, "fam-new", "hash-new"), now())
        .await
        .unwrap();
    assert_eq!(
        store.purge_expired_refresh_sessions(now()).await.unwrap(),
        1
    );
    assert!(
        store
            .refresh_session_by_hash("hash-old")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .refresh_session_by_hash("hash-new")
            .await
            .unwrap()
            .is_some()
    );
}

async fn startup_pauses_active_meetings(store: &Store) {
    let host = user(store, "Host").await;
    let live = store
        .create_meeting(
            "liv-eliv-eli",
            "Live",
            host.id,
            MeetingOptions::default(),
            now(),
        )
        .await
        .unwrap()
        .unwrap();
    let idle = store
        .create_meeting(
            "idl-eidl-eid",
            "Idle",
            host.id,
            MeetingOptions::default(),
            now(),
        )
        .await
        .unwrap()
        .unwrap();
    store.mark_meeting_active(live.id, now()).await.unwrap();
    assert_eq!(store.pause_active_meetings().await.unwrap(), 1);
    let live = store.meeting_by_id(live.id).await.unwrap().unwrap();
    assert_eq!(live.status, MeetingStatus::Paused);
    let idle = store.meeting_by_id(idle.id).await.unwrap().unwrap();
    assert_eq!(idle.status, MeetingStatus::Created);
}

async fn user(store: &Store, name: &str) -> User {
    store
        .create_user(&common::email(), "hash", name, now())
        .await
        .unwrap()
}

async fn users_round_trip(store: &Store) {
    let email = common::email();
    let created = store
        .create_user(&email, "$argon2id$fake", "Alice", now())
        .await
        .unwrap();
    assert_eq!(created.email, email);
    assert_eq!(created.name, "Alice");
    assert_eq!(
        store.user_by_id(created.id).await.unwrap(),
        Some(created.clone())
    );
    let record = store.user_by_email(&email).await.unwrap().unwrap();
    assert_eq!(record.user, created);
    assert_eq!(record.password_hash, "$argon2id$fake");
    assert!(
        store
            .user_by_email("nobody@example.com")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .user_by_id(mm_api::UserId(i64::MAX))
            .await
            .unwrap()
            .is_none()
    );
}

async fn email_is_unique_case_insensitively(store: &Store) {
    let email = common::email();
    store.create_user(&email, "h", "A", now()).await.unwrap();
    let again = store.create_user(&email, "h", "B", now()).await;
    assert!(matches!(again, Err(Error::EmailTaken)), "{again:?}");
    // Even a writer that forgets to lower-case cannot create a case variant.
    let upper = store
        .create_user(&email.to_uppercase(), "h", "C", now())
        .await;
    assert!(matches!(upper, Err(Error::EmailTaken)), "{upper:?}");
}

async fn a_meeting_keeps_its_lobby_setting(store: &Store) {
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
    store.set_meeting_lobby(m.id, false).await.unwrap();
    let read = store.meeting_by_id(m.id).await.unwrap().unwrap();
    assert!(!read.lobby);
    let other = store
        .create_meeting(
            "lob-byof-lob",
            "Open",
            host.id,
            MeetingOptions::default(),
            now(),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(!other.lobby);
}

async fn meeting_codes_are_unique(store: &Store) {
    let host = user(store, "Host").await;
    let first = store
        .create_meeting(
            "abc-defg-hij",
            "One",
            host.id,
            MeetingOptions::default(),
            now(),
        )
        .await
        .unwrap()
        .unwrap();
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

async fn meeting_lifecycle_transitions(store: &Store) {
    let host = user(store, "Host").await;
    let meeting = store
        .create_meeting(
            "lif-ecyc-les",
            "Life",
            host.id,
            MeetingOptions::default(),
            now(),
        )
        .await
        .unwrap()
        .unwrap();
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

async fn ending_is_idempotent(store: &Store) {
    let host = user(store, "Host").await;
    let meeting = store
        .create_meeting(
            "end-ende-end",
            "End",
            host.id,
            MeetingOptions::default(),
            now(),
        )
        .await
        .unwrap()
        .unwrap();
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

async fn meetings_for_user_lists_hosted_and_joined_newest_first(store: &Store) {
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

async fn one_open_participation_per_user_and_meeting(store: &Store) {
    let host = user(store, "Host").await;
    let guest = user(store, "Guest").await;
    let meeting = store
        .create_meeting(
            "par-tici-pat",
            "P",
            host.id,
            MeetingOptions::default(),
            now(),
        )
        .await
        .unwrap()
        .unwrap();
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

async fn closing_participations(store: &Store) {
    let host = user(store, "Host").await;
    let guest = user(store, "Guest").await;
    let m1 = store
        .create_meeting(
            "clo-sing-one",
            "1",
            host.id,
            MeetingOptions::default(),
            now(),
        )
        .await
        .unwrap()
        .unwrap();
    let m2 = store
        .create_meeting(
            "clo-sing-two",
            "2",
            host.id,
            MeetingOptions::default(),
            now(),
        )
        .await
        .unwrap()
        .unwrap();
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

fn new_session(user: &User, family: &str, hash: &str) -> NewRefreshSession {
    NewRefreshSession {
        user_id: user.id,
        family_id: family.to_owned(),
        token_hash: hash.to_owned(),
        parent_id: None,
        expires_at: now() + Duration::days(1),
    }
}

async fn refresh_rotation_is_single_use(store: &Store) {
    let alice = user(store, "Alice").await;
    let first = store
        .create_refresh_session(&new_session(&alice, "fam-1", "hash-1"), now())
        .await
        .unwrap();
    assert_eq!(
        store.refresh_session_by_hash("hash-1").await.unwrap(),
        Some(first.clone())
    );
    assert!(first.used_at.is_none() && first.revoked_at.is_none());
    let expires = now() + Duration::days(2);
    let second = store
        .rotate_refresh_session(first.id, "hash-2", expires, now())
        .await
        .unwrap()
        .expect("first rotation succeeds");
    assert_eq!(second.family_id, "fam-1");
    assert_eq!(second.parent_id, Some(first.id));
    assert_eq!(second.user_id, alice.id);
    assert_eq!(second.expires_at, expires);
    let used = store
        .refresh_session_by_hash("hash-1")
        .await
        .unwrap()
        .unwrap();
    assert!(used.used_at.is_some());
    // The same token cannot be exchanged twice.
    assert!(
        store
            .rotate_refresh_session(first.id, "hash-3", expires, now())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .refresh_session_by_hash("hash-3")
            .await
            .unwrap()
            .is_none()
    );
}

async fn refresh_family_revocation(store: &Store) {
    let alice = user(store, "Alice").await;
    let a1 = store
        .create_refresh_session(&new_session(&alice, "fam-a", "a1"), now())
        .await
        .unwrap();
    let a2 = store
        .rotate_refresh_session(a1.id, "a2", now() + Duration::days(1), now())
        .await
        .unwrap()
        .unwrap();
    let b1 = store
        .create_refresh_session(&new_session(&alice, "fam-b", "b1"), now())
        .await
        .unwrap();
    assert_eq!(
        store.revoke_refresh_family("fam-a", now()).await.unwrap(),
        2
    );
    assert_eq!(
        store.revoke_refresh_family("fam-a", now()).await.unwrap(),
        0
    );
    let a2 = store
        .refresh_session_by_hash(&a2.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert!(a2.revoked_at.is_some());
    // A revoked token cannot be rotated.
    assert!(
        store
            .rotate_refresh_session(a2.id, "a3", now() + Duration::days(1), now())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .refresh_session_by_hash("b1")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none()
    );
    assert!(store.revoke_refresh_session(b1.id, now()).await.unwrap());
    assert!(!store.revoke_refresh_session(b1.id, now()).await.unwrap());
}

async fn ping_answers(store: &Store) {
    store.ping().await.unwrap();
    // Migrations are idempotent: running them again is harmless.
    store.migrate().await.unwrap();
}
