//! [`DownTrack`]: one UpTrack forwarded to one subscriber, with its own outgoing numbering.

use str0m::media::{Mid, Pt};

use crate::ids::{MediaKind, PeerId};
use crate::rtp_rewriter::RtpRewriter;

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
