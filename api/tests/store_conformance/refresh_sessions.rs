//! Conformance tests of refresh sessions: single-use rotation, family revocation, purging.

use chrono::Duration;
use mm_api::refresh_session::NewRefreshSession;
use mm_api::store::now;
use mm_api::{Store, User};

use crate::user;

pub(crate) async fn expired_refresh_sessions_are_purged(store: &Store) {
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

pub(crate) fn new_session(user: &User, family: &str, hash: &str) -> NewRefreshSession {
    NewRefreshSession {
        user_id: user.id,
        family_id: family.to_owned(),
        token_hash: hash.to_owned(),
        parent_id: None,
        expires_at: now() + Duration::days(1),
    }
}

pub(crate) async fn refresh_rotation_is_single_use(store: &Store) {
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

pub(crate) async fn refresh_family_revocation(store: &Store) {
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
