//! [`Peer`]: one participant of a run, ours or Janus's, behind one interface for the accounting.

use std::time::Duration;

use crate::janus::JanusPeer;
use crate::participant::Participant;
use crate::publisher::PublisherStats;
use crate::track_receiver::TrackReceiver;
use crate::wire::{MediaKind, MediaState};

pub(super) enum PeerImpl {
    Ours(Participant),
    Janus(JanusPeer),
}

pub(super) struct Peer {
    pub(super) imp: PeerImpl,
    /// Receiving tracks expected.
    pub(super) expected_tracks: usize,
    pub(super) publishes: bool,
    /// Publisher key: our participant id, or Janus's feed id.
    pub(super) publisher_key: Option<i64>,
    pub(super) join: Option<Duration>,
}

impl Peer {
    pub(super) fn with_receivers<R>(&self, f: impl FnOnce(&[TrackReceiver]) -> R) -> R {
        match &self.imp {
            PeerImpl::Ours(p) => p.with_receivers(f),
            PeerImpl::Janus(p) => p.with_receivers(f),
        }
    }

    pub(super) fn publisher_stats(&self) -> Option<PublisherStats> {
        match &self.imp {
            PeerImpl::Ours(p) => p.publisher_stats(),
            PeerImpl::Janus(p) => p.publisher_stats(),
        }
    }

    pub(super) fn stop_sending(&self) {
        match &self.imp {
            PeerImpl::Ours(p) => {
                let _ = p.set_media_state(MediaState {
                    audio_muted: true,
                    video_muted: true,
                    ..Default::default()
                });
            }
            PeerImpl::Janus(p) => p.stop_sending(),
        }
    }

    pub(super) async fn close(&self) {
        match &self.imp {
            PeerImpl::Ours(p) => p.close().await,
            PeerImpl::Janus(p) => p.close().await,
        }
    }

    pub(super) fn receiving(&self) -> usize {
        self.with_receivers(|rs| rs.iter().filter(|r| r.packets() > 0).count())
    }

    pub(super) fn packets(&self) -> u64 {
        self.with_receivers(|rs| rs.iter().map(TrackReceiver::packets).sum())
    }

    /// The first intact video frame (or audio unit for audio-only media).
    pub(super) fn first_frame(&self) -> Option<Duration> {
        self.with_receivers(|rs| {
            let stats: Vec<_> = rs.iter().map(TrackReceiver::stats).collect();
            let video = stats
                .iter()
                .filter(|s| s.label.kind == MediaKind::Video)
                .filter_map(|s| s.time_to_first_frame)
                .min();
            video.or_else(|| stats.iter().filter_map(|s| s.time_to_first_frame).min())
        })
    }
}
