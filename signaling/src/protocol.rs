//! The signaling wire protocol, version [`PROTOCOL_VERSION`].
//!
//! Every frame is one JSON text message tagged by `type` (snake_case). These enums are the
//! single source of the protocol: the TypeScript types in `web/src/protocol/` are generated from
//! them by `cargo test -p mm-signaling export_bindings`, and `docs/signaling-protocol.md` describes the
//! order and the rules. Field names are stable; adding an optional field is not a version change.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Bumped on any incompatible change; a `hello` with another version is refused.
pub const PROTOCOL_VERSION: u32 = 1;

/// A participant's presence in a meeting. It equals the participation row's id, so one
/// participant id survives a reconnect (resume) but a leave-and-join gets a new one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[ts(export, type = "number")]
pub struct ParticipantId(pub i64);

impl std::fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Which of a participant's two peer connections a message is about. The client offers on
/// `publish`, the server offers on `subscribe`: each connection has exactly one offerer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PcKind {
    Publish,
    Subscribe,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum MediaKind {
    Audio,
    Video,
}

/// What a published track carries, declared by its publisher.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TrackSource {
    Microphone,
    Camera,
    ScreenShare,
}

/// Client -> server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum ClientMessage {
    /// Must be the first message, within the auth deadline. `token` is the REST access token.
    Hello {
        version: u32,
        token: String,
    },
    /// Join a meeting by code. With `resume_token` (from an earlier `joined`), the session takes
    /// over the same participant if it is still within its reconnection grace period.
    Join {
        meeting_code: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        resume_token: Option<String>,
        #[serde(default)]
        #[ts(optional)]
        media: Option<MediaState>,
    },
    /// An offer on the publish connection (first one, renegotiation or ICE restart).
    /// `tracks` maps the offer's transceiver mids to what they carry.
    PublishOffer {
        sdp: String,
        tracks: Vec<TrackDecl>,
    },
    /// The answer to the last `subscriber_offer`.
    SubscriberAnswer {
        sdp: String,
    },
    /// A trickled ICE candidate of the client (`candidate:` attribute value). `null`/empty
    /// candidate marks the end of gathering and is accepted and ignored.
    IceCandidate {
        pc: PcKind,
        candidate: String,
        #[serde(default)]
        #[ts(optional)]
        sdp_mid: Option<String>,
    },
    /// Ask for an ICE restart of the subscribe connection (after a network change).
    RestartSubscriber,
    /// What the client shows of remote tracks, sent when tiles appear, resize, page or hide.
    /// Each entry replaces that track's earlier settings; tracks not listed keep theirs
    /// (initially: enabled, at the best quality). At most `MAX_TRACK_SETTINGS` entries.
    TrackSettings {
        tracks: Vec<TrackSetting>,
    },
    /// Mute, camera and screen-share state; broadcast to everyone.
    MediaState(MediaState),
    Chat {
        text: String,
    },
    /// Host or co-host: end the meeting for everyone.
    EndMeeting,
    /// Host or co-host: stop a participant's microphone, camera or screen share. The server
    /// stops forwarding it at once; only the participant can turn it on again.
    MuteParticipant {
        participant_id: ParticipantId,
        source: TrackSource,
    },
    /// Host or co-host: ask a participant to turn its microphone or camera back on.
    AskToUnmute {
        participant_id: ParticipantId,
        source: TrackSource,
    },
    /// Host or co-host: remove a participant; with `ban`, its user cannot come back to this
    /// meeting.
    RemoveParticipant {
        participant_id: ParticipantId,
        #[serde(default)]
        #[ts(optional)]
        ban: Option<bool>,
    },
    /// Host or co-host: while locked, nobody new can join (hosts and co-hosts still can).
    LockMeeting {
        locked: bool,
    },
    /// Host or co-host: turn the lobby on (newcomers wait for a host to admit them) or off
    /// (everyone waiting is admitted).
    SetLobby {
        enabled: bool,
    },
    /// Host or co-host: let someone waiting in the lobby in, or turn them away.
    Admit {
        lobby_id: LobbyId,
    },
    Deny {
        lobby_id: LobbyId,
    },
    AdmitAll,
    /// Host or co-host: let people without an account join by the link (through the lobby),
    /// or not (guests already in stay).
    AllowGuests {
        allowed: bool,
    },
    /// Host only: give or take a participant's co-host rights (every host action but this).
    SetCohost {
        participant_id: ParticipantId,
        cohost: bool,
    },
    /// Raise or lower one's own hand.
    RaiseHand {
        raised: bool,
    },
    /// Host or co-host: lower someone's hand.
    LowerHand {
        participant_id: ParticipantId,
    },
    /// A short reaction shown to everyone: one of [`REACTIONS`].
    Reaction {
        emoji: String,
    },
    Leave,
    Ping {
        #[serde(default)]
        #[ts(optional)]
        nonce: Option<u32>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TrackDecl {
    pub mid: String,
    pub source: TrackSource,
}

/// Entries in one `track_settings` at most (a meeting's remote tracks fit several times).
pub const MAX_TRACK_SETTINGS: usize = 512;

/// What the client shows of one remote track (`track_id` from `participant_updated` or
/// `subscriber_offer`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TrackSetting {
    pub track_id: String,
    /// False: the tile is off the page or the tab hidden; nothing is sent for the track.
    pub enabled: bool,
    /// The size the video is rendered at, in device pixels: the server sends the smallest
    /// simulcast layer that covers it (the largest when none does). Absent: the best there is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub max_width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub max_height: Option<u32>,
    /// When the client's bandwidth does not fit everything, higher priorities are served
    /// first (0-255; absent: 0). The web client gives screen shares and the speaker's main
    /// tile a higher priority than the grid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub priority: Option<u8>,
}

/// One speaker in `active_speakers`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SpeakerLevel {
    pub participant_id: ParticipantId,
    /// Loudness, 1 (barely) to 100.
    pub level: u8,
}

/// What flows of one remote track to this client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TrackFlow {
    /// Media flows (`layer` of `layers`, at `width` x `height` when known).
    Active,
    /// Nothing is sent: the client disabled the track in `track_settings`.
    Paused,
    /// Nothing is sent: the client's bandwidth estimate does not fit even the track's lowest
    /// layer beside the tracks of higher priority. It resumes by itself when the estimate grows.
    PausedBandwidth,
    /// Enabled, waiting for media (the publisher sends nothing now, or a keyframe is due).
    Waiting,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MediaState {
    pub audio_muted: bool,
    pub video_muted: bool,
    #[serde(default)]
    pub screen_sharing: bool,
}

/// Server -> client.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum ServerMessage {
    Welcome {
        version: u32,
        #[ts(type = "number")]
        user_id: i64,
        name: String,
        /// The server pings at this interval; a client silent for 2.5 intervals is dropped.
        heartbeat_interval_ms: u32,
    },
    Joined {
        participant_id: ParticipantId,
        meeting: MeetingInfo,
        /// This participant as the others see it (co-host rights survive a rejoin; a raised
        /// hand and a host's mute a resume).
        you: Box<ParticipantInfo>,
        /// Everyone else already in the meeting, with their published tracks.
        participants: Vec<ParticipantInfo>,
        ice_servers: Vec<IceServer>,
        /// Present this in a later `join` to come back as the same participant.
        resume_token: String,
        /// True when this session took over an existing participant (resume).
        resumed: bool,
        /// The meeting's recent chat, oldest first: at most the last 100 messages and 64 KiB
        /// of text (`chat_history.rs`).
        chat_history: Vec<ChatMessage>,
    },
    ParticipantJoined {
        participant: ParticipantInfo,
    },
    /// Media state, connection state or published tracks of a participant changed.
    ParticipantUpdated {
        participant: ParticipantInfo,
    },
    ParticipantLeft {
        participant_id: ParticipantId,
        reason: LeaveReason,
    },
    PublishAnswer {
        sdp: String,
    },
    /// An offer on the subscribe connection; answer with `subscriber_answer`. `tracks` says
    /// which transceiver mid carries whose media.
    SubscriberOffer {
        sdp: String,
        tracks: Vec<RemoteTrack>,
    },
    /// What this client now receives of one remote track: sent when it changes (a layer
    /// switch after `track_settings` or because the publisher stopped a layer, a pause).
    TrackState {
        track_id: String,
        state: TrackFlow,
        /// The simulcast layer forwarded (0 = the first the publisher sends) and how many it
        /// sends; `active` only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        layer: Option<u8>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        layers: Option<u8>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        width: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        height: Option<u16>,
    },
    /// Dynacast, to a publisher: send only the simulcast layers `active` (RIDs) of the track
    /// on `mid` and pause the others (`RTCRtpSender.setParameters`, `encodings[i].active`):
    /// nobody receives them. Sent whenever the set changes; all layers start active.
    PublishLayers {
        mid: String,
        track_id: String,
        active: Vec<String>,
    },
    /// Who speaks now, loudest first (empty: nobody), from the audio levels publishers send
    /// (RFC 6464). Sent to everyone when who speaks, or their order, changes.
    ActiveSpeakers {
        speakers: Vec<SpeakerLevel>,
    },
    Chat(ChatMessage),
    /// To a participant a host or co-host muted (or whose screen share they stopped): the
    /// server no longer forwards that source; the client should turn it off and say so.
    MutedByHost {
        source: TrackSource,
        by: ParticipantId,
    },
    /// To a participant a host or co-host asks to turn `source` back on.
    UnmuteRequested {
        source: TrackSource,
        by: ParticipantId,
    },
    /// To a participant a host or co-host removed, just before the close (4012). With
    /// `banned`, joining this meeting again is refused.
    Removed {
        by: ParticipantId,
        banned: bool,
    },
    /// To a joiner of a meeting with its lobby on: wait until a host admits you (`joined`
    /// follows) or not (`error` `lobby_denied` or `lobby_timeout`). Nothing of the meeting
    /// reaches you meanwhile.
    LobbyWaiting {
        meeting: MeetingInfo,
    },
    /// To hosts and co-hosts: everyone waiting in the lobby now, in order of arrival; sent
    /// whenever it changes and after a host joins.
    LobbyUpdated {
        waiting: Vec<LobbyEntry>,
    },
    /// The meeting's settings changed (locked, lobby); to everyone.
    MeetingUpdated {
        meeting: MeetingInfo,
    },
    Reaction {
        participant_id: ParticipantId,
        emoji: String,
    },
    MeetingEnded {
        reason: EndReason,
    },
    Error(ErrorBody),
    Pong {
        #[serde(default)]
        #[ts(optional)]
        nonce: Option<u32>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MeetingInfo {
    pub code: String,
    pub title: String,
    #[ts(type = "number")]
    pub host_user_id: i64,
    /// Nobody new can join (hosts and co-hosts still can).
    #[serde(default)]
    pub locked: bool,
    /// Newcomers wait in the lobby until a host or co-host admits them.
    #[serde(default)]
    pub lobby: bool,
    /// People without an account may join by the link, through the lobby.
    #[serde(default)]
    pub allow_guests: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ParticipantInfo {
    pub id: ParticipantId,
    #[ts(type = "number")]
    pub user_id: i64,
    pub name: String,
    pub is_host: bool,
    /// Given host rights by the host.
    #[serde(default)]
    pub is_cohost: bool,
    /// Joined without an account, by the meeting's guest link.
    #[serde(default)]
    pub is_guest: bool,
    /// Raised hand: its place in the meeting's order (smaller = raised earlier); absent when
    /// the hand is down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub raised_hand: Option<u32>,
    pub connection: ConnectionState,
    pub media: MediaState,
    pub tracks: Vec<PublishedTrack>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ConnectionState {
    Connected,
    /// Lost the signaling or media connection; may come back within the grace period.
    Reconnecting,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PublishedTrack {
    pub track_id: String,
    pub kind: MediaKind,
    pub source: TrackSource,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RemoteTrack {
    /// The transceiver's mid on the subscribe connection.
    pub mid: String,
    pub participant_id: ParticipantId,
    pub track_id: String,
    pub kind: MediaKind,
    pub source: TrackSource,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub credential: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ChatMessage {
    /// Unique per meeting, increasing.
    pub id: u32,
    pub participant_id: ParticipantId,
    pub name: String,
    pub text: String,
    /// RFC 3339, server time.
    pub sent_at: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum LeaveReason {
    Left,
    /// Did not come back within the reconnection grace period.
    TimedOut,
    /// Removed by the server after a failure of its media connection.
    Failed,
    /// Removed by a host or co-host.
    Removed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum EndReason {
    /// The host ended it (signaling or REST).
    HostEnded,
    /// Everyone left, or nobody came back while it was paused.
    Empty,
    ServerShutdown,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

/// Stable error codes. Fatal ones are followed by a close with the code in
/// [`ErrorCode::close_code`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorCode {
    /// Not JSON, not an object, or fields of the wrong type.
    BadMessage,
    /// A `type` this server does not know.
    UnknownType,
    UnsupportedVersion,
    Unauthenticated,
    AuthTimeout,
    /// A message that needs a joined meeting arrived before `join`.
    NotJoined,
    AlreadyJoined,
    MeetingNotFound,
    MeetingEnded,
    /// The meeting is locked: nobody new can join.
    MeetingLocked,
    /// Removed by a host: sent (fatal) to the removed participant, and to a join of a user
    /// a host kept out.
    Removed,
    /// No participant with this id is in the meeting (or nobody with this lobby id waits).
    UnknownParticipant,
    /// A host turned this joiner away from the lobby.
    LobbyDenied,
    /// Nobody admitted this joiner within the lobby's waiting time.
    LobbyTimeout,
    /// A guest's `join` of a meeting that does not (or no longer) let guests in, or of
    /// another meeting than its token's.
    GuestsNotAllowed,
    /// The meeting holds its maximum number of participants.
    MeetingFull,
    NotHost,
    /// The resume token is unknown or its grace period is over.
    ResumeFailed,
    MessageTooLarge,
    RateLimited,
    SdpTooLarge,
    TooManyTracks,
    ChatInvalid,
    /// The SFU refused the SDP or the negotiation state does not allow it.
    NegotiationFailed,
    /// Another session of the same user took this participant over.
    Replaced,
    /// Authenticated, but no `join` within the deadline.
    JoinTimeout,
    /// The user already holds as many connections as the server allows.
    TooManySessions,
    /// A dependency of the server (the cache, the database) does not answer: try again later.
    /// Never a verdict on the token.
    Unavailable,
    Internal,
}

impl ErrorCode {
    /// The WebSocket close code used when this error ends the connection.
    pub fn close_code(self) -> u16 {
        match self {
            ErrorCode::Unauthenticated => 4001,
            ErrorCode::AuthTimeout => 4002,
            ErrorCode::UnsupportedVersion => 4003,
            ErrorCode::MeetingNotFound => 4004,
            ErrorCode::MeetingEnded => 4010,
            ErrorCode::JoinTimeout => 4005,
            ErrorCode::Replaced => 4011,
            ErrorCode::Removed => 4012,
            ErrorCode::Unavailable => 1013,
            ErrorCode::RateLimited => 4029,
            ErrorCode::MessageTooLarge => 1009,
            ErrorCode::Internal => 1011,
            _ => 1008,
        }
    }
}

impl ServerMessage {
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        ServerMessage::Error(ErrorBody {
            code,
            message: message.into(),
        })
    }
}

mod host;
#[cfg(test)]
mod tests;

pub use host::{LobbyEntry, LobbyId, REACTIONS};
