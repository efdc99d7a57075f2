//! What the engine reports about a peer's connections: packets to forward, keyframe requests,
//! egress stats, bandwidth estimates, connection state changes and closes.

use str0m::Event;
use str0m::bwe::BweKind;

use super::{Effect, Failure, Room, RoomCtx};
use crate::event::{ConnState, PeerEvent};
use crate::ids::{MediaKind, PcKind, TrackId};

impl Room {
    pub(super) fn handle_event(&mut self, e: Effect, ctx: &mut RoomCtx<'_>) {
        let Effect { peer, pc, event } = e;
        match (pc, event) {
            (PcKind::Publish, Event::RtpPacket(pkt)) => self.forward(peer, pkt, ctx),
            (PcKind::Subscribe, Event::KeyframeRequest(req)) => {
                ctx.stats.plis += 1;
                // For the layer the subscriber gets (or is about to).
                let wanted = self.peers.get(&peer).and_then(|p| {
                    let track = *p.down_by_mid.get(&req.mid)?;
                    let dt = p.down.get(&track)?;
                    Some((track, dt.layer.or(dt.target)?))
                });
                if let Some((track, layer)) = wanted {
                    self.request_keyframe(track, layer, ctx);
                }
            }
            (PcKind::Subscribe, Event::MediaEgressStats(s)) => {
                if let Some(p) = self.peers.get_mut(&peer)
                    && let Some(dt) = p.down_by_mid.get(&s.mid).and_then(|t| p.down.get_mut(t))
                {
                    ctx.stats.nacks += s.nacks.saturating_sub(dt.nacks_seen);
                    dt.nacks_seen = dt.nacks_seen.max(s.nacks);
                }
            }
            (
                PcKind::Subscribe,
                Event::EgressBitrateEstimate(BweKind::Twcc {
                    estimate,
                    can_probe,
                }),
            ) => self.bandwidth_estimate(peer, estimate.as_u64(), can_probe, ctx.now),
            (_, Event::Closed) => self.failed.push(Failure {
                peer,
                pc,
                reason: "closed by the client".into(),
            }),
            (_, ev @ (Event::Connected | Event::IceConnectionStateChange(_))) => {
                let Some(p) = self.peers.get_mut(&peer) else {
                    return;
                };
                let Some(state) = p.conn_mut(pc).state_change(&ev) else {
                    return;
                };
                tracing::debug!(%peer, %pc, ?state, "connection state");
                p.emit(PeerEvent::ConnectionState { pc, state });
                if pc == PcKind::Subscribe && state == ConnState::Connected {
                    // (Re)connected subscriber: every video DownTrack restarts at a keyframe.
                    let start: Vec<TrackId> = p
                        .down
                        .iter()
                        .filter(|(_, dt)| dt.kind == MediaKind::Video && dt.open_mid().is_some())
                        .map(|(t, _)| *t)
                        .collect();
                    for t in start {
                        self.start_video(peer, t, ctx);
                    }
                }
            }
            _ => {}
        }
    }
}
