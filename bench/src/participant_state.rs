//! Everything the server told one participant, kept as a snapshot that tests can wait on.
//!
//! [`ParticipantSnapshot::apply`] is pure: it folds one server message into the snapshot.

use std::collections::BTreeMap;

use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;

use crate::wire::{
    ChatMessage, EndReason, ErrorBody, IceServer, LeaveReason, MeetingInfo, ParticipantId,
    ParticipantInfo, RemoteTrack, ServerMessage, TrackFlow,
};

/// The latest `track_state` of one remote track.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteTrackState {
    pub state: TrackFlow,
    pub layer: Option<u8>,
    pub layers: Option<u8>,
    pub size: Option<(u16, u16)>,
}

/// How the signaling WebSocket ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseInfo {
    /// The close frame's code; `None` when the socket ended without one.
    pub code: Option<u16>,
    pub reason: String,
    /// False when we dropped it ourselves ([`drop_connection`](crate::Participant::drop_connection)).
    pub by_server: bool,
}

/// The participant's view of the meeting, updated as messages arrive.
#[derive(Clone, Debug, Default)]
pub struct ParticipantSnapshot {
    /// From `welcome`.
    pub user_id: Option<i64>,
    pub name: Option<String>,
    pub heartbeat_interval_ms: Option<u32>,
    /// From `joined`.
    pub participant_id: Option<ParticipantId>,
    pub meeting: Option<MeetingInfo>,
    /// This participant as the others see it (from `joined`, then our own updates).
    pub me: Option<ParticipantInfo>,
    pub resume_token: Option<String>,
    pub resumed: bool,
    pub ice_servers: Vec<IceServer>,
    /// Everyone else currently in the meeting.
    pub others: BTreeMap<ParticipantId, ParticipantInfo>,
    /// Everyone who left, in order.
    pub left: Vec<(ParticipantId, LeaveReason)>,
    /// The chat in id order: the history `joined` carried, then what arrived.
    pub chat: Vec<ChatMessage>,
    /// Errors the server sent, in order.
    pub errors: Vec<ErrorBody>,
    pub meeting_ended: Option<EndReason>,
    /// The `tracks` of the latest `subscriber_offer`: which mid carries whose media.
    pub remote_tracks: Vec<RemoteTrack>,
    /// The latest `track_state` per track id, and how many arrived in all.
    pub track_states: BTreeMap<String, RemoteTrackState>,
    pub track_state_messages: u64,
    /// The latest `active_speakers`, loudest first, and how many arrived.
    pub active_speakers: Vec<ParticipantId>,
    pub active_speakers_messages: u64,
    /// Dynacast: the latest `publish_layers` per mid of our publish connection.
    pub publish_layers: BTreeMap<String, Vec<String>>,
    /// Counters of messages that complete a request, so callers can wait for "one more".
    pub welcomes: u64,
    pub joins: u64,
    pub publish_answers: u64,
    pub subscriber_offers: u64,
    /// Subscriber offers we answered successfully.
    pub subscriber_answers: u64,
    pub pongs: u64,
    /// Every server message, in order of arrival (across reconnections).
    pub events: Vec<ServerMessage>,
    /// Text frames that did not parse as a server message.
    pub unparsed: Vec<String>,
    /// Local failures (SDP refused by webrtc-rs and such), in order.
    pub local_errors: Vec<String>,
    /// The signaling WebSocket is open.
    pub connected: bool,
    /// WebSocket sessions opened so far (1 + reconnections).
    pub sessions: u32,
    /// How the latest WebSocket ended.
    pub close: Option<CloseInfo>,
    pub publish_pc: RTCPeerConnectionState,
    pub subscribe_pc: RTCPeerConnectionState,
}

impl ParticipantSnapshot {
    /// Folds one server message in (the event loop handles the SDP itself).
    pub fn apply(&mut self, msg: &ServerMessage) {
        match msg {
            ServerMessage::Welcome {
                user_id,
                name,
                heartbeat_interval_ms,
                ..
            } => {
                self.user_id = Some(*user_id);
                self.name = Some(name.clone());
                self.heartbeat_interval_ms = Some(*heartbeat_interval_ms);
                self.welcomes += 1;
            }
            ServerMessage::Joined {
                participant_id,
                meeting,
                you,
                participants,
                ice_servers,
                resume_token,
                resumed,
                chat_history,
            } => {
                self.participant_id = Some(*participant_id);
                self.me = Some((**you).clone());
                self.meeting = Some(meeting.clone());
                self.others = participants.iter().map(|p| (p.id, p.clone())).collect();
                self.ice_servers = ice_servers.clone();
                self.resume_token = Some(resume_token.clone());
                self.resumed = *resumed;
                self.joins += 1;
                // After a resume the history repeats what this participant already has.
                for message in chat_history {
                    if !self.chat.iter().any(|m| m.id == message.id) {
                        self.chat.push(message.clone());
                    }
                }
                self.chat.sort_by_key(|m| m.id);
            }
            ServerMessage::ParticipantJoined { participant }
            | ServerMessage::ParticipantUpdated { participant } => {
                if Some(participant.id) == self.participant_id {
                    self.me = Some(participant.clone());
                } else {
                    self.others.insert(participant.id, participant.clone());
                }
            }
            ServerMessage::ParticipantLeft {
                participant_id,
                reason,
            } => {
                self.others.remove(participant_id);
                self.left.push((*participant_id, *reason));
            }
            ServerMessage::PublishAnswer { .. } => {}
            ServerMessage::SubscriberOffer { tracks, .. } => {
                self.remote_tracks = tracks.clone();
                self.subscriber_offers += 1;
            }
            ServerMessage::TrackState {
                track_id,
                state,
                layer,
                layers,
                width,
                height,
            } => {
                let size = width.zip(*height);
                let s = RemoteTrackState {
                    state: *state,
                    layer: *layer,
                    layers: *layers,
                    size,
                };
                self.track_states.insert(track_id.clone(), s);
                self.track_state_messages += 1;
            }
            ServerMessage::PublishLayers { mid, active, .. } => {
                self.publish_layers.insert(mid.clone(), active.clone());
            }
            ServerMessage::ActiveSpeakers { speakers } => {
                self.active_speakers = speakers.iter().map(|s| s.participant_id).collect();
                self.active_speakers_messages += 1;
            }
            ServerMessage::Chat(c) => self.chat.push(c.clone()),
            ServerMessage::MeetingEnded { reason } => self.meeting_ended = Some(*reason),
            ServerMessage::Error(e) => self.errors.push(e.clone()),
            ServerMessage::Pong { .. } => self.pongs += 1,
            ServerMessage::MeetingUpdated { meeting } => self.meeting = Some(meeting.clone()),
            // Kept in `events` only: nothing here acts on them, so a test can tell what the
            // server enforces from what a client merely agrees to.
            ServerMessage::MutedByHost { .. }
            | ServerMessage::UnmuteRequested { .. }
            | ServerMessage::Removed { .. }
            | ServerMessage::Reaction { .. }
            | ServerMessage::LobbyWaiting { .. }
            | ServerMessage::LobbyUpdated { .. } => {}
        }
        self.events.push(msg.clone());
    }

    /// The remote track carried on `mid` of the subscribe connection.
    pub fn remote_track(&self, mid: &str) -> Option<&RemoteTrack> {
        self.remote_tracks.iter().find(|t| t.mid == mid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{ConnectionState, MediaKind, MediaState, TrackSource};

    fn info(id: i64) -> ParticipantInfo {
        ParticipantInfo {
            id: ParticipantId(id),
            user_id: id * 10,
            name: format!("p{id}"),
            is_host: false,
            is_cohost: false,
            is_guest: false,
            raised_hand: None,
            connection: ConnectionState::Connected,
            media: MediaState::default(),
            tracks: vec![],
        }
    }

    #[test]
    fn presence_follows_joined_updates_and_leaves() {
        let mut s = ParticipantSnapshot::default();
        s.apply(&ServerMessage::Joined {
            participant_id: ParticipantId(1),
            meeting: MeetingInfo {
                code: "c".into(),
                title: "t".into(),
                host_user_id: 10,
                locked: false,
                lobby: false,
                allow_guests: false,
            },
            you: Box::new(info(1)),
            participants: vec![info(2)],
            ice_servers: vec![],
            resume_token: "r".into(),
            resumed: false,
            chat_history: vec![],
        });
        s.apply(&ServerMessage::ParticipantJoined {
            participant: info(3),
        });
        let mut reconnecting = info(2);
        reconnecting.connection = ConnectionState::Reconnecting;
        s.apply(&ServerMessage::ParticipantUpdated {
            participant: reconnecting,
        });
        s.apply(&ServerMessage::ParticipantLeft {
            participant_id: ParticipantId(3),
            reason: LeaveReason::Left,
        });
        assert_eq!(s.joins, 1);
        assert_eq!(s.resume_token.as_deref(), Some("r"));
        assert_eq!(s.others.len(), 1);
        assert_eq!(
            s.others[&ParticipantId(2)].connection,
            ConnectionState::Reconnecting
        );
        assert_eq!(s.left, vec![(ParticipantId(3), LeaveReason::Left)]);
        assert_eq!(s.events.len(), 4);
    }

    #[test]
    fn subscriber_offers_replace_the_track_map() {
        let mut s = ParticipantSnapshot::default();
        let track = |mid: &str| RemoteTrack {
            mid: mid.into(),
            participant_id: ParticipantId(2),
            track_id: "t".into(),
            kind: MediaKind::Audio,
            source: TrackSource::Microphone,
        };
        s.apply(&ServerMessage::SubscriberOffer {
            sdp: String::new(),
            tracks: vec![track("0"), track("1")],
        });
        s.apply(&ServerMessage::SubscriberOffer {
            sdp: String::new(),
            tracks: vec![track("1")],
        });
        assert_eq!(s.subscriber_offers, 2);
        assert!(s.remote_track("0").is_none());
        assert_eq!(
            s.remote_track("1").unwrap().participant_id,
            ParticipantId(2)
        );
    }
}
