//! The same cache/bus tests against the in-process cache (always) and Redis (`TEST_REDIS_URL`).

mod common;

use std::time::Duration;

use mm_api::Cache;

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
