//! Tracks a host stopped. The stop is enforced where the track's packets arrive (its
//! publisher's worker), so a client that ignores being muted still reaches nobody; the shards
//! only have to forget the keyframe they cached, which would otherwise show a newcomer the
//! picture the host took away.

use super::{Room, RoomCtx};
use crate::error::SfuError;
use crate::ids::{MediaKind, PeerId, TrackId};
use crate::relay::RelayMsg;

impl Room {
    /// Blocks or unblocks `track`, which `peer` must publish here.
    pub fn block_track(
        &mut self,
        peer: PeerId,
        track: TrackId,
        blocked: bool,
        ctx: &mut RoomCtx<'_>,
    ) -> Result<(), SfuError> {
        if !self.peers.contains_key(&peer) {
            return Err(SfuError::UnknownPeer);
        }
        let up = self
            .up_tracks
            .get_mut(&track)
            .filter(|u| u.publisher == peer && u.origin.is_none())
            .ok_or(SfuError::UnknownTrack)?;
        if up.blocked == blocked {
            return Ok(());
        }
        up.blocked = blocked;
        let video = up.kind == MediaKind::Video;
        let layers = up.layers.len();
        if blocked {
            self.forget_cached(track);
            for w in &self.shards {
                ctx.relay.send(
                    *w,
                    RelayMsg::TrackBlocked {
                        room: self.id.clone(),
                        track,
                    },
                );
            }
        } else if video {
            // Every subscriber lost the picture: a fresh keyframe of each layer, not throttled
            // (no request of the blocked time reached the publisher).
            for layer in 0..layers {
                self.send_keyframe_request(track, layer, ctx);
            }
        }
        self.settle(ctx);
        Ok(())
    }

    /// Drops what the keyframe cache holds of `track` (here a local or a remote UpTrack).
    pub fn forget_cached(&mut self, track: TrackId) {
        let Some(up) = self.up_tracks.get_mut(&track) else {
            return;
        };
        for l in &mut up.layers {
            if let Some(store) = l.store.as_mut() {
                store.clear();
            }
        }
    }
}
