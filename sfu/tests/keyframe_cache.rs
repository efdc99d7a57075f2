//! A late joiner's video starts from the UpTrack's keyframe cache: its first frame is a
//! keyframe the publisher sent before the joiner arrived, and the publisher gets no keyframe
//! request for it. Without the cache, the joiner's start asks the publisher.

mod common;

use std::time::Duration;

use common::{Participant, run_until};
use mm_sfu::{MediaKind, PeerId, RoomId, Sfu, SfuConfig, SfuStats};

fn config(cache: Duration) -> SfuConfig {
    SfuConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        public_ips: vec!["127.0.0.1".parse().unwrap()],
        allowed_networks: vec!["127.0.0.0/8".parse().unwrap()],
        // Long enough that a slow machine's join never outlives the cached keyframe (the test
        // publisher sends one every 150 frames).
        keyframe_cache_max_age: cache,
        ..Default::default()
    }
}

/// Publisher 1 and subscriber 2 run until 2 has video; then 3 joins. Returns the publisher's
/// keyframe requests and the SFU's counters just before 3 joined, and everyone.
async fn late_join(sfu: &Sfu, room: &str) -> (usize, SfuStats, [Participant; 3]) {
    let room = sfu.room(&RoomId::from(room));
    let mut a = Participant::join(&room, 1).await;
    let mut b = Participant::join(&room, 2).await;
    a.publish_av().await;
    run_until(
        &mut [&mut a, &mut b],
        Duration::from_secs(20),
        "B receives 10 video frames",
        |ps| ps[1].frames_from(PeerId(1), MediaKind::Video).len() >= 10,
    )
    .await;
    let before = a.keyframe_requests;
    let stats = sfu.stats().await;
    let mut c = Participant::join(&room, 3).await;
    run_until(
        &mut [&mut a, &mut b, &mut c],
        Duration::from_secs(20),
        "C receives 5 video frames",
        |ps| ps[2].frames_from(PeerId(1), MediaKind::Video).len() >= 5,
    )
    .await;
    (before, stats, [a, b, c])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_joiner_starts_from_the_cached_keyframe() {
    common::init_tracing();
    let sfu = Sfu::start(config(Duration::from_secs(60))).await.unwrap();
    let (before, stats_before_c, [a, _b, c]) = late_join(&sfu, "cache").await;
    let first = c.frames_from(PeerId(1), MediaKind::Video)[0];
    assert!(first.keyframe, "C's first video frame is a keyframe");
    assert!(
        a.sent_video
            .iter()
            .any(|(n, key)| *key && *n == common::counter_of(&first.data)),
        "it is one the publisher sent"
    );
    assert_eq!(
        a.keyframe_requests, before,
        "the publisher got no keyframe request for C"
    );
    let s = sfu.stats().await;
    assert!(
        s.cache_starts > stats_before_c.cache_starts,
        "C started from the cache: {s:?}"
    );
    sfu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_cache_a_late_joiner_asks_the_publisher() {
    common::init_tracing();
    let sfu = Sfu::start(config(Duration::ZERO)).await.unwrap();
    let (before, _, [a, _b, c]) = late_join(&sfu, "no-cache").await;
    assert!(c.frames_from(PeerId(1), MediaKind::Video)[0].keyframe);
    assert!(
        a.keyframe_requests > before,
        "C's start asked the publisher for a keyframe"
    );
    assert_eq!(sfu.stats().await.cache_starts, 0);
    sfu.shutdown().await;
}
