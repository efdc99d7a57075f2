//! Each subscriber's bandwidth: str0m's TWCC estimate of its subscribe connection, shared
//! among the video tracks it shows by the allocator ([`crate::bandwidth_allocator`]) every
//! dynacast tick. A DownTrack gets a ceiling (the highest layer that fits) or is paused for
//! bandwidth; it moves at the new layer's keyframe like any other switch, and the subscriber
//! hears of it in `track_state`. Audio is taken off the estimate first and never limited.
//! str0m is told what the subscriber would like (the bitrate of every track at the layer it
//! wants), so it probes for it, and pads up to the next layer that did not fit, so that the
//! estimate can grow into it: a link that has room gets its tracks back.

use std::time::{Duration, Instant};

use str0m::bwe::Bitrate;

use super::{Room, RoomCtx, run_on};
use crate::bandwidth_allocator::{Allotment, VideoNeed, allocate};
use crate::down_track::DownTrack;
use crate::ids::{MediaKind, PeerId, TrackId};
use crate::peer::BweEstimate;
use crate::simulcast::{UpLayer, pick_layer, quality_rank};
use crate::up_track::UpTrack;

/// How long after its first estimate a subscriber is not limited: str0m's first probes (at
/// three and six times the initial estimate) are still out.
const SETTLE: Duration = Duration::from_secs(2);

/// A subscriber short of bandwidth gets its estimate restarted just above what its next layer
/// needs after this long, and again after as long while the link carried the last restart,
/// or twice as long (up to [`LAST_RESTART`]) when the estimate fell below what flows. str0m's
/// estimate follows what is sent and probes only when the application is far below it, so
/// without this a link that recovered would keep its tracks paused or low; on a link still
/// short, the estimator brings the estimate down again within a second or two (a layer
/// tried, then dropped).
const FIRST_RESTART: Duration = Duration::from_secs(3);
const LAST_RESTART: Duration = Duration::from_secs(32);

/// A layer is taken away (a lower one, or a pause) only when the estimate has been short of
/// it this long: a dip of the estimate (a burst of loss, a busy moment of the client) does
/// not cost the picture. Upgrades happen at once.
const DOWNGRADE_AFTER: Duration = Duration::from_secs(1);

/// An audio track whose rate is not measured yet (Opus in a meeting: 32-40 kbit/s).
const AUDIO_GUESS_BPS: u64 = 40_000;

/// Bits per second per pixel of a video layer not measured (paused by dynacast, not received
/// yet): about what browsers' VP8 spends at 30 frames per second.
const BITS_PER_PIXEL: u64 = 2;

/// A video layer of unknown size.
const VIDEO_GUESS_BPS: u64 = 500_000;

impl Room {
    /// The estimate str0m reports for `peer`'s subscribe connection; without probing
    /// (`can_probe` false: nothing is sent that TWCC could measure) it is not trusted.
    pub(super) fn bandwidth_estimate(
        &mut self,
        peer: PeerId,
        bps: u64,
        can_probe: bool,
        now: Instant,
    ) {
        if let Some(p) = self.peers.get_mut(&peer) {
            p.bwe = can_probe.then_some(match p.bwe {
                Some(b) => BweEstimate { bps, ..b },
                None => BweEstimate {
                    bps,
                    since: now,
                    restarted_at: now,
                    restarted_to: None,
                    restart_after: FIRST_RESTART,
                    short_since: None,
                },
            });
        }
    }

    /// Shares each local subscriber's estimate among its video tracks.
    pub(super) fn allocate_bandwidth(&mut self, ctx: &mut RoomCtx<'_>) {
        let peers: Vec<PeerId> = self.peers.keys().copied().collect();
        for peer in peers {
            self.allocate_for(peer, ctx);
        }
        self.settle(ctx);
    }

    fn allocate_for(&mut self, peer: PeerId, ctx: &mut RoomCtx<'_>) {
        let now = ctx.now;
        let Some(p) = self.peers.get(&peer) else {
            return;
        };
        let mut audio = 0;
        let mut tracks: Vec<TrackId> = Vec::new();
        let mut needs: Vec<VideoNeed> = Vec::new();
        for (t, dt) in &p.down {
            if dt.removing || dt.want.disabled || dt.open_mid().is_none() {
                continue;
            }
            let Some(up) = self.up_tracks.get(t) else {
                continue;
            };
            match dt.kind {
                MediaKind::Audio => {
                    audio += up
                        .layers
                        .first()
                        .and_then(|l| l.rate.bps())
                        .unwrap_or(AUDIO_GUESS_BPS)
                }
                MediaKind::Video => {
                    if let Some(need) = video_need(up, dt, now) {
                        tracks.push(*t);
                        needs.push(need);
                    }
                }
            }
        }
        let limit = p
            .bwe
            .filter(|b| now >= b.since + SETTLE)
            .map(|b| b.bps.saturating_sub(audio));
        let allocation = allocate(limit.unwrap_or(u64::MAX), &needs);
        // The floor str0m pads up to: the next layer that did not fit, so that the estimate
        // can grow into it; the goal it probes for: everything wanted.
        let desired = audio + allocation.wanted;
        let asked = (
            (audio + allocation.used + allocation.next).min(desired),
            desired,
        );
        let Room {
            peers,
            effects,
            failed,
            up_tracks,
            ..
        } = self;
        let Some(p) = peers.get_mut(&peer) else {
            return;
        };
        if p.bwe.is_some() && p.bwe_asked != Some(asked) {
            p.bwe_asked = Some(asked);
            run_on(&mut p.subscribe, peer, ctx, effects, failed, |rtc| {
                rtc.bwe()
                    .set_bitrate(Bitrate::bps(asked.0), Bitrate::bps(asked.1));
            });
        }
        if let Some(b) = p.bwe.as_mut() {
            if allocation.next == 0 || limit.is_none() {
                b.restart_after = FIRST_RESTART;
                b.restarted_at = now;
                b.restarted_to = None;
            } else if now >= b.restarted_at + b.restart_after {
                // The estimate follows what is sent, so after a restart it settles near that;
                // below what flows, the link did not carry the last try.
                let held = b.restarted_to.is_none() || b.bps >= (audio + allocation.used) * 9 / 10;
                b.restart_after = if held {
                    FIRST_RESTART
                } else {
                    (b.restart_after * 2).min(LAST_RESTART)
                };
                let to = (audio + allocation.used + allocation.next) * 11 / 10;
                b.bps = b.bps.max(to);
                b.restarted_at = now;
                b.restarted_to = Some(b.bps);
                let bps = b.bps;
                run_on(&mut p.subscribe, peer, ctx, effects, failed, |rtc| {
                    rtc.bwe().reset(Bitrate::bps(bps));
                });
            }
        }
        let mut changes = Vec::new();
        for (track, allotment) in tracks.into_iter().zip(allocation.allotments) {
            let allotment = limit.map(|_| allotment);
            if let (Some(dt), Some(up)) = (p.down.get(&track), up_tracks.get(&track))
                && dt.allotment != allotment
            {
                changes.push((track, allotment, is_lower(&up.layers, dt.layer, allotment)));
            }
        }
        let mut may_lower = true;
        if let Some(b) = p.bwe.as_mut() {
            if changes.iter().any(|(_, _, lower)| *lower) {
                let since = *b.short_since.get_or_insert(now);
                may_lower = now >= since + DOWNGRADE_AFTER;
            } else {
                b.short_since = None;
            }
        }
        let mut moved = Vec::new();
        for (track, allotment, lower) in changes {
            if lower && !may_lower {
                continue;
            }
            if let Some(dt) = p.down.get_mut(&track) {
                dt.allotment = allotment;
                moved.push(track);
            }
        }
        for track in moved {
            self.reconsider(peer, track, ctx);
        }
    }
}

/// What `dt` may get of `up`: its available layers from the lowest quality up to the one the
/// subscriber wants, each with its cost. `None`: nothing to forward (no layer available).
fn video_need(up: &UpTrack, dt: &DownTrack, now: Instant) -> Option<VideoNeed> {
    let layers = &up.layers;
    let wanted = quality_rank(layers, layers.get(pick_layer(layers, &dt.want, now)?)?);
    let mut steps: Vec<(u8, usize, u64)> = layers
        .iter()
        .enumerate()
        .filter(|(_, l)| l.is_available(now))
        .map(|(i, l)| (quality_rank(layers, l), i, layer_cost(l, now)))
        .filter(|(rank, _, _)| *rank <= wanted)
        .collect();
    steps.sort_unstable();
    Some(VideoNeed {
        priority: dt.want.priority,
        current: dt
            .layer
            .and_then(|l| steps.iter().position(|(_, i, _)| *i == l)),
        steps: steps.into_iter().map(|(_, i, c)| (i, c)).collect(),
    })
}

/// Whether `allotment` takes away from what a DownTrack forwards now (`current`).
fn is_lower(layers: &[UpLayer], current: Option<usize>, allotment: Option<Allotment>) -> bool {
    let rank = |l: usize| layers.get(l).map(|u| quality_rank(layers, u));
    match (current, allotment) {
        (Some(_), Some(Allotment::Paused)) => true,
        (Some(c), Some(Allotment::Layer(l))) => rank(l) < rank(c),
        _ => false,
    }
}

/// A layer's bitrate: measured while it flows, else guessed from its picture size.
fn layer_cost(l: &UpLayer, now: Instant) -> u64 {
    match (l.is_live(now), l.rate.bps(), l.size) {
        (true, Some(bps), _) if bps > 0 => bps,
        (_, _, Some((w, h))) => u64::from(w) * u64::from(h) * BITS_PER_PIXEL,
        _ => VIDEO_GUESS_BPS,
    }
}
