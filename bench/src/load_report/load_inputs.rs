//! [`LoadInputs`]: everything a run measured, per track ([`TrackWindow`]), publisher and join.

use std::time::Duration;

use serde::Serialize;

use super::TrackCounters;
use crate::latency::LatencyHistogram;
use crate::link_report::LinkWindow;
use crate::process_stats::ProcUsage;
use crate::publisher::PublisherStats;
use crate::wire::MediaKind;

/// One receiving track over the window.
#[derive(Clone, Debug)]
pub struct TrackWindow {
    /// Index of the receiving participant (to add up its bitrate).
    pub receiver: usize,
    pub kind: MediaKind,
    pub start: TrackCounters,
    pub end: TrackCounters,
    /// Latency samples of the window only.
    pub latency: LatencyHistogram,
}

/// One publisher over the window: what it sent and how many participants should get it.
#[derive(Clone, Copy, Debug)]
pub struct PublisherWindow {
    pub start: PublisherStats,
    pub end: PublisherStats,
    /// Participants that receive this publisher's tracks (everyone else in its meeting).
    pub receivers: u64,
}

/// Join time and time to first frame of one participant.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct JoinRecord {
    pub join: Option<Duration>,
    pub first_frame: Option<Duration>,
    pub failed: bool,
    /// Expected media but got none.
    pub expects_media: bool,
}

/// Everything a run measured.
#[derive(Clone, Debug, Default)]
pub struct LoadInputs {
    pub window: Duration,
    pub tracks: Vec<TrackWindow>,
    pub publishers: Vec<PublisherWindow>,
    pub joins: Vec<JoinRecord>,
    /// Receiving participants (subscribers, and publishers that also receive).
    pub receivers: usize,
    /// DownTracks: receiving tracks expected in total.
    pub subscriptions: usize,
    pub server: Option<ProcUsage>,
    /// A cluster: each node's usage (`server` is their sum); empty for one server.
    pub server_nodes: Vec<ProcUsage>,
    /// Server RSS before anyone joined, bytes.
    pub server_rss_baseline: Option<u64>,
    pub generator: ProcUsage,
    pub generator_threads: usize,
    pub cpus: usize,
    /// `--loss`: the relays over the window.
    pub link: Option<LinkWindow>,
}
