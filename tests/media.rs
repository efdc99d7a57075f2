//! Media end to end: headless webrtc-rs participants (from `bench/`) publish synthetic Opus and
//! VP8 through the real server and SFU on loopback, and verify every frame they receive.

mod common;

use std::time::Duration;

use common::{TestServer, backends};
use mm_bench::wire::{MediaKind, ParticipantId};
use mm_bench::{JoinOptions, Participant, TrackStats};

/// A bound for slow CI machines, not a performance assertion.
const WAIT: Duration = Duration::from_secs(30);

async fn join(s: &TestServer, token: &str, code: &str) -> Participant {
    Participant::join(JoinOptions::new(&s.base, token, code))
        .await
        .expect("participant joins and publishes")
}

/// Polls `p`'s receive stats until the tracks from `from` satisfy `enough`.
async fn wait_media(
    p: &Participant,
    from: ParticipantId,
    what: &str,
    enough: impl Fn(&[TrackStats]) -> bool,
) -> Vec<TrackStats> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let tracks = p.stats().remove(&from).unwrap_or_default();
        if enough(&tracks) {
            return tracks;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not reached; tracks from {from:?}: {tracks:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn track(tracks: &[TrackStats], kind: MediaKind) -> Option<&TrackStats> {
    tracks.iter().find(|t| t.label.kind == kind && !t.ended)
}

/// At least `frames` intact video frames and `packets` intact audio packets.
fn flowing(frames: u64, packets: u64) -> impl Fn(&[TrackStats]) -> bool {
    move |t: &[TrackStats]| {
        track(t, MediaKind::Video).is_some_and(|v| v.frames >= frames)
            && track(t, MediaKind::Audio).is_some_and(|a| a.packets >= packets)
    }
}

fn assert_intact(tracks: &[TrackStats]) {
    for t in tracks {
        assert_eq!(t.corrupted, 0, "corrupted payloads: {t:#?}");
        assert_eq!(t.malformed_packets, 0, "malformed packets: {t:#?}");
    }
    let video = track(tracks, MediaKind::Video).expect("a video track");
    assert_eq!(
        video.first_frame_keyframe,
        Some(true),
        "video must start with a keyframe: {video:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_participants_exchange_audio_and_video() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let (tb, _) = s.user("Bob").await;
        let code = s.create_meeting(&ta, "Media").await;
        let a = join(&s, &ta, &code).await;
        let b = join(&s, &tb, &code).await;
        let (ida, idb) = (a.participant_id().unwrap(), b.participant_id().unwrap());

        let at_b = wait_media(&b, ida, "Bob receives Ada", flowing(30, 50)).await;
        let at_a = wait_media(&a, idb, "Ada receives Bob", flowing(30, 50)).await;
        assert_intact(&at_b);
        assert_intact(&at_a);
        let video = track(&at_b, MediaKind::Video).unwrap();
        assert_eq!(video.video_size, Some((640, 360)));
        assert!(video.latency.count > 0);

        a.close().await;
        b.close().await;
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_joiner_starts_with_a_keyframe_and_a_leaver_is_removed() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let (tb, _) = s.user("Bob").await;
        let (tc, _) = s.user("Cleo").await;
        let code = s.create_meeting(&ta, "Late").await;
        let a = join(&s, &ta, &code).await;
        let b = join(&s, &tb, &code).await;
        let (ida, idb) = (a.participant_id().unwrap(), b.participant_id().unwrap());
        wait_media(&b, ida, "Bob receives Ada", flowing(10, 10)).await;

        let c = join(&s, &tc, &code).await;
        let idc = c.participant_id().unwrap();
        let from_a = wait_media(&c, ida, "Cleo receives Ada", flowing(20, 20)).await;
        let from_b = wait_media(&c, idb, "Cleo receives Bob", flowing(20, 20)).await;
        assert_intact(&from_a);
        assert_intact(&from_b);
        wait_media(&a, idc, "Ada receives Cleo", flowing(10, 10)).await;

        // Ada leaves: the others renegotiate without her tracks, and keep their own media.
        a.leave().await.unwrap();
        for p in [&b, &c] {
            p.wait_for("a subscriber offer without Ada's tracks", WAIT, |st| {
                !st.remote_tracks.is_empty()
                    && st.remote_tracks.iter().all(|t| t.participant_id != ida)
                    && st.left.iter().any(|(id, _)| *id == ida)
            })
            .await
            .unwrap();
        }
        let before = track(&c.stats()[&idb], MediaKind::Video).unwrap().frames;
        wait_media(&c, idb, "Cleo still receives Bob", |t| {
            track(t, MediaKind::Video).is_some_and(|v| v.frames >= before + 15)
        })
        .await;

        b.close().await;
        c.close().await;
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misbehaving_participant_does_not_disturb_the_media_of_others() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let (tb, _) = s.user("Bob").await;
        let (tm, _) = s.user("Mallory").await;
        let code = s.create_meeting(&ta, "Abuse").await;
        let a = join(&s, &ta, &code).await;
        let b = join(&s, &tb, &code).await;
        let ida = a.participant_id().unwrap();
        wait_media(&b, ida, "Bob receives Ada", flowing(10, 10)).await;

        // Mallory floods garbage, bad SDP and oversized frames until the server closes her.
        let mut m = s.ws(&tm).await;
        m.send(serde_json::json!({"type": "join", "meeting_code": code}))
            .await;
        m.expect("joined").await;
        m.send_text("{garbage".into()).await;
        m.send(serde_json::json!({"type": "publish_offer", "sdp": "v=0 nonsense", "tracks": []}))
            .await;
        m.send(serde_json::json!({"type": "subscriber_answer", "sdp": "v=0 nonsense"}))
            .await;
        for i in 0..300 {
            if !m
                .try_send_text(
                    serde_json::json!({"type": "chat", "text": format!("spam {i}")}).to_string(),
                )
                .await
            {
                break;
            }
        }
        assert_eq!(m.expect_close().await, 4029);

        let before = track(&b.stats()[&ida], MediaKind::Video).unwrap().frames;
        let tracks = wait_media(&b, ida, "Bob keeps receiving Ada", |t| {
            track(t, MediaKind::Video).is_some_and(|v| v.frames >= before + 30)
        })
        .await;
        assert_intact(&tracks);

        a.close().await;
        b.close().await;
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_participant_resumes_with_its_media() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let (tb, _) = s.user("Bob").await;
        let code = s.create_meeting(&ta, "Resume").await;
        let a = join(&s, &ta, &code).await;
        let b = join(&s, &tb, &code).await;
        let (ida, idb) = (a.participant_id().unwrap(), b.participant_id().unwrap());
        wait_media(&b, ida, "Bob receives Ada", flowing(10, 10)).await;

        a.drop_connection();
        b.wait_for("Ada shown as reconnecting", WAIT, |st| {
            st.others
                .get(&ida)
                .is_some_and(|p| p.connection == mm_bench::wire::ConnectionState::Reconnecting)
        })
        .await
        .unwrap();
        assert!(a.resume().await.unwrap(), "resumed within the grace period");
        assert_eq!(a.participant_id(), Some(ida), "the same participant");

        // Media flows both ways again after the ICE restarts.
        let before_b = track(&b.stats()[&ida], MediaKind::Video).unwrap().frames;
        wait_media(&b, ida, "Bob receives Ada after her resume", |t| {
            track(t, MediaKind::Video).is_some_and(|v| v.frames >= before_b + 30)
        })
        .await;
        let before_a = a
            .stats()
            .get(&idb)
            .and_then(|t| track(t, MediaKind::Video).map(|v| v.frames))
            .unwrap_or(0);
        wait_media(&a, idb, "Ada receives Bob after her resume", |t| {
            track(t, MediaKind::Video).is_some_and(|v| v.frames >= before_a + 30)
        })
        .await;
        assert!(b.state().left.is_empty(), "Bob never saw Ada leave");

        a.close().await;
        b.close().await;
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_whose_media_drops_is_shown_reconnecting_until_it_recovers() {
    use common::Timers;
    use common::udp_relay::UdpRelay;
    use mm_bench::wire::ConnectionState;
    // The SFU announces 127.0.0.2, where a relay forwards everything to it until told not to.
    // One media worker: the relay fronts one port (placement over workers has its own tests).
    let timers = Timers {
        sfu_public_ip: "127.0.0.2",
        sfu_workers: Some(1),
        ..Timers::default()
    };
    let s = TestServer::start_with(common::Backend::Sqlite, timers).await;
    let sfu = s.sfu_addrs[0];
    let front = std::net::SocketAddr::new("127.0.0.2".parse().unwrap(), sfu.port());
    let relay = UdpRelay::start(front, sfu).await;

    let (ta, _) = s.user("Ada").await;
    let (tb, _) = s.user("Bob").await;
    let code = s.create_meeting(&ta, "Outage").await;
    let a = join(&s, &ta, &code).await;
    let ida = a.participant_id().unwrap();
    // Bob only watches: his one media connection is the subscribe connection.
    let mut viewer = JoinOptions::new(&s.base, &tb, &code);
    viewer.publish = false;
    let b = Participant::join(viewer).await.unwrap();
    let idb = b.participant_id().unwrap();
    wait_media(&b, ida, "Bob receives Ada", flowing(10, 10)).await;

    // Ada's publish connection was the first client of the relay; cut off everything after it.
    let seen = relay.seen();
    assert!(seen.len() >= 2, "relay clients: {seen:?}");
    relay.block(&seen[1..]);
    let outage = Duration::from_secs(40);
    a.wait_for("Bob shown reconnecting", outage, |st| {
        st.others
            .get(&idb)
            .is_some_and(|p| p.connection == ConnectionState::Reconnecting)
    })
    .await
    .unwrap();
    // The network is back; Bob restarts ICE on his subscribe connection, as the web client
    // does when its connection state turns to disconnected or failed.
    relay.unblock_all();
    b.send(&mm_bench::wire::ClientMessage::RestartSubscriber)
        .unwrap();
    a.wait_for("Bob connected again", outage, |st| {
        st.others
            .get(&idb)
            .is_some_and(|p| p.connection == ConnectionState::Connected)
    })
    .await
    .unwrap();
    let before = track(&b.stats()[&ida], MediaKind::Video).unwrap().frames;
    wait_media(&b, ida, "Bob receives Ada after the outage", |t| {
        track(t, MediaKind::Video).is_some_and(|v| v.frames >= before + 30)
    })
    .await;
    assert!(
        a.state().left.is_empty(),
        "Bob never left: {:?}",
        a.state().left
    );

    a.close().await;
    b.close().await;
    s.stop().await;
}
