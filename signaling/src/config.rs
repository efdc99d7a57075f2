//! Signaling settings: timeouts, limits and what clients are told.

use std::time::Duration;

use crate::protocol::IceServer;
use crate::turn_credentials::TurnConfig;

#[derive(Clone, Debug)]
pub struct SignalingConfig {
    /// A connection must send `hello` with a valid token within this time.
    pub auth_timeout: Duration,
    /// An authenticated connection must join a meeting within this time.
    pub join_timeout: Duration,
    /// A write to a client's socket that takes longer ends the connection: a client that
    /// stops reading must never hold its session (or anything behind it) forever.
    pub write_timeout: Duration,
    /// Sockets one address may hold open before they authenticate.
    pub max_unauthenticated_per_ip: usize,
    /// Authenticated sockets one user may hold open at once.
    pub max_sessions_per_user: usize,
    /// The server pings this often; a connection silent for four intervals is dead.
    pub heartbeat_interval: Duration,
    /// How long a participant whose connection dropped may come back as itself.
    pub reconnect_grace: Duration,
    /// How long an empty meeting stays open before it ends by itself.
    pub empty_grace: Duration,
    /// How long a meeting whose participants all lost their connection stays paused.
    pub paused_timeout: Duration,
    /// Largest frame: a subscriber answer for a meeting of `max_participants` everyone
    /// publishing camera and microphone (browsers answer about 2.4 KB per publisher).
    pub max_message_bytes: usize,
    /// Largest publish offer (at most `max_tracks_per_participant` m-lines).
    pub max_sdp_bytes: usize,
    /// Largest subscriber answer (one m-line per remote track).
    pub max_answer_bytes: usize,
    /// People in one meeting at most; the next `join` gets `meeting_full`.
    pub max_participants: usize,
    pub max_chat_chars: usize,
    /// Sustained messages per second per connection, and the burst above it.
    pub messages_per_second: u32,
    pub message_burst: u32,
    /// Rate-limit violations tolerated before the connection is closed.
    pub max_violations: u32,
    pub max_tracks_per_participant: usize,
    /// Browser origins allowed besides the server's own (same host); `*` allows any.
    pub allowed_origins: Vec<String>,
    pub ice_servers: Vec<IceServer>,
    /// TURN servers whose credentials are minted per join (`turn_credentials.rs`).
    pub turn: Option<TurnConfig>,
    /// How long someone may wait in a meeting's lobby before `lobby_timeout`.
    pub lobby_max_wait: Duration,
    /// The secret a node presents when it forwards a session to the meeting's owner (so the
    /// owner trusts the client address it passes on). `None`: a single server, no forwarding.
    pub node_token: Option<String>,
}

/// Meeting capacity by default: 200 people, each publishing two tracks, make a subscriber
/// answer of about 480 KB, which the frame limit admits.
pub const DEFAULT_MAX_PARTICIPANTS: usize = 200;

impl Default for SignalingConfig {
    fn default() -> Self {
        Self {
            auth_timeout: Duration::from_secs(5),
            join_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(10),
            max_unauthenticated_per_ip: 16,
            max_sessions_per_user: 10,
            heartbeat_interval: Duration::from_secs(5),
            reconnect_grace: Duration::from_secs(30),
            empty_grace: Duration::from_secs(60),
            paused_timeout: Duration::from_secs(300),
            max_message_bytes: 512 * 1024,
            max_sdp_bytes: 60 * 1024,
            max_answer_bytes: 500 * 1024,
            max_participants: DEFAULT_MAX_PARTICIPANTS,
            max_chat_chars: 4000,
            messages_per_second: 20,
            message_burst: 60,
            max_violations: 20,
            max_tracks_per_participant: 8,
            allowed_origins: Vec::new(),
            ice_servers: Vec::new(),
            turn: None,
            lobby_max_wait: Duration::from_secs(600),
            node_token: None,
        }
    }
}

impl SignalingConfig {
    /// Silence longer than this means the connection is dead (about 20 s by default).
    pub fn dead_after(&self) -> Duration {
        self.heartbeat_interval * 4
    }
}
