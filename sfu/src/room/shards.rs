//! The room's shards on other workers ([`crate::relay`]): telling them what is published
//! here, and mirroring what is published there as remote UpTracks.

use super::{Room, RoomCtx};
use crate::ids::{MediaKind, PeerId, TrackId, WorkerId};
use crate::relay::{RelayMsg, RelayedPacket, RemoteTrack};
use crate::up_track::UpTrack;

impl Room {
    /// Worker `w` now has a shard of this room: it gets what is published here, starting
    /// with each video track's cached keyframe so its subscribers start at once. Returns
    /// false when `w` was known already.
    pub fn shard_joined(&mut self, w: WorkerId, ctx: &mut RoomCtx<'_>) -> bool {
        if w == ctx.relay.me() || self.shards.contains(&w) {
            return false;
        }
        self.shards.push(w);
        let mut publishers: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| !p.up.is_empty())
            .map(|(id, _)| *id)
            .collect();
        publishers.sort();
        for p in publishers {
            let tracks = self.local_tracks(p);
            ctx.relay.send(
                w,
                RelayMsg::Tracks {
                    room: self.id.clone(),
                    from: ctx.relay.me(),
                    publisher: p,
                    tracks,
                },
            );
        }
        let local: Vec<TrackId> = (self.up_tracks.iter())
            .filter(|(_, u)| u.origin.is_none())
            .map(|(t, _)| *t)
            .collect();
        for track in local {
            self.describe_layers(track, Some(w), ctx);
        }
        for (track, up) in &self.up_tracks {
            if up.origin.is_some() {
                continue;
            }
            for layer in &up.layers {
                let Some(run) = layer.store.as_ref().and_then(|s| s.keyframe_run(ctx.now)) else {
                    continue;
                };
                for packet in run {
                    let r = RelayedPacket {
                        track: *track,
                        rid: layer.rid,
                        packet: packet.clone(),
                        audio_level: None,
                        params: up.params.map(|(_, c)| c),
                    };
                    ctx.relay.media(w, &self.id, r);
                }
            }
        }
        true
    }

    /// Worker `w` no longer has a shard of this room: what was published there is gone.
    pub fn shard_left(&mut self, w: WorkerId, ctx: &mut RoomCtx<'_>) {
        self.shards.retain(|s| *s != w);
        self.forget_demand(w);
        let mut publishers: Vec<PeerId> = self
            .up_tracks
            .values()
            .filter(|u| u.origin == Some(w))
            .map(|u| u.publisher)
            .collect();
        publishers.sort();
        publishers.dedup();
        for p in publishers {
            self.remote_tracks(w, p, Vec::new(), ctx);
        }
    }

    /// `publisher` on worker `from` now publishes exactly `tracks`.
    pub fn remote_tracks(
        &mut self,
        from: WorkerId,
        publisher: PeerId,
        tracks: Vec<RemoteTrack>,
        ctx: &mut RoomCtx<'_>,
    ) {
        if self.peers.contains_key(&publisher) {
            return; // a local peer: its tracks are known here first-hand
        }
        self.up_tracks.retain(|id, u| {
            u.origin != Some(from) || u.publisher != publisher || tracks.iter().any(|t| t.id == *id)
        });
        for t in &tracks {
            self.up_tracks.entry(t.id).or_insert_with(|| UpTrack {
                origin: Some(from),
                ..UpTrack::new(publisher, t.mid, t.kind, ctx.settings)
            });
        }
        let list: Vec<(TrackId, MediaKind)> = tracks.iter().map(|t| (t.id, t.kind)).collect();
        let changes = self.router.set_published(publisher, &list);
        self.apply_down_changes(changes, ctx);
        self.settle(ctx);
    }

    /// Tells every other shard what the local `peer` publishes now (nothing once it left).
    pub(super) fn announce(&mut self, peer: PeerId, ctx: &mut RoomCtx<'_>) {
        if self.shards.is_empty() {
            return;
        }
        let tracks = self.local_tracks(peer);
        for w in &self.shards {
            ctx.relay.send(
                *w,
                RelayMsg::Tracks {
                    room: self.id.clone(),
                    from: ctx.relay.me(),
                    publisher: peer,
                    tracks: tracks.clone(),
                },
            );
        }
    }

    fn local_tracks(&self, peer: PeerId) -> Vec<RemoteTrack> {
        let Some(p) = self.peers.get(&peer) else {
            return Vec::new();
        };
        p.up.iter()
            .filter_map(|(mid, id)| {
                let u = self.up_tracks.get(id)?;
                Some(RemoteTrack {
                    id: *id,
                    mid: *mid,
                    kind: u.kind,
                })
            })
            .collect()
    }
}
