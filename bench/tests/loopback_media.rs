//! The media half of the headless participant, without our server: two webrtc-rs peer
//! connections on loopback, one publishing with `Publisher`, one verifying with `TrackReceiver`,
//! connected through in-process signaling.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mm_bench::loopback::{
    keep_loopback_candidates, loopback_api, new_peer_connection, set_local_and_gather,
    wait_connected,
};
use mm_bench::media_profile::MediaProfile;
use mm_bench::publisher::{Publisher, SendTracks};
use mm_bench::track_receiver::TrackReceiver;
use mm_bench::track_stats::{TrackLabel, TrackStats};
use mm_bench::wire::MediaKind;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use webrtc::rtp_transceiver::rtp_codec::RTPCodecType;

const GATHER: Duration = Duration::from_secs(5);

struct Pair {
    publisher_pc: Arc<RTCPeerConnection>,
    receiver_pc: Arc<RTCPeerConnection>,
    tracks: SendTracks,
    receivers: Arc<Mutex<Vec<TrackReceiver>>>,
}

async fn connect(profile: &MediaProfile) -> Pair {
    let api = loopback_api().unwrap();
    let publisher_pc = new_peer_connection(&api).await.unwrap();
    let receiver_pc = new_peer_connection(&api).await.unwrap();
    let tracks = SendTracks::add_to(&publisher_pc, profile, "synthetic")
        .await
        .unwrap();

    let receivers = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let sink = Arc::clone(&receivers);
    let weak_pc = Arc::downgrade(&receiver_pc);
    receiver_pc.on_track(Box::new(move |track, _receiver, transceiver| {
        let kind = match track.kind() {
            RTPCodecType::Audio => MediaKind::Audio,
            _ => MediaKind::Video,
        };
        let label = TrackLabel {
            kind,
            mid: transceiver.mid().map(|m| m.to_string()),
            participant_id: None,
            track_id: Some(track.id()),
            source: None,
        };
        let rx = TrackReceiver::spawn(track, label, started, Some(weak_pc.clone()));
        sink.lock().unwrap().push(rx);
        Box::pin(async {})
    }));

    let offer = publisher_pc.create_offer(None).await.unwrap();
    let offer_sdp = set_local_and_gather(&publisher_pc, offer, GATHER)
        .await
        .unwrap();
    assert_only_loopback_candidates(&offer_sdp);
    receiver_pc
        .set_remote_description(
            RTCSessionDescription::offer(keep_loopback_candidates(&offer_sdp)).unwrap(),
        )
        .await
        .unwrap();
    let answer = receiver_pc.create_answer(None).await.unwrap();
    let answer_sdp = set_local_and_gather(&receiver_pc, answer, GATHER)
        .await
        .unwrap();
    assert_only_loopback_candidates(&answer_sdp);
    publisher_pc
        .set_remote_description(RTCSessionDescription::answer(answer_sdp).unwrap())
        .await
        .unwrap();
    // In-process signaling knows both ends: start media once both are connected, as an SFU
    // would only forward from its first keyframe after the subscriber is up.
    wait_connected(&publisher_pc, Duration::from_secs(10))
        .await
        .unwrap();
    wait_connected(&receiver_pc, Duration::from_secs(10))
        .await
        .unwrap();
    Pair {
        publisher_pc,
        receiver_pc,
        tracks,
        receivers,
    }
}

fn assert_only_loopback_candidates(sdp: &str) {
    let candidates: Vec<&str> = sdp
        .lines()
        .filter(|l| l.starts_with("a=candidate:"))
        .collect();
    assert!(!candidates.is_empty(), "no candidates in\n{sdp}");
    for c in candidates {
        assert!(
            c.contains(" 127.0.0.1 ") && c.contains(" udp "),
            "non-loopback candidate: {c}"
        );
    }
}

fn stats(pair: &Pair) -> Vec<TrackStats> {
    pair.receivers
        .lock()
        .unwrap()
        .iter()
        .map(TrackReceiver::stats)
        .collect()
}

async fn wait_until(
    pair: &Pair,
    what: &str,
    done: impl Fn(&[TrackStats]) -> bool,
) -> Vec<TrackStats> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = stats(pair);
        if done(&s) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {s:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn by_kind(stats: &[TrackStats], kind: MediaKind) -> &TrackStats {
    stats
        .iter()
        .find(|s| s.label.kind == kind)
        .expect("track of this kind")
}

fn assert_intact(s: &TrackStats) {
    assert_eq!(s.corrupted, 0, "{s:#?}");
    assert_eq!(s.malformed_packets, 0, "{s:#?}");
    assert_eq!(s.first_frame_keyframe, Some(true), "{s:#?}");
    assert!(s.time_to_first_frame.is_some(), "{s:#?}");
    assert_eq!(s.latency.count, s.frames, "{s:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_and_720p_video_arrive_intact_starting_with_a_keyframe() {
    let profile = MediaProfile::video_720p();
    let pair = connect(&profile).await;
    let publisher = Publisher::start(&pair.tracks, &profile);

    let s = wait_until(&pair, "60 video frames and 100 audio packets", |s| {
        s.len() == 2
            && s.iter()
                .any(|t| t.label.kind == MediaKind::Video && t.frames >= 60)
            && s.iter()
                .any(|t| t.label.kind == MediaKind::Audio && t.frames >= 100)
    })
    .await;
    let (audio, video) = (by_kind(&s, MediaKind::Audio), by_kind(&s, MediaKind::Video));
    assert_intact(audio);
    assert_intact(video);
    assert!(video.keyframes >= 1);
    assert_eq!(video.video_size, Some((1280, 720)));
    // Several packets per frame at 720p: the frame-level reassembly is exercised.
    assert!(video.packets >= video.frames * 5, "{video:#?}");
    let sent = publisher.stats();
    eprintln!("publisher: {sent:?}\naudio: {audio:#?}\nvideo: {video:#?}");
    // Loopback loses nothing in practice; report rather than fail if the machine is overloaded.
    if audio.sequence.lost + video.sequence.lost > 0 {
        eprintln!(
            "note: loss on loopback: audio {} video {}",
            audio.sequence.lost, video.sequence.lost
        );
    }
    pair.publisher_pc.close().await.unwrap();
    pair.receiver_pc.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pli_from_the_receiver_brings_a_keyframe() {
    let profile = MediaProfile {
        keyframe_interval: None,
        ..MediaProfile::video_360p()
    };
    let pair = connect(&profile).await;
    let publisher = Publisher::start(&pair.tracks, &profile);
    let s = wait_until(&pair, "first video frames", |s| {
        s.iter()
            .any(|t| t.label.kind == MediaKind::Video && t.frames >= 10)
    })
    .await;
    let video = by_kind(&s, MediaKind::Video);
    assert_eq!(
        video.keyframes, 1,
        "only the first frame is a keyframe: {video:#?}"
    );
    let pli = PictureLossIndication {
        sender_ssrc: 0,
        media_ssrc: video.ssrc,
    };
    pair.receiver_pc.write_rtcp(&[Box::new(pli)]).await.unwrap();
    let s = wait_until(&pair, "a second keyframe", |s| {
        s.iter()
            .any(|t| t.label.kind == MediaKind::Video && t.keyframes >= 2)
    })
    .await;
    assert_intact(by_kind(&s, MediaKind::Video));
    assert!(publisher.stats().keyframe_requests >= 1);
    pair.publisher_pc.close().await.unwrap();
    pair.receiver_pc.close().await.unwrap();
}
