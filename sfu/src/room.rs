//! [`Room`]: the live media session of one meeting inside a worker: its peers, its Router,
//! its UpTracks, and the forwarding of media between them.
//!
//! The room's work lives in these files: this one (commands, the order of work), `network`
//! (datagrams and timers), `forwarding` (the RTP hot path, layers, keyframe cache and
//! requests), `track_settings` (what each subscriber shows), `bandwidth` (what each
//! subscriber's link fits), `dynacast` (pausing layers nobody wants), `moderation` (tracks a host stopped), `offers` (subscriber renegotiation), `published` (a publisher's accepted
//! offer as UpTracks), `rtc_events` (what str0m reports) and `shards` (the room on other
//! workers).
//!
//! # Order of work
//!
//! Every mutation of an `Rtc` is followed by a full drain; events from drains are queued in
//! `effects` and handled afterwards by [`Room::settle`], which may mutate other `Rtc`s (each
//! again drained). Peers that fail are collected and removed at the end, so one peer's panic
//! never unwinds through the room.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use str0m::change::{SdpAnswer, SdpOffer};
use str0m::media::Mid;
use str0m::{Candidate, Event, Input, Rtc};
use tokio::sync::mpsc;

mod bandwidth;
mod dynacast;
mod forwarding;
mod moderation;
mod network;
mod offers;
mod published;
mod rtc_events;
mod shards;
mod track_settings;

use crate::connection::Connection;
use crate::demux::{ConnKey, Demux, RoomKey};
use crate::error::SfuError;
use crate::event::{ConnState, PeerEvent};
use crate::ids::{MediaKind, PcKind, PeerId, RoomId, TrackId, WorkerId};
use crate::ip_net::{IpNet, allowed};
use crate::outbox::Outbox;
use crate::peer::{Peer, RtcFactory};
use crate::relay::{Relay, RelayMsg};
use crate::router::Router;
use crate::sdp_text;
use crate::stats::SfuStats;
use crate::up_track::UpTrack;

/// Worker-level settings every room reads.
pub(crate) struct RoomSettings {
    pub factory: RtcFactory,
    pub allowed_networks: Vec<IpNet>,
    pub keyframe_min_interval: std::time::Duration,
    pub max_tracks_per_peer: usize,
    pub keyframe_cache_max_age: std::time::Duration,
}

/// The worker state a room may touch while handling one input.
pub(crate) struct RoomCtx<'a> {
    pub outbox: &'a mut Outbox,
    pub demux: &'a mut Demux,
    pub stats: &'a mut SfuStats,
    pub settings: &'a RoomSettings,
    pub now: Instant,
    /// The worker's next wake-up; lowered by every drained timeout.
    pub earliest: &'a mut Instant,
    /// Messages to the room's shards on other workers.
    pub relay: &'a mut Relay,
}

impl RoomCtx<'_> {
    fn note(&mut self, t: Instant) {
        if t < *self.earliest {
            *self.earliest = t;
        }
    }
}

struct Effect {
    peer: PeerId,
    pc: PcKind,
    event: Event,
}

struct Failure {
    peer: PeerId,
    pc: PcKind,
    reason: String,
}

/// The live media session of one meeting: on this worker, its shard (the peers placed here
/// and remote UpTracks for what is published on other workers, see [`crate::relay`]).
pub(crate) struct Room {
    pub id: RoomId,
    key: RoomKey,
    /// The worker that places the room's peers.
    home: WorkerId,
    /// Other workers with a shard of this room: they get every local publisher's packets.
    shards: Vec<WorkerId>,
    peers: HashMap<PeerId, Peer>,
    router: Router,
    up_tracks: HashMap<TrackId, UpTrack>,
    effects: VecDeque<Effect>,
    failed: Vec<Failure>,
    /// Dynacast: when demand is summed next, or at the next wake-up (`dynacast_soon`).
    next_dynacast: Instant,
    dynacast_soon: bool,
}

/// Runs `f` on one connection, then drains it: the one way our code touches an `Rtc`.
/// `None` when the connection failed (recorded in `failed`).
#[allow(clippy::too_many_arguments)]
fn run_on<R>(
    conn: &mut Connection,
    peer: PeerId,
    ctx: &mut RoomCtx<'_>,
    effects: &mut VecDeque<Effect>,
    failed: &mut Vec<Failure>,
    f: impl FnOnce(&mut Rtc) -> R,
) -> Option<R> {
    let pc = conn.kind;
    let fail =
        |failed: &mut Vec<Failure>, reason: String| failed.push(Failure { peer, pc, reason });
    let r = match conn.call(f) {
        Ok(r) => r,
        Err(e) => {
            fail(failed, e.to_string());
            return None;
        }
    };
    let now = ctx.now;
    let mut spins = 0;
    loop {
        let t = match conn.drain(ctx.outbox, |event| {
            effects.push_back(Effect { peer, pc, event })
        }) {
            Ok(t) => t,
            Err(e) => {
                fail(failed, e.to_string());
                return None;
            }
        };
        // str0m packetizes written media (and runs other due work) on `Input::Timeout`: when
        // the drain says "due now", feed it at once instead of waiting for the worker timer.
        if t > now || spins == 3 {
            ctx.note(t);
            return Some(r);
        }
        spins += 1;
        match conn.call(|rtc| rtc.handle_input(Input::Timeout(now))) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::debug!(%peer, %pc, "timeout input refused: {e}");
                ctx.note(t);
                return Some(r);
            }
            Err(e) => {
                fail(failed, e.to_string());
                return None;
            }
        }
    }
}

impl Room {
    pub fn new(id: RoomId, key: RoomKey, home: WorkerId) -> Self {
        Room {
            id,
            key,
            home,
            shards: Vec::new(),
            peers: HashMap::new(),
            router: Router::default(),
            up_tracks: HashMap::new(),
            effects: VecDeque::new(),
            failed: Vec::new(),
            next_dynacast: Instant::now(),
            dynacast_soon: false,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// Adds this room's gauges to `s`.
    pub fn add_gauges(&self, s: &mut SfuStats) {
        s.peers += self.peers.len() as u64;
        s.up_tracks += self
            .up_tracks
            .values()
            .filter(|u| u.origin.is_none())
            .count() as u64;
        s.down_tracks += self.router.down_track_count() as u64;
    }

    fn key(&self, peer: PeerId, pc: PcKind) -> ConnKey {
        ConnKey {
            room: self.key,
            peer,
            pc,
        }
    }

    // ----- commands -------------------------------------------------------------------------

    /// Adds a peer; `serial` is its placement by the room's home (0 when none).
    pub fn join(
        &mut self,
        peer: PeerId,
        events: mpsc::Sender<PeerEvent>,
        serial: u64,
        ctx: &mut RoomCtx<'_>,
    ) -> Result<(), SfuError> {
        if self.peers.contains_key(&peer) {
            return Err(SfuError::PeerExists);
        }
        let (mut p, pu, su) = Peer::new(events, &ctx.settings.factory, ctx.now);
        p.placement = serial;
        ctx.demux.add_ufrag(&pu, self.key(peer, PcKind::Publish));
        ctx.demux.add_ufrag(&su, self.key(peer, PcKind::Subscribe));
        // Adding local candidates mutated both Rtcs: drain them.
        run_on(
            &mut p.publish,
            peer,
            ctx,
            &mut self.effects,
            &mut self.failed,
            |_| (),
        );
        run_on(
            &mut p.subscribe,
            peer,
            ctx,
            &mut self.effects,
            &mut self.failed,
            |_| (),
        );
        self.peers.insert(peer, p);
        tracing::debug!(room = %self.id, %peer, "peer joined");
        let changes = self.router.add_member(peer);
        self.apply_down_changes(changes, ctx);
        self.settle(ctx);
        Ok(())
    }

    pub fn publish(
        &mut self,
        peer: PeerId,
        offer_sdp: &str,
        ctx: &mut RoomCtx<'_>,
    ) -> Result<String, SfuError> {
        if !self.peers.contains_key(&peer) {
            return Err(SfuError::UnknownPeer);
        }
        if sdp_text::sending_media_count(offer_sdp) > ctx.settings.max_tracks_per_peer {
            return Err(SfuError::TooManyTracks);
        }
        let offer = SdpOffer::from_sdp_string(&sdp_text::publish_offer_sendonly(offer_sdp))
            .map_err(|e| SfuError::BadSdp(e.to_string()))?;
        let p = self.peers.get_mut(&peer).ok_or(SfuError::UnknownPeer)?;
        let r = run_on(
            &mut p.publish,
            peer,
            ctx,
            &mut self.effects,
            &mut self.failed,
            |rtc| rtc.sdp_api().accept_offer(offer),
        );
        let answer = match r {
            None => {
                self.settle(ctx);
                return Err(SfuError::PeerFailed("publish connection failed".into()));
            }
            Some(Err(e)) => {
                self.settle(ctx);
                return Err(SfuError::BadSdp(e.to_string()));
            }
            Some(Ok(a)) => a.to_sdp_string(),
        };
        for u in sdp_text::ice_ufrags(&answer) {
            ctx.demux.add_ufrag(u, self.key(peer, PcKind::Publish));
        }
        // str0m only emits `MediaAdded` once connected; the offer itself says which m-lines
        // exist, and `Rtc::media` (updated by accept_offer) says which of them send to us.
        if let Some(p) = self.peers.get_mut(&peer) {
            for (mid, video) in sdp_text::media_mids(offer_sdp) {
                let mid = Mid::from(mid);
                if !p.offered_up.iter().any(|(m, _)| *m == mid) {
                    let kind = if video {
                        MediaKind::Video
                    } else {
                        MediaKind::Audio
                    };
                    p.offered_up.push((mid, kind));
                }
            }
        }
        self.settle(ctx);
        self.reconcile_published(peer, ctx);
        self.settle(ctx);
        Ok(answer)
    }

    pub fn subscriber_answer(
        &mut self,
        peer: PeerId,
        answer_sdp: &str,
        ctx: &mut RoomCtx<'_>,
    ) -> Result<(), SfuError> {
        let answer =
            SdpAnswer::from_sdp_string(answer_sdp).map_err(|e| SfuError::BadSdp(e.to_string()))?;
        let p = self.peers.get_mut(&peer).ok_or(SfuError::UnknownPeer)?;
        let pending = p.pending_offer.take().ok_or(SfuError::NoPendingOffer)?;
        let r = run_on(
            &mut p.subscribe,
            peer,
            ctx,
            &mut self.effects,
            &mut self.failed,
            |rtc| rtc.sdp_api().accept_answer(pending, answer),
        );
        let result = match r {
            None => Err(SfuError::PeerFailed("subscribe connection failed".into())),
            Some(Err(e)) => {
                // The pending offer is consumed: its changes go back in the queue.
                self.rollback_negotiation(peer);
                self.maybe_offer(peer, ctx);
                Err(SfuError::BadSdp(e.to_string()))
            }
            Some(Ok(())) => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.sub_answered = true;
                }
                if let Some(batch) = self
                    .peers
                    .get_mut(&peer)
                    .and_then(|p| p.negotiation.answered())
                {
                    self.complete_batch(peer, batch, ctx);
                }
                self.maybe_offer(peer, ctx);
                Ok(())
            }
        };
        self.settle(ctx);
        result
    }

    pub fn add_candidate(
        &mut self,
        peer: PeerId,
        pc: PcKind,
        candidate: &str,
        ctx: &mut RoomCtx<'_>,
    ) -> Result<(), SfuError> {
        if !self.peers.contains_key(&peer) {
            return Err(SfuError::UnknownPeer);
        }
        let line = candidate.trim();
        let line = line.strip_prefix("a=").unwrap_or(line);
        if line.is_empty() {
            return Ok(()); // end-of-candidates
        }
        let c = Candidate::from_sdp_string(line).map_err(|e| SfuError::BadSdp(e.to_string()))?;
        if !allowed(&ctx.settings.allowed_networks, c.addr().ip()) {
            tracing::debug!(%peer, addr = %c.addr(), "ignoring candidate outside allowed networks");
            return Ok(());
        }
        let p = self.peers.get_mut(&peer).ok_or(SfuError::UnknownPeer)?;
        run_on(
            p.conn_mut(pc),
            peer,
            ctx,
            &mut self.effects,
            &mut self.failed,
            |rtc| rtc.add_remote_candidate(c),
        );
        self.settle(ctx);
        Ok(())
    }

    pub fn restart_subscriber(
        &mut self,
        peer: PeerId,
        ctx: &mut RoomCtx<'_>,
    ) -> Result<(), SfuError> {
        let p = self.peers.get_mut(&peer).ok_or(SfuError::UnknownPeer)?;
        if !p.sub_offered {
            // Never negotiated: the first offer (with the first DownTrack) starts ICE fresh.
            return Ok(());
        }
        if p.negotiation.is_waiting() {
            // The client lost the outstanding offer: replace it by one that also restarts.
            let batch = p.negotiation.supersede_with_restart();
            self.send_offer(peer, batch, true, ctx);
        } else {
            p.negotiation.request_ice_restart();
            self.maybe_offer(peer, ctx);
        }
        self.settle(ctx);
        Ok(())
    }

    /// The peer leaves on signaling's request: no `Closed` event (that one means the SFU
    /// removed the peer); its event channel simply ends.
    pub fn leave(&mut self, peer: PeerId, ctx: &mut RoomCtx<'_>) {
        self.remove_peer(peer, None, ctx);
        self.settle(ctx);
    }

    /// Ends the room: every peer gets `Closed`.
    pub fn close(&mut self, reason: &str, ctx: &mut RoomCtx<'_>) {
        for (id, mut p) in self.peers.drain() {
            ctx.demux.remove(ConnKey {
                room: self.key,
                peer: id,
                pc: PcKind::Publish,
            });
            ctx.demux.remove(ConnKey {
                room: self.key,
                peer: id,
                pc: PcKind::Subscribe,
            });
            p.publish.shutdown(ctx.outbox, ctx.now);
            p.subscribe.shutdown(ctx.outbox, ctx.now);
            p.emit(PeerEvent::Closed {
                reason: reason.to_owned(),
            });
            ctx.relay.send(
                self.home,
                RelayMsg::PeerGone {
                    room: self.id.clone(),
                    peer: id,
                    placement: p.placement,
                },
            );
        }
        self.router = Router::default();
        self.up_tracks.clear();
        self.shards.clear();
        self.effects.clear();
        self.failed.clear();
    }

    // ----- internals ------------------------------------------------------------------------

    /// Handles queued events until none is left, then removes failed peers (which may queue
    /// more work); repeats until quiet.
    fn settle(&mut self, ctx: &mut RoomCtx<'_>) {
        loop {
            while let Some(e) = self.effects.pop_front() {
                self.handle_event(e, ctx);
            }
            if self.failed.is_empty() {
                break;
            }
            for f in std::mem::take(&mut self.failed) {
                if let Some(p) = self.peers.get(&f.peer) {
                    tracing::warn!(room = %self.id, peer = %f.peer, pc = %f.pc, "peer failed: {}", f.reason);
                    p.emit(PeerEvent::ConnectionState {
                        pc: f.pc,
                        state: ConnState::Failed,
                    });
                }
                self.remove_peer(
                    f.peer,
                    Some(format!("{} connection failed: {}", f.pc, f.reason)),
                    ctx,
                );
            }
        }
    }

    /// Removes a peer; `closed`: the reason sent in a `Closed` event (`None`: no event).
    fn remove_peer(&mut self, peer: PeerId, closed: Option<String>, ctx: &mut RoomCtx<'_>) {
        let Some(mut p) = self.peers.remove(&peer) else {
            return;
        };
        tracing::debug!(room = %self.id, %peer, reason = ?closed, "peer removed");
        ctx.demux.remove(self.key(peer, PcKind::Publish));
        ctx.demux.remove(self.key(peer, PcKind::Subscribe));
        p.publish.shutdown(ctx.outbox, ctx.now);
        p.subscribe.shutdown(ctx.outbox, ctx.now);
        for (_, t) in &p.up {
            self.up_tracks.remove(t);
        }
        self.effects.retain(|e| e.peer != peer);
        if let Some(reason) = closed {
            p.emit(PeerEvent::Closed { reason });
            // Removed by the SFU itself: the home must forget where it placed the peer.
            ctx.relay.send(
                self.home,
                RelayMsg::PeerGone {
                    room: self.id.clone(),
                    peer,
                    placement: p.placement,
                },
            );
        }
        let changes = self.router.remove_member(peer);
        self.apply_down_changes(changes, ctx);
        if !p.up.is_empty() {
            self.announce(peer, ctx);
        }
    }
}
