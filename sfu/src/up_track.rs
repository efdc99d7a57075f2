//! [`UpTrack`]: one track a peer publishes, with what every DownTrack of it shares: the
//! keyframe cache and the throttled keyframe requests to the publisher. A track published on
//! another worker has a remote UpTrack here, fed by that worker's relayed packets.

use str0m::format::PayloadParams;
use str0m::media::{Mid, Pt};

use crate::ids::{MediaKind, PeerId, WorkerId};
use crate::keyframe_throttle::KeyframeThrottle;
use crate::packet_store::{PacketStore, StoreLimits};
use crate::room::RoomSettings;
use crate::rtp_rewriter::SourceId;

/// Clock rates of the only codecs the SFU negotiates (Opus, VP8).
pub(crate) fn clock_rate(kind: MediaKind) -> u32 {
    match kind {
        MediaKind::Audio => 48_000,
        MediaKind::Video => 90_000,
    }
}

pub(crate) struct UpTrack {
    pub publisher: PeerId,
    /// `None`: published on this worker. `Some(w)`: a remote UpTrack, fed by worker `w`'s
    /// relayed packets (its keyframe requests go there).
    pub origin: Option<WorkerId>,
    pub mid: Mid,
    pub kind: MediaKind,
    pub throttle: KeyframeThrottle,
    /// The publisher's current payload type and what it stands for (matched per subscriber).
    pub params: Option<(Pt, PayloadParams)>,
    /// The source stream (SSRC) last seen; a DownTrack that (re)starts follows it.
    pub source: Option<SourceId>,
    /// Video: the packets since the last keyframe, so a new DownTrack starts at once.
    pub store: Option<PacketStore>,
}

impl UpTrack {
    pub fn new(publisher: PeerId, mid: Mid, kind: MediaKind, settings: &RoomSettings) -> Self {
        let cache = settings.keyframe_cache_max_age;
        UpTrack {
            publisher,
            origin: None,
            mid,
            kind,
            throttle: KeyframeThrottle::new(settings.keyframe_min_interval),
            params: None,
            source: None,
            store: (kind == MediaKind::Video && !cache.is_zero()).then(|| {
                PacketStore::new(StoreLimits {
                    max_age: cache,
                    ..StoreLimits::default()
                })
            }),
        }
    }
}
