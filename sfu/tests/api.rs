//! API errors, configuration checks and the network filter (127.0.0.1 only).

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use mm_sfu::{PcKind, PeerEvent, PeerId, RoomId, Sfu, SfuConfig, SfuError};
use tokio::sync::mpsc;

fn cfg() -> SfuConfig {
    SfuConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        public_ips: vec!["127.0.0.1".parse().unwrap()],
        allowed_networks: vec!["127.0.0.0/8".parse().unwrap()],
        ..Default::default()
    }
}

#[tokio::test]
async fn config_is_validated() {
    let unspecified = SfuConfig {
        bind: "0.0.0.0:0".parse().unwrap(),
        ..Default::default()
    };
    assert!(matches!(
        Sfu::start(unspecified).await,
        Err(SfuError::Config(_))
    ));
    let zero = SfuConfig {
        workers: 0,
        ..cfg()
    };
    assert!(matches!(Sfu::start(zero).await, Err(SfuError::Config(_))));
}

#[tokio::test]
async fn errors_for_bad_calls() {
    let sfu = Sfu::start(cfg()).await.unwrap();
    let room = sfu.room(&RoomId::from("errors"));
    let p = PeerId(7);
    assert!(matches!(
        room.publish(p, "v=0".into()).await,
        Err(SfuError::UnknownPeer)
    ));
    let (tx, mut rx) = mpsc::channel(8);
    room.join(p, tx.clone()).await.unwrap();
    assert!(matches!(room.join(p, tx).await, Err(SfuError::PeerExists)));
    assert!(matches!(
        room.publish(p, "garbage".into()).await,
        Err(SfuError::BadSdp(_))
    ));
    assert!(matches!(
        room.subscriber_answer(p, "garbage".into()).await,
        Err(SfuError::BadSdp(_))
    ));
    // A well-formed answer while no offer is outstanding.
    let mut client = common::PcClient::new();
    let mut api = client.rtc.sdp_api();
    api.add_media(
        str0m::media::MediaKind::Audio,
        str0m::media::Direction::SendOnly,
        None,
        None,
        None,
    );
    let (offer, _) = api.apply().unwrap();
    let mut other = common::PcClient::new();
    let answer = other.rtc.sdp_api().accept_offer(offer).unwrap();
    assert!(matches!(
        room.subscriber_answer(p, answer.to_sdp_string()).await,
        Err(SfuError::NoPendingOffer)
    ));
    // Too many tracks: nine sending m-lines.
    let mut api = client.rtc.sdp_api();
    for _ in 0..9 {
        api.add_media(
            str0m::media::MediaKind::Video,
            str0m::media::Direction::SendOnly,
            None,
            None,
            None,
        );
    }
    let (offer, _) = api.apply().unwrap();
    assert!(matches!(
        room.publish(p, offer.to_sdp_string()).await,
        Err(SfuError::TooManyTracks)
    ));
    // Candidates: garbage is refused; outside the allowed networks is ignored.
    assert!(matches!(
        room.add_candidate(p, PcKind::Publish, "candidate:nonsense".into())
            .await,
        Err(SfuError::BadSdp(_))
    ));
    room.add_candidate(
        p,
        PcKind::Publish,
        "candidate:1 1 udp 2130706431 192.0.2.2 50000 typ host".into(),
    )
    .await
    .unwrap();
    room.add_candidate(p, PcKind::Subscribe, "".into())
        .await
        .unwrap();
    // Restart before any subscriber offer is a no-op.
    room.restart_subscriber(p).await.unwrap();

    let s = sfu.stats().await;
    assert_eq!((s.rooms, s.peers), (1, 1));
    room.leave(p).await;
    while let Some(ev) = rx.recv().await {
        assert!(
            !matches!(ev, PeerEvent::Closed { .. }),
            "leave is not a failure"
        );
    }
    assert_eq!(sfu.stats().await.rooms, 0, "empty room ends");
    assert!(matches!(
        room.restart_subscriber(p).await,
        Err(SfuError::UnknownPeer)
    ));
    sfu.shutdown().await;
    assert!(matches!(
        room.join(PeerId(8), mpsc::channel(1).0).await,
        Err(SfuError::RoomClosed)
    ));
}

#[tokio::test]
async fn traffic_from_outside_allowed_networks_is_dropped() {
    let sfu = Sfu::start(SfuConfig {
        allowed_networks: vec!["127.0.0.2/32".parse().unwrap()],
        ..cfg()
    })
    .await
    .unwrap();
    let target = sfu.local_addrs()[0];
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..5 {
        sock.send_to(&[0u8; 40], target).unwrap();
    }
    let mut s = sfu.stats().await;
    for _ in 0..100 {
        if s.packets_dropped >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        s = sfu.stats().await;
    }
    assert_eq!(s.packets_dropped, 5);
    assert_eq!(s.packets_in, 0);
    sfu.shutdown().await;
}

/// A browser-shaped offer (Chrome, unified plan: audio + video sendrecv, several codecs,
/// RTX, TWCC, a data channel): accepted, answered with Opus/VP8 only, both tracks published.
#[tokio::test]
async fn accepts_a_browser_offer() {
    let sfu = Sfu::start(cfg()).await.unwrap();
    let room = sfu.room(&RoomId::from("browser"));
    let (tx, mut rx) = mpsc::channel(8);
    room.join(PeerId(1), tx).await.unwrap();
    let offer = CHROME_OFFER.replace('\n', "\r\n");
    let answer = room
        .publish(PeerId(1), offer)
        .await
        .expect("browser offer accepted");
    assert!(answer.contains("a=ice-lite"));
    assert!(answer.contains("a=candidate:") && answer.contains("127.0.0.1"));
    assert!(answer.contains("opus/48000/2"));
    assert!(answer.contains("VP8/90000"));
    assert!(!answer.contains("H264"), "only Opus and VP8 are answered");
    assert!(answer.contains("a=mid:0") && answer.contains("a=mid:1"));
    assert_eq!(
        answer.matches("a=recvonly").count(),
        2,
        "the SFU only receives here"
    );
    assert!(!answer.contains("a=sendrecv"));
    let mut published = None;
    while let Ok(ev) = rx.try_recv() {
        if let PeerEvent::Published { tracks } = ev {
            published = Some(tracks);
        }
    }
    let tracks = published.expect("a Published event");
    let mids: Vec<&str> = tracks.iter().map(|t| t.mid.as_str()).collect();
    assert_eq!(mids, vec!["0", "1"]);
    sfu.shutdown().await;
}

const CHROME_OFFER: &str = "v=0
o=- 4611731400430051336 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1 2
a=extmap-allow-mixed
a=msid-semantic: WMS stream1
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:Kx3B
a=ice-pwd:Bz0d4Vq1cXh7bNn1m3eI9x7Q
a=ice-options:trickle
a=fingerprint:sha-256 3E:7B:7A:AB:6C:BD:B5:55:33:6D:36:10:A6:3D:9A:45:5B:1A:37:5D:7C:97:6C:4B:9E:71:1A:3A:4A:D8:76:4E
a=setup:actpass
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendrecv
a=msid:stream1 audio1
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
a=rtpmap:63 red/48000/2
a=fmtp:63 111/111
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:13 CN/8000
a=rtpmap:110 telephone-event/48000
a=rtpmap:126 telephone-event/8000
a=ssrc:1001 cname:abcdefghijklmnop
a=ssrc:1001 msid:stream1 audio1
m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 45 46
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:Kx3B
a=ice-pwd:Bz0d4Vq1cXh7bNn1m3eI9x7Q
a=ice-options:trickle
a=fingerprint:sha-256 3E:7B:7A:AB:6C:BD:B5:55:33:6D:36:10:A6:3D:9A:45:5B:1A:37:5D:7C:97:6C:4B:9E:71:1A:3A:4A:D8:76:4E
a=setup:actpass
a=mid:1
a=extmap:14 urn:ietf:params:rtp-hdrext:toffset
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:13 urn:3gpp:video-orientation
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=sendrecv
a=msid:stream1 video1
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 transport-cc
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rtpmap:102 H264/90000
a=rtcp-fb:102 nack
a=rtcp-fb:102 nack pli
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
a=rtpmap:103 rtx/90000
a=fmtp:103 apt=102
a=rtpmap:45 AV1/90000
a=rtcp-fb:45 nack
a=rtcp-fb:45 nack pli
a=fmtp:45 level-idx=5;profile=0;tier=0
a=rtpmap:46 rtx/90000
a=fmtp:46 apt=45
a=ssrc-group:FID 2001 2002
a=ssrc:2001 cname:abcdefghijklmnop
a=ssrc:2001 msid:stream1 video1
a=ssrc:2002 cname:abcdefghijklmnop
a=ssrc:2002 msid:stream1 video1
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:Kx3B
a=ice-pwd:Bz0d4Vq1cXh7bNn1m3eI9x7Q
a=ice-options:trickle
a=fingerprint:sha-256 3E:7B:7A:AB:6C:BD:B5:55:33:6D:36:10:A6:3D:9A:45:5B:1A:37:5D:7C:97:6C:4B:9E:71:1A:3A:4A:D8:76:4E
a=setup:actpass
a=mid:2
a=sctp-port:5000
a=max-message-size:262144
";
