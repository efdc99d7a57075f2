//! The per-subscriber bandwidth allocator: the subscriber's bandwidth estimate (str0m's TWCC
//! estimate, less what its audio takes) shared among the video tracks it shows, layer by layer
//! in priority order. Pure and unit-tested; the room feeds it every dynacast tick.
//!
//! Every track first gets its lowest layer, in priority order, while that fits; a track whose
//! lowest layer does not fit is paused. Then the highest priority class is raised one layer
//! at a time, round by round, up to the layers its tracks want, before the next class gets
//! anything more (screen shares and the active speaker first, thumbnails last). A step above
//! the layer a track forwards now must fit with a margin, and the layers it forwards are kept
//! until the estimate falls well below them, so that a track does not flap between two
//! layers as the estimate wobbles.

use std::cmp::Reverse;

/// An upgrade beyond the current layer must fit this much more than it costs, in percent.
const UPGRADE_MARGIN_PCT: u64 = 10;

/// A layer a track forwards now is weighed at this share of its cost, in percent. An
/// estimate follows what is sent (a link with room is estimated at about the rate it
/// carries, until probing shows more), and a keyframe lifts a measured rate for a while: only
/// an estimate well below what flows, as congestion brings, takes a layer away.
const KEEP_WEIGHT_PCT: u64 = 80;

/// One video track a subscriber shows, as the allocator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VideoNeed {
    /// Higher is served first.
    pub priority: u8,
    /// The layers it may get, lowest quality first, as (layer index, bits per second); the
    /// last is the one the subscriber wants.
    pub steps: Vec<(usize, u64)>,
    /// The step it forwards now (`None`: paused, or not started).
    pub current: Option<usize>,
}

/// What one track may forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Allotment {
    /// At most this layer (an index into the UpTrack's layers).
    Layer(usize),
    /// Nothing: even its lowest layer does not fit.
    Paused,
}

/// The outcome for all tracks, in the order of the needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Allocation {
    pub allotments: Vec<Allotment>,
    /// Bits per second of what was allotted.
    pub used: u64,
    /// Bits per second of what every track wants.
    pub wanted: u64,
    /// Bits per second more that the first upgrade that did not fit needs (margin included;
    /// 0: nothing left to upgrade). Asking the estimator for it makes it probe that far.
    pub next: u64,
}

/// Shares `budget` (bits per second) among `needs`.
pub(crate) fn allocate(budget: u64, needs: &[VideoNeed]) -> Allocation {
    let mut order: Vec<usize> = (0..needs.len()).collect();
    order.sort_by_key(|&i| Reverse(needs[i].priority));
    let mut at: Vec<Option<usize>> = vec![None; needs.len()];
    // `used` is what the allotted layers cost; `load` what is weighed against the budget:
    // layers a track already forwards count for less, upgrades for more.
    let (mut used, mut load) = (0u64, 0u64);
    let mut next: Option<u64> = None;
    let mut take = |used: &mut u64, load: &mut u64, need: &VideoNeed, step: usize, extra: u64| {
        let weighed = if need.current.is_none_or(|c| step > c) {
            extra * (100 + UPGRADE_MARGIN_PCT) / 100
        } else {
            extra * KEEP_WEIGHT_PCT / 100
        };
        if *load + weighed > budget {
            next.get_or_insert(weighed);
            return false;
        }
        *used += extra;
        *load += weighed;
        true
    };
    for &i in &order {
        if let Some(&(_, cost)) = needs[i].steps.first()
            && take(&mut used, &mut load, &needs[i], 0, cost)
        {
            at[i] = Some(0);
        }
    }
    let mut classes: Vec<u8> = needs.iter().map(|n| n.priority).collect();
    classes.sort_unstable_by_key(|p| Reverse(*p));
    classes.dedup();
    for class in classes {
        loop {
            let mut raised = false;
            for &i in order.iter().filter(|&&i| needs[i].priority == class) {
                let need = &needs[i];
                let Some(s) = at[i].filter(|s| s + 1 < need.steps.len()) else {
                    continue;
                };
                let extra = need.steps[s + 1].1.saturating_sub(need.steps[s].1);
                if take(&mut used, &mut load, need, s + 1, extra) {
                    at[i] = Some(s + 1);
                    raised = true;
                }
            }
            if !raised {
                break;
            }
        }
    }
    Allocation {
        allotments: needs
            .iter()
            .zip(&at)
            .map(|(n, s)| match s {
                Some(s) => Allotment::Layer(n.steps[*s].0),
                None => Allotment::Paused,
            })
            .collect(),
        used,
        wanted: needs
            .iter()
            .filter_map(|n| n.steps.last().map(|(_, c)| *c))
            .sum(),
        next: next.unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A three-layer simulcast track (150 kbit/s, 500 kbit/s, 1.5 Mbit/s) wanted up to `up_to`.
    fn simulcast(priority: u8, up_to: usize, current: Option<usize>) -> VideoNeed {
        let all = [(0, 150_000), (1, 500_000), (2, 1_500_000)];
        VideoNeed {
            priority,
            steps: all[..=up_to].to_vec(),
            current,
        }
    }

    fn layers(a: &Allocation) -> Vec<Option<usize>> {
        a.allotments
            .iter()
            .map(|a| match a {
                Allotment::Layer(l) => Some(*l),
                Allotment::Paused => None,
            })
            .collect()
    }

    #[test]
    fn enough_bandwidth_gives_everyone_what_they_want() {
        let needs = [simulcast(0, 2, None), simulcast(0, 0, None)];
        let a = allocate(10_000_000, &needs);
        assert_eq!(layers(&a), [Some(2), Some(0)]);
        assert_eq!((a.used, a.wanted, a.next), (1_650_000, 1_650_000, 0));
    }

    #[test]
    fn the_higher_priority_is_raised_first() {
        // 2 Mbit/s: the speaker (priority 1) gets its 1.5 Mbit/s layer, the other two stay low.
        let needs = [
            simulcast(0, 2, None),
            simulcast(1, 2, None),
            simulcast(0, 2, None),
        ];
        let a = allocate(2_000_000, &needs);
        assert_eq!(layers(&a), [Some(0), Some(2), Some(0)]);
        assert_eq!(a.used, 1_800_000);
    }

    #[test]
    fn equal_priorities_are_raised_round_by_round() {
        let needs = [simulcast(0, 2, Some(1)), simulcast(0, 2, Some(1))];
        let a = allocate(1_100_000, &needs);
        assert_eq!(layers(&a), [Some(1), Some(1)]);
    }

    #[test]
    fn a_track_whose_lowest_layer_does_not_fit_is_paused() {
        let needs = [simulcast(1, 2, None), simulcast(0, 2, None)];
        let a = allocate(200_000, &needs);
        assert_eq!(layers(&a), [Some(0), None]);
        assert_eq!(a.used, 150_000);
        // Nothing fits at all.
        let a = allocate(100_000, &needs);
        assert_eq!(layers(&a), [None, None]);
        assert_eq!(a.used, 0);
        assert_eq!(a.wanted, 3_000_000);
    }

    #[test]
    fn an_upgrade_needs_a_margin_keeping_a_layer_does_not() {
        // 480 kbit/s: keeping 500 kbit/s fits (weighed at 400), reaching it from 150 kbit/s
        // does not (120 kept + 350 with its 10% margin).
        let kept = allocate(480_000, &[simulcast(0, 2, Some(1))]);
        assert_eq!(layers(&kept), [Some(1)]);
        assert_eq!(kept.used, 500_000);
        let raised = allocate(480_000, &[simulcast(0, 2, Some(0))]);
        assert_eq!(layers(&raised), [Some(0)]);
        // What to probe for: the step that did not fit, with its margin.
        assert_eq!(raised.next, 385_000);
        assert_eq!(kept.next, 1_100_000);
        // Well below what flows, the layer goes.
        let dropped = allocate(350_000, &[simulcast(0, 2, Some(1))]);
        assert_eq!(layers(&dropped), [Some(0)]);
    }

    #[test]
    fn a_single_layer_track_is_on_or_paused() {
        let plain = VideoNeed {
            priority: 0,
            steps: vec![(0, 2_000_000)],
            current: Some(0),
        };
        assert_eq!(
            layers(&allocate(1_700_000, std::slice::from_ref(&plain))),
            [Some(0)]
        );
        assert_eq!(layers(&allocate(1_000_000, &[plain])), [None]);
    }

    #[test]
    fn no_needs_no_use() {
        let a = allocate(1_000_000, &[]);
        assert!(a.allotments.is_empty());
        assert_eq!((a.used, a.wanted, a.next), (0, 0, 0));
    }
}
