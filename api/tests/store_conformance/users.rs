//! Conformance tests of users: round trip and case-insensitively unique emails.

use mm_api::store::now;
use mm_api::{Error, Store};

use crate::common;

pub(crate) async fn users_round_trip(store: &Store) {
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

pub(crate) async fn email_is_unique_case_insensitively(store: &Store) {
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
