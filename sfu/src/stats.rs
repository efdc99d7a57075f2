//! [`SfuStats`]: counters and gauges for Prometheus.

use std::ops::AddAssign;

/// Snapshot of the engine (or of one worker), summed over workers. Gauges: `rooms`, `peers`,
/// `up_tracks`, `down_tracks`, `routes`, `placed_peers`, `tcp_connections`; the rest are counters since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SfuStats {
    /// Live rooms.
    pub rooms: u64,
    /// Joined peers.
    pub peers: u64,
    /// Published tracks.
    pub up_tracks: u64,
    /// Forwarded tracks (one per UpTrack per subscriber).
    pub down_tracks: u64,
    /// Datagrams received (after the network filter), ICE-TCP frames included.
    pub packets_in: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Datagrams sent over UDP (ICE-TCP frames: `tcp_frames_out`).
    pub packets_out: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Datagrams dropped: source outside `allowed_networks`, unknown sender, send errors.
    pub packets_dropped: u64,
    /// NACKs received from subscribers (as reported by str0m's egress stats).
    pub nacks: u64,
    /// Keyframe requests (PLI/FIR) received from subscribers.
    pub plis: u64,
    /// Keyframe requests sent to publishers (after throttling).
    pub keyframe_requests: u64,
    /// Video DownTracks started from their UpTrack's keyframe cache, with no new keyframe
    /// request to the publisher.
    pub cache_starts: u64,
    /// STUN requests naming one of our ufrags that failed the connection's check (integrity,
    /// remote ufrag); their source was not recorded. Also counted in `packets_dropped`.
    pub stun_rejected: u64,
    /// Gauge: remote addresses in the workers' routing tables.
    pub routes: u64,
    /// Gauge: peers placed on the worker(s), by every room's home (the placement load).
    pub placed_peers: u64,
    /// Packets sent to other workers for their subscribers (one per packet and worker).
    pub relayed_out: u64,
    /// Packets received from other workers' publishers.
    pub relayed_in: u64,
    /// Gauge: open ICE-TCP connections.
    pub tcp_connections: u64,
    /// ICE-TCP connections accepted.
    pub tcp_accepted: u64,
    /// ICE-TCP connections refused: outside `allowed_networks`, or over a connection limit.
    pub tcp_refused: u64,
    /// ICE-TCP connections the SFU closed: no valid STUN request in time, idle, or their
    /// `Rtc` went.
    pub tcp_expired: u64,
    /// RFC 4571 frames received (also counted in `packets_in` once a connection takes them).
    pub tcp_frames_in: u64,
    /// Frames queued to ICE-TCP connections.
    pub tcp_frames_out: u64,
    /// Frames to send dropped: the connection's write queue was full, or it had closed.
    pub tcp_dropped: u64,
}

impl AddAssign for SfuStats {
    fn add_assign(&mut self, o: SfuStats) {
        self.rooms += o.rooms;
        self.peers += o.peers;
        self.up_tracks += o.up_tracks;
        self.down_tracks += o.down_tracks;
        self.packets_in += o.packets_in;
        self.bytes_in += o.bytes_in;
        self.packets_out += o.packets_out;
        self.bytes_out += o.bytes_out;
        self.packets_dropped += o.packets_dropped;
        self.nacks += o.nacks;
        self.plis += o.plis;
        self.keyframe_requests += o.keyframe_requests;
        self.cache_starts += o.cache_starts;
        self.stun_rejected += o.stun_rejected;
        self.routes += o.routes;
        self.placed_peers += o.placed_peers;
        self.relayed_out += o.relayed_out;
        self.relayed_in += o.relayed_in;
        self.tcp_connections += o.tcp_connections;
        self.tcp_accepted += o.tcp_accepted;
        self.tcp_refused += o.tcp_refused;
        self.tcp_expired += o.tcp_expired;
        self.tcp_frames_in += o.tcp_frames_in;
        self.tcp_frames_out += o.tcp_frames_out;
        self.tcp_dropped += o.tcp_dropped;
    }
}
