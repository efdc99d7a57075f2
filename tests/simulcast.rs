//! Simulcast end to end: a headless participant publishes its camera as three VP8 layers
//! (320x180, 640x360, 1280x720, RIDs `q`/`h`/`f`) through the real server, and each viewer
//! receives the layer its `track_settings` ask for: the best by default, the smallest that
//! covers a small tile, nothing for a hidden one, and again a keyframe when it is shown. The
//! server's default of one media worker per core puts the viewers on both workers, so the
//! relayed path between workers carries the layers too.
//!
//! SQLite only: layers and settings live in the SFU, which the storage backend does not touch.

mod common;

use std::time::Duration;

use common::{Backend, TestServer};
use mm_bench::participant_state::RemoteTrackState;
use mm_bench::wire::{MediaKind, ParticipantId, TrackFlow, TrackSetting};
use mm_bench::{JoinOptions, MediaProfile, Participant, TrackStats};

/// A bound for slow CI machines, not a performance assertion.
const WAIT: Duration = Duration::from_secs(30);

fn video(p: &Participant, from: ParticipantId) -> Option<TrackStats> {
    p.stats()
        .remove(&from)?
        .into_iter()
        .find(|t| t.label.kind == MediaKind::Video && !t.ended)
}

/// Polls until `from`'s video at `p` satisfies `ok`.
async fn wait_video(
    p: &Participant,
    from: ParticipantId,
    what: &str,
    ok: impl Fn(&TrackStats) -> bool,
) -> TrackStats {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let v = video(p, from);
        if let Some(v) = v.as_ref().filter(|v| ok(v)) {
            return v.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not reached; video from {from:?}: {v:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The id of `from`'s camera track, as `p` learned it from the roster.
async fn camera_id(p: &Participant, from: ParticipantId) -> String {
    let s = p
        .wait_for("the publisher's video in the roster", WAIT, |s| {
            s.others
                .get(&from)
                .is_some_and(|o| o.tracks.iter().any(|t| t.kind == MediaKind::Video))
        })
        .await
        .unwrap();
    s.others[&from]
        .tracks
        .iter()
        .find(|t| t.kind == MediaKind::Video)
        .unwrap()
        .track_id
        .clone()
}

async fn wait_state(
    p: &Participant,
    track: &str,
    what: &str,
    ok: impl Fn(&RemoteTrackState) -> bool,
) -> RemoteTrackState {
    let s = p
        .wait_for(what, WAIT, |s| s.track_states.get(track).is_some_and(&ok))
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    s.track_states[track]
}

fn show(track: &str, max_height: Option<u32>) -> TrackSetting {
    TrackSetting {
        track_id: track.to_owned(),
        enabled: true,
        max_width: None,
        max_height,
        priority: None,
    }
}

/// A participant publishing 720p camera video in three simulcast layers.
async fn publish_simulcast(
    s: &TestServer,
    token: &str,
    code: &str,
) -> (Participant, ParticipantId) {
    let mut opts = JoinOptions::new(&s.base, token, code);
    opts.profile = MediaProfile {
        simulcast: true,
        ..MediaProfile::video_720p()
    };
    let p = Participant::join(opts).await.expect("publishes simulcast");
    let id = p.participant_id().unwrap();
    (p, id)
}

/// A participant that only watches.
fn viewer(s: &TestServer, token: &str, code: &str) -> JoinOptions {
    let mut opts = JoinOptions::new(&s.base, token, code);
    opts.publish = false;
    opts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_viewer_receives_the_simulcast_layer_it_shows() {
    let s = TestServer::start(Backend::Sqlite).await;
    let (ta, _) = s.user("Ada").await;
    let (tb, _) = s.user("Bob").await;
    let (tc, _) = s.user("Cleo").await;
    let code = s.create_meeting(&ta, "Simulcast").await;
    let (a, ida) = publish_simulcast(&s, &ta, &code).await;
    let b = Participant::join(viewer(&s, &tb, &code)).await.unwrap();
    let c = Participant::join(viewer(&s, &tc, &code)).await.unwrap();

    // No settings: the best layer.
    let cam = camera_id(&b, ida).await;
    wait_video(&b, ida, "Bob receives 720p", |v| {
        v.video_size == Some((1280, 720)) && v.frames >= 10
    })
    .await;
    let st = wait_state(&b, &cam, "Bob told: layer 2 of 3", |s| {
        s.state == TrackFlow::Active && s.size == Some((1280, 720))
    })
    .await;
    assert_eq!((st.layer, st.layers), (Some(2), Some(3)), "{st:?}");
    wait_video(&c, ida, "Cleo receives 720p", |v| {
        v.video_size == Some((1280, 720)) && v.frames >= 10
    })
    .await;

    // A thumbnail: the smallest layer that covers 150 pixels of height.
    c.track_settings(vec![show(&cam, Some(150))]).unwrap();
    let before = video(&c, ida).unwrap().keyframes;
    wait_video(&c, ida, "Cleo switched to 180p", |v| {
        v.video_size == Some((320, 180)) && v.keyframes > before
    })
    .await;
    let st = wait_state(&c, &cam, "Cleo told: layer 0", |s| {
        s.size == Some((320, 180))
    })
    .await;
    assert_eq!((st.state, st.layer), (TrackFlow::Active, Some(0)), "{st:?}");
    let thumb = video(&c, ida).unwrap().frames;
    wait_video(&c, ida, "Cleo keeps receiving 180p", |v| {
        v.frames >= thumb + 30
    })
    .await;
    assert_eq!(video(&c, ida).unwrap().video_size, Some((320, 180)));

    // Bigger: 360 pixels high is covered by the middle layer.
    c.track_settings(vec![show(&cam, Some(360))]).unwrap();
    wait_video(&c, ida, "Cleo switched to 360p", |v| {
        v.video_size == Some((640, 360))
    })
    .await;

    // Hidden: nothing more arrives while Bob goes on receiving.
    c.track_settings(vec![TrackSetting {
        enabled: false,
        ..show(&cam, None)
    }])
    .unwrap();
    wait_state(&c, &cam, "Cleo told: paused", |s| {
        s.state == TrackFlow::Paused
    })
    .await;
    let hidden_at = video(&c, ida).unwrap().frames;
    let bob_at = video(&b, ida).unwrap().frames;
    wait_video(&b, ida, "Bob receives 60 more frames", |v| {
        v.frames >= bob_at + 60
    })
    .await;
    let leaked = video(&c, ida).unwrap().frames - hidden_at;
    assert!(
        leaked <= 3,
        "{leaked} frames reached Cleo after she hid the track (at most what was in flight)"
    );

    // Shown again at full size: a keyframe starts it.
    let kf = video(&c, ida).unwrap().keyframes;
    c.track_settings(vec![show(&cam, None)]).unwrap();
    wait_video(&c, ida, "Cleo receives 720p again", |v| {
        v.video_size == Some((1280, 720)) && v.keyframes > kf && v.frames >= hidden_at + 10
    })
    .await;

    // Bob's video was never disturbed, every frame anyone got was intact.
    for (who, p) in [("Bob", &b), ("Cleo", &c)] {
        let v = video(p, ida).unwrap();
        assert_eq!(v.corrupted, 0, "{who}: {v:#?}");
        assert_eq!(v.malformed_packets, 0, "{who}: {v:#?}");
        assert_eq!(v.first_frame_keyframe, Some(true), "{who}: {v:#?}");
    }
    assert_eq!(video(&b, ida).unwrap().video_size, Some((1280, 720)));
    assert!(b.state().errors.is_empty() && c.state().errors.is_empty());

    // A bad entry is refused as a whole, with a clear error.
    c.track_settings(vec![show("nope", None)]).unwrap();
    let st = c
        .wait_for("an error for the bad track id", WAIT, |s| {
            !s.errors.is_empty()
        })
        .await
        .unwrap();
    assert_eq!(st.errors[0].code, mm_bench::wire::ErrorCode::BadMessage);

    a.close().await;
    b.close().await;
    c.close().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_layer_nobody_wants_is_paused_at_the_publisher_and_resumed_when_wanted() {
    let s = TestServer::start(Backend::Sqlite).await;
    let (ta, _) = s.user("Ada").await;
    let (tb, _) = s.user("Bob").await;
    let code = s.create_meeting(&ta, "Dynacast").await;
    let (a, ida) = publish_simulcast(&s, &ta, &code).await;
    let b = Participant::join(viewer(&s, &tb, &code)).await.unwrap();
    let cam = camera_id(&b, ida).await;

    // Bob shows a thumbnail: only the smallest layer is wanted, the others pause at Ada.
    b.track_settings(vec![show(&cam, Some(180))]).unwrap();
    if let Err(e) = a
        .wait_for("Ada told to send only q", WAIT, |s| {
            s.publish_layers.values().any(|v| v == &["q".to_owned()])
        })
        .await
    {
        panic!(
            "{e}: Ada told {:?}, sent {:?}; Bob's states {:?}, video {:#?}",
            a.state().publish_layers,
            a.publisher_stats(),
            b.state().track_states,
            video(&b, ida)
        );
    }
    let paused_at = a.publisher_stats().unwrap().layer_frames;
    let bob_at = wait_video(&b, ida, "Bob receives 180p", |v| {
        v.video_size == Some((320, 180))
    })
    .await
    .frames;
    wait_video(&b, ida, "Bob receives 60 more frames", |v| {
        v.frames >= bob_at + 60
    })
    .await;
    let now = a.publisher_stats().unwrap().layer_frames;
    assert!(
        now[0] >= paused_at[0] + 60,
        "q goes on: {paused_at:?} -> {now:?}"
    );
    assert!(
        now[1] <= paused_at[1] + 1 && now[2] <= paused_at[2] + 1,
        "h and f paused: {paused_at:?} -> {now:?}"
    );

    // Bob enlarges the tile: the full layer resumes and reaches him.
    b.track_settings(vec![show(&cam, None)]).unwrap();
    a.wait_for("Ada told to send f again", WAIT, |s| {
        s.publish_layers
            .values()
            .any(|v| v.iter().any(|r| r == "f"))
    })
    .await
    .unwrap();
    wait_video(&b, ida, "Bob receives 720p", |v| {
        v.video_size == Some((1280, 720))
    })
    .await;
    let v = video(&b, ida).unwrap();
    assert_eq!((v.corrupted, v.malformed_packets), (0, 0), "{v:#?}");

    a.close().await;
    b.close().await;
    s.stop().await;
}

/// The bandwidth allocator: Bob's downlink goes through a shaping relay. Narrowed to what the
/// middle layer needs, Bob is moved to it; narrowed below the smallest layer, his video pauses
/// for bandwidth (and he is told) while his audio goes on; opened again, he gets 720p back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_downlink_gets_the_layer_that_fits_and_loses_video_before_audio() {
    use common::Timers;
    use common::udp_relay::UdpRelay;
    // The SFU announces 127.0.0.3, where the relay forwards to it; one worker, one port.
    let timers = Timers {
        sfu_public_ip: "127.0.0.3",
        sfu_workers: Some(1),
        bandwidth_estimation: Some(true),
        ..Timers::default()
    };
    let s = TestServer::start_with(Backend::Sqlite, timers).await;
    let sfu = s.sfu_addrs[0];
    let front = std::net::SocketAddr::new("127.0.0.3".parse().unwrap(), sfu.port());
    let relay = UdpRelay::start(front, sfu).await;
    let (ta, _) = s.user("Ada").await;
    let (tb, _) = s.user("Bob").await;
    let code = s.create_meeting(&ta, "Bandwidth").await;
    let (a, ida) = publish_simulcast(&s, &ta, &code).await;
    let b = Participant::join(viewer(&s, &tb, &code)).await.unwrap();
    let cam = camera_id(&b, ida).await;
    wait_video(&b, ida, "Bob receives 720p", |v| {
        v.video_size == Some((1280, 720)) && v.frames >= 10
    })
    .await;
    // Ada's publish connection reached the relay first; the rest are subscribe connections.
    let downlinks = relay.seen()[1..].to_vec();
    let audio = |p: &Participant| {
        p.stats()[&ida]
            .iter()
            .find(|t| t.label.kind == MediaKind::Audio)
            .map_or(0, |t| t.packets)
    };

    // 1.5 Mbit/s: the 500 kbit/s layer fits, the 2 Mbit/s one does not.
    relay.limit(&downlinks, Some(1_500_000));
    wait_state(&b, &cam, "Bob moved to 360p", |s| {
        s.state == TrackFlow::Active && s.size == Some((640, 360))
    })
    .await;
    wait_video(&b, ida, "Bob receives 360p", |v| {
        v.video_size == Some((640, 360))
    })
    .await;

    // 100 kbit/s: audio fits, not even the 125 kbit/s layer.
    relay.limit(&downlinks, Some(100_000));
    wait_state(&b, &cam, "Bob's video paused for bandwidth", |s| {
        s.state == TrackFlow::PausedBandwidth
    })
    .await;
    let heard = audio(&b);
    let deadline = tokio::time::Instant::now() + WAIT;
    while audio(&b) < heard + 50 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Bob's audio stopped with his video"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Open again: the server tries the next layer every few seconds, so 720p comes back in
    // steps (a bound for a loaded CI machine, not a performance assertion).
    relay.limit(&downlinks, None);
    b.wait_for("Bob back at 720p", 2 * WAIT, |s| {
        s.track_states
            .get(&cam)
            .is_some_and(|s| s.state == TrackFlow::Active && s.size == Some((1280, 720)))
    })
    .await
    .unwrap_or_else(|e| panic!("{e}: {:?}", b.state().track_states.get(&cam)));
    assert!(b.state().errors.is_empty(), "{:?}", b.state().errors);

    a.close().await;
    b.close().await;
    s.stop().await;
}
