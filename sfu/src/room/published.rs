//! A publisher's accepted offer, turned into the room's UpTracks and announced.

use str0m::media::Mid;

use super::{Room, RoomCtx};
use crate::event::{PeerEvent, UpTrackInfo};
use crate::ids::{MediaKind, PeerId, TrackId};
use crate::up_track::UpTrack;

impl Room {
    /// After an accepted publish offer: which m-lines carry media to us now, as UpTracks.
    pub(super) fn reconcile_published(&mut self, peer: PeerId, ctx: &mut RoomCtx<'_>) {
        let max = ctx.settings.max_tracks_per_peer;
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let mut list: Vec<(Mid, TrackId, MediaKind)> = Vec::new();
        for &(mid, kind) in &p.offered_up {
            let active = p
                .publish
                .rtc()
                .media(mid)
                .is_some_and(|m| !m.disabled() && m.direction().is_receiving());
            if active && list.len() < max {
                let track = p.up_track(mid).unwrap_or_else(TrackId::next);
                list.push((mid, track, kind));
            }
        }
        // Stopped m-lines never come back: forget them.
        p.offered_up
            .retain(|(mid, _)| p.publish.rtc().media(*mid).is_some_and(|m| !m.stopped()));
        let new_up: Vec<(Mid, TrackId)> = list.iter().map(|(m, t, _)| (*m, *t)).collect();
        if new_up == p.up {
            return;
        }
        for (_, t) in &p.up {
            if !new_up.iter().any(|(_, n)| n == t) {
                self.up_tracks.remove(t);
            }
        }
        for &(mid, track, kind) in &list {
            self.up_tracks
                .entry(track)
                .or_insert_with(|| UpTrack::new(peer, mid, kind, ctx.settings));
        }
        p.up = new_up;
        p.emit(PeerEvent::Published {
            tracks: list
                .iter()
                .map(|(mid, id, kind)| UpTrackInfo {
                    id: *id,
                    mid: mid.to_string(),
                    kind: *kind,
                })
                .collect(),
        });
        let tracks: Vec<(TrackId, MediaKind)> = list.iter().map(|(_, t, k)| (*t, *k)).collect();
        let changes = self.router.set_published(peer, &tracks);
        self.apply_down_changes(changes, ctx);
        self.announce(peer, ctx);
    }
}
