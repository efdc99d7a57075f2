//! What the SFU reports about a participant's media: offers for its subscribe connection, the
//! tracks it publishes, its connection states, a failure.

use mm_sfu::{ConnState, DownTrackState, PeerEvent};
use tracing::{debug, warn};

use super::Room;
use crate::protocol::{
    ErrorCode, LeaveReason, MediaKind, ParticipantId, PublishedTrack, RemoteTrack, ServerMessage,
    TrackFlow, TrackSource,
};

impl Room {
    pub(super) async fn peer_event(&mut self, id: ParticipantId, event: PeerEvent) {
        if !self.participants.contains_key(&id) {
            return;
        }
        match event {
            PeerEvent::SubscriberOffer { sdp, tracks } => {
                let tracks = tracks
                    .into_iter()
                    .map(|t| {
                        let publisher = ParticipantId(t.publisher.0 as i64);
                        RemoteTrack {
                            source: self.declared_source(publisher, &t.publisher_mid, t.kind),
                            mid: t.mid,
                            participant_id: publisher,
                            track_id: t.track.to_string(),
                            kind: kind(t.kind),
                        }
                    })
                    .collect();
                self.send_to(id, ServerMessage::SubscriberOffer { sdp, tracks });
            }
            PeerEvent::Published { tracks } => {
                let p = self.participants.get_mut(&id).expect("present");
                p.tracks = tracks
                    .into_iter()
                    .map(|t| PublishedTrack {
                        source: p
                            .declared
                            .get(&t.mid)
                            .copied()
                            .unwrap_or(default_source(t.kind)),
                        track_id: t.id.to_string(),
                        kind: kind(t.kind),
                    })
                    .collect();
                // A new track of a source a host turned off stays off.
                self.enforce_silence(id).await;
                let info = self.info(&self.participants[&id]);
                self.broadcast(ServerMessage::ParticipantUpdated { participant: info });
            }
            PeerEvent::ConnectionState { pc, state } => {
                debug!(participant = %id, ?pc, ?state, "media connection state");
                let down = match state {
                    ConnState::Disconnected | ConnState::Failed => true,
                    ConnState::Connected => false,
                    ConnState::Connecting => return,
                };
                let p = self.participants.get_mut(&id).expect("present");
                let slot = match pc {
                    mm_sfu::PcKind::Publish => 0,
                    mm_sfu::PcKind::Subscribe => 1,
                };
                p.media_down[slot] = down;
                self.refresh_connection(id, true).await;
            }
            PeerEvent::TrackState { track, state } => {
                let (flow, layer, layers, size) = match state {
                    DownTrackState::Active {
                        layer,
                        layers,
                        size,
                    } => (TrackFlow::Active, Some(layer), Some(layers), size),
                    DownTrackState::Paused => (TrackFlow::Paused, None, None, None),
                    DownTrackState::PausedBandwidth => {
                        (TrackFlow::PausedBandwidth, None, None, None)
                    }
                    DownTrackState::Waiting => (TrackFlow::Waiting, None, None, None),
                };
                self.send_to(
                    id,
                    ServerMessage::TrackState {
                        track_id: track.to_string(),
                        state: flow,
                        layer,
                        layers,
                        width: size.map(|s| s.0),
                        height: size.map(|s| s.1),
                    },
                );
            }
            PeerEvent::PublishLayers { track, mid, active } => {
                let track_id = track.to_string();
                self.send_to(
                    id,
                    ServerMessage::PublishLayers {
                        mid,
                        track_id,
                        active,
                    },
                );
            }
            PeerEvent::Speaking { level, .. } => self.speaking(id, level),
            PeerEvent::Closed { reason } => {
                warn!(participant = %id, %reason, "media peer closed by the SFU");
                self.send_error(id, ErrorCode::Internal, "the media connection failed");
                if let Some(p) = self.participants.get(&id)
                    && let Some(s) = &p.session
                {
                    s.close(ErrorCode::Internal, "media connection failed");
                }
                self.remove(id, LeaveReason::Failed).await;
            }
        }
    }

    /// What the publisher declared the track on `publisher_mid` to be. Declarations arrive
    /// with the publish offer, before the SFU can know the track, so this never depends on the
    /// order in which the SFU's events for different peers reach the room.
    fn declared_source(
        &self,
        publisher: ParticipantId,
        publisher_mid: &str,
        k: mm_sfu::MediaKind,
    ) -> TrackSource {
        self.participants
            .get(&publisher)
            .and_then(|p| p.declared.get(publisher_mid))
            .copied()
            .unwrap_or(default_source(k))
    }
}

pub(super) fn kind(k: mm_sfu::MediaKind) -> MediaKind {
    match k {
        mm_sfu::MediaKind::Audio => MediaKind::Audio,
        mm_sfu::MediaKind::Video => MediaKind::Video,
    }
}

fn default_source(k: mm_sfu::MediaKind) -> TrackSource {
    match k {
        mm_sfu::MediaKind::Audio => TrackSource::Microphone,
        mm_sfu::MediaKind::Video => TrackSource::Camera,
    }
}
