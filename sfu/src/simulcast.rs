//! Simulcast layers of a video UpTrack ([`UpLayer`]), what a subscriber asked to see of a
//! track ([`TrackWant`], from `track_settings`), and the choice of layer between them
//! ([`pick_layer`]): pure, unit-tested functions the forwarding path calls.
//!
//! A track published without simulcast has one layer (no RID). A simulcast track has up to
//! [`MAX_LAYERS`], one per RID, in the order their first packets arrived. Their quality order
//! comes from the picture size each layer's keyframes carry (RFC 6386 §9.1), not from the RID
//! names, which are the publisher's choice (`q/h/f`, `l/m/h`, `0/1/2` ...).

use std::time::{Duration, Instant};

use str0m::media::Rid;

use crate::keyframe_throttle::KeyframeThrottle;
use crate::packet_store::PacketStore;
use crate::rate_meter::RateMeter;
use crate::rtp_rewriter::SourceId;

/// Layers per track at most (a browser sends three: quarter, half and full resolution).
pub(crate) const MAX_LAYERS: usize = 3;

/// A layer that sent nothing for this long is not chosen (a browser stops its top layers when
/// its uplink or CPU is short), and a DownTrack on it moves to another.
pub(crate) const LAYER_STALE: Duration = Duration::from_millis(1500);

/// One simulcast layer (or the only stream of a track without simulcast).
pub(crate) struct UpLayer {
    /// `None`: the track has no simulcast.
    pub rid: Option<Rid>,
    /// The source stream (SSRC) last seen; a DownTrack that (re)starts follows it.
    pub source: Option<SourceId>,
    /// Width and height of the last keyframe.
    pub size: Option<(u16, u16)>,
    /// When the last packet arrived.
    pub last_arrival: Option<Instant>,
    /// Video: the packets since the layer's last keyframe, so a new DownTrack starts at once.
    pub store: Option<PacketStore>,
    /// Keyframe requests to the publisher, per layer (each layer is its own encoder).
    pub throttle: KeyframeThrottle,
    /// Dynacast asked the publisher to stop sending this layer (nobody wanted it). Still
    /// chosen for a subscriber that wants it: that resumes it.
    pub paused: bool,
    /// At the publisher's worker: since when no subscriber anywhere wants the layer.
    pub unwanted_since: Option<Instant>,
    /// What the layer costs a subscriber (every worker receives every layer it forwards).
    pub rate: RateMeter,
}

impl UpLayer {
    pub fn new(rid: Option<Rid>, store: Option<PacketStore>, throttle: KeyframeThrottle) -> Self {
        UpLayer {
            rid,
            source: None,
            size: None,
            last_arrival: None,
            store,
            throttle,
            paused: false,
            unwanted_since: None,
            rate: RateMeter::default(),
        }
    }

    /// Sent something within [`LAYER_STALE`].
    pub fn is_live(&self, now: Instant) -> bool {
        self.last_arrival
            .is_some_and(|t| now.saturating_duration_since(t) < LAYER_STALE)
    }

    /// May be chosen for a subscriber: live, or paused by dynacast (wanting it resumes it).
    pub fn is_available(&self, now: Instant) -> bool {
        self.paused || self.is_live(now)
    }
}

/// What a subscriber wants of one remote track (`track_settings`). The default, until the
/// client says otherwise, is everything at the best quality, as without simulcast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrackWant {
    /// False: nothing is forwarded (the tile is off screen or the tab hidden).
    pub disabled: bool,
    /// The width the track is rendered at, in device pixels; `None`: as large as there is.
    pub max_width: Option<u32>,
    /// The rendered height, likewise.
    pub max_height: Option<u32>,
    /// Served first by the bandwidth allocator when the subscriber's bandwidth is short:
    /// higher.
    pub priority: u8,
}

/// The layer to forward for `want`: the smallest available layer (live, or paused by
/// dynacast) that covers the rendered size, else the largest available one. Layers whose
/// size is not known yet are passed over while another has one; before any keyframe, arrival
/// order decides (browsers list their encodings from the lowest). `None`: disabled, or no
/// available layer.
pub(crate) fn pick_layer(layers: &[UpLayer], want: &TrackWant, now: Instant) -> Option<usize> {
    if want.disabled {
        return None;
    }
    let live: Vec<usize> = (0..layers.len())
        .filter(|&i| layers[i].is_available(now))
        .collect();
    if live.is_empty() {
        return None;
    }
    let sized: Vec<(usize, (u16, u16))> = live
        .iter()
        .filter_map(|&i| layers[i].size.map(|s| (i, s)))
        .collect();
    if sized.is_empty() {
        // No keyframe seen yet: the last listed is the largest.
        return match (want.max_width, want.max_height) {
            (None, None) => live.last().copied(),
            _ => live.first().copied(),
        };
    }
    let largest = sized.iter().max_by_key(|(_, s)| area(*s)).map(|(i, _)| *i);
    if want.max_width.is_none() && want.max_height.is_none() {
        return largest;
    }
    let covers = |(w, h): (u16, u16)| {
        want.max_width.is_none_or(|mw| u32::from(w) >= mw)
            && want.max_height.is_none_or(|mh| u32::from(h) >= mh)
    };
    sized
        .iter()
        .filter(|(_, s)| covers(*s))
        .min_by_key(|(_, s)| area(*s))
        .map(|(i, _)| *i)
        .or(largest)
}

fn area((w, h): (u16, u16)) -> u32 {
    u32::from(w) * u32::from(h)
}

/// `layer`'s place from the smallest (0) among the track's layers, by picture size; layers
/// without a known size rank above the sized ones. What `track_state` reports as the layer,
/// since the arrival order of the RIDs says nothing.
pub(crate) fn quality_rank(layers: &[UpLayer], layer: &UpLayer) -> u8 {
    let Some(size) = layer.size else {
        return (layers.len().saturating_sub(1)) as u8;
    };
    layers
        .iter()
        .filter(|l| l.size.is_some_and(|s| area(s) < area(size)))
        .count() as u8
}

/// The picture size in a VP8 keyframe's first packet: after the payload descriptor
/// (RFC 7741 §4.2), the 3-byte frame tag, the start code and two 14-bit little-endian sizes
/// (RFC 6386 §9.1). `None` for anything else.
pub(crate) fn keyframe_size(payload: &[u8]) -> Option<(u16, u16)> {
    let first = *payload.first()?;
    let mut at = 1;
    if first & 0x80 != 0 {
        let x = *payload.get(at)?;
        at += 1;
        if x & 0x80 != 0 {
            // PictureID: one octet, or two when its M bit is set.
            at += if payload.get(at)? & 0x80 != 0 { 2 } else { 1 };
        }
        if x & 0x40 != 0 {
            at += 1; // TL0PICIDX
        }
        if x & 0x30 != 0 {
            at += 1; // TID / KEYIDX
        }
    }
    let frame = payload.get(at..at + 10)?;
    let keyframe = frame[0] & 0x01 == 0;
    if !keyframe || frame[3..6] != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let w = u16::from_le_bytes([frame[6], frame[7]]) & 0x3fff;
    let h = u16::from_le_bytes([frame[8], frame[9]]) & 0x3fff;
    Some((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(size: Option<(u16, u16)>, live: bool, now: Instant) -> UpLayer {
        let mut l = UpLayer::new(None, None, KeyframeThrottle::new(Duration::from_millis(1)));
        l.size = size;
        l.last_arrival = Some(if live {
            now
        } else {
            now.checked_sub(LAYER_STALE * 2).unwrap()
        });
        l
    }

    fn three(now: Instant) -> Vec<UpLayer> {
        vec![
            layer(Some((320, 180)), true, now),
            layer(Some((640, 360)), true, now),
            layer(Some((1280, 720)), true, now),
        ]
    }

    fn want(w: Option<u32>, h: Option<u32>) -> TrackWant {
        TrackWant {
            max_width: w,
            max_height: h,
            ..TrackWant::default()
        }
    }

    #[test]
    fn no_wish_gets_the_largest_layer() {
        let now = Instant::now();
        assert_eq!(pick_layer(&three(now), &TrackWant::default(), now), Some(2));
    }

    #[test]
    fn the_smallest_layer_that_covers_the_rendered_size() {
        let now = Instant::now();
        let l = three(now);
        assert_eq!(pick_layer(&l, &want(None, Some(100)), now), Some(0));
        assert_eq!(pick_layer(&l, &want(None, Some(180)), now), Some(0));
        assert_eq!(pick_layer(&l, &want(None, Some(181)), now), Some(1));
        assert_eq!(pick_layer(&l, &want(Some(400), Some(100)), now), Some(1));
        assert_eq!(pick_layer(&l, &want(Some(1920), Some(1080)), now), Some(2));
    }

    #[test]
    fn disabled_gets_nothing() {
        let now = Instant::now();
        let w = TrackWant {
            disabled: true,
            ..TrackWant::default()
        };
        assert_eq!(pick_layer(&three(now), &w, now), None);
    }

    #[test]
    fn a_stale_layer_is_skipped() {
        let now = Instant::now();
        let mut l = three(now);
        l[2] = layer(Some((1280, 720)), false, now);
        assert_eq!(pick_layer(&l, &TrackWant::default(), now), Some(1));
        l[1] = layer(Some((640, 360)), false, now);
        assert_eq!(pick_layer(&l, &want(None, Some(360)), now), Some(0));
        l[0] = layer(Some((320, 180)), false, now);
        assert_eq!(pick_layer(&l, &TrackWant::default(), now), None);
    }

    #[test]
    fn order_by_size_not_by_arrival() {
        let now = Instant::now();
        let l = vec![
            layer(Some((1280, 720)), true, now),
            layer(Some((320, 180)), true, now),
        ];
        assert_eq!(pick_layer(&l, &want(None, Some(120)), now), Some(1));
        assert_eq!(pick_layer(&l, &TrackWant::default(), now), Some(0));
    }

    #[test]
    fn before_any_keyframe_arrival_order_decides() {
        let now = Instant::now();
        let l = vec![layer(None, true, now), layer(None, true, now)];
        assert_eq!(pick_layer(&l, &TrackWant::default(), now), Some(1));
        assert_eq!(pick_layer(&l, &want(None, Some(90)), now), Some(0));
        // A sized layer wins over unsized ones.
        let l = vec![layer(None, true, now), layer(Some((320, 180)), true, now)];
        assert_eq!(pick_layer(&l, &TrackWant::default(), now), Some(1));
    }

    #[test]
    fn a_layer_paused_by_dynacast_can_be_chosen() {
        let now = Instant::now();
        let mut l = three(now);
        l[2] = layer(Some((1280, 720)), false, now);
        l[2].paused = true;
        assert_eq!(pick_layer(&l, &TrackWant::default(), now), Some(2));
    }

    #[test]
    fn the_rank_follows_the_size() {
        let now = Instant::now();
        let l = vec![
            layer(Some((1280, 720)), true, now),
            layer(Some((320, 180)), true, now),
            layer(Some((640, 360)), true, now),
        ];
        let ranks: Vec<u8> = l.iter().map(|x| quality_rank(&l, x)).collect();
        assert_eq!(ranks, vec![2, 0, 1]);
    }

    #[test]
    fn keyframe_size_reads_the_vp8_header() {
        // X, I (15-bit picture id), then a keyframe tag, start code, 640 x 360.
        let mut p = vec![0x90, 0x80, 0x80 | 0x12, 0x34];
        p.extend_from_slice(&[0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a]);
        p.extend_from_slice(&640u16.to_le_bytes());
        p.extend_from_slice(&360u16.to_le_bytes());
        p.extend_from_slice(&[0; 8]);
        assert_eq!(keyframe_size(&p), Some((640, 360)));
        // 7-bit picture id, TL0PICIDX and TID.
        let mut q = vec![0x90, 0xe0, 0x12, 0x07, 0x40];
        q.extend_from_slice(&p[4..]);
        assert_eq!(keyframe_size(&q), Some((640, 360)));
        // An interframe, a bad start code, a truncated packet.
        let mut inter = p.clone();
        inter[4] |= 0x01;
        assert_eq!(keyframe_size(&inter), None);
        let mut bad = p.clone();
        bad[7] = 0;
        assert_eq!(keyframe_size(&bad), None);
        assert_eq!(keyframe_size(&p[..8]), None);
        assert_eq!(keyframe_size(&[]), None);
    }
}
