//! # mm-sfu: the Mini Meeting selective forwarding unit, on str0m
//!
//! Every participant (a **Peer**) has two WebRTC connections to the SFU, each with exactly one
//! offerer so glare cannot happen: the *publish* connection (the client offers its tracks, the
//! SFU answers) and the *subscribe* connection (the SFU offers the other peers' tracks, the
//! client answers). Each published track (**UpTrack**) is forwarded to every other peer of the
//! **Room** as a **DownTrack**; the room's **Router** is the table of which DownTracks each
//! UpTrack feeds.
//!
//! ```text
//! signaling ──RoomHandle (Command + oneshot)──► Worker thread (current-thread tokio)
//!                                               ├─ UDP socket (recvmmsg / sendmmsg)
//!                                               ├─ Demux: ufrag / address → connection
//!                                               └─ Rooms ─ Peers (2 × str0m Rtc) + Router
//! ```
//!
//! ## Module map
//!
//! | module | holds |
//! |---|---|
//! | `sfu` | [`Sfu`]: starts workers, pins rooms to workers, stats, shutdown |
//! | `room_handle` | [`RoomHandle`]: the async API signaling calls |
//! | `worker` | `Worker`: thread + runtime owning a socket and its rooms; `Command` |
//! | `room` | `Room`: peers, Router, UpTracks, the forwarding hot path, renegotiation |
//! | `peer` | `Peer`: two connections, UpTracks by mid, DownTracks; `RtcFactory` |
//! | `connection` | `Connection`: one `Rtc` behind `catch_unwind`, drained to `Timeout` |
//! | `router` | `Router`: pure UpTrack → subscribers table and its diffs |
//! | `negotiation` | `SubscriberNegotiation`: one offer outstanding, changes batched |
//! | `keyframe_throttle` | `KeyframeThrottle`: ≤ 1 keyframe request per interval per UpTrack |
//! | `demux` | `Demux`: datagram → connection by STUN ufrag (learnt once verified), then address |
//! | `udp_batch` | socket setup and batched `recvmmsg` / `sendmmsg` |
//! | `outbox` | `Outbox`: transmits waiting for the next `sendmmsg` |
//! | `ip_net` | `IpNet`: CIDR parsing and matching for `allowed_networks` |
//! | `sdp_text` | small textual SDP helpers |
//! | `sdp_harness` | hidden: in-memory room with one peer, for fuzz targets and corpus replay |
//! | `bench_support` | hidden: in-memory one-publisher / N-subscriber harness for the bench |
//! | `config`, `error`, `event`, `ids`, `stats` | public types |
//!
//! ## How str0m is driven
//!
//! * Server `Rtc`s are ICE-lite with Opus + VP8 (RTX on, so str0m NACKs lost packets upstream
//!   and answers subscribers' NACKs from its send buffer; it also produces SR/RR).
//! * Every mutation (`handle_input`, `writer().write`, `request_keyframe`, `sdp_api`,
//!   candidates) runs under `catch_unwind` and is followed by draining `poll_output` until
//!   `Output::Timeout` (`connection` module). When the drain reports a timeout that is already
//!   due (str0m packetizes written media on `Input::Timeout`), it is fed at once, so a forwarded
//!   frame leaves in the same pass. Events are queued and handled after the drain.
//! * Forwarding uses the frame-level API (`Event::MediaData` → `Writer::write`), sharing the
//!   frame's `Arc<[u8]>` among subscribers; see the `room` module docs for why. A video
//!   DownTrack starts (and restarts after an ICE reconnect) at a keyframe; frames str0m releases
//!   late (older than one already forwarded) are dropped.
//! * The subscribe connection carries a data channel (`mm-sfu`, unused for now) so its BUNDLE
//!   group never becomes empty when every DownTrack is stopped.
//! * One timer per worker: the earliest `Output::Timeout` of all its connections (and of
//!   deferred keyframe requests).
//!
//! ## Not done (yet)
//!
//! Simulcast (RID layers are ignored), subscriber bandwidth estimation / layer switching,
//! TURN/TCP, GRO/GSO offloads, audio-level based speaker events.
//!
//! ## Threading
//!
//! No `Arc<Mutex<_>>`: each worker owns its socket, rooms, peers and routers; handles send it
//! commands. Nothing per packet spawns a task or takes a lock.

#![warn(missing_docs)]

#[doc(hidden)]
#[allow(missing_docs)]
pub mod bench_support;
mod config;
mod connection;
mod demux;
mod error;
mod event;
mod ids;
mod ip_net;
mod keyframe_throttle;
mod negotiation;
mod outbox;
mod peer;
mod room;
mod room_handle;
mod router;
#[doc(hidden)]
pub mod sdp_harness;
mod sdp_text;
mod sfu;
mod stats;
mod udp_batch;
mod worker;

pub use config::SfuConfig;
pub use error::SfuError;
pub use event::{ConnState, DownTrackInfo, PeerEvent, UpTrackInfo};
pub use ids::{MediaKind, PcKind, PeerId, RoomId, TrackId};
pub use ip_net::{IpNet, IpNetParseError};
pub use keyframe_throttle::KeyframeThrottle;
pub use negotiation::{Batch, RemoveOutcome, SubscriberNegotiation};
pub use room_handle::RoomHandle;
pub use sfu::Sfu;
pub use stats::SfuStats;
