//! Headless Mini Meeting participants for end-to-end tests and the fan-out load generator.
//!
//! A [`Participant`](participant::Participant) behaves like the web client: it signs in over
//! REST, joins over the signaling WebSocket, publishes synthetic audio and VP8 video on one
//! peer connection and receives everyone else's on another (webrtc-rs, loopback only), and
//! verifies every received unit through the [`Probe`](probe::Probe) it carries.
//!
//! Module map:
//! - Wire and REST: [`wire`] (signaling messages, mirrored from `signaling/src/protocol.rs`),
//!   [`api_client`] (register, login, meetings).
//! - The participant: [`participant`] (join, publish, subscribe, chat, resume, leave),
//!   [`participant_state`] (everything the server said, observable), [`signaling_connection`]
//!   (one WebSocket session), [`loopback`] (webrtc-rs restricted to loopback),
//!   [`rejoining_participant`] (joins again by itself when told to reconnect, across nodes).
//! - Media out: [`media_profile`], [`publisher`], [`vp8`] (synthetic frames, packetizer).
//! - Media in: [`track_receiver`] (reads a remote track), [`track_stats`] (per-track
//!   verification), [`sequence`] (loss, duplicates, reordering), [`latency`] (HDR histogram).
//! - [`probe`]: the sequence number, send time and checksum inside every unit.
//! - The load generator (`bench` binary): [`scenario`] (one run against one target),
//!   [`load_report`] (pure accounting), [`process_stats`] (`/proc` CPU and RSS, per thread),
//!   [`output`] (table, CSV), [`plot`] (sweep SVG), [`server_process`] (spawned server),
//!   [`janus`] and [`janus_setup`] (Janus VideoRoom side by side).
//! - `--loss`: [`lossy_link`] (the relays of one target, on their own thread), [`lossy_relay`]
//!   (one relay, two batched tasks), [`drop_decider`] (seeded drops), [`batch_socket`]
//!   (`recvmmsg`/`sendmmsg` with per-datagram addresses), [`link_report`] (their figures).

pub mod api_client;
pub mod batch_socket;
pub mod drop_decider;
pub mod error;
pub mod janus;
pub mod janus_setup;
pub mod latency;
pub mod link_report;
pub mod load_report;
pub mod loopback;
pub mod lossy_link;
pub mod lossy_relay;
pub mod media_profile;
pub mod output;
pub mod participant;
pub mod participant_state;
pub mod plot;
pub mod probe;
pub mod process_stats;
pub mod publisher;
pub mod rejoining_participant;
pub mod scenario;
pub mod sequence;
pub mod server_process;
pub mod signaling_connection;
pub mod track_receiver;
pub mod track_stats;
pub mod vp8;
pub mod wire;

pub use api_client::{ApiClient, Session};
pub use error::{BenchError, Result};
pub use media_profile::{MediaProfile, VideoProfile};
pub use participant::{JoinOptions, Participant};
pub use participant_state::ParticipantSnapshot;
pub use rejoining_participant::RejoiningParticipant;
pub use track_stats::TrackStats;
