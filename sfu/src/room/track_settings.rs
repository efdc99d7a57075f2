//! `track_settings`: a subscriber says what it shows of each remote track, and its
//! DownTracks follow: a hidden track stops at once, a shown one resumes at a keyframe, a
//! resized one moves to the layer that covers its new size at that layer's next keyframe.

use super::{Room, RoomCtx};
use crate::error::SfuError;
use crate::event::PeerEvent;
use crate::ids::{MediaKind, PeerId, TrackId};
use crate::simulcast::TrackWant;

/// Settings kept for DownTracks not made yet, per peer at most.
const MAX_EARLY_WANTS: usize = 256;

impl Room {
    /// Applies `wants` to the subscriber's DownTracks; those for tracks it has no DownTrack of
    /// are remembered for one (bounded by [`MAX_EARLY_WANTS`]).
    pub fn track_settings(
        &mut self,
        peer: PeerId,
        wants: &[(TrackId, TrackWant)],
        ctx: &mut RoomCtx<'_>,
    ) -> Result<(), SfuError> {
        if !self.peers.contains_key(&peer) {
            return Err(SfuError::UnknownPeer);
        }
        for &(track, want) in wants {
            self.apply_want(peer, track, want, ctx);
        }
        // A layer someone now wants may be paused at its publisher: resume it at once.
        self.dynacast_soon = true;
        self.dynacast(ctx);
        self.settle(ctx);
        Ok(())
    }

    fn apply_want(&mut self, peer: PeerId, track: TrackId, want: TrackWant, ctx: &mut RoomCtx<'_>) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let (Some(_), Some(dt)) = (self.up_tracks.get(&track), p.down.get_mut(&track)) else {
            // Not here yet (a track published on another worker reaches this one a moment
            // after the roster told the client), or gone: kept for a DownTrack to come.
            if p.early_wants.len() >= MAX_EARLY_WANTS {
                p.early_wants.clear(); // stale entries of tracks long gone
            }
            p.early_wants.insert(track, want);
            return;
        };
        if dt.want == want {
            return;
        }
        dt.want = want;
        self.reconsider(peer, track, ctx);
    }

    /// After what a DownTrack may forward changed (its subscriber's wish, or its bandwidth):
    /// picks its layer again, then pauses it, starts it (video at a keyframe), or moves it to
    /// the new layer at that layer's next keyframe; tells the subscriber of a new state.
    pub(super) fn reconsider(&mut self, peer: PeerId, track: TrackId, ctx: &mut RoomCtx<'_>) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let (Some(up), Some(dt)) = (self.up_tracks.get(&track), p.down.get_mut(&track)) else {
            return;
        };
        dt.generation = None;
        dt.retarget(&up.layers, up.generation, ctx.now);
        let mut keyframe_for = None;
        let mut start = false;
        if dt.is_off() {
            dt.rewriter.pause();
            dt.layer = None;
        } else if dt.layer.is_none() {
            // Audio resumes at its next packet (fan-out switches to it); video at a keyframe.
            start = dt.kind == MediaKind::Video;
        } else if dt.target != dt.layer {
            keyframe_for = dt.target;
        }
        let state = dt.state(&up.layers);
        let changed = dt.reported != Some(state);
        dt.reported = Some(state);
        if changed && let Some(p) = self.peers.get(&peer) {
            p.emit(PeerEvent::TrackState { track, state });
        }
        if start {
            self.start_video(peer, track, ctx);
        }
        if let Some(layer) = keyframe_for {
            self.request_keyframe(track, layer, ctx);
        }
    }
}
