//! [`PeerEvent`] and the info structs it carries: what the SFU tells signaling about a peer.

use crate::ids::{MediaKind, PcKind, PeerId, TrackId};

/// Events for one peer, delivered on the channel given to [`crate::RoomHandle::join`].
#[derive(Debug, Clone, PartialEq)]
pub enum PeerEvent {
    /// Forward to the client as an offer on its subscribe connection; `tracks` says which
    /// transceiver mid carries whose media (every DownTrack the offer keeps).
    SubscriberOffer {
        /// SDP offer.
        sdp: String,
        /// DownTracks in this offer.
        tracks: Vec<DownTrackInfo>,
    },
    /// The tracks this peer now publishes (after an accepted offer added/removed tracks).
    Published {
        /// All current UpTracks of this peer.
        tracks: Vec<UpTrackInfo>,
    },
    /// State of one of the peer's two connections.
    ConnectionState {
        /// Which connection.
        pc: PcKind,
        /// New state.
        state: ConnState,
    },
    /// What this subscriber now receives of one remote track: after `track_settings`, a
    /// layer switch, or a pause. Only changes are sent.
    TrackState {
        /// The UpTrack.
        track: TrackId,
        /// What flows.
        state: DownTrackState,
    },
    /// Dynacast, to a publisher: send only these simulcast layers of the track on `mid` (by
    /// RID) and pause the others; nobody receives them. Sent when the set changes.
    PublishLayers {
        /// The UpTrack.
        track: TrackId,
        /// Its mid in the publisher's publish connection.
        mid: String,
        /// The RIDs to send.
        active: Vec<String>,
    },
    /// Whether this peer's audio track carries speech (from the audio levels it sends): on
    /// starting, on a loudness change of 10 or more, and on stopping.
    Speaking {
        /// The audio UpTrack.
        track: TrackId,
        /// Loudness 1-100 while speaking; `None`: stopped.
        level: Option<u8>,
    },
    /// The SFU removed the peer (connection error or panic, client closed its connection,
    /// room closed or SFU shutdown); no more events follow. Not sent after `leave`.
    Closed {
        /// Human-readable reason.
        reason: String,
    },
}

/// What a subscriber receives of one remote track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownTrackState {
    /// Media flows from layer `layer` of `layers` (0 is the first the publisher sent; a track
    /// without simulcast has one), at the size of its last keyframe when known.
    Active {
        /// Index of the forwarded layer.
        layer: u8,
        /// Layers the publisher sends.
        layers: u8,
        /// Width and height.
        size: Option<(u16, u16)>,
    },
    /// Nothing is forwarded: the subscriber disabled the track (`track_settings`).
    Paused,
    /// Nothing is forwarded: the subscriber's bandwidth does not fit even the lowest layer.
    PausedBandwidth,
    /// Enabled, but nothing to forward yet (no live layer, or waiting for a keyframe).
    Waiting,
}

/// Connection state of one PeerConnection as the SFU sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// ICE checking / DTLS handshaking.
    Connecting,
    /// ICE and DTLS up: media flows.
    Connected,
    /// ICE lost (no checks from the client for a while). The SFU keeps the peer; signaling
    /// decides after a grace period (ICE restart or leave).
    Disconnected,
    /// The connection broke irrecoverably; a `Closed` event follows.
    Failed,
}

/// One track a peer publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpTrackInfo {
    /// Stable id of the UpTrack.
    pub id: TrackId,
    /// Mid in the publisher's publish connection.
    pub mid: String,
    /// Audio or video.
    pub kind: MediaKind,
}

/// One UpTrack forwarded to this peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownTrackInfo {
    /// Mid in this subscriber's subscribe connection.
    pub mid: String,
    /// Who publishes it.
    pub publisher: PeerId,
    /// The UpTrack's mid in the publisher's publish connection.
    pub publisher_mid: String,
    /// The UpTrack.
    pub track: TrackId,
    /// Audio or video.
    pub kind: MediaKind,
}
