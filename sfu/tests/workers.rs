//! One meeting on two media workers: its home places peers on the least-loaded worker, each
//! worker forwards what is published on the other (relayed once per worker), a late joiner
//! on the other worker starts from that worker's keyframe cache, and leaving peers free
//! their placement.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{Participant, run_until};
use mm_sfu::{MediaKind, PeerId, RoomId, Sfu, SfuConfig};

fn config() -> SfuConfig {
    SfuConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        public_ips: vec!["127.0.0.1".parse().unwrap()],
        allowed_networks: vec!["127.0.0.0/8".parse().unwrap()],
        workers: 2,
        keyframe_cache_max_age: Duration::from_secs(60),
        ..Default::default()
    }
}

fn has_av(p: &Participant, from: u64, n: usize) -> bool {
    p.frames_from(PeerId(from), MediaKind::Video).len() >= n
        && p.frames_from(PeerId(from), MediaKind::Audio).len() >= n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_spread_over_two_workers_receives_everything() {
    common::init_tracing();
    let sfu = Sfu::start(config()).await.unwrap();
    let ports: Vec<u16> = sfu.local_addrs().iter().map(|a| a.port()).collect();
    let room = sfu.room(&RoomId::from("two-workers"));
    let mut a = Participant::join(&room, 1).await;
    let mut b = Participant::join(&room, 2).await;
    let mut c = Participant::join(&room, 3).await;
    a.publish_av().await;
    b.publish_audio().await;
    run_until(
        &mut [&mut a, &mut b, &mut c],
        Duration::from_secs(20),
        "B and C receive A's audio and video, A and C receive B's audio",
        |ps| {
            has_av(ps[1], 1, 10)
                && has_av(ps[2], 1, 10)
                && ps[0].frames_from(PeerId(2), MediaKind::Audio).len() >= 10
                && ps[2].frames_from(PeerId(2), MediaKind::Audio).len() >= 10
        },
    )
    .await;
    let on: Vec<u16> = [&a, &b, &c].iter().map(|p| p.sfu_port().unwrap()).collect();
    assert_eq!(
        on.iter().collect::<HashSet<_>>().len(),
        2,
        "peers on both workers: {on:?} of {ports:?}"
    );
    assert_eq!(on[0], on[2], "ties go to the home: A and C share it");

    // D joins late and lands on B's worker, which has A's keyframe cached from the relay.
    let requests_before = a.keyframe_requests;
    let mut d = Participant::join(&room, 4).await;
    run_until(
        &mut [&mut a, &mut b, &mut c, &mut d],
        Duration::from_secs(20),
        "D receives A's audio and video",
        |ps| has_av(ps[3], 1, 5) && ps[3].frames_from(PeerId(2), MediaKind::Audio).len() >= 5,
    )
    .await;
    assert_eq!(d.sfu_port(), Some(on[1]), "D is on the other worker");
    let first = d.frames_from(PeerId(1), MediaKind::Video)[0];
    assert!(first.keyframe, "D's first video frame is a keyframe");
    assert_eq!(
        a.keyframe_requests, requests_before,
        "A got no keyframe request for D: the other worker's cache served it"
    );

    let per_worker = sfu.worker_stats().await;
    let home = ports.iter().position(|p| *p == on[0]).unwrap();
    let other = 1 - home;
    assert_eq!(per_worker[home].peers, 2, "{per_worker:?}");
    assert_eq!(per_worker[other].peers, 2, "{per_worker:?}");
    assert_eq!(per_worker[home].placed_peers, 2);
    assert_eq!(per_worker[other].placed_peers, 2);
    assert_eq!(per_worker[home].rooms + per_worker[other].rooms, 1);
    assert!(per_worker[home].relayed_out > 0 && per_worker[other].relayed_in > 0);
    assert!(per_worker[other].relayed_out > 0 && per_worker[home].relayed_in > 0);
    assert!(per_worker[other].cache_starts > 0, "{per_worker:?}");
    // Each worker forwards to its own subscribers: B and D (A's two tracks, and B's audio to
    // D), A and C (B's audio, and A's two tracks to C).
    assert_eq!(per_worker[other].down_tracks, 5, "{per_worker:?}");
    assert_eq!(per_worker[home].down_tracks, 4, "{per_worker:?}");

    // A leaves: the others on both workers lose A's tracks.
    room.leave(PeerId(1)).await;
    let gone = |p: &Participant| {
        p.offers
            .last()
            .is_some_and(|o| o.iter().all(|t| t.publisher != PeerId(1)))
    };
    run_until(
        &mut [&mut b, &mut c, &mut d],
        Duration::from_secs(20),
        "A's tracks removed everywhere",
        |ps| gone(ps[1]) && gone(ps[2]),
    )
    .await;
    let s = sfu.stats().await;
    assert_eq!((s.peers, s.placed_peers, s.up_tracks), (3, 3, 1), "{s:?}");
    assert_eq!(s.down_tracks, 2, "B's audio to C and D: {s:?}");

    for id in 2..=4 {
        room.leave(PeerId(id)).await;
    }
    let s = sfu.stats().await;
    assert_eq!((s.rooms, s.peers, s.placed_peers), (0, 0, 0), "{s:?}");
    sfu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_id_is_placed_once_per_room() {
    let sfu = Sfu::start(config()).await.unwrap();
    let room = sfu.room(&RoomId::from("placed-once"));
    let (tx, _rx) = tokio::sync::mpsc::channel(8);
    room.join(PeerId(1), tx.clone()).await.unwrap();
    let (tx2, _rx2) = tokio::sync::mpsc::channel(8);
    room.join(PeerId(2), tx2).await.unwrap();
    assert!(matches!(
        room.join(PeerId(2), tx.clone()).await,
        Err(mm_sfu::SfuError::PeerExists)
    ));
    room.leave(PeerId(2)).await;
    let (tx3, _rx3) = tokio::sync::mpsc::channel(8);
    room.join(PeerId(2), tx3).await.unwrap();
    let s = sfu.worker_stats().await;
    assert_eq!(
        s.iter().map(|w| w.placed_peers).collect::<Vec<_>>(),
        vec![1, 1]
    );
    room.close().await;
    let s = sfu.stats().await;
    assert_eq!((s.rooms, s.peers, s.placed_peers), (0, 0, 0), "{s:?}");
    sfu.shutdown().await;
}
