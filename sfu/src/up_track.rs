//! [`UpTrack`]: one track a peer publishes, with what every DownTrack of it shares: its
//! layers (one, or up to three with simulcast), each with its keyframe cache and its
//! throttled keyframe requests to the publisher. A track published on another worker has a
//! remote UpTrack here, fed by that worker's relayed packets.

use std::time::{Duration, Instant};

use str0m::format::PayloadParams;
use str0m::media::{Mid, Pt, Rid};

use crate::ids::{MediaKind, PeerId, WorkerId};
use crate::keyframe_throttle::KeyframeThrottle;
use crate::packet_store::{PacketStore, StoreLimits};
use crate::relay::LayerInfo;
use crate::room::RoomSettings;
use crate::simulcast::{MAX_LAYERS, UpLayer};
use crate::speech::SpeechMeter;

/// Clock rates of the only codecs the SFU negotiates (Opus, VP8).
pub(crate) fn clock_rate(kind: MediaKind) -> u32 {
    match kind {
        MediaKind::Audio => 48_000,
        MediaKind::Video => 90_000,
    }
}

pub(crate) struct UpTrack {
    pub publisher: PeerId,
    /// `None`: published on this worker. `Some(w)`: a remote UpTrack, fed by worker `w`'s
    /// relayed packets (its keyframe requests go there).
    pub origin: Option<WorkerId>,
    pub mid: Mid,
    pub kind: MediaKind,
    /// The publisher's current payload type and what it stands for (matched per subscriber).
    pub params: Option<(Pt, PayloadParams)>,
    /// In the order their first packets came.
    pub layers: Vec<UpLayer>,
    /// Bumped when a layer appears or its picture size changes: DownTracks that saw another
    /// value choose their layer again.
    pub generation: u32,
    /// At the publisher's worker: the layers (RIDs) subscribers on each other worker want.
    pub remote_demand: Vec<(WorkerId, Vec<Rid>)>,
    /// At a remote UpTrack: the demand last sent to the publisher's worker.
    pub sent_demand: Option<Vec<Rid>>,
    /// At the publisher's worker: the layer generation last described to the shards.
    pub described: Option<u32>,
    /// Audio published on this worker: whether it carries speech.
    pub speech: Option<SpeechMeter>,
    pub(crate) settings: LayerSettings,
    /// A host stopped the track (`RoomHandle::block_track`): its packets are dropped on
    /// arrival, so nobody receives it whatever its publisher sends.
    pub blocked: bool,
}

/// What each new layer gets.
#[derive(Clone, Copy)]
pub(crate) struct LayerSettings {
    keyframe_min_interval: std::time::Duration,
    cache_max_age: std::time::Duration,
}

impl UpTrack {
    pub fn new(publisher: PeerId, mid: Mid, kind: MediaKind, settings: &RoomSettings) -> Self {
        UpTrack {
            publisher,
            origin: None,
            mid,
            kind,
            params: None,
            layers: Vec::new(),
            generation: 0,
            remote_demand: Vec::new(),
            sent_demand: None,
            described: None,
            speech: (kind == MediaKind::Audio).then(SpeechMeter::default),
            settings: LayerSettings {
                keyframe_min_interval: settings.keyframe_min_interval,
                cache_max_age: settings.keyframe_cache_max_age,
            },
            blocked: false,
        }
    }

    /// The layer of `rid` (`None`: no simulcast), added on its first packet. `None` past
    /// [`MAX_LAYERS`].
    pub fn layer_index(&mut self, rid: Option<Rid>) -> Option<usize> {
        if let Some(i) = self.layers.iter().position(|l| l.rid == rid) {
            return Some(i);
        }
        if self.layers.len() >= MAX_LAYERS {
            return None;
        }
        let s = self.settings;
        let store = (self.kind == MediaKind::Video && !s.cache_max_age.is_zero()).then(|| {
            PacketStore::new(StoreLimits {
                max_age: s.cache_max_age,
                ..StoreLimits::default()
            })
        });
        self.layers.push(UpLayer::new(
            rid,
            store,
            KeyframeThrottle::new(s.keyframe_min_interval),
        ));
        self.generation = self.generation.wrapping_add(1);
        Some(self.layers.len() - 1)
    }

    /// Records a packet of layer `i`: its arrival, and the picture size of a keyframe.
    pub fn saw(&mut self, i: usize, now: Instant, keyframe_size: Option<(u16, u16)>) {
        let Some(l) = self.layers.get_mut(i) else {
            return;
        };
        let was_live = l.is_live(now);
        l.last_arrival = Some(now);
        let resized = keyframe_size.is_some_and(|s| l.size != Some(s));
        if resized {
            l.size = keyframe_size;
        }
        if resized || !was_live {
            self.generation = self.generation.wrapping_add(1);
        }
    }
}

impl UpTrack {
    /// Published as simulcast layers (RIDs), the only tracks dynacast pauses.
    pub fn is_simulcast(&self) -> bool {
        self.layers.iter().any(|l| l.rid.is_some())
    }

    /// The RIDs of the layers whose bits are set in `mask`.
    pub fn rids_of(&self, mask: u8) -> Vec<Rid> {
        (self.layers.iter().enumerate())
            .filter(|(i, _)| mask & (1 << i) != 0)
            .filter_map(|(_, l)| l.rid)
            .collect()
    }

    /// The bits of the layers named in `rids` (a RID not seen here yet has none).
    pub fn mask_of(&self, rids: &[Rid]) -> u8 {
        (self.layers.iter().enumerate())
            .filter(|(_, l)| l.rid.is_some_and(|r| rids.contains(&r)))
            .fold(0, |m, (i, _)| m | (1 << i))
    }

    /// Pauses the layers nobody wanted for `pause_after`, resumes wanted ones at once. True
    /// when the set of paused layers changed (the publisher must be told).
    pub fn apply_demand(&mut self, demand: u8, now: Instant, pause_after: Duration) -> bool {
        let mut changed = false;
        for (i, l) in self.layers.iter_mut().enumerate() {
            if demand & (1 << i) != 0 {
                l.unwanted_since = None;
                if l.paused {
                    l.paused = false;
                    // Live while its encoder restarts, so nobody moves away meanwhile.
                    l.last_arrival = Some(now);
                    changed = true;
                }
            } else {
                let since = *l.unwanted_since.get_or_insert(now);
                if !l.paused && now.saturating_duration_since(since) >= pause_after {
                    l.paused = true;
                    changed = true;
                }
            }
        }
        if changed {
            self.generation = self.generation.wrapping_add(1);
        }
        changed
    }

    /// The RIDs the publisher should send (every layer not paused).
    pub fn active_rids(&self) -> Vec<Rid> {
        self.layers
            .iter()
            .filter(|l| !l.paused)
            .filter_map(|l| l.rid)
            .collect()
    }

    /// What the shards need to know of the layers (see [`LayerInfo`]).
    pub fn layer_infos(&self) -> Vec<LayerInfo> {
        self.layers
            .iter()
            .filter_map(|l| {
                Some(LayerInfo {
                    rid: l.rid?,
                    size: l.size,
                    paused: l.paused,
                })
            })
            .collect()
    }

    /// A remote UpTrack: takes the publisher's worker's view of the layers, creating those
    /// that sent nothing here yet.
    pub fn set_layer_infos(&mut self, infos: &[LayerInfo]) {
        let mut changed = false;
        for info in infos {
            let Some(i) = self.layer_index(Some(info.rid)) else {
                continue;
            };
            let l = &mut self.layers[i];
            if info.size.is_some() && l.size != info.size {
                l.size = info.size;
                changed = true;
            }
            if l.paused != info.paused {
                l.paused = info.paused;
                changed = true;
            }
        }
        if changed {
            self.generation = self.generation.wrapping_add(1);
        }
    }
}
