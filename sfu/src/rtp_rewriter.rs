//! [`RtpRewriter`]: the numbering of one DownTrack's outgoing stream.
//!
//! The SFU forwards RTP packets as they arrive, but each DownTrack has one outgoing SSRC whose
//! sequence numbers, timestamps and VP8 picture ids must look like one continuous stream to
//! the subscriber, whatever happens upstream: the subscriber joins in the middle, the
//! DownTrack pauses and resumes, the publisher restarts its encoder, or (simulcast) the
//! DownTrack switches to another source stream. Within one *run* of one source the mapping is
//! a fixed offset, so a gap from loss stays a gap (the subscriber NACKs it, and str0m answers
//! from the send buffer, keyed by our output numbers). A new run starts only at a start point
//! (any packet for audio, the first packet of a keyframe for video) and continues right after
//! the last packet sent: no artificial gap, timestamps advanced by the time that passed.
//!
//! Pure: no I/O, no str0m; every case is unit-tested below.

use std::time::Instant;

/// Identity of a source stream (its incoming SSRC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SourceId(pub u32);

/// The VP8 payload descriptor fields the rewriter maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Vp8Ids {
    pub picture_id: Option<u16>,
    /// The descriptor carries the 15-bit form (else 7-bit): the rewritten id keeps the width.
    pub picture_id_15bit: bool,
    pub tl0_pic_idx: Option<u8>,
}

/// What the rewriter needs of one incoming packet.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SourcePacket {
    pub source: SourceId,
    /// Extended (rollover-free) incoming sequence number.
    pub seq: u64,
    pub timestamp: u32,
    pub arrival: Instant,
    /// First packet of a keyframe (video); false for audio.
    pub keyframe_start: bool,
    pub vp8: Option<Vp8Ids>,
}

/// The values to put on the outgoing packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rewritten {
    /// Extended outgoing sequence number (starts below 2^16: the SRTP rollover counter starts
    /// at 0, as the receiver assumes).
    pub seq: u64,
    pub timestamp: u32,
    pub picture_id: Option<u16>,
    pub tl0_pic_idx: Option<u8>,
}

/// A source's sequence number moving by more than this (either way) is a restarted source,
/// not loss or reordering: a new run starts (at a keyframe for video).
const MAX_SEQ_JUMP: u64 = 1 << 15;

/// First outgoing sequence number of a DownTrack.
const FIRST_SEQ: u64 = 1;

const PICTURE_ID_15: u16 = 1 << 15;
const PICTURE_ID_7: u16 = 1 << 7;

/// The fixed mapping of one run of one source.
#[derive(Debug, Clone, Copy)]
struct Run {
    source: SourceId,
    start_seq: u64,
    highest_seq: u64,
    out_start_seq: u64,
    ts_offset: u32,
    /// Modulo 2^15; applied modulo 2^7 to 7-bit ids (2^7 divides 2^15).
    picture_id_offset: u16,
    tl0_offset: u8,
}

/// The newest packet sent, where the next run continues.
#[derive(Debug, Clone, Copy)]
struct Last {
    seq: u64,
    timestamp: u32,
    arrival: Instant,
    picture_id: Option<u16>,
    tl0_pic_idx: Option<u8>,
}

/// Per-DownTrack mapping of source packets onto one continuous outgoing stream.
#[derive(Debug)]
pub(crate) struct RtpRewriter {
    clock_rate: u32,
    video: bool,
    /// The source to forward; `None` until the first packet or `switch_to`.
    target: Option<SourceId>,
    paused: bool,
    /// `None`: waiting for the target's next start point.
    run: Option<Run>,
    last: Option<Last>,
}

impl RtpRewriter {
    pub fn new(clock_rate: u32, video: bool) -> Self {
        RtpRewriter {
            clock_rate,
            video,
            target: None,
            paused: false,
            run: None,
            last: None,
        }
    }

    /// Rewrites one packet, or `None` when it must not be forwarded: paused, another source,
    /// from before the current start, or (video) waiting for a keyframe.
    pub fn rewrite(&mut self, p: &SourcePacket) -> Option<Rewritten> {
        if self.paused {
            return None;
        }
        let target = *self.target.get_or_insert(p.source);
        if p.source != target {
            return None;
        }
        if let Some(run) = self.run.as_mut() {
            let jumped =
                p.seq > run.highest_seq + MAX_SEQ_JUMP || run.highest_seq > p.seq + MAX_SEQ_JUMP;
            if !jumped {
                if p.seq < run.start_seq {
                    return None;
                }
                run.highest_seq = run.highest_seq.max(p.seq);
                let run = *run;
                return Some(self.map(&run, p));
            }
            self.run = None;
        }
        if self.video && !p.keyframe_start {
            return None;
        }
        let run = self.start(p);
        self.run = Some(run);
        Some(self.map(&run, p))
    }

    /// Stops forwarding until [`Self::switch_to`]. Only the tests call it until subscribers
    /// can hide tracks (`track_settings`, the large-meetings issue).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn pause(&mut self) {
        self.paused = true;
        self.run = None;
    }

    /// Forwards `source` from its next start point on (a resume, a restart after a reconnect,
    /// or a switch to another source), continuing the outgoing numbering.
    pub fn switch_to(&mut self, source: SourceId) {
        self.paused = false;
        self.target = Some(source);
        self.run = None;
    }

    #[cfg(test)]
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Something was forwarded already (the subscriber has seen this stream).
    pub fn has_sent(&self) -> bool {
        self.last.is_some()
    }

    /// Video only: waiting for a keyframe of the target source.
    pub fn waiting_for_keyframe(&self) -> bool {
        self.video && !self.paused && self.run.is_none()
    }

    /// A new run starting at `p`, continuing after the last packet sent (if any).
    fn start(&self, p: &SourcePacket) -> Run {
        let ids = p.vp8.unwrap_or(Vp8Ids {
            picture_id: None,
            picture_id_15bit: true,
            tl0_pic_idx: None,
        });
        let (out_start_seq, ts_offset, picture_id_offset, tl0_offset) = match self.last {
            None => (FIRST_SEQ, 0, 0, 0),
            Some(last) => {
                let elapsed = p.arrival.saturating_duration_since(last.arrival);
                let ticks = (elapsed.as_secs_f64() * f64::from(self.clock_rate)) as u64;
                let ts = last
                    .timestamp
                    .wrapping_add(ticks.clamp(1, u64::from(u32::MAX)) as u32);
                let pid = match (last.picture_id, ids.picture_id) {
                    (Some(l), Some(inp)) => {
                        let want = (l + 1) % modulus(ids.picture_id_15bit);
                        (want + PICTURE_ID_15 - inp % PICTURE_ID_15) % PICTURE_ID_15
                    }
                    _ => 0,
                };
                let tl0 = match (last.tl0_pic_idx, ids.tl0_pic_idx) {
                    (Some(l), Some(inp)) => l.wrapping_add(1).wrapping_sub(inp),
                    _ => 0,
                };
                (last.seq + 1, ts.wrapping_sub(p.timestamp), pid, tl0)
            }
        };
        Run {
            source: p.source,
            start_seq: p.seq,
            highest_seq: p.seq,
            out_start_seq,
            ts_offset,
            picture_id_offset,
            tl0_offset,
        }
    }

    fn map(&mut self, run: &Run, p: &SourcePacket) -> Rewritten {
        debug_assert_eq!(run.source, p.source);
        let ids = p.vp8;
        let out = Rewritten {
            seq: run.out_start_seq + (p.seq - run.start_seq),
            timestamp: p.timestamp.wrapping_add(run.ts_offset),
            picture_id: ids.and_then(|v| {
                v.picture_id
                    .map(|id| (id + run.picture_id_offset) % modulus(v.picture_id_15bit))
            }),
            tl0_pic_idx: ids
                .and_then(|v| v.tl0_pic_idx)
                .map(|i| i.wrapping_add(run.tl0_offset)),
        };
        if self.last.is_none_or(|l| out.seq > l.seq) {
            let keep = self.last;
            self.last = Some(Last {
                seq: out.seq,
                timestamp: out.timestamp,
                arrival: p.arrival,
                picture_id: out.picture_id.or(keep.and_then(|l| l.picture_id)),
                tl0_pic_idx: out.tl0_pic_idx.or(keep.and_then(|l| l.tl0_pic_idx)),
            });
        }
        out
    }
}

fn modulus(fifteen_bit: bool) -> u16 {
    if fifteen_bit {
        PICTURE_ID_15
    } else {
        PICTURE_ID_7
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const A: SourceId = SourceId(0xaaaa);
    const B: SourceId = SourceId(0xbbbb);

    struct Gen {
        t0: Instant,
    }

    impl Gen {
        fn new() -> Self {
            Gen { t0: Instant::now() }
        }
        /// A video packet of `source`: seq, timestamp, arrival in ms, keyframe start, pid, tl0.
        fn v(
            &self,
            source: SourceId,
            seq: u64,
            ts: u32,
            ms: u64,
            key: bool,
            pid: u16,
        ) -> SourcePacket {
            SourcePacket {
                source,
                seq,
                timestamp: ts,
                arrival: self.t0 + Duration::from_millis(ms),
                keyframe_start: key,
                vp8: Some(Vp8Ids {
                    picture_id: Some(pid),
                    picture_id_15bit: true,
                    tl0_pic_idx: Some(pid as u8),
                }),
            }
        }
        fn a(&self, source: SourceId, seq: u64, ts: u32, ms: u64) -> SourcePacket {
            SourcePacket {
                source,
                seq,
                timestamp: ts,
                arrival: self.t0 + Duration::from_millis(ms),
                keyframe_start: false,
                vp8: None,
            }
        }
    }

    fn seq(r: Option<Rewritten>) -> u64 {
        r.expect("forwarded").seq
    }

    #[test]
    fn audio_starts_at_once_and_keeps_gaps() {
        let g = Gen::new();
        let mut r = RtpRewriter::new(48_000, false);
        assert!(!r.waiting_for_keyframe());
        let first = r.rewrite(&g.a(A, 5000, 960_000, 0)).unwrap();
        assert_eq!(first.seq, FIRST_SEQ);
        assert_eq!(
            first.timestamp, 960_000,
            "the first run keeps the source's timestamps"
        );
        assert_eq!(seq(r.rewrite(&g.a(A, 5001, 960_960, 20))), FIRST_SEQ + 1);
        // 5002 lost upstream: the gap stays, so the subscriber can NACK it.
        assert_eq!(seq(r.rewrite(&g.a(A, 5003, 962_880, 60))), FIRST_SEQ + 3);
        // 5002 repaired late: forwarded with its own number.
        assert_eq!(seq(r.rewrite(&g.a(A, 5002, 961_920, 70))), FIRST_SEQ + 2);
    }

    #[test]
    fn video_waits_for_a_keyframe() {
        let g = Gen::new();
        let mut r = RtpRewriter::new(90_000, true);
        assert!(r.waiting_for_keyframe());
        assert_eq!(r.rewrite(&g.v(A, 10, 0, 0, false, 3)), None);
        assert!(r.waiting_for_keyframe());
        let k = r.rewrite(&g.v(A, 11, 3000, 33, true, 4)).unwrap();
        assert_eq!(k.seq, FIRST_SEQ);
        assert!(!r.waiting_for_keyframe());
        assert_eq!(
            seq(r.rewrite(&g.v(A, 12, 3000, 34, false, 4))),
            FIRST_SEQ + 1
        );
        // A packet from before the start point (a late repair of 10) is dropped.
        assert_eq!(r.rewrite(&g.v(A, 10, 0, 40, false, 3)), None);
        // Another source than the target is not forwarded.
        assert_eq!(r.rewrite(&g.v(B, 900, 0, 41, true, 1)), None);
    }

    #[test]
    fn input_and_output_sequence_wrap() {
        let g = Gen::new();
        let mut r = RtpRewriter::new(48_000, false);
        // Extended input crossing 65536, timestamps crossing 2^32.
        let s0 = 65_534u64;
        let t0 = u32::MAX - 959;
        let mut outs = Vec::new();
        for i in 0..4u64 {
            let p = g.a(A, s0 + i, t0.wrapping_add(960 * i as u32), 20 * i);
            outs.push(r.rewrite(&p).unwrap());
        }
        let seqs: Vec<u64> = outs.iter().map(|o| o.seq).collect();
        assert_eq!(seqs, vec![1, 2, 3, 4]);
        assert_eq!(outs[1].timestamp, 0, "u32 timestamp wrapped");
        assert_eq!(outs[3].timestamp, 1920);
    }

    #[test]
    fn long_runs_cross_the_16_bit_output_boundary() {
        let g = Gen::new();
        let mut r = RtpRewriter::new(48_000, false);
        let mut last = 0;
        for i in 0..70_000u64 {
            last = seq(r.rewrite(&g.a(A, 100 + i, (960 * i) as u32, i)));
        }
        assert_eq!(last, FIRST_SEQ + 69_999);
        assert_eq!(last as u16, (FIRST_SEQ + 69_999) as u16);
    }

    #[test]
    fn pause_and_resume_continue_without_a_gap() {
        let g = Gen::new();
        let mut r = RtpRewriter::new(90_000, true);
        r.rewrite(&g.v(A, 100, 9000, 0, true, 10)).unwrap();
        let before = r.rewrite(&g.v(A, 101, 12_000, 33, false, 11)).unwrap();
        r.pause();
        assert!(r.is_paused());
        assert!(!r.waiting_for_keyframe());
        assert_eq!(r.rewrite(&g.v(A, 102, 15_000, 66, false, 12)), None);
        assert_eq!(
            r.rewrite(&g.v(A, 130, 99_000, 1000, true, 40)),
            None,
            "paused"
        );
        r.switch_to(A);
        assert!(r.waiting_for_keyframe());
        assert_eq!(r.rewrite(&g.v(A, 160, 189_000, 2000, false, 70)), None);
        // Resumed at a keyframe 2 s after the last packet sent (at 33 ms).
        let k = r.rewrite(&g.v(A, 161, 192_000, 2033, true, 71)).unwrap();
        assert_eq!(k.seq, before.seq + 1, "no gap the subscriber would NACK");
        assert_eq!(
            k.timestamp,
            before.timestamp.wrapping_add(180_000),
            "2 s at 90 kHz"
        );
        assert_eq!(k.picture_id, Some(before.picture_id.unwrap() + 1));
        assert_eq!(k.tl0_pic_idx, Some(before.tl0_pic_idx.unwrap() + 1));
        // Later packets of the run keep the offsets.
        let n = r.rewrite(&g.v(A, 163, 195_000, 2066, false, 72)).unwrap();
        assert_eq!(n.seq, k.seq + 2);
        assert_eq!(n.timestamp, k.timestamp + 3000);
        assert_eq!(n.picture_id, Some(k.picture_id.unwrap() + 1));
    }

    #[test]
    fn audio_resume_advances_the_timestamp_at_least_one_tick() {
        let g = Gen::new();
        let mut r = RtpRewriter::new(48_000, false);
        let a = r.rewrite(&g.a(A, 1, 1000, 50)).unwrap();
        r.pause();
        r.switch_to(A);
        // Same arrival instant (or an earlier one): still moves forward.
        let b = r.rewrite(&g.a(A, 2, 5, 50)).unwrap();
        assert_eq!(b.seq, a.seq + 1);
        assert_eq!(b.timestamp, a.timestamp + 1);
    }

    #[test]
    fn switching_sources_at_a_keyframe_is_seamless() {
        let g = Gen::new();
        let mut r = RtpRewriter::new(90_000, true);
        r.rewrite(&g.v(A, 500, 1_000, 0, true, 7)).unwrap();
        let last_a = r.rewrite(&g.v(A, 501, 4_000, 33, false, 8)).unwrap();
        r.switch_to(B);
        // A is no longer forwarded; B only from its keyframe.
        assert_eq!(r.rewrite(&g.v(A, 502, 7_000, 66, false, 9)), None);
        assert_eq!(r.rewrite(&g.v(B, 40_000, 777, 70, false, 30_000)), None);
        let k = r
            .rewrite(&g.v(B, 40_001, 3_777, 100, true, 30_001))
            .unwrap();
        assert_eq!(k.seq, last_a.seq + 1);
        assert_eq!(
            k.timestamp,
            last_a.timestamp + 6_030,
            "67 ms later at 90 kHz"
        );
        assert_eq!(k.picture_id, Some(last_a.picture_id.unwrap() + 1));
        assert_eq!(k.tl0_pic_idx, Some(last_a.tl0_pic_idx.unwrap() + 1));
        let n = r
            .rewrite(&g.v(B, 40_002, 6_777, 133, false, 30_002))
            .unwrap();
        assert_eq!((n.seq, n.timestamp), (k.seq + 1, k.timestamp + 3000));
    }

    #[test]
    fn a_restarted_source_starts_a_new_run_at_its_keyframe() {
        let g = Gen::new();
        let mut r = RtpRewriter::new(90_000, true);
        r.rewrite(&g.v(A, 1_000, 0, 0, true, 1)).unwrap();
        let last = r.rewrite(&g.v(A, 1_001, 3000, 33, false, 2)).unwrap();
        // Same SSRC, sequence far away: no huge output gap, wait for its keyframe.
        assert_eq!(r.rewrite(&g.v(A, 60_000, 50, 66, false, 900)), None);
        assert!(r.waiting_for_keyframe());
        let k = r.rewrite(&g.v(A, 60_001, 3050, 99, true, 901)).unwrap();
        assert_eq!(k.seq, last.seq + 1);
        // Backwards far is a restart too.
        let mut r = RtpRewriter::new(48_000, false);
        let a = r.rewrite(&g.a(A, 50_000, 0, 0)).unwrap();
        let b = r.rewrite(&g.a(A, 3, 0, 20)).unwrap();
        assert_eq!(b.seq, a.seq + 1);
    }

    #[test]
    fn picture_ids_wrap_in_their_own_width() {
        let g = Gen::new();
        let mut r = RtpRewriter::new(90_000, true);
        r.rewrite(&g.v(A, 1, 0, 0, true, 0x7ffe)).unwrap();
        let p = r.rewrite(&g.v(A, 2, 3000, 33, false, 0x7fff)).unwrap();
        assert_eq!(p.picture_id, Some(0x7fff));
        let w = r.rewrite(&g.v(A, 3, 6000, 66, false, 0)).unwrap();
        assert_eq!(w.picture_id, Some(0));
        // A switch onto a 7-bit source continues modulo 128.
        r.switch_to(B);
        let mut k = g.v(B, 10, 0, 99, true, 5);
        k.vp8 = Some(Vp8Ids {
            picture_id: Some(5),
            picture_id_15bit: false,
            tl0_pic_idx: Some(250),
        });
        let k = r.rewrite(&k).unwrap();
        assert_eq!(k.picture_id, Some(1), "0 + 1");
        assert_eq!(k.tl0_pic_idx, Some(1), "tl0 0 + 1");
        let mut n = g.v(B, 11, 3000, 133, false, 127);
        n.vp8 = Some(Vp8Ids {
            picture_id: Some(127),
            picture_id_15bit: false,
            tl0_pic_idx: Some(255),
        });
        let n = r.rewrite(&n).unwrap();
        assert_eq!(n.picture_id, Some(123), "(127 + offset) mod 128");
        assert_eq!(n.tl0_pic_idx, Some(6), "wraps at 256");
    }
}
