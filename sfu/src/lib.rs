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
//! signaling ──RoomHandle (Command + oneshot)──► the room's home worker ──► the peer's worker
//!                                               Worker thread (current-thread tokio)
//!                                               ├─ UDP socket (recvmmsg / sendmmsg)
//!                                               ├─ ICE-TCP listener, one task per connection
//!                                               ├─ Demux: ufrag / address → connection
//!                                               ├─ Placement: where its rooms' peers run
//!                                               └─ Room shards ─ Peers (2 × str0m Rtc) + Router
//!                                                    ▲ RelayMsg (tracks, media, keyframe requests)
//!                                                    ▼ to / from the same room's other shards
//! ```
//!
//! A meeting's peers spread over all workers: its home (a hash of its id) places each joining
//! peer on the least-loaded worker, and each worker with peers of the room holds a shard of it
//! that forwards the other shards' tracks to its own subscribers (`relay`, `placement`).
//!
//! ## Module map
//!
//! | module | holds |
//! |---|---|
//! | `sfu` | [`Sfu`]: starts workers, pins rooms to workers, stats, shutdown |
//! | `room_handle` | [`RoomHandle`]: the async API signaling calls |
//! | `worker` | `Worker`: thread + runtime owning a socket and its rooms; `Command` |
//! | `room` | `Room`: one worker's shard of a meeting: peers, Router, UpTracks; `room::forwarding` (the RTP hot path, keyframe cache and requests), `room::offers` (subscriber renegotiation), `room::network` (datagrams, timers), `room::shards` (remote UpTracks) |
//! | `peer` | `Peer`: two connections, UpTracks by mid and SSRC, DownTracks; `RtcFactory` |
//! | `up_track` | `UpTrack`: one published track, its keyframe cache and keyframe throttle |
//! | `down_track` | `DownTrack`: one UpTrack forwarded to one subscriber, with its rewriter |
//! | `rtp_rewriter` | `RtpRewriter`: pure per-DownTrack sequence / timestamp / VP8 picture id mapping |
//! | `packet_store` | `PacketStore`: pure keyframe cache (the packets since the last keyframe) |
//! | `connection` | `Connection`: one `Rtc` behind `catch_unwind`, drained to `Timeout` |
//! | `router` | `Router`: pure UpTrack → subscribers table and its diffs |
//! | `negotiation` | `SubscriberNegotiation`: one offer outstanding, changes batched |
//! | `bandwidth_allocator` | pure: a subscriber's bandwidth estimate shared among its video tracks, by priority; `room::bandwidth` feeds it |
//! | `rate_meter` | `RateMeter`: the measured bitrate of each UpTrack layer |
//! | `keyframe_throttle` | `KeyframeThrottle`: ≤ 1 keyframe request per interval per UpTrack |
//! | `demux` | `Demux`: datagram → connection by STUN ufrag (learnt once verified), then address |
//! | `udp_batch` | socket setup and batched `recvmmsg` / `sendmmsg` |
//! | `tcp_conns` | `TcpConns`: a worker's ICE-TCP connections and their limits (pure) |
//! | `tcp_conn` | one ICE-TCP connection's task: frames in, queued frames out |
//! | `frame_decoder` | `FrameDecoder`: pure RFC 4571 framing (2-byte length prefix) |
//! | `outbox` | `Outbox`: transmits waiting for the next `sendmmsg` |
//! | `ip_net` | `IpNet`: CIDR parsing and matching for `allowed_networks` |
//! | `sdp_text` | small textual SDP helpers |
//! | `sdp_harness` | hidden: in-memory room with one peer, for fuzz targets and corpus replay |
//! | `bench_support` | hidden: in-memory one-publisher / N-subscriber harness for the bench |
//! | `config`, `error`, `event`, `ids`, `stats` | public types |
//!
//! ## How str0m is driven
//!
//! * Server `Rtc`s are ICE-lite with Opus + VP8 in RTP mode (RTX on, so str0m NACKs lost
//!   packets upstream and answers subscribers' NACKs from each DownTrack's send buffer of
//!   nackable writes; it also produces SR/RR). One DTLS certificate per worker.
//! * Every mutation (`handle_input`, `write_rtp`, `request_keyframe`, `sdp_api`,
//!   candidates) runs under `catch_unwind` and is followed by draining `poll_output` until
//!   `Output::Timeout` (`connection` module). When the drain reports a timeout that is already
//!   due (str0m sends written packets on `Input::Timeout`), it is fed at once, so a forwarded
//!   packet leaves in the same pass. Events are queued and handled after the drain.
//! * Forwarding is packet by packet (`Event::RtpPacket` → `StreamTx::write_rtp`), sharing the
//!   packet's `Arc<[u8]>` among the keyframe cache and every subscriber; VP8 picture ids are
//!   patched during serialization (`room::forwarding` docs). A video DownTrack starts (and
//!   restarts after an ICE reconnect) at a keyframe, from the UpTrack's cache when it has one.
//! * The subscribe connection carries a data channel (`mm-sfu`, unused for now) so its BUNDLE
//!   group never becomes empty when every DownTrack is stopped.
//! * One timer per worker: the earliest `Output::Timeout` of all its connections (and of
//!   deferred keyframe requests).
//!
//! ## Not done (yet)
//!
//! Simulcast (RID layers are ignored), subscriber bandwidth estimation / layer switching,
//! TURN, GRO/GSO offloads, audio-level based speaker events.
//!
//! ## Threading
//!
//! No `Arc<Mutex<_>>`: each worker owns its socket, room shards, peers and routers; handles
//! send it commands, other workers send it batches of relay messages (one channel send per
//! destination and loop iteration, not per packet). The only shared state is the placement
//! load (one atomic per worker, touched on joins and leaves). Nothing per packet spawns a task
//! or takes a lock.

#![warn(missing_docs)]

#[doc(hidden)]
#[allow(missing_docs)]
mod bandwidth_allocator;
pub mod bench_support;
mod config;
mod connection;
mod demux;
mod down_track;
mod error;
mod event;
mod frame_decoder;
mod ids;
mod ip_net;
mod keyframe_throttle;
mod negotiation;
mod outbox;
mod packet_store;
mod peer;
mod placement;
mod rate_meter;
mod relay;
mod room;
mod room_handle;
mod router;
mod rtp_rewriter;
#[doc(hidden)]
pub mod sdp_harness;
mod sdp_text;
mod sfu;
mod simulcast;
mod speech;
mod stats;
mod tcp_conn;
mod tcp_conns;
mod udp_batch;
mod up_track;
mod worker;

pub use config::SfuConfig;
pub use error::SfuError;
pub use event::{ConnState, DownTrackInfo, DownTrackState, PeerEvent, UpTrackInfo};
pub use ids::{MediaKind, PcKind, PeerId, RoomId, TrackId};
pub use ip_net::{IpNet, IpNetParseError};
pub use keyframe_throttle::KeyframeThrottle;
pub use negotiation::{Batch, RemoveOutcome, SubscriberNegotiation};
pub use room_handle::RoomHandle;
pub use sfu::Sfu;
pub use simulcast::TrackWant;
pub use stats::SfuStats;
