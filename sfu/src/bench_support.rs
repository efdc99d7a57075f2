//! In-memory harness for `benches/forward.rs`: one Room with one publisher and N subscribers,
//! connected to str0m clients by handing datagrams over in memory (no sockets), so the
//! forwarding path can be measured without the network. Not part of the supported API.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer};
use str0m::media::{Direction, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::sync::mpsc;

use crate::config::SfuConfig;
use crate::demux::{Demux, RoomKey};
use crate::event::PeerEvent;
use crate::ids::{PeerId, RoomId, WorkerId};
use crate::outbox::Outbox;
use crate::peer::RtcFactory;
use crate::relay::Relay;
use crate::room::{Room, RoomCtx, RoomSettings};
use crate::stats::SfuStats;

struct Client {
    peer: PeerId,
    rtc: Rtc,
    addr: SocketAddr,
    events: mpsc::Receiver<PeerEvent>,
    connected: bool,
    frames: u64,
}

/// One publisher and N subscribers around a real `Room`, wired in memory.
pub struct ForwardHarness {
    room: Room,
    demux: Demux,
    outbox: Outbox,
    stats: SfuStats,
    settings: RoomSettings,
    earliest: Instant,
    relay: Relay,
    sfu_addr: SocketAddr,
    publisher: Client,
    subscribers: Vec<Client>,
    video_mid: Mid,
    frame: u64,
    payload: Arc<[u8]>,
    /// Datagrams the SFU produced while forwarding (discarded, counted).
    pub egress_packets: u64,
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port)
}

fn client_rtc(a: SocketAddr) -> Rtc {
    let mut rtc = Rtc::builder()
        .set_crypto_provider(Arc::new(str0m::crypto::from_feature_flags()))
        .clear_codecs()
        .enable_opus(true, false)
        .enable_vp8(true)
        .build(Instant::now());
    rtc.add_local_candidate(Candidate::host(a, "udp").expect("candidate"));
    rtc
}

/// Drains a client, returning its datagrams; notes `Event::Connected` and frames.
fn drain(c: &mut Client) -> Vec<(SocketAddr, Vec<u8>)> {
    let mut out = Vec::new();
    loop {
        match c.rtc.poll_output().expect("client poll") {
            Output::Timeout(_) => return out,
            Output::Transmit(t) => out.push((t.destination, t.contents.to_vec())),
            Output::Event(Event::Connected) => c.connected = true,
            Output::Event(Event::MediaData(_)) => c.frames += 1,
            Output::Event(_) => {}
        }
    }
}

impl ForwardHarness {
    /// Builds the room and connects everybody; panics if that does not happen in 10 s.
    pub fn new(subscribers: usize, frame_bytes: usize) -> Self {
        let sfu_addr = addr(1);
        let settings = RoomSettings {
            factory: RtcFactory::new(
                vec![sfu_addr],
                Vec::new(),
                Arc::new(str0m::crypto::from_feature_flags()),
                SfuConfig::default().bandwidth_estimation,
            )
            .expect("DTLS certificate"),
            allowed_networks: Vec::new(),
            keyframe_min_interval: Duration::from_millis(500),
            max_tracks_per_peer: 8,
            keyframe_cache_max_age: Duration::from_secs(3),
        };
        let mut payload = vec![0u8; frame_bytes.max(8)];
        payload[0] = 0x00; // VP8 keyframe bit: every frame is forwardable to everyone
        let mk = |i: usize| {
            let (tx, rx) = mpsc::channel(1024);
            let a = addr(10_000 + i as u16);
            (
                tx,
                Client {
                    peer: PeerId(i as u64 + 1),
                    rtc: client_rtc(a),
                    addr: a,
                    events: rx,
                    connected: false,
                    frames: 0,
                },
            )
        };
        let (ptx, publisher) = mk(0);
        let mut h = ForwardHarness {
            room: Room::new(RoomId::from("bench"), RoomKey(0), WorkerId(0)),
            demux: Demux::default(),
            outbox: Outbox::new(Arc::from(Vec::new())),
            stats: SfuStats::default(),
            settings,
            earliest: Instant::now(),
            relay: Relay::alone(),
            sfu_addr,
            publisher,
            subscribers: Vec::new(),
            video_mid: Mid::from("x"),
            frame: 0,
            payload: payload.into(),
            egress_packets: 0,
        };
        let now = Instant::now();
        with_ctx(&mut h, now, |room, ctx| room.join(PeerId(1), ptx, 0, ctx)).expect("join");
        for i in 1..=subscribers {
            let (tx, c) = mk(i);
            let id = c.peer;
            h.subscribers.push(c);
            with_ctx(&mut h, now, |room, ctx| room.join(id, tx, 0, ctx)).expect("join");
        }
        // The publisher offers one video track.
        let mut api = h.publisher.rtc.sdp_api();
        h.video_mid = api.add_media(
            str0m::media::MediaKind::Video,
            Direction::SendOnly,
            None,
            None,
            None,
        );
        let (offer, pending) = api.apply().expect("offer");
        let sdp = offer.to_sdp_string();
        let answer =
            with_ctx(&mut h, now, |room, ctx| room.publish(PeerId(1), &sdp, ctx)).expect("publish");
        h.publisher
            .rtc
            .sdp_api()
            .accept_answer(
                pending,
                SdpAnswer::from_sdp_string(&answer).expect("answer"),
            )
            .expect("accept");
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            h.pump();
            if h.publisher.connected && h.subscribers.iter().all(|s| s.connected && s.frames > 0) {
                break;
            }
            assert!(Instant::now() < end, "bench harness did not connect");
            if h.publisher.connected {
                h.write_frame();
                h.feed_publisher();
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        h
    }

    fn write_frame(&mut self) {
        let now = Instant::now();
        let w = self.publisher.rtc.writer(self.video_mid).expect("writer");
        let pt = w.payload_params().next().expect("pt").pt();
        w.write(
            pt,
            now,
            MediaTime::from_90khz(self.frame * 3000),
            self.payload.clone(),
        )
        .expect("write");
        self.frame += 1;
    }

    fn feed_publisher(&mut self) {
        let now = Instant::now();
        let mut out = drain(&mut self.publisher);
        // str0m packetizes on the timeout input following the write.
        self.publisher
            .rtc
            .handle_input(Input::Timeout(now))
            .expect("publisher timeout");
        out.extend(drain(&mut self.publisher));
        for (_, d) in out {
            self.sfu_input(now, self.publisher.addr, &d);
        }
    }

    fn sfu_input(&mut self, now: Instant, src: SocketAddr, data: &[u8]) {
        let Some(route) = self.demux.route(src, data) else {
            return;
        };
        let Ok(contents) = data.try_into() else {
            return;
        };
        let recv = Receive {
            proto: Protocol::Udp,
            source: src,
            destination: self.sfu_addr,
            contents,
        };
        with_ctx(self, now, |room, ctx| {
            room.handle_datagram(route, recv, ctx);
        });
    }

    /// Exchanges everything pending in both directions, answers subscriber offers, drives
    /// timeouts.
    fn pump(&mut self) {
        let now = Instant::now();
        with_ctx(self, now, |room, ctx| room.handle_timeout(ctx));
        for _ in 0..20 {
            // Subscriber offers.
            for i in 0..self.subscribers.len() {
                while let Ok(ev) = self.subscribers[i].events.try_recv() {
                    if let PeerEvent::SubscriberOffer { sdp, .. } = ev {
                        let c = &mut self.subscribers[i];
                        let offer = SdpOffer::from_sdp_string(&sdp).expect("offer");
                        let answer = c.rtc.sdp_api().accept_offer(offer).expect("accept");
                        let id = c.peer;
                        let a = answer.to_sdp_string();
                        with_ctx(self, now, |room, ctx| room.subscriber_answer(id, &a, ctx))
                            .expect("answer");
                    }
                }
            }
            while self.publisher.events.try_recv().is_ok() {}
            // SFU -> clients.
            let mut pending = Vec::new();
            let items: Vec<_> = self.outbox.items.drain(..).collect();
            let mut any = !items.is_empty();
            for (dst, d) in items {
                let c = if dst == self.publisher.addr {
                    &mut self.publisher
                } else if let Some(c) = self.subscribers.iter_mut().find(|c| c.addr == dst) {
                    c
                } else {
                    continue;
                };
                let input = Input::Receive(
                    now,
                    Receive {
                        proto: Protocol::Udp,
                        source: self.sfu_addr,
                        destination: c.addr,
                        contents: (&d[..]).try_into().expect("datagram"),
                    },
                );
                c.rtc.handle_input(input).expect("client input");
                for (_, d) in drain(c) {
                    pending.push((c.addr, d));
                }
            }
            // Clients -> SFU.
            let mut from_clients = pending;
            for c in std::iter::once(&mut self.publisher).chain(self.subscribers.iter_mut()) {
                c.rtc
                    .handle_input(Input::Timeout(now))
                    .expect("client timeout");
                for (_, d) in drain(c) {
                    from_clients.push((c.addr, d));
                }
            }
            any |= !from_clients.is_empty();
            for (src, d) in from_clients {
                self.sfu_input(now, src, &d);
            }
            if !any {
                break;
            }
        }
    }

    /// Measured step: the publisher sends one video frame; the SFU receives its packets and
    /// forwards the frame to every subscriber. The SFU's egress is counted and discarded; every
    /// 128 frames the connections are kept alive (an untimed share of the work).
    pub fn forward_frame(&mut self) {
        self.write_frame();
        self.feed_publisher();
        self.egress_packets += self.outbox.items.len() as u64;
        self.outbox.items.clear();
        if self.frame.is_multiple_of(128) {
            self.pump();
        }
    }
}

fn with_ctx<R>(
    h: &mut ForwardHarness,
    now: Instant,
    f: impl FnOnce(&mut Room, &mut RoomCtx<'_>) -> R,
) -> R {
    let mut ctx = RoomCtx {
        outbox: &mut h.outbox,
        demux: &mut h.demux,
        stats: &mut h.stats,
        settings: &h.settings,
        now,
        earliest: &mut h.earliest,
        relay: &mut h.relay,
    };
    f(&mut h.room, &mut ctx)
}
