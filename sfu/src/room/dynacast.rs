//! Dynacast: a simulcast layer no subscriber wants is paused at its publisher, and resumed as
//! soon as one does. Every [`DYNACAST_INTERVAL`] (and at once after a subscriber's wishes
//! change) each shard sums what its DownTracks want per track; shards tell the publisher's
//! worker, which pauses a layer after [`PAUSE_AFTER`] without demand (so a tile that flickers
//! between sizes does not restart an encoder each time) and tells the publisher
//! ([`PeerEvent::PublishLayers`]). The same tick describes each track's layers (sizes, which
//! are paused: a paused layer stays selectable) to the other shards when that changed. The
//! same tick closes the speech windows of local audio tracks ([`crate::speech`]), measures
//! each layer's bitrate and shares each subscriber's bandwidth among its tracks
//! (`bandwidth`).

use std::collections::HashMap;
use std::time::Duration;

use super::{Room, RoomCtx};
use crate::event::PeerEvent;
use crate::ids::{TrackId, WorkerId};
use crate::relay::{LayerInfo, RelayMsg};

/// How often demand is summed.
pub(crate) const DYNACAST_INTERVAL: Duration = Duration::from_millis(500);

/// A layer without demand this long is paused.
pub(crate) const PAUSE_AFTER: Duration = Duration::from_secs(3);

impl Room {
    /// Sums the demand when due (or `soon` was asked for) and acts on it.
    pub(super) fn dynacast(&mut self, ctx: &mut RoomCtx<'_>) {
        if !self.dynacast_soon && ctx.now < self.next_dynacast {
            ctx.note(self.next_dynacast);
            return;
        }
        let window_closes = ctx.now >= self.next_dynacast;
        self.dynacast_soon = false;
        self.next_dynacast = ctx.now + DYNACAST_INTERVAL;
        ctx.note(self.next_dynacast);
        if window_closes {
            self.close_speech_windows();
            for up in self.up_tracks.values_mut() {
                for l in &mut up.layers {
                    l.rate.close_window(ctx.now);
                }
            }
            self.allocate_bandwidth(ctx);
        }
        let mut local: HashMap<TrackId, u8> = HashMap::new();
        for p in self.peers.values() {
            for (t, dt) in &p.down {
                *local.entry(*t).or_default() |= dt.demand();
            }
        }
        let me = ctx.relay.me();
        let mut changed: Vec<TrackId> = Vec::new();
        let mut describe: Vec<TrackId> = Vec::new();
        for (track, up) in self.up_tracks.iter_mut() {
            if !up.is_simulcast() {
                continue;
            }
            let mine = local.get(track).copied().unwrap_or(0);
            if let Some(origin) = up.origin {
                let rids = up.rids_of(mine);
                if up.sent_demand.as_ref() != Some(&rids) {
                    up.sent_demand = Some(rids.clone());
                    ctx.relay.send(
                        origin,
                        RelayMsg::LayerDemand {
                            room: self.id.clone(),
                            from: me,
                            track: *track,
                            rids,
                        },
                    );
                }
                continue;
            }
            let remote = up
                .remote_demand
                .iter()
                .fold(0, |m, (_, rids)| m | up.mask_of(rids));
            if up.apply_demand(mine | remote, ctx.now, PAUSE_AFTER) {
                changed.push(*track);
            }
            if up.described != Some(up.generation) {
                up.described = Some(up.generation);
                describe.push(*track);
            }
        }
        for track in changed {
            self.tell_publisher(track);
        }
        for track in describe {
            self.describe_layers(track, None, ctx);
        }
    }

    /// Tells the publisher of local `track` which layers to send.
    fn tell_publisher(&self, track: TrackId) {
        let Some(up) = self.up_tracks.get(&track) else {
            return;
        };
        let active = up.active_rids();
        tracing::debug!(room = %self.id, %track, ?active, "dynacast");
        if let Some(p) = self.peers.get(&up.publisher) {
            p.emit(PeerEvent::PublishLayers {
                track,
                mid: up.mid.to_string(),
                active: active.iter().map(|r| r.to_string()).collect(),
            });
        }
    }

    /// Describes the layers of local `track` to shard `to`, or to every shard.
    pub(super) fn describe_layers(
        &self,
        track: TrackId,
        to: Option<WorkerId>,
        ctx: &mut RoomCtx<'_>,
    ) {
        let Some(up) = self.up_tracks.get(&track).filter(|u| u.is_simulcast()) else {
            return;
        };
        let layers = up.layer_infos();
        for w in self.shards.iter().filter(|w| to.is_none_or(|t| t == **w)) {
            ctx.relay.send(
                *w,
                RelayMsg::Layers {
                    room: self.id.clone(),
                    track,
                    layers: layers.clone(),
                },
            );
        }
    }

    /// A shard's demand for a local track.
    pub fn layer_demand(
        &mut self,
        from: WorkerId,
        track: TrackId,
        rids: Vec<str0m::media::Rid>,
        ctx: &mut RoomCtx<'_>,
    ) {
        let Some(up) = self.up_tracks.get_mut(&track) else {
            return;
        };
        if up.origin.is_some() {
            return;
        }
        up.remote_demand.retain(|(w, _)| *w != from);
        up.remote_demand.push((from, rids));
        self.dynacast_soon = true;
        self.dynacast(ctx);
    }

    /// The publisher's worker described the layers of a remote track.
    pub fn layer_infos(&mut self, track: TrackId, layers: &[LayerInfo]) {
        if let Some(up) = self
            .up_tracks
            .get_mut(&track)
            .filter(|u| u.origin.is_some())
        {
            up.set_layer_infos(layers);
        }
    }

    /// Closes every local audio track's speech window (see [`crate::speech`]), telling each
    /// publisher whose speaking changed. On the dynacast tick: the same half-second cadence.
    fn close_speech_windows(&mut self) {
        for (track, up) in self.up_tracks.iter_mut() {
            let Some(change) = up.speech.as_mut().and_then(|m| m.close_window()) else {
                continue;
            };
            if let Some(p) = self.peers.get(&up.publisher) {
                p.emit(PeerEvent::Speaking {
                    track: *track,
                    level: change,
                });
            }
        }
    }

    /// Worker `w` left the room: its demand is gone.
    pub(super) fn forget_demand(&mut self, w: WorkerId) {
        for up in self.up_tracks.values_mut() {
            up.remote_demand.retain(|(from, _)| *from != w);
        }
    }
}
