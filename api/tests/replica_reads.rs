//! Which database answers a list when a read replica is configured. The "replica" here is a
//! second schema on the run's PostgreSQL that holds different rows than the primary, so every
//! answer shows where it was read. (`./test.sh` also runs the API and signaling suites against
//! a real streaming replica.)

mod common;

use std::time::Duration;

use mm_api::meeting::MeetingOptions;
use mm_api::store::now;
use mm_api::{Cache, MeetingService, Store, UserId, Written};

const WAIT: Duration = Duration::from_secs(30);

/// Two fresh schemas: (primary URL, stand-in replica URL, admin URL, schema names).
async fn two_schemas() -> Option<(String, String, String, [String; 2])> {
    let Ok(admin) = std::env::var("TEST_DATABASE_URL") else {
        assert!(
            std::env::var("MM_REQUIRE_SERVICES").is_err(),
            "MM_REQUIRE_SERVICES is set but TEST_DATABASE_URL is not"
        );
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return None;
    };
    let names = [
        format!("mm_primary_{}", common::random_suffix()),
        format!("mm_replica_{}", common::random_suffix()),
    ];
    let pool = sqlx::PgPool::connect(&admin).await.unwrap();
    for n in &names {
        sqlx::query(&format!("CREATE SCHEMA {n}"))
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
    let url = |schema: &str| {
        let sep = if admin.contains('?') { '&' } else { '?' };
        format!("{admin}{sep}options=-c%20search_path%3D{schema}")
    };
    Some((url(&names[0]), url(&names[1]), admin.clone(), names))
}

async fn drop_schemas(admin: &str, names: &[String]) {
    let pool = sqlx::PgPool::connect(admin).await.unwrap();
    for n in names {
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {n} CASCADE"))
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
}

#[tokio::test]
async fn lists_come_from_the_replica_except_right_after_a_write() {
    let Some((primary_url, replica_url, admin, names)) = two_schemas().await else {
        return;
    };
    // The stand-in replica has the schema but none of the primary's rows.
    Store::connect(&replica_url).await.unwrap().close().await;
    let store = Store::connect_with_replica(&primary_url, Some(&replica_url))
        .await
        .unwrap();
    let service = MeetingService::new(store.clone(), Cache::memory());
    let host = store
        .create_user(&common::email(), "hash", "Host", now())
        .await
        .unwrap();
    let first = service
        .create(host.id, "First", MeetingOptions::default())
        .await
        .unwrap();

    // Right after the host's write: the primary, which has the meeting.
    let page = service.list_for(host.id, 10, 0).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].code, first.code);

    // Once the write is no longer recent: the replica, which (here) has nothing.
    let deadline = tokio::time::Instant::now() + WAIT;
    while !service
        .list_for(host.id, 10, 0)
        .await
        .unwrap()
        .items
        .is_empty()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "lists never moved to the replica"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Another user's write does not send this user's reads to the primary...
    service
        .reads()
        .wrote(&[Written::User(UserId(host.id.0 + 1))])
        .await;
    assert!(
        service
            .list_for(host.id, 10, 0)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // A participation written straight to the primary is not seen on the replica...
    store
        .open_participation(first.id, host.id, now())
        .await
        .unwrap();
    assert!(
        service
            .participants(host.id, &first.code)
            .await
            .unwrap()
            .is_empty()
    );
    // ...until the meeting is known to be written: its lists come from the primary then.
    service.reads().wrote(&[Written::Meeting(first.id)]).await;
    assert_eq!(
        service
            .participants(host.id, &first.code)
            .await
            .unwrap()
            .len(),
        1
    );
    // The host's own list still comes from the replica.
    assert!(
        service
            .list_for(host.id, 10, 0)
            .await
            .unwrap()
            .items
            .is_empty()
    );

    // A replica that fails hands its reads to the primary.
    drop_schemas(&admin, &names[1..]).await;
    let page = service.list_for(host.id, 10, 0).await.unwrap();
    assert_eq!(
        page.items.len(),
        1,
        "read from the primary after the replica failed"
    );

    store.close().await;
    drop_schemas(&admin, &names).await;
}

/// With a real streaming replica (`./test.sh` starts one): a list read once the write is old
/// comes from the replica, and has what the primary wrote.
#[tokio::test]
async fn a_streaming_replica_answers_lists_once_writes_are_old() {
    let Ok(replica) = std::env::var("TEST_DATABASE_REPLICA_URL") else {
        eprintln!(
            "skipped: TEST_DATABASE_REPLICA_URL is not set (./test.sh sets it in its replica step)"
        );
        return;
    };
    let Some(db) = common::TestDb::postgres().await else {
        return;
    };
    let store = db.store.clone();
    let service = MeetingService::new(store.clone(), Cache::memory());
    let host = store
        .create_user(&common::email(), "hash", "Host", now())
        .await
        .unwrap();
    let meeting = service
        .create(host.id, "Replicated", MeetingOptions::default())
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let from = service.reads().store_for(&[Written::User(host.id)]).await;
        // The primary is the store that has a replica.
        if from.replica().is_some() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "reads never moved to the replica"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        // The replica itself answers, with the primary's row.
        let rows = from.meetings_for_user(host.id, 10, 0).await.unwrap();
        assert_eq!(rows.len(), 1, "replica at {replica}");
        assert_eq!(rows[0].code, meeting.code);
        break;
    }
    let page = service.list_for(host.id, 10, 0).await.unwrap();
    assert_eq!(page.items[0].code, meeting.code);
}
