//! The same cache/bus tests against the in-process cache (always) and Redis (`TEST_REDIS_URL`).

mod common;

use std::time::Duration;

use mm_api::Cache;
use mm_api::cache::{LeaseClaim, Renewal};

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(&mm_api::Cache::memory()).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(cache) = super::common::redis_cache().await else { return };
                    super::$name(&cache).await;
                }
            )*
        }
    };
}

conformance!(
    set_get_exists_del,
    zero_ttl_entries_are_gone,
    windows_count_up_and_report_reset,
    publish_reaches_every_subscriber,
    channels_are_separate,
    ping_answers,
    a_lease_has_one_holder_and_a_growing_fence,
    racing_acquirers_get_one_grant,
    an_expired_lease_passes_on_and_the_old_holder_loses_it,
    a_vanished_lease_is_taken_back_unless_granted_since,
    sets_add_list_remove,
);

const HOUR: Duration = Duration::from_secs(3600);

async fn set_get_exists_del(cache: &Cache) {
    assert_eq!(cache.get("k").await.unwrap(), None);
    assert!(!cache.exists("k").await.unwrap());
    cache.set_ex("k", b"value", HOUR).await.unwrap();
    assert_eq!(cache.get("k").await.unwrap(), Some(b"value".to_vec()));
    assert!(cache.exists("k").await.unwrap());
    cache.set_ex("k", b"other", HOUR).await.unwrap();
    assert_eq!(cache.get("k").await.unwrap(), Some(b"other".to_vec()));
    cache.del("k").await.unwrap();
    assert!(!cache.exists("k").await.unwrap());
    cache.del("k").await.unwrap();
}

async fn zero_ttl_entries_are_gone(cache: &Cache) {
    cache.set_ex("gone", b"v", HOUR).await.unwrap();
    cache.set_ex("gone", b"v", Duration::ZERO).await.unwrap();
    assert!(!cache.exists("gone").await.unwrap());
    assert_eq!(cache.get("gone").await.unwrap(), None);
}

async fn windows_count_up_and_report_reset(cache: &Cache) {
    assert_eq!(cache.peek_window("w").await.unwrap(), None);
    let first = cache.incr_window("w", HOUR).await.unwrap();
    assert_eq!(first.count, 1);
    assert!(first.resets_in <= HOUR && first.resets_in > HOUR / 2);
    let second = cache.incr_window("w", HOUR).await.unwrap();
    assert_eq!(second.count, 2);
    assert!(second.resets_in <= first.resets_in);
    let peek = cache.peek_window("w").await.unwrap().unwrap();
    assert_eq!(peek.count, 2);
    assert!(peek.resets_in > Duration::ZERO && peek.resets_in <= HOUR);
    assert_eq!(cache.incr_window("other", HOUR).await.unwrap().count, 1);
    cache.del("other").await.unwrap();
    cache.del("w").await.unwrap();
    assert_eq!(cache.peek_window("w").await.unwrap(), None);
}

async fn publish_reaches_every_subscriber(cache: &Cache) {
    // Nobody listening is fine.
    cache.publish("events", b"lost").await.unwrap();
    let mut a = cache.subscribe("events").await.unwrap();
    let mut b = cache.subscribe("events").await.unwrap();
    cache.publish("events", b"one").await.unwrap();
    cache.publish("events", b"two").await.unwrap();
    for sub in [&mut a, &mut b] {
        assert_eq!(sub.recv().await.unwrap(), b"one");
        assert_eq!(sub.recv().await.unwrap(), b"two");
    }
    drop(a);
    cache.publish("events", b"three").await.unwrap();
    assert_eq!(b.recv().await.unwrap(), b"three");
}

async fn channels_are_separate(cache: &Cache) {
    let mut x = cache.subscribe("x").await.unwrap();
    let mut y = cache.subscribe("y").await.unwrap();
    cache.publish("y", b"for y").await.unwrap();
    cache.publish("x", b"for x").await.unwrap();
    assert_eq!(x.recv().await.unwrap(), b"for x");
    assert_eq!(y.recv().await.unwrap(), b"for y");
}

async fn ping_answers(cache: &Cache) {
    cache.ping().await.unwrap();
}

fn granted(claim: LeaseClaim) -> mm_api::cache::Lease {
    match claim {
        LeaseClaim::Granted(lease) => lease,
        held => panic!("expected a grant, got {held:?}"),
    }
}

async fn a_lease_has_one_holder_and_a_growing_fence(cache: &Cache) {
    let a = granted(cache.acquire_lease("m1", "node-a", HOUR).await.unwrap());
    assert_eq!(a.holder, "node-a");
    assert_eq!(
        cache.acquire_lease("m1", "node-b", HOUR).await.unwrap(),
        LeaseClaim::Held {
            holder: "node-a".into(),
            fence: a.fence
        }
    );
    assert_eq!(
        cache.lease_holder("m1").await.unwrap(),
        Some(("node-a".into(), a.fence))
    );
    assert_eq!(cache.renew_lease(&a, HOUR).await.unwrap(), Renewal::Kept);
    // Another name is independent.
    granted(cache.acquire_lease("m2", "node-b", HOUR).await.unwrap());
    cache.release_lease(&a).await.unwrap();
    assert_eq!(cache.lease_holder("m1").await.unwrap(), None);
    let b = granted(cache.acquire_lease("m1", "node-b", HOUR).await.unwrap());
    assert!(b.fence > a.fence, "fences {} then {}", a.fence, b.fence);
    // Releasing a lease that is no longer ours leaves the new holder alone.
    cache.release_lease(&a).await.unwrap();
    assert_eq!(
        cache.lease_holder("m1").await.unwrap(),
        Some(("node-b".into(), b.fence))
    );
    assert_eq!(cache.renew_lease(&a, HOUR).await.unwrap(), Renewal::Lost);
}

async fn racing_acquirers_get_one_grant(cache: &Cache) {
    let claims = futures_util::future::join_all((0..16).map(|i| {
        let cache = cache.clone();
        async move {
            cache
                .acquire_lease("contended", &format!("node-{i}"), HOUR)
                .await
                .unwrap()
        }
    }))
    .await;
    let winners: Vec<_> = claims
        .iter()
        .filter_map(|c| match c {
            LeaseClaim::Granted(l) => Some(l.clone()),
            LeaseClaim::Held { .. } => None,
        })
        .collect();
    assert_eq!(winners.len(), 1, "{claims:?}");
    for claim in &claims {
        if let LeaseClaim::Held { holder, fence } = claim {
            assert_eq!((holder, *fence), (&winners[0].holder, winners[0].fence));
        }
    }
}

async fn an_expired_lease_passes_on_and_the_old_holder_loses_it(cache: &Cache) {
    let a = granted(
        cache
            .acquire_lease("m", "node-a", Duration::from_millis(1))
            .await
            .unwrap(),
    );
    // Wait until it has certainly expired (a condition, not a timing claim).
    while cache.lease_holder("m").await.unwrap().is_some() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let b = granted(cache.acquire_lease("m", "node-b", HOUR).await.unwrap());
    assert!(b.fence > a.fence);
    assert_eq!(cache.renew_lease(&a, HOUR).await.unwrap(), Renewal::Lost);
    // Even once b has let go, a's fence is stale: a must not come back as the holder.
    cache.release_lease(&b).await.unwrap();
    assert_eq!(cache.renew_lease(&a, HOUR).await.unwrap(), Renewal::Lost);
    assert_eq!(cache.lease_holder("m").await.unwrap(), None);
}

async fn a_vanished_lease_is_taken_back_unless_granted_since(cache: &Cache) {
    // As after a Redis restart that lost every key: the holder's renewal restores the lease.
    let a = granted(
        cache
            .acquire_lease("v", "node-a", Duration::from_millis(1))
            .await
            .unwrap(),
    );
    while cache.lease_holder("v").await.unwrap().is_some() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(cache.renew_lease(&a, HOUR).await.unwrap(), Renewal::Kept);
    assert_eq!(
        cache.lease_holder("v").await.unwrap(),
        Some(("node-a".into(), a.fence))
    );
    let b = cache.acquire_lease("v", "node-b", HOUR).await.unwrap();
    assert!(matches!(b, LeaseClaim::Held { .. }), "{b:?}");
}

async fn sets_add_list_remove(cache: &Cache) {
    assert!(cache.set_members("s").await.unwrap().is_empty());
    cache.set_add("s", "a").await.unwrap();
    cache.set_add("s", "b").await.unwrap();
    cache.set_add("s", "a").await.unwrap();
    let mut members = cache.set_members("s").await.unwrap();
    members.sort();
    assert_eq!(members, ["a", "b"]);
    cache.set_remove("s", "a").await.unwrap();
    cache.set_remove("s", "zzz").await.unwrap();
    assert_eq!(cache.set_members("s").await.unwrap(), ["b"]);
}
