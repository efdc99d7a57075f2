//! Typed identifiers shared by the whole crate: [`RoomId`], [`PeerId`], [`TrackId`],
//! plus the small enums [`PcKind`] and [`MediaKind`].

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// The live media session of one meeting, named by the meeting code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomId(pub String);

impl RoomId {
    /// Creates a room id from a meeting code.
    pub fn new(code: impl Into<String>) -> Self {
        RoomId(code.into())
    }

    /// The meeting code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for RoomId {
    fn from(s: &str) -> Self {
        RoomId(s.to_owned())
    }
}

/// A participant's WebRTC endpoints on the SFU side; the number is chosen by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(pub u64);

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Identifies one UpTrack for its whole life (across renegotiations of its publisher).
///
/// Unique within the process; printed as `tr-<n>`, which is also the `msid` track id the
/// subscribers see in their offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackId(pub u64);

impl TrackId {
    /// Allocates a fresh id (called once per new UpTrack, never per packet).
    pub(crate) fn next() -> TrackId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        TrackId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl std::str::FromStr for TrackId {
    type Err = ();

    /// Parses the `tr-<n>` form printed by `Display`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.strip_prefix("tr-")
            .and_then(|n| n.parse().ok())
            .map(TrackId)
            .ok_or(())
    }
}

impl fmt::Display for TrackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tr-{}", self.0)
    }
}

/// Which of a Peer's two connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PcKind {
    /// The client offers, the SFU answers; carries the peer's UpTracks.
    Publish,
    /// The SFU offers, the client answers; carries the peer's DownTracks.
    Subscribe,
}

impl PcKind {
    /// `"publish"` or `"subscribe"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            PcKind::Publish => "publish",
            PcKind::Subscribe => "subscribe",
        }
    }
}

impl fmt::Display for PcKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A media worker: its index in [`Sfu`](crate::Sfu)'s list (and `mm-sfu-<n>`, its thread).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct WorkerId(pub usize);

impl fmt::Display for WorkerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Kind of a track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// Opus audio.
    Audio,
    /// VP8 video.
    Video,
}

impl MediaKind {
    /// `"audio"` or `"video"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
        }
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<str0m::media::MediaKind> for MediaKind {
    fn from(k: str0m::media::MediaKind) -> Self {
        match k {
            str0m::media::MediaKind::Audio => MediaKind::Audio,
            str0m::media::MediaKind::Video => MediaKind::Video,
        }
    }
}

impl From<MediaKind> for str0m::media::MediaKind {
    fn from(k: MediaKind) -> Self {
        match k {
            MediaKind::Audio => str0m::media::MediaKind::Audio,
            MediaKind::Video => str0m::media::MediaKind::Video,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_id_round_trips() {
        let t = TrackId(42);
        assert_eq!(t.to_string(), "tr-42");
        assert_eq!("tr-42".parse::<TrackId>(), Ok(t));
        assert!("42".parse::<TrackId>().is_err());
        assert!("tr-x".parse::<TrackId>().is_err());
        assert_ne!(TrackId::next(), TrackId::next());
    }
}
