//! [`DownTrack`]: one UpTrack forwarded to one subscriber, with its own outgoing numbering,
//! what the subscriber wants of it, and which of the UpTrack's layers it forwards.

use std::time::Instant;

use str0m::media::{Mid, Pt};

use crate::bandwidth_allocator::Allotment;
use crate::event::DownTrackState;
use crate::ids::{MediaKind, PeerId};
use crate::rtp_rewriter::RtpRewriter;
use crate::simulcast::{TrackWant, UpLayer, pick_layer, quality_rank};

/// What to do with one packet of an UpTrack's layer, for one DownTrack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// The layer this DownTrack forwards.
    Forward,
    /// A keyframe of the layer it should move to: switched, forward it.
    Switched,
    /// The layer it should move to, but not at a keyframe: ask for one.
    NeedKeyframe,
    /// Another layer, or paused.
    Skip,
}

/// One UpTrack forwarded to this peer.
#[derive(Debug)]
pub(crate) struct DownTrack {
    pub publisher: PeerId,
    /// The UpTrack's mid in the publisher's publish connection (how signaling knows what the
    /// publisher declared it to be, without waiting for any other event).
    pub publisher_mid: Mid,
    pub kind: MediaKind,
    /// Mid in the subscribe connection, allocated when first offered.
    pub mid: Option<Mid>,
    /// The client accepted an offer containing it.
    pub negotiated: bool,
    /// Removal queued or offered; no media is forwarded any more.
    pub removing: bool,
    /// `stop_media` is in the outstanding offer.
    pub stop_offered: bool,
    /// Sequence numbers, timestamps and VP8 picture ids of the outgoing stream: its SSRC
    /// never changes, whatever the source stream does.
    pub rewriter: RtpRewriter,
    /// Publisher payload type → ours, resolved on the first packet (and on a change).
    pub pt: Option<(Pt, Pt)>,
    /// Last cumulative NACK count seen in egress stats.
    pub nacks_seen: u64,
    /// The subscriber's `track_settings` for this track.
    pub want: TrackWant,
    /// What the subscriber's bandwidth allows (`None`: no limit known).
    pub allotment: Option<Allotment>,
    /// The layer forwarded now (`None`: nothing yet, or paused).
    pub layer: Option<usize>,
    /// The layer to forward, chosen for `want` among the live layers; reached at its next
    /// keyframe.
    pub target: Option<usize>,
    /// The UpTrack's layer generation `target` was chosen at.
    pub generation: Option<u32>,
    /// Last state told to the subscriber (`track_state`), to tell only changes.
    pub reported: Option<DownTrackState>,
}

impl DownTrack {
    pub fn new(publisher: PeerId, publisher_mid: Mid, kind: MediaKind, clock_rate: u32) -> Self {
        DownTrack {
            publisher,
            publisher_mid,
            kind,
            mid: None,
            negotiated: false,
            removing: false,
            stop_offered: false,
            rewriter: RtpRewriter::new(clock_rate, kind == MediaKind::Video),
            pt: None,
            nacks_seen: 0,
            want: TrackWant::default(),
            allotment: None,
            layer: None,
            target: None,
            generation: None,
            reported: None,
        }
    }

    /// Chooses the target layer again when the layers changed since the last choice, or the
    /// layer forwarded now went quiet.
    pub fn retarget(&mut self, layers: &[UpLayer], generation: u32, now: Instant) {
        let stale = self
            .layer
            .is_some_and(|l| layers.get(l).is_none_or(|l| !l.is_available(now)));
        if self.generation != Some(generation) || stale {
            self.generation = Some(generation);
            self.target = match self.allotment {
                Some(Allotment::Paused) => None,
                Some(Allotment::Layer(cap)) => {
                    pick_layer(layers, &self.want, now).map(|l| at_most(layers, l, cap))
                }
                None => pick_layer(layers, &self.want, now),
            };
        }
    }

    /// Forwards nothing by choice: hidden by the subscriber, or paused for its bandwidth.
    pub fn is_off(&self) -> bool {
        self.want.disabled || self.allotment == Some(Allotment::Paused)
    }

    /// Decides for one packet of layer `layer` (after [`Self::retarget`]). A switch happens
    /// only at a keyframe of the new layer, so the subscriber's decoder never loses its
    /// reference; until then the old layer keeps flowing.
    pub fn admit(&mut self, layer: usize, keyframe_start: bool) -> Admit {
        if self.is_off() {
            return Admit::Skip;
        }
        if self.target == Some(layer) && self.layer != Some(layer) {
            if !keyframe_start {
                return Admit::NeedKeyframe;
            }
            self.layer = Some(layer);
            return Admit::Switched;
        }
        if self.layer == Some(layer) {
            Admit::Forward
        } else {
            Admit::Skip
        }
    }

    /// The layers this DownTrack wants from the publisher, as bits: the one it forwards and
    /// the one it moves to. Nothing when hidden or on its way out.
    pub fn demand(&self) -> u8 {
        if self.is_off() || self.removing {
            return 0;
        }
        let bit = |l: Option<usize>| l.map_or(0, |l| 1u8 << l);
        bit(self.layer) | bit(self.target)
    }

    /// The state to tell the subscriber, given the UpTrack's layers.
    pub fn state(&self, layers: &[UpLayer]) -> DownTrackState {
        if self.want.disabled {
            return DownTrackState::Paused;
        }
        if self.allotment == Some(Allotment::Paused) {
            return DownTrackState::PausedBandwidth;
        }
        match self.layer.and_then(|l| layers.get(l)) {
            Some(u) => DownTrackState::Active {
                layer: quality_rank(layers, u),
                layers: layers.len() as u8,
                size: u.size,
            },
            None => DownTrackState::Waiting,
        }
    }

    /// Media may be written: offered, accepted and not on its way out.
    pub fn open_mid(&self) -> Option<Mid> {
        match (self.mid, self.negotiated, self.removing) {
            (Some(mid), true, false) => Some(mid),
            _ => None,
        }
    }
}

/// `layer`, or `cap` when `layer` is of higher quality (the allocator's ceiling).
fn at_most(layers: &[UpLayer], layer: usize, cap: usize) -> usize {
    match (layers.get(layer), layers.get(cap)) {
        (Some(l), Some(c)) if quality_rank(layers, l) > quality_rank(layers, c) => cap,
        _ => layer,
    }
}
