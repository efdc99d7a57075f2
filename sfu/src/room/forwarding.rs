//! The hot path: one RTP packet from a publisher to every subscriber of its UpTrack, and how
//! a video DownTrack starts: from the UpTrack's keyframe cache when it holds a recent
//! keyframe, otherwise with a throttled keyframe request to the publisher.
//!
//! A packet leaves as it arrives (str0m's RTP mode): nothing waits for the rest of a frame
//! or for a lost packet's repair. Each DownTrack rewrites sequence number, timestamp and VP8
//! picture id / TL0PICIDX ([`RtpRewriter`](crate::rtp_rewriter::RtpRewriter)); the payload
//! is the one `Arc<[u8]>` str0m filled at reception, shared by the keyframe cache and by
//! every subscriber's send buffer (which answers that subscriber's NACKs). The VP8 fields are
//! patched while str0m serializes the packet, so no subscriber gets a copy of its own.

use std::sync::Arc;

use str0m::Rtc;
use str0m::media::{KeyframeRequestKind, Mid, Pt};
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite, Vp8Descriptor};

use super::{Room, RoomCtx, run_on};
use crate::down_track::{Admit, DownTrack};
use crate::event::PeerEvent;
use crate::ids::{MediaKind, PeerId, TrackId};
use crate::packet_store::StoredPacket;
use crate::relay::{RelayMsg, RelayedPacket};
use crate::rtp_rewriter::{Rewritten, SourceId, SourcePacket, Vp8Ids};
use crate::simulcast::{MAX_LAYERS, keyframe_size};

/// What a forwarded packet adds to its payload on the wire to a subscriber: the RTP header
/// with its extensions, SRTP's tag, UDP and IP.
const RTP_HEADER_BYTES: usize = 60;

/// Cached packets written to a starting DownTrack between two drains of its connection.
const REPLAY_CHUNK: usize = 32;

/// What every subscriber's copy of one packet shares.
struct Outgoing<'a> {
    source: SourcePacket,
    pt: Pt,
    marker: bool,
    payload: &'a Arc<[u8]>,
    vp8: Option<Vp8Descriptor>,
    audio_level: Option<(i8, bool)>,
    video: bool,
}

impl Outgoing<'_> {
    /// Writes the packet, rewritten by `dt`, to the subscriber's stream on `mid`. False when
    /// the DownTrack does not forward it (waiting for a keyframe, from before its start).
    fn write(&self, rtc: &mut Rtc, mid: Mid, dt: &mut DownTrack, up_params: PtParams) -> bool {
        let Some(out_pt) = out_pt(rtc, dt, self.pt, up_params) else {
            return false;
        };
        let Some(rw) = dt.rewriter.rewrite(&self.source) else {
            return false;
        };
        let mut api = rtc.direct_api();
        let Some(tx) = api.stream_tx_by_mid(mid, None) else {
            return false;
        };
        let mut ext = ExtensionValues::default();
        if let Some((level, active)) = self.audio_level {
            // Browsers' active-speaker detection reads it.
            ext.audio_level = Some(level);
            ext.voice_activity = Some(active);
        }
        let mut w = RtpWrite::new(
            out_pt,
            rw.seq.into(),
            rw.timestamp,
            self.source.arrival,
            self.payload.clone(),
        )
        .marker(self.marker)
        .ext_vals(ext)
        .nackable(self.video);
        if let Some(patch) = self.vp8.as_ref().and_then(|d| vp8_patch(d, &rw)) {
            w = w.vp8_patch(patch);
        }
        tx.write_rtp(w);
        true
    }
}

/// The UpTrack's payload parameters, to match against the subscriber's.
type PtParams = Option<str0m::format::PayloadParams>;

/// The subscriber's payload type for the publisher's `pt`, cached on the DownTrack.
fn out_pt(rtc: &Rtc, dt: &mut DownTrack, pt: Pt, params: PtParams) -> Option<Pt> {
    if let Some((from, to)) = dt.pt
        && from == pt
    {
        return Some(to);
    }
    let to = rtc.codec_config().match_params(params?)?.pt();
    dt.pt = Some((pt, to));
    Some(to)
}

fn vp8_patch(d: &Vp8Descriptor, rw: &Rewritten) -> Option<str0m::rtp::Vp8Patch> {
    let mut b = d.patch();
    if let (Some(_), Some(id)) = (d.picture_id(), rw.picture_id) {
        b = b.picture_id(id);
    }
    if let (Some(_), Some(idx)) = (d.tl0_pic_idx(), rw.tl0_pic_idx) {
        b = b.tl0_pic_idx(idx);
    }
    b.build().ok()
}

fn vp8_ids(d: &Vp8Descriptor, payload: &[u8]) -> Option<Vp8Ids> {
    if d.picture_id().is_none() && d.tl0_pic_idx().is_none() {
        return None;
    }
    Some(Vp8Ids {
        picture_id: d.picture_id(),
        picture_id_15bit: d.picture_id().is_some_and(|_| payload_15bit(payload)),
        tl0_pic_idx: d.tl0_pic_idx(),
    })
}

/// Whether the descriptor's PictureID uses the 15-bit form (RFC 7741 §4.2: the M bit).
fn payload_15bit(payload: &[u8]) -> bool {
    // X bit set, then the extension octet with I set, then the PictureID's first octet.
    payload.first().is_some_and(|b| b & 0x80 != 0)
        && payload.get(1).is_some_and(|b| b & 0x80 != 0)
        && payload.get(2).is_some_and(|b| b & 0x80 != 0)
}

impl Room {
    /// One RTP packet from a local publisher, forwarded to every subscriber of its UpTrack
    /// here and once to each other worker with a shard of the room.
    pub(super) fn forward(&mut self, publisher: PeerId, pkt: RtpPacket, ctx: &mut RoomCtx<'_>) {
        let Some(p) = self.peers.get_mut(&publisher) else {
            return;
        };
        let Some((track, rid)) = p.up_track_for_ssrc(pkt.header.ssrc) else {
            return;
        };
        let pt = pkt.header.payload_type;
        let Some(up) = self.up_tracks.get_mut(&track) else {
            return;
        };
        if up.blocked {
            return; // stopped by a host: not forwarded, not heard as speech, not cached
        }
        if up.params.is_none_or(|(known, _)| known != pt) {
            // Only a negotiated media payload type is forwarded: a repair stream str0m could
            // not pair with its media stream (RTX under an SSRC of its own) arrives as one more
            // stream of the mid, with the RTX payload type, and must not reach subscribers.
            let Some(c) = p.publish.rtc().codec_config().find(|c| c.pt() == pt) else {
                return;
            };
            up.params = Some((pt, *c));
        }
        let video = up.kind == MediaKind::Video;
        let vp8 = if video {
            Vp8Descriptor::parse(&pkt.payload).ok()
        } else {
            None
        };
        if let (Some(m), Some(dbov)) = (up.speech.as_mut(), pkt.header.ext_vals.audio_level) {
            m.packet(dbov);
        }
        let keyframe_start = vp8.is_some_and(|d| d.starts_keyframe(&pkt.payload));
        let ids = vp8.and_then(|d| vp8_ids(&d, &pkt.payload));
        let relayed = RelayedPacket {
            track,
            rid,
            packet: StoredPacket {
                source: SourceId(*pkt.header.ssrc),
                seq: *pkt.seq_no,
                timestamp: pkt.header.timestamp,
                marker: pkt.header.marker,
                arrival: pkt.timestamp,
                keyframe_start,
                payload: pkt.payload,
                vp8: ids,
                pt: *pt,
            },
            audio_level: pkt
                .header
                .ext_vals
                .audio_level
                .map(|l| (l, pkt.header.ext_vals.voice_activity.unwrap_or(false))),
            params: up.params.map(|(_, c)| c),
        };
        for w in &self.shards {
            ctx.relay.media(*w, &self.id, relayed.clone());
        }
        ctx.stats.relayed_out += self.shards.len() as u64;
        self.fan_out(relayed, vp8, ctx);
    }

    /// Packets of a track published on another worker.
    pub fn relayed(&mut self, packets: Vec<RelayedPacket>, ctx: &mut RoomCtx<'_>) {
        for r in packets {
            let Some(up) = self.up_tracks.get_mut(&r.track) else {
                continue;
            };
            if up.origin.is_none() {
                continue; // ours: a stale message about a track id that moved here (never)
            }
            if let Some(params) = r.params
                && up.params.is_none_or(|(pt, _)| *pt != r.packet.pt)
            {
                up.params = Some((r.packet.pt.into(), params));
            }
            let vp8 = if up.kind == MediaKind::Video {
                Vp8Descriptor::parse(&r.packet.payload).ok()
            } else {
                None
            };
            self.fan_out(r, vp8, ctx);
        }
        self.settle(ctx);
    }

    /// Writes `r` to every local subscriber of its UpTrack that forwards its layer (or
    /// switches to it at this keyframe), then keeps it in the layer's keyframe cache.
    fn fan_out(&mut self, r: RelayedPacket, vp8: Option<Vp8Descriptor>, ctx: &mut RoomCtx<'_>) {
        let track = r.track;
        let Room {
            router,
            peers,
            effects,
            failed,
            up_tracks,
            ..
        } = self;
        let Some(up) = up_tracks.get_mut(&track) else {
            return;
        };
        let Some(li) = up.layer_index(r.rid) else {
            return; // a fourth RID: not ours to forward
        };
        let size = if r.packet.keyframe_start {
            keyframe_size(&r.packet.payload)
        } else {
            None
        };
        up.saw(li, ctx.now, size);
        up.layers[li].source = Some(r.packet.source);
        up.layers[li]
            .rate
            .add(r.packet.payload.len() + RTP_HEADER_BYTES);
        let params = up.params.map(|(_, c)| c);
        let video = up.kind == MediaKind::Video;
        let start_point = !video || r.packet.keyframe_start;
        let out = outgoing(&r.packet, vp8, r.audio_level, video);
        // Bit `i`: layer `i` needs a keyframe for some DownTrack. A simulcast layer whose size
        // is not known yet (its first keyframe came before its stream was bound) needs one
        // too: without its size no subscriber can be given the layer that fits it.
        let mut keyframes_wanted = 0u8;
        if video && up.origin.is_none() && r.rid.is_some() && up.layers[li].size.is_none() {
            keyframes_wanted |= 1 << li;
        }
        for sub in router.subscribers(track) {
            let Some(mid) = sub.mid else { continue };
            let Some(sp) = peers.get_mut(&sub.peer) else {
                continue;
            };
            if !sp.subscribe.connected {
                continue; // str0m would drop it; the DownTrack starts on connect
            }
            let Some(dt) = sp.down.get_mut(&track) else {
                continue;
            };
            dt.retarget(&up.layers, up.generation, ctx.now);
            match dt.admit(li, start_point) {
                Admit::Skip => continue,
                Admit::NeedKeyframe => {
                    keyframes_wanted |= 1 << li;
                    continue;
                }
                Admit::Switched => dt.rewriter.switch_to(r.packet.source),
                Admit::Forward => {}
            }
            let sent = run_on(&mut sp.subscribe, sub.peer, ctx, effects, failed, |rtc| {
                out.write(rtc, mid, dt, params)
            });
            if sent == Some(false) && dt.rewriter.waiting_for_keyframe() {
                keyframes_wanted |= 1 << li;
            }
            let state = dt.state(&up.layers);
            if dt.reported != Some(state) {
                dt.reported = Some(state);
                sp.emit(PeerEvent::TrackState { track, state });
            }
        }
        if let Some(store) = up.layers[li].store.as_mut() {
            store.push(r.packet);
        }
        for l in 0..MAX_LAYERS {
            if keyframes_wanted & (1 << l) != 0 {
                // Keeps asking (throttled) until the keyframe comes, should a request be lost.
                self.request_keyframe(track, l, ctx);
            }
        }
    }

    /// A video DownTrack (re)starts at a keyframe of the layer it should forward. A new one
    /// starts from that layer's cache when it holds a recent keyframe: the cached packets are
    /// written at once. One that already sent media (a reconnect, a resume) must not show
    /// those older frames again: it waits for a new keyframe, as does any start with nothing
    /// cached.
    pub(super) fn start_video(
        &mut self,
        subscriber: PeerId,
        track: TrackId,
        ctx: &mut RoomCtx<'_>,
    ) {
        let Some(up) = self.up_tracks.get(&track) else {
            return;
        };
        let params = up.params.map(|(_, c)| c);
        let Some(sp) = self.peers.get_mut(&subscriber) else {
            return;
        };
        let Some(dt) = sp.down.get_mut(&track) else {
            return;
        };
        let Some(mid) = dt.open_mid() else {
            return;
        };
        dt.generation = None;
        dt.retarget(&up.layers, up.generation, ctx.now);
        let Some(li) = dt.target else {
            // Nothing live (or disabled): the first packet of a wanted layer starts it.
            dt.layer = None;
            return;
        };
        let layer = &up.layers[li];
        dt.layer = Some(li);
        if layer.paused {
            // Dynacast paused it: the next wake-up resumes it.
            self.dynacast_soon = true;
            ctx.note(ctx.now);
        }
        if let Some(s) = layer.source {
            dt.rewriter.switch_to(s);
        }
        let fresh = !dt.rewriter.has_sent();
        let cached: Option<Vec<StoredPacket>> = layer
            .store
            .as_ref()
            .and_then(|s| s.keyframe_run(ctx.now).map(|run| run.cloned().collect()))
            .filter(|c: &Vec<StoredPacket>| fresh && !c.is_empty());
        let Some(cached) = cached else {
            self.request_keyframe(track, li, ctx);
            return;
        };
        let (effects, failed) = (&mut self.effects, &mut self.failed);
        // In chunks, each drained before the next: str0m's send queue keeps the capacity of
        // the largest burst written between two drains for the stream's whole life.
        let mut sent = Some(0usize);
        for chunk in cached.chunks(REPLAY_CHUNK) {
            let n = run_on(&mut sp.subscribe, subscriber, ctx, effects, failed, |rtc| {
                chunk
                    .iter()
                    .filter(|c| replay(c).write(rtc, mid, dt, params))
                    .count()
            });
            sent = sent.zip(n).map(|(a, b)| a + b);
            if sent.is_none() {
                break;
            }
        }
        match sent {
            Some(n) if n > 0 => ctx.stats.cache_starts += 1,
            Some(_) => self.request_keyframe(track, li, ctx),
            None => {}
        }
    }

    /// Someone wants a keyframe of layer `layer` of `track`: throttled request to its
    /// publisher.
    pub(crate) fn request_keyframe(&mut self, track: TrackId, layer: usize, ctx: &mut RoomCtx<'_>) {
        let Some(up) = self.up_tracks.get_mut(&track) else {
            return;
        };
        if up.kind != MediaKind::Video {
            return;
        }
        let Some(l) = up.layers.get_mut(layer) else {
            return;
        };
        if l.throttle.request(ctx.now) {
            self.send_keyframe_request(track, layer, ctx);
        } else if let Some(d) = l.throttle.deadline() {
            ctx.note(d);
        }
    }

    /// A remote subscriber's keyframe request, naming the layer by its RID (each worker numbers
    /// a track's layers in the order it saw them).
    pub(crate) fn request_keyframe_for_rid(
        &mut self,
        track: TrackId,
        rid: Option<str0m::media::Rid>,
        ctx: &mut RoomCtx<'_>,
    ) {
        let layer = self
            .up_tracks
            .get(&track)
            .and_then(|u| u.layers.iter().position(|l| l.rid == rid));
        if let Some(layer) = layer {
            self.request_keyframe(track, layer, ctx);
        }
    }

    /// A keyframe request for one layer of `track`, past the throttle: a PLI to a local
    /// publisher, or a message to the worker of a remote one (which throttles it again with
    /// its other subscribers' requests).
    pub(super) fn send_keyframe_request(
        &mut self,
        track: TrackId,
        layer: usize,
        ctx: &mut RoomCtx<'_>,
    ) {
        let Some(up) = self.up_tracks.get(&track) else {
            return;
        };
        let Some(rid) = up.layers.get(layer).map(|l| l.rid) else {
            return;
        };
        let (publisher, mid) = (up.publisher, up.mid);
        if let Some(origin) = up.origin {
            ctx.relay.send(
                origin,
                RelayMsg::KeyframeRequest {
                    room: self.id.clone(),
                    track,
                    rid,
                },
            );
            return;
        }
        let Some(p) = self.peers.get_mut(&publisher) else {
            return;
        };
        let r = run_on(
            &mut p.publish,
            publisher,
            ctx,
            &mut self.effects,
            &mut self.failed,
            |rtc| {
                let mut api = rtc.direct_api();
                let Some(rx) = api.stream_rx_by_mid(mid, rid) else {
                    return false;
                };
                rx.request_keyframe(KeyframeRequestKind::Pli);
                true
            },
        );
        if r == Some(true) {
            ctx.stats.keyframe_requests += 1;
        }
    }
}

/// What every subscriber's copy of `c` shares. A cached packet is replayed as if it had just
/// arrived, with its original arrival time (the sender reports map RTP time to that
/// wallclock).
fn outgoing(
    c: &StoredPacket,
    vp8: Option<Vp8Descriptor>,
    audio_level: Option<(i8, bool)>,
    video: bool,
) -> Outgoing<'_> {
    Outgoing {
        source: SourcePacket {
            source: c.source,
            seq: c.seq,
            timestamp: c.timestamp,
            arrival: c.arrival,
            keyframe_start: c.keyframe_start,
            vp8: c.vp8,
        },
        pt: c.pt.into(),
        marker: c.marker,
        payload: &c.payload,
        vp8,
        audio_level,
        video,
    }
}

/// A cached video packet, replayed.
fn replay(c: &StoredPacket) -> Outgoing<'_> {
    outgoing(c, Vp8Descriptor::parse(&c.payload).ok(), None, true)
}
