//! A host's mute is enforced by the SFU, not left to the muted client: the headless
//! participants here ignore `muted_by_host` and keep sending, and still nobody receives them
//! until they turn the source on again themselves. A newcomer does not get the picture a host
//! took away from the keyframe cache either. On SQLite, and on PostgreSQL + Redis.

mod common;

use std::time::Duration;

use common::{TestServer, backends};
use mm_bench::wire::{
    ClientMessage, MediaKind, MediaState, ParticipantId, ServerMessage, TrackSource,
};
use mm_bench::{JoinOptions, Participant, TrackStats};

/// A bound for slow CI machines, not a performance assertion.
const WAIT: Duration = Duration::from_secs(30);

async fn join(s: &TestServer, token: &str, code: &str) -> Participant {
    Participant::join(JoinOptions::new(&s.base, token, code))
        .await
        .expect("participant joins and publishes")
}

fn counted(p: &Participant, from: ParticipantId, kind: MediaKind) -> u64 {
    let tracks = p.stats().remove(&from).unwrap_or_default();
    let t: Option<&TrackStats> = tracks.iter().find(|t| t.label.kind == kind && !t.ended);
    t.map_or(0, |t| match kind {
        MediaKind::Audio => t.packets,
        MediaKind::Video => t.frames,
    })
}

/// Waits until `p` receives more than `above` of `kind` from `from`.
async fn wait_above(p: &Participant, from: ParticipantId, kind: MediaKind, above: u64) -> u64 {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let n = counted(p, from, kind);
        if n > above {
            return n;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{kind:?} from {from:?} stays at {n}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until nothing more of `kind` from `from` arrives at `p` for a second (what was on its
/// way when the mute came is let through), and returns the count. Fails when it keeps flowing.
async fn wait_stopped(p: &Participant, from: ParticipantId, kind: MediaKind) -> u64 {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut last = counted(p, from, kind);
    let mut still = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let n = counted(p, from, kind);
        still = if n == last { still + 1 } else { 0 };
        last = n;
        if still >= 5 {
            return n;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{kind:?} from {from:?} keeps flowing: {n}"
        );
    }
}

fn muted_by_host(p: &Participant, source: TrackSource) -> bool {
    p.state()
        .events
        .iter()
        .any(|e| matches!(e, ServerMessage::MutedByHost { source: s, .. } if *s == source))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_mute_stops_the_media_until_the_participant_unmutes() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let (tb, _) = s.user("Bob").await;
        let (tc, _) = s.user("Cleo").await;
        let code = s.create_meeting(&ta, "Muted").await;
        let a = join(&s, &ta, &code).await;
        let b = join(&s, &tb, &code).await;
        let idb = b.participant_id().unwrap();
        wait_above(&a, idb, MediaKind::Audio, 50).await;
        wait_above(&a, idb, MediaKind::Video, 10).await;

        // The microphone: Bob is told, everyone sees him muted, and Ada hears nothing more
        // although Bob's client keeps sending.
        a.send(&ClientMessage::MuteParticipant {
            participant_id: idb,
            source: TrackSource::Microphone,
        })
        .unwrap();
        b.wait_for("Bob is told", WAIT, |_| {
            muted_by_host(&b, TrackSource::Microphone)
        })
        .await
        .unwrap();
        a.wait_for("Bob shows as muted", WAIT, |st| {
            st.others.get(&idb).is_some_and(|p| p.media.audio_muted)
        })
        .await
        .unwrap();
        let audio = wait_stopped(&a, idb, MediaKind::Audio).await;
        let video = wait_above(&a, idb, MediaKind::Video, 0).await;
        wait_above(&a, idb, MediaKind::Video, video + 10).await; // the camera was not touched

        // The camera too; a newcomer then gets neither, not even the cached keyframe.
        a.send(&ClientMessage::MuteParticipant {
            participant_id: idb,
            source: TrackSource::Camera,
        })
        .unwrap();
        b.wait_for("Bob is told", WAIT, |_| {
            muted_by_host(&b, TrackSource::Camera)
        })
        .await
        .unwrap();
        let frames = wait_stopped(&a, idb, MediaKind::Video).await;
        let c = join(&s, &tc, &code).await;
        let ida = a.participant_id().unwrap();
        wait_above(&c, ida, MediaKind::Audio, 50).await;
        wait_above(&c, ida, MediaKind::Video, 10).await;
        assert_eq!(
            counted(&c, idb, MediaKind::Video),
            0,
            "a muted camera's picture reached a newcomer"
        );
        assert_eq!(
            counted(&c, idb, MediaKind::Audio),
            0,
            "a muted microphone reached a newcomer"
        );

        // Asked to unmute, Bob turns both on himself: both flow again, video from a keyframe.
        a.send(&ClientMessage::AskToUnmute {
            participant_id: idb,
            source: TrackSource::Microphone,
        })
        .unwrap();
        b.wait_for("Bob is asked", WAIT, |st| {
            st.events
                .iter()
                .any(|e| matches!(e, ServerMessage::UnmuteRequested { .. }))
        })
        .await
        .unwrap();
        assert_eq!(
            counted(&a, idb, MediaKind::Audio),
            audio,
            "asking does not unmute"
        );
        b.set_media_state(MediaState {
            audio_muted: false,
            video_muted: false,
            screen_sharing: false,
        })
        .unwrap();
        wait_above(&a, idb, MediaKind::Audio, audio + 50).await;
        wait_above(&a, idb, MediaKind::Video, frames + 10).await;
        wait_above(&c, idb, MediaKind::Audio, 50).await;
        wait_above(&c, idb, MediaKind::Video, 10).await;
        let from_b = c.stats().remove(&idb).unwrap_or_default();
        let v = from_b
            .iter()
            .find(|t| t.label.kind == MediaKind::Video)
            .unwrap();
        assert_eq!(v.first_frame_keyframe, Some(true), "{v:#?}");
        assert_eq!(v.corrupted, 0);

        for p in [a, b, c] {
            p.close().await;
        }
        s.stop().await;
    }
}
