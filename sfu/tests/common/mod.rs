//! Test-only WebRTC clients built on str0m, driven over real UDP sockets on 127.0.0.1.
//! Each participant has two `Rtc`s (publish: it offers; subscribe: it answers the SFU).

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mm_sfu::{DownTrackInfo, MediaKind, PeerEvent, PeerId, RoomHandle};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, Frequency, KeyframeRequestKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::sync::mpsc;

/// Logs to stderr when `RUST_LOG` is set.
pub fn init_tracing() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}

/// One client-side `Rtc` with its own loopback UDP socket.
pub struct PcClient {
    pub rtc: Rtc,
    sock: UdpSocket,
    local: SocketAddr,
    pub connected: bool,
    pub events: Vec<Event>,
    /// Random loss of incoming RTP datagrams (the link towards this client).
    pub loss_in: Option<Loss>,
    /// Random loss of outgoing RTP datagrams (the link away from this client).
    pub loss_out: Option<Loss>,
    /// RTP datagrams the two lossy links dropped.
    pub dropped: usize,
}

/// A lossy link: drops each RTP datagram with a fixed probability, from a seeded generator
/// (xorshift64*) so a run is repeatable.
pub struct Loss {
    per_mille: u64,
    state: u64,
}

impl Loss {
    pub fn new(percent: f64, seed: u64) -> Loss {
        Loss {
            per_mille: (percent * 10.0) as u64,
            state: seed.max(1),
        }
    }

    fn drop_next(&mut self) -> bool {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d) % 1000 < self.per_mille
    }
}

/// RTP, not RTCP (RFC 5761: RTCP packet types 192..=223 in the second byte).
fn is_rtp(d: &[u8]) -> bool {
    d.len() > 12 && (128..192).contains(&d[0]) && !(192..=223).contains(&d[1])
}

impl PcClient {
    pub fn new() -> Self {
        Self::build(false)
    }

    /// A client that also reports every decrypted RTP packet it receives (`Event::RawPacket`),
    /// before its own jitter buffer: what the SFU sent, as it arrived.
    pub fn with_raw_packets() -> Self {
        Self::build(true)
    }

    fn build(raw: bool) -> Self {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_nonblocking(true).unwrap();
        let local = sock.local_addr().unwrap();
        let mut rtc = Rtc::builder()
            .set_crypto_provider(Arc::new(str0m::crypto::from_feature_flags()))
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .set_stats_interval(Some(Duration::from_millis(500)))
            .enable_raw_packets(raw)
            .build(Instant::now());
        rtc.add_local_candidate(Candidate::host(local, "udp").unwrap());
        let mut c = PcClient {
            rtc,
            sock,
            local,
            connected: false,
            events: Vec::new(),
            loss_in: None,
            loss_out: None,
            dropped: 0,
        };
        c.drain();
        c
    }

    pub fn drain(&mut self) {
        loop {
            match self.rtc.poll_output().expect("client poll_output") {
                Output::Timeout(_) => break,
                Output::Transmit(t) => {
                    assert!(
                        t.destination.ip().is_loopback(),
                        "test traffic stays on loopback"
                    );
                    if is_rtp(&t.contents) && self.loss_out.as_mut().is_some_and(Loss::drop_next) {
                        self.dropped += 1;
                        continue;
                    }
                    let _ = self.sock.send_to(&t.contents, t.destination);
                }
                Output::Event(e) => {
                    if matches!(e, Event::Connected) {
                        self.connected = true;
                    }
                    // The SFU ended the connection (room closed, peer removed): nothing can be
                    // written on it any more.
                    if !self.rtc.is_alive() {
                        self.connected = false;
                    }
                    self.events.push(e);
                }
            }
        }
    }

    /// Reads and throws away queued datagrams.
    pub fn discard_input(&mut self) {
        let mut buf = vec![0u8; 2048];
        while self.sock.recv_from(&mut buf).is_ok() {}
    }

    /// Feeds every queued datagram and the current time.
    pub fn pump(&mut self) {
        let mut buf = vec![0u8; 2048];
        loop {
            match self.sock.recv_from(&mut buf) {
                Ok((n, source)) => {
                    if is_rtp(&buf[..n]) && self.loss_in.as_mut().is_some_and(Loss::drop_next) {
                        self.dropped += 1;
                        continue;
                    }
                    let Ok(contents) = buf[..n].try_into() else {
                        continue;
                    };
                    let input = Input::Receive(
                        Instant::now(),
                        Receive {
                            proto: Protocol::Udp,
                            source,
                            destination: self.local,
                            contents,
                        },
                    );
                    if self.rtc.accepts(&input) {
                        self.rtc.handle_input(input).expect("client handle_input");
                    }
                    self.drain();
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("client recv: {e}"),
            }
        }
        self.rtc
            .handle_input(Input::Timeout(Instant::now()))
            .expect("client timeout");
        self.drain();
    }
}

/// A received frame.
#[derive(Debug, Clone)]
pub struct Frame {
    pub publisher: PeerId,
    pub kind: MediaKind,
    pub data: Vec<u8>,
    pub keyframe: bool,
}

/// A test participant.
pub struct Participant {
    pub id: PeerId,
    pub room: RoomHandle,
    pub publ: PcClient,
    pub sub: PcClient,
    pub events: mpsc::Receiver<PeerEvent>,
    pub sfu_events: Vec<PeerEvent>,
    pub audio_mid: Option<Mid>,
    pub video_mid: Option<Mid>,
    pending: Option<SdpPendingOffer>,
    /// mid on the subscribe connection → what it carries (from the last offer).
    pub down: HashMap<Mid, DownTrackInfo>,
    pub received: Vec<Frame>,
    pub keyframe_requests: usize,
    pub offers: Vec<Vec<DownTrackInfo>>,
    counter_audio: u32,
    counter_video: u32,
    next_audio: Instant,
    next_video: Instant,
    force_keyframe: bool,
    pub sent_video: Vec<(u32, bool)>,
    /// Stop driving the subscribe connection (simulates a network outage).
    pub sub_paused: bool,
    /// The SFU's receiver reports on what we publish (str0m's egress stats carry them).
    pub receiver_reports: usize,
    /// The SFU's sender reports on what we receive (str0m's ingress stats carry them).
    pub sender_reports: usize,
    /// Counters of the audio RTP packets the subscribe connection received, in arrival order
    /// (only with `PcClient::with_raw_packets`).
    pub raw_audio: Vec<u32>,
    /// Counter of the last audio packet sent.
    pub last_audio_sent: Option<u32>,
}

/// Deterministic payload: byte 0 is the VP8 P bit (0 = keyframe), bytes 1..5 the counter,
/// then a pattern derived from the counter, so a receiver can check it byte for byte.
pub fn payload(kind: MediaKind, counter: u32, keyframe: bool) -> Vec<u8> {
    let len = match kind {
        MediaKind::Audio => 60 + (counter % 40) as usize,
        MediaKind::Video => 900 + (counter % 5) as usize * 700, // 1..4 packets
    };
    let mut v = Vec::with_capacity(len);
    v.push(if keyframe { 0x00 } else { 0x01 });
    v.extend_from_slice(&counter.to_be_bytes());
    while v.len() < len {
        v.push((counter as usize).wrapping_mul(31).wrapping_add(v.len()) as u8);
    }
    v
}

pub fn counter_of(data: &[u8]) -> u32 {
    u32::from_be_bytes([data[1], data[2], data[3], data[4]])
}

impl Participant {
    pub async fn join(room: &RoomHandle, id: u64) -> Participant {
        let (tx, rx) = mpsc::channel(64);
        room.join(PeerId(id), tx).await.expect("join");
        let now = Instant::now();
        Participant {
            id: PeerId(id),
            room: room.clone(),
            publ: PcClient::new(),
            sub: PcClient::new(),
            events: rx,
            sfu_events: Vec::new(),
            audio_mid: None,
            video_mid: None,
            pending: None,
            down: HashMap::new(),
            received: Vec::new(),
            keyframe_requests: 0,
            offers: Vec::new(),
            counter_audio: 0,
            counter_video: 0,
            next_audio: now,
            next_video: now,
            force_keyframe: true,
            sent_video: Vec::new(),
            sub_paused: false,
            receiver_reports: 0,
            sender_reports: 0,
            raw_audio: Vec::new(),
            last_audio_sent: None,
        }
    }

    /// Offers audio only on the publish connection and applies the SFU's answer.
    pub async fn publish_audio(&mut self) {
        let a = self.publish_media(&[str0m::media::MediaKind::Audio]).await;
        self.audio_mid = Some(a[0]);
    }

    /// Offers audio + video on the publish connection and applies the SFU's answer.
    pub async fn publish_av(&mut self) {
        let mids = self
            .publish_media(&[
                str0m::media::MediaKind::Audio,
                str0m::media::MediaKind::Video,
            ])
            .await;
        self.audio_mid = Some(mids[0]);
        self.video_mid = Some(mids[1]);
    }

    async fn publish_media(&mut self, kinds: &[str0m::media::MediaKind]) -> Vec<Mid> {
        let mut api = self.publ.rtc.sdp_api();
        let mids: Vec<Mid> = kinds
            .iter()
            .map(|k| {
                api.add_media(
                    *k,
                    Direction::SendOnly,
                    Some(format!("s{}", self.id)),
                    None,
                    None,
                )
            })
            .collect();
        let (offer, pending) = api.apply().unwrap();
        self.publ.drain();
        let answer = self
            .room
            .publish(self.id, offer.to_sdp_string())
            .await
            .expect("publish");
        let answer = SdpAnswer::from_sdp_string(&answer).expect("answer parses");
        self.publ
            .rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .unwrap();
        self.publ.drain();
        mids
    }

    /// Renegotiates the publish connection with the changes `f` makes; returns the result of
    /// `publish`.
    pub async fn publish_change(
        &mut self,
        f: impl FnOnce(&mut str0m::change::SdpApi<'_>),
    ) -> Result<(), mm_sfu::SfuError> {
        let mut api = self.publ.rtc.sdp_api();
        f(&mut api);
        let (offer, pending) = api.apply().expect("changes need negotiation");
        self.publ.drain();
        let answer = self.room.publish(self.id, offer.to_sdp_string()).await?;
        let answer = SdpAnswer::from_sdp_string(&answer).expect("answer parses");
        self.publ
            .rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .unwrap();
        self.publ.drain();
        Ok(())
    }

    pub fn states(&self, pc: mm_sfu::PcKind) -> Vec<mm_sfu::ConnState> {
        self.sfu_events
            .iter()
            .filter_map(|e| match e {
                PeerEvent::ConnectionState { pc: p, state } if *p == pc => Some(*state),
                _ => None,
            })
            .collect()
    }

    /// Handles SFU events (answers subscriber offers), network, and sends due media.
    pub async fn step(&mut self, send_media: bool) {
        while let Ok(ev) = self.events.try_recv() {
            if let PeerEvent::SubscriberOffer { sdp, tracks } = &ev {
                let offer = SdpOffer::from_sdp_string(sdp).expect("offer parses");
                let answer = self
                    .sub
                    .rtc
                    .sdp_api()
                    .accept_offer(offer)
                    .unwrap_or_else(|e| {
                        panic!(
                            "{}: accept offer {e}: {sdp}\n{tracks:?}\nprevious {:?}",
                            self.id, self.offers
                        )
                    });
                self.sub.drain();
                self.down = tracks
                    .iter()
                    .map(|t| (Mid::from(t.mid.as_str()), t.clone()))
                    .collect();
                self.offers.push(tracks.clone());
                self.room
                    .subscriber_answer(self.id, answer.to_sdp_string())
                    .await
                    .expect("subscriber answer");
            }
            self.sfu_events.push(ev);
        }
        self.publ.pump();
        if self.sub_paused {
            // Swallow what arrives meanwhile, like a dead network would.
            self.sub.discard_input();
        } else {
            self.sub.pump();
        }
        for e in std::mem::take(&mut self.publ.events) {
            match e {
                Event::KeyframeRequest(_) => {
                    self.keyframe_requests += 1;
                    self.force_keyframe = true;
                }
                Event::MediaEgressStats(s) if s.remote.is_some() => self.receiver_reports += 1,
                _ => {}
            }
        }
        for e in std::mem::take(&mut self.sub.events) {
            if let Event::MediaIngressStats(s) = &e
                && s.remote.is_some()
            {
                self.sender_reports += 1;
            }
            if let Event::RawPacket(raw) = &e
                && let str0m::rtp::RawPacket::RtpRx(header, data) = &**raw
                && self.is_audio_pt(header.payload_type)
                && data.len() >= 5
            {
                self.raw_audio.push(counter_of(data));
            }
            if let Event::MediaData(d) = e {
                let info = self
                    .down
                    .get(&d.mid)
                    .unwrap_or_else(|| panic!("{}: media on unknown mid {}", self.id, d.mid));
                self.received.push(Frame {
                    publisher: info.publisher,
                    kind: info.kind,
                    data: d.data.to_vec(),
                    keyframe: d.is_keyframe(),
                });
            }
        }
        if send_media && self.publ.connected && self.publ.rtc.is_alive() {
            self.send_due();
        }
    }

    fn is_audio_pt(&self, pt: str0m::media::Pt) -> bool {
        self.sub
            .rtc
            .codec_config()
            .find(|p| p.pt() == pt)
            .is_some_and(|p| p.spec().codec == str0m::format::Codec::Opus)
    }

    /// Sends the next audio packet now (tests that pace audio themselves step with
    /// `send_media: false`). Returns its counter.
    pub fn send_audio(&mut self) -> u32 {
        let mid = self.audio_mid.expect("audio published");
        let now = Instant::now();
        let c = self.counter_audio;
        self.counter_audio += 1;
        let w = self.publ.rtc.writer(mid).unwrap();
        let pt = w.payload_params().next().unwrap().pt();
        w.write(
            pt,
            now,
            MediaTime::new(u64::from(c) * 960, Frequency::FORTY_EIGHT_KHZ),
            payload(MediaKind::Audio, c, false),
        )
        .unwrap();
        self.publ.drain();
        self.last_audio_sent = Some(c);
        c
    }

    fn send_due(&mut self) {
        let now = Instant::now();
        if self.audio_mid.is_some() && now >= self.next_audio {
            self.next_audio = now + Duration::from_millis(20);
            self.send_audio();
        }
        if let Some(mid) = self.video_mid
            && now >= self.next_video
        {
            self.next_video = now + Duration::from_millis(33);
            let c = self.counter_video;
            self.counter_video += 1;
            let key = std::mem::take(&mut self.force_keyframe) || c.is_multiple_of(150);
            self.sent_video.push((c, key));
            let w = self.publ.rtc.writer(mid).unwrap();
            let pt = w.payload_params().next().unwrap().pt();
            w.write(
                pt,
                now,
                MediaTime::from_90khz(u64::from(c) * 3000),
                payload(MediaKind::Video, c, key),
            )
            .unwrap();
            self.publ.drain();
        }
    }

    pub fn frames_from(&self, publisher: PeerId, kind: MediaKind) -> Vec<&Frame> {
        self.received
            .iter()
            .filter(|f| f.publisher == publisher && f.kind == kind)
            .collect()
    }

    /// The SFU port of this participant's subscribe connection (which worker it runs on), from
    /// the candidate of the first subscriber offer.
    #[allow(dead_code)]
    pub fn sfu_port(&self) -> Option<u16> {
        self.sfu_events.iter().find_map(|e| match e {
            PeerEvent::SubscriberOffer { sdp, .. } => sdp.lines().find_map(|l| {
                let t: Vec<&str> = l.split_whitespace().collect();
                let typ = t.iter().position(|x| *x == "typ")?;
                l.starts_with("a=candidate:")
                    .then(|| t.get(typ.checked_sub(1)?)?.parse().ok())?
            }),
            _ => None,
        })
    }

    pub fn request_keyframe_possible(&mut self) -> bool {
        let Some(mid) = self.video_mid else {
            return false;
        };
        self.publ
            .rtc
            .writer(mid)
            .is_some_and(|w| w.is_request_keyframe_possible(KeyframeRequestKind::Pli))
    }
}

/// Steps every participant until `done` holds or `timeout` passes.
pub async fn run_until(
    ps: &mut [&mut Participant],
    timeout: Duration,
    what: &str,
    done: impl FnMut(&[&mut Participant]) -> bool,
) {
    run_steps(ps, true, timeout, what, done).await
}

/// Like [`run_until`], sending media only when `send_media` (tests that pace media
/// themselves pass false). `timeout` only detects a hang: it fails the test.
pub async fn run_steps(
    ps: &mut [&mut Participant],
    send_media: bool,
    timeout: Duration,
    what: &str,
    mut done: impl FnMut(&[&mut Participant]) -> bool,
) {
    let end = Instant::now() + timeout;
    loop {
        for p in ps.iter_mut() {
            p.step(send_media).await;
        }
        if done(ps) {
            return;
        }
        if Instant::now() > end {
            for p in ps.iter() {
                eprintln!(
                    "{}: pub connected {} sub connected {} received {} kf-req {} events {:?}",
                    p.id,
                    p.publ.connected,
                    p.sub.connected,
                    p.received.len(),
                    p.keyframe_requests,
                    p.sfu_events
                );
            }
            panic!("timed out waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
