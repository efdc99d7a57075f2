//! [`SdpHarness`]: one in-memory Room with one joined peer, so the fuzz targets and the
//! corpus-replay tests can feed client text (offers, candidates) and datagrams through the
//! exact code the media worker runs, without sockets or threads. Not part of the supported API.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::net::{DatagramRecv, Protocol, Receive};
use tokio::sync::mpsc;

use crate::config::SfuConfig;
use crate::demux::{Demux, RoomKey};
use crate::error::SfuError;
use crate::event::PeerEvent;
use crate::ids::{PcKind, PeerId, RoomId, WorkerId};
use crate::ip_net::IpNet;
use crate::outbox::Outbox;
use crate::peer::RtcFactory;
use crate::relay::Relay;
use crate::room::{Room, RoomCtx, RoomSettings};
use crate::stats::SfuStats;

/// The joined peer's id.
const PEER: PeerId = PeerId(1);

/// A Room with peer 1 joined, driven in memory.
pub struct SdpHarness {
    room: Room,
    demux: Demux,
    outbox: Outbox,
    stats: SfuStats,
    settings: RoomSettings,
    earliest: Instant,
    relay: Relay,
    sfu_addr: SocketAddr,
    events: mpsc::Receiver<PeerEvent>,
}

impl Default for SdpHarness {
    fn default() -> Self {
        Self::new()
    }
}

impl SdpHarness {
    /// A room on a notional 127.0.0.1:1 that allows 127.0.0.0/8, with peer 1 joined.
    pub fn new() -> Self {
        let sfu_addr = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 1);
        let allowed: IpNet = "127.0.0.0/8".parse().expect("literal network");
        let settings = RoomSettings {
            factory: RtcFactory::new(
                vec![sfu_addr],
                Vec::new(),
                Arc::new(str0m::crypto::from_feature_flags()),
                SfuConfig::default().bandwidth_estimation,
            )
            .expect("DTLS certificate"),
            allowed_networks: vec![allowed],
            keyframe_min_interval: Duration::from_millis(500),
            max_tracks_per_peer: 8,
            keyframe_cache_max_age: Duration::from_secs(3),
        };
        let (tx, events) = mpsc::channel(1024);
        let mut h = SdpHarness {
            room: Room::new(RoomId::from("fuzz"), RoomKey(0), WorkerId(0)),
            demux: Demux::default(),
            outbox: Outbox::new(Arc::from(vec![allowed])),
            stats: SfuStats::default(),
            settings,
            earliest: Instant::now(),
            relay: Relay::alone(),
            sfu_addr,
            events,
        };
        h.with_ctx(|room, ctx| room.join(PEER, tx, 0, ctx))
            .expect("a fresh room accepts its first peer");
        h
    }

    /// The peer's publish offer, as signaling hands it over: the SFU's answer or the error
    /// signaling reports.
    pub fn publish(&mut self, offer: &str) -> Result<String, SfuError> {
        let r = self.with_ctx(|room, ctx| room.publish(PEER, offer, ctx));
        self.discard_output();
        r
    }

    /// A trickled candidate line for the peer's `pc` connection.
    pub fn add_candidate(&mut self, pc: PcKind, line: &str) -> Result<(), SfuError> {
        let r = self.with_ctx(|room, ctx| room.add_candidate(PEER, pc, line, ctx));
        self.discard_output();
        r
    }

    /// One datagram from `src` as the worker handles it: demux, parse, route. True when it
    /// reached a connection.
    pub fn datagram(&mut self, src: SocketAddr, data: &[u8]) -> bool {
        let Some(route) = self.demux.route(src, data) else {
            return false;
        };
        let Ok(contents) = DatagramRecv::try_from(data) else {
            return false;
        };
        let recv = Receive {
            proto: Protocol::Udp,
            source: src,
            destination: self.sfu_addr,
            contents,
        };
        let r = self.with_ctx(|room, ctx| room.handle_datagram(route, recv, ctx));
        self.discard_output();
        r
    }

    /// Peer 1 is still in the room (no input made the SFU drop it).
    pub fn peer_alive(&self) -> bool {
        !self.room.is_empty()
    }

    /// Remote addresses in the routing table.
    pub fn routes(&self) -> usize {
        self.demux.addr_count()
    }

    fn discard_output(&mut self) {
        self.outbox.items.clear();
        while self.events.try_recv().is_ok() {}
    }

    fn with_ctx<R>(&mut self, f: impl FnOnce(&mut Room, &mut RoomCtx<'_>) -> R) -> R {
        let mut ctx = RoomCtx {
            outbox: &mut self.outbox,
            demux: &mut self.demux,
            stats: &mut self.stats,
            settings: &self.settings,
            now: Instant::now(),
            earliest: &mut self.earliest,
            relay: &mut self.relay,
        };
        f(&mut self.room, &mut ctx)
    }
}
