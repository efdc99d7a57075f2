//! What a joined participant asks of its room: publish, answer, candidates, chat, media state,
//! end, leave.

use mm_sfu::PeerId;
use tracing::debug;

use super::{Room, RoomRequest};
use crate::protocol::{EndReason, ErrorCode, LeaveReason, ParticipantId, PcKind, ServerMessage};

impl Room {
    /// Handles one request; true when it ended the room.
    pub(super) async fn request(
        &mut self,
        id: ParticipantId,
        session: u64,
        request: RoomRequest,
    ) -> bool {
        let Some(p) = self.participants.get(&id) else {
            return false;
        };
        if p.session_id != session {
            return false; // a replaced session's late message
        }
        if p.session.is_none() && !matches!(request, RoomRequest::Leave) {
            return false; // the room dropped this session; only its goodbye still counts
        }
        let peer = PeerId(id.0 as u64);
        match request {
            RoomRequest::PublishOffer { sdp, tracks } => {
                if tracks.len() > self.config.max_tracks_per_participant {
                    self.send_error(id, ErrorCode::TooManyTracks, "too many tracks");
                    return false;
                }
                let p = self.participants.get_mut(&id).expect("present");
                p.declared = tracks.into_iter().map(|t| (t.mid, t.source)).collect();
                match self.sfu.publish(peer, sdp).await {
                    Ok(answer) => self.send_to(id, ServerMessage::PublishAnswer { sdp: answer }),
                    Err(mm_sfu::SfuError::TooManyTracks) => {
                        self.send_error(id, ErrorCode::TooManyTracks, "too many tracks")
                    }
                    Err(e) => self.send_error(id, ErrorCode::NegotiationFailed, e.to_string()),
                }
            }
            RoomRequest::SubscriberAnswer { sdp } => {
                if let Err(e) = self.sfu.subscriber_answer(peer, sdp).await {
                    self.send_error(id, ErrorCode::NegotiationFailed, e.to_string());
                }
            }
            RoomRequest::IceCandidate { pc, candidate } => {
                let pc = match pc {
                    PcKind::Publish => mm_sfu::PcKind::Publish,
                    PcKind::Subscribe => mm_sfu::PcKind::Subscribe,
                };
                if let Err(e) = self.sfu.add_candidate(peer, pc, candidate).await {
                    debug!(participant = %id, error = %e, "candidate refused");
                }
            }
            RoomRequest::RestartSubscriber => {
                if let Err(e) = self.sfu.restart_subscriber(peer).await {
                    self.send_error(id, ErrorCode::NegotiationFailed, e.to_string());
                }
            }
            RoomRequest::TrackSettings(wants) => {
                if let Err(e) = self.sfu.track_settings(peer, wants).await {
                    debug!(participant = %id, error = %e, "track settings refused");
                }
            }
            RoomRequest::MediaState(media) => {
                let p = self.participants.get_mut(&id).expect("present");
                p.media = media;
                self.lift_silence(id);
                self.enforce_silence(id).await;
                let info = self.info(&self.participants[&id]);
                self.broadcast(ServerMessage::ParticipantUpdated { participant: info });
            }
            RoomRequest::Chat { text } => {
                let name = self.participants[&id].user.name.clone();
                let msg = self.chat.record(id, name, text);
                self.broadcast(ServerMessage::Chat(msg));
            }
            RoomRequest::Host(action) => self.host_action(id, action).await,
            RoomRequest::RaiseHand(raised) => self.raise_hand(id, raised),
            RoomRequest::Reaction(emoji) => self.reaction(id, emoji),
            RoomRequest::EndMeeting => {
                if !self.has_host_rights(self.participants[&id].user.user_id) {
                    let message = "only a host or co-host can end the meeting";
                    self.send_error(id, ErrorCode::NotHost, message);
                    return false;
                }
                self.end(EndReason::HostEnded).await;
                return true;
            }
            RoomRequest::Leave => {
                self.remove(id, LeaveReason::Left).await;
            }
        }
        false
    }
}
