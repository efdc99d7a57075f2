//! End to end through the SFU on 127.0.0.1: str0m clients publish audio + video with a
//! counter in every frame; the others receive them intact and in order; a late joiner starts
//! with a keyframe requested from the publisher; a leaving publisher's tracks are removed by
//! renegotiation.

mod common;

use std::time::Duration;

use common::{Participant, counter_of, payload, run_until};
use mm_sfu::{MediaKind, PeerEvent, PeerId, RoomId, Sfu, SfuConfig};

fn loopback_config() -> SfuConfig {
    SfuConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        public_ips: vec!["127.0.0.1".parse().unwrap()],
        allowed_networks: vec!["127.0.0.0/8".parse().unwrap()],
        workers: 2,
        keyframe_min_interval: Duration::from_millis(200),
        ..Default::default()
    }
}

/// Every frame is byte-identical to what was sent, counters strictly increase, and (audio)
/// none is missing after the first one received.
fn check_stream(frames: &[&common::Frame], kind: MediaKind, what: &str) {
    assert!(!frames.is_empty(), "{what}: nothing received");
    let mut last: Option<u32> = None;
    for f in frames {
        let c = counter_of(&f.data);
        let sent_as_key = f.data[0] == 0x00;
        assert_eq!(
            f.data,
            payload(kind, c, sent_as_key),
            "{what}: frame {c} intact"
        );
        if let Some(l) = last {
            assert!(c > l, "{what}: in order ({l} then {c})");
            if kind == MediaKind::Audio {
                assert_eq!(c, l + 1, "{what}: no audio frame lost on loopback");
            }
        }
        last = Some(c);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwards_between_peers_late_joiner_and_leave() {
    common::init_tracing();
    let sfu = Sfu::start(loopback_config()).await.expect("sfu starts");
    assert_eq!(sfu.local_addrs().len(), 2);
    assert!(sfu.local_addrs().iter().all(|a| a.ip().is_loopback()));
    let room = sfu.room(&RoomId::from("abc-defg-hij"));

    let mut a = Participant::join(&room, 1).await;
    let mut b = Participant::join(&room, 2).await;
    a.publish_av().await;
    b.publish_av().await;

    // A and B exchange audio and video.
    run_until(
        &mut [&mut a, &mut b],
        Duration::from_secs(20),
        "A and B receive 40 audio and 20 video frames from each other",
        |ps| {
            ps[0].frames_from(PeerId(2), MediaKind::Audio).len() >= 40
                && ps[0].frames_from(PeerId(2), MediaKind::Video).len() >= 20
                && ps[1].frames_from(PeerId(1), MediaKind::Audio).len() >= 40
                && ps[1].frames_from(PeerId(1), MediaKind::Video).len() >= 20
        },
    )
    .await;
    for (rx, from, name) in [(&b, PeerId(1), "B<-A"), (&a, PeerId(2), "A<-B")] {
        check_stream(
            &rx.frames_from(from, MediaKind::Audio),
            MediaKind::Audio,
            &format!("{name} audio"),
        );
        let video = rx.frames_from(from, MediaKind::Video);
        check_stream(&video, MediaKind::Video, &format!("{name} video"));
        assert!(video[0].keyframe, "{name}: video starts with a keyframe");
        assert!(
            rx.received.iter().all(|f| f.publisher != rx.id),
            "{name}: no echo"
        );
    }
    assert!(
        a.sfu_events
            .iter()
            .any(|e| matches!(e, PeerEvent::Published { tracks } if tracks.len() == 2)),
        "A was told it publishes 2 tracks"
    );

    // C joins late (publishes nothing) and gets A's and B's tracks.
    let mut c = Participant::join(&room, 3).await;
    run_until(
        &mut [&mut a, &mut b, &mut c],
        Duration::from_secs(20),
        "C receives 10 video frames from A and 20 audio frames from B",
        |ps| {
            ps[2].frames_from(PeerId(1), MediaKind::Video).len() >= 10
                && ps[2].frames_from(PeerId(2), MediaKind::Audio).len() >= 20
        },
    )
    .await;
    let c_video = c.frames_from(PeerId(1), MediaKind::Video);
    check_stream(&c_video, MediaKind::Video, "C<-A video");
    assert!(
        c_video[0].keyframe,
        "C's first video frame from A is a keyframe"
    );
    // Whether C's start came from A's keyframe cache or from a new request depends on how
    // old A's last keyframe is: `keyframe_cache.rs` tests both paths.
    let first_offer = &c.offers[0];
    assert_eq!(
        first_offer.len(),
        4,
        "C's first offer carries A's and B's audio+video"
    );

    let stats = sfu.stats().await;
    assert_eq!(stats.rooms, 1);
    assert_eq!(stats.peers, 3);
    assert_eq!(stats.up_tracks, 4);
    assert_eq!(stats.down_tracks, 8);
    assert!(
        stats.packets_in > 100 && stats.packets_out > 100,
        "{stats:?}"
    );

    // A leaves: B and C get offers without A's tracks.
    let b_offers = b.offers.len();
    let c_offers = c.offers.len();
    room.leave(PeerId(1)).await;
    run_until(
        &mut [&mut b, &mut c],
        Duration::from_secs(10),
        "B and C renegotiate without A",
        |ps| ps[0].offers.len() > b_offers && ps[1].offers.len() > c_offers,
    )
    .await;
    assert!(
        b.offers
            .last()
            .unwrap()
            .iter()
            .all(|t| t.publisher != PeerId(1))
    );
    let c_last = c.offers.last().unwrap();
    assert!(c_last.iter().all(|t| t.publisher != PeerId(1)));
    assert_eq!(c_last.len(), 2, "C keeps B's two tracks");
    // Leaving is not a failure: no Closed event, A's event channel just ends.
    a.step(false).await;
    assert!(
        !a.sfu_events
            .iter()
            .any(|e| matches!(e, PeerEvent::Closed { .. }))
    );
    assert!(a.events.recv().await.is_none(), "A's event channel ended");

    // B still reaches C after the renegotiation.
    let c_audio_before = c.frames_from(PeerId(2), MediaKind::Audio).len();
    run_until(
        &mut [&mut b, &mut c],
        Duration::from_secs(10),
        "C keeps receiving B's audio",
        |ps| ps[1].frames_from(PeerId(2), MediaKind::Audio).len() >= c_audio_before + 10,
    )
    .await;
    let stats = sfu.stats().await;
    assert_eq!(stats.peers, 2);
    assert_eq!(stats.up_tracks, 2);
    assert_eq!(stats.down_tracks, 2);

    room.close().await;
    // The event may queue behind others (track states): wait for it, bounded.
    run_until(
        &mut [&mut b],
        Duration::from_secs(10),
        "B told it is closed",
        |ps| {
            ps[0]
                .sfu_events
                .iter()
                .any(|e| matches!(e, PeerEvent::Closed { .. }))
        },
    )
    .await;
    assert_eq!(sfu.stats().await.rooms, 0);
    sfu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtcp_sender_and_receiver_reports_flow_both_ways() {
    common::init_tracing();
    let sfu = Sfu::start(loopback_config()).await.expect("sfu starts");
    let room = sfu.room(&RoomId::from("rtcp-reports"));
    let mut a = Participant::join(&room, 1).await;
    let mut b = Participant::join(&room, 2).await;
    a.publish_av().await;
    // The SFU reports on A's incoming streams (RR to A) and on what it sends B (SR to B).
    run_until(
        &mut [&mut a, &mut b],
        Duration::from_secs(20),
        "A hears receiver reports and B sender reports from the SFU",
        |ps| ps[0].receiver_reports > 0 && ps[1].sender_reports > 0,
    )
    .await;
    sfu.shutdown().await;
}
