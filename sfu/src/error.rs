//! [`SfuError`]: the crate's one error type.

/// Errors returned by [`crate::Sfu`] and [`crate::RoomHandle`].
#[derive(Debug, thiserror::Error)]
pub enum SfuError {
    /// The peer has not joined this room (or has left / was closed).
    #[error("unknown peer")]
    UnknownPeer,
    /// The peer publishes no track with this id (it stopped it, or never had it).
    #[error("unknown track")]
    UnknownTrack,
    /// The peer id is already joined in this room.
    #[error("peer already joined")]
    PeerExists,
    /// The SDP or candidate could not be parsed or was refused.
    #[error("bad sdp: {0}")]
    BadSdp(String),
    /// The offer publishes more tracks than `max_tracks_per_peer`.
    #[error("too many tracks")]
    TooManyTracks,
    /// The room was closed, or the SFU shut down.
    #[error("room closed")]
    RoomClosed,
    /// An answer arrived while no subscriber offer was outstanding.
    #[error("no subscriber offer outstanding")]
    NoPendingOffer,
    /// The peer's connection failed (panic or protocol error); the peer was closed.
    #[error("peer failed: {0}")]
    PeerFailed(String),
    /// Invalid configuration.
    #[error("config: {0}")]
    Config(String),
    /// Socket or thread error.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}
