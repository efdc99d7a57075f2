//! Subscriber offers: turning Router changes into DownTracks, batching them into one
//! outstanding offer at a time, and applying (or rolling back) the client's answer.

use super::{Room, RoomCtx, run_on};
use crate::down_track::DownTrack;
use crate::event::PeerEvent;
use crate::ids::PcKind;
use crate::ids::{MediaKind, PeerId, TrackId};
use crate::negotiation::{Batch, RemoveOutcome};
use crate::peer::Peer;
use crate::router::DownChange;
use crate::sdp_text;
use crate::up_track::clock_rate;
use str0m::media::Direction;

impl Room {
    pub(super) fn apply_down_changes(&mut self, changes: Vec<DownChange>, ctx: &mut RoomCtx<'_>) {
        let mut touched: Vec<PeerId> = Vec::new();
        for c in changes {
            match c {
                DownChange::Add {
                    subscriber,
                    track,
                    publisher,
                    kind,
                } => {
                    let Some(up_mid) = self.up_tracks.get(&track).map(|u| u.mid) else {
                        continue;
                    };
                    if let Some(sp) = self.peers.get_mut(&subscriber) {
                        let mut dt = DownTrack::new(publisher, up_mid, kind, clock_rate(kind));
                        // Settings that came before the DownTrack (see `Peer::early_wants`).
                        if let Some(w) = sp.early_wants.remove(&track) {
                            dt.want = w;
                        }
                        sp.down.insert(track, dt);
                        sp.negotiation.add(track);
                        touched.push(subscriber);
                    }
                }
                DownChange::Remove { subscriber, track } => {
                    if let Some(sp) = self.peers.get_mut(&subscriber) {
                        match sp.negotiation.remove(track) {
                            RemoveOutcome::Cancelled => {
                                sp.down.remove(&track);
                            }
                            RemoveOutcome::Queued => {
                                if let Some(dt) = sp.down.get_mut(&track) {
                                    dt.removing = true;
                                }
                            }
                        }
                        touched.push(subscriber);
                    }
                }
            }
        }
        touched.sort();
        touched.dedup();
        for s in touched {
            self.maybe_offer(s, ctx);
        }
    }

    pub(super) fn maybe_offer(&mut self, peer: PeerId, ctx: &mut RoomCtx<'_>) {
        let Some(batch) = self
            .peers
            .get_mut(&peer)
            .and_then(|p| p.negotiation.next_offer())
        else {
            return;
        };
        self.send_offer(peer, batch, false, ctx);
    }

    /// Turns a batch into an SDP offer on the subscribe connection and emits it.
    pub(super) fn send_offer(
        &mut self,
        peer: PeerId,
        batch: Batch<TrackId>,
        supersede: bool,
        ctx: &mut RoomCtx<'_>,
    ) {
        let key = self.key(peer, PcKind::Subscribe);
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        if supersede {
            // The client never answered the outstanding offer: str0m forgets it when the new
            // one is made, so everything it carried is offered again.
            p.pending_offer = None;
            for t in &batch.adds {
                if let Some(dt) = p.down.get_mut(t)
                    && !dt.negotiated
                {
                    dt.mid = None;
                }
            }
            for t in &batch.removes {
                if let Some(dt) = p.down.get_mut(t) {
                    dt.stop_offered = false;
                }
            }
        }
        let Peer {
            subscribe,
            down,
            sub_offered,
            ..
        } = p;
        let first = !*sub_offered;
        let r = run_on(
            subscribe,
            peer,
            ctx,
            &mut self.effects,
            &mut self.failed,
            |rtc| {
                let mut api = rtc.sdp_api();
                if first {
                    // A data channel keeps the BUNDLE group non-empty when every DownTrack is
                    // later stopped (an offer whose m-lines are all port 0 is refused by str0m
                    // clients, and its handling varies across browsers).
                    api.add_channel("mm-sfu".into());
                }
                if batch.ice_restart {
                    api.ice_restart(true);
                }
                for t in &batch.adds {
                    if let Some(dt) = down.get_mut(t)
                        && dt.mid.is_none()
                        && !dt.removing
                    {
                        dt.mid = Some(api.add_media(
                            dt.kind.into(),
                            Direction::SendOnly,
                            Some(format!("peer-{}", dt.publisher)),
                            Some(t.to_string()),
                            None,
                        ));
                    }
                }
                for t in &batch.removes {
                    if let Some(dt) = down.get_mut(t)
                        && let (Some(mid), false) = (dt.mid, dt.stop_offered)
                    {
                        api.stop_media(mid);
                        dt.stop_offered = true;
                    }
                }
                api.apply()
            },
        );
        let Some(applied) = r else {
            return;
        };
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        match applied {
            Some((offer, pending)) => {
                p.pending_offer = Some(pending);
                p.sub_offered = true;
                let sdp = offer.to_sdp_string();
                for u in sdp_text::ice_ufrags(&sdp) {
                    ctx.demux.add_ufrag(u, key);
                }
                let tracks = p.down_infos();
                p.emit(PeerEvent::SubscriberOffer { sdp, tracks });
            }
            None => {
                // Nothing needed negotiation (e.g. everything cancelled): batch done.
                if let Some(b) = p.negotiation.answered() {
                    self.complete_batch(peer, b, ctx);
                }
                self.maybe_offer(peer, ctx);
            }
        }
    }

    /// The client accepted the offer carrying `batch`.
    pub(super) fn complete_batch(
        &mut self,
        peer: PeerId,
        batch: Batch<TrackId>,
        ctx: &mut RoomCtx<'_>,
    ) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let mut start = Vec::new();
        for t in &batch.adds {
            if let Some(dt) = p.down.get_mut(t)
                && let Some(mid) = dt.mid
            {
                dt.negotiated = true;
                p.down_by_mid.insert(mid, *t);
                if !dt.removing {
                    self.router.set_open(*t, peer, mid);
                    if dt.kind == MediaKind::Video && p.subscribe.connected {
                        start.push(*t);
                    }
                }
            }
        }
        for t in &batch.removes {
            if let Some(dt) = p.down.get(t)
                && dt.removing
            {
                if let Some(mid) = dt.mid {
                    p.down_by_mid.remove(&mid);
                }
                p.down.remove(t);
            }
        }
        for t in start {
            self.start_video(peer, t, ctx);
        }
    }

    /// The outstanding offer's answer was refused: the offer's changes never happened.
    pub(super) fn rollback_negotiation(&mut self, peer: PeerId) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        p.negotiation.rollback();
        // If the very first offer failed, the next one must add the data channel again.
        p.sub_offered = p.sub_answered;
        p.down.retain(|_, dt| !dt.removing || dt.negotiated);
        for dt in p.down.values_mut() {
            if !dt.negotiated {
                dt.mid = None;
            }
            dt.stop_offered = false;
        }
    }
}
