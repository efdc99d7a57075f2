//! Unit tests of [`RtpRewriter`](super::RtpRewriter).

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
    /// A video packet of `source`: seq, timestamp, arrival in ms, keyframe start, picture
    /// id (15-bit; TL0PICIDX = its low byte).
    fn v(&self, source: SourceId, seq: u64, ts: u32, ms: u64, key: bool, pid: u16) -> SourcePacket {
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
    /// An audio packet: seq, timestamp, arrival in ms.
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
    assert!(!r.has_sent());
    let first = r.rewrite(&g.a(A, 5000, 960_000, 0)).unwrap();
    assert!(r.has_sent());
    assert_eq!(first.seq, FIRST_SEQ);
    assert_eq!(
        first.timestamp, 960_000,
        "the first run keeps the source's timestamps"
    );
    assert_eq!(seq(r.rewrite(&g.a(A, 5001, 960_960, 20))), FIRST_SEQ + 1);
    // 5002 lost upstream: the gap stays, so the subscriber can NACK it.
    let after_gap = r.rewrite(&g.a(A, 5003, 962_880, 60)).unwrap();
    assert_eq!(after_gap.seq, FIRST_SEQ + 3);
    assert_eq!(after_gap.timestamp, 962_880);
    // 5002 repaired late: forwarded with its own number and timestamp.
    let late = r.rewrite(&g.a(A, 5002, 961_920, 70)).unwrap();
    assert_eq!((late.seq, late.timestamp), (FIRST_SEQ + 2, 961_920));
    // The run goes on from the highest, not from the late one.
    assert_eq!(seq(r.rewrite(&g.a(A, 5004, 963_840, 80))), FIRST_SEQ + 4);
}

#[test]
fn the_first_source_seen_becomes_the_target() {
    let g = Gen::new();
    let mut r = RtpRewriter::new(48_000, false);
    r.rewrite(&g.a(B, 7, 0, 0)).unwrap();
    assert_eq!(r.rewrite(&g.a(A, 8, 960, 20)), None);
    assert_eq!(seq(r.rewrite(&g.a(B, 8, 960, 20))), FIRST_SEQ + 1);
}

#[test]
fn switch_to_before_any_packet_selects_the_source() {
    let g = Gen::new();
    let mut r = RtpRewriter::new(48_000, false);
    r.switch_to(B);
    assert!(!r.is_paused());
    assert_eq!(r.rewrite(&g.a(A, 1, 0, 0)), None);
    assert_eq!(seq(r.rewrite(&g.a(B, 40, 0, 1))), FIRST_SEQ);
}

#[test]
fn video_waits_for_a_keyframe() {
    let g = Gen::new();
    let mut r = RtpRewriter::new(90_000, true);
    assert!(r.waiting_for_keyframe());
    assert_eq!(r.rewrite(&g.v(A, 10, 0, 0, false, 3)), None);
    assert!(r.waiting_for_keyframe());
    assert!(!r.has_sent());
    let k = r.rewrite(&g.v(A, 11, 3000, 33, true, 4)).unwrap();
    assert_eq!(k.seq, FIRST_SEQ);
    assert_eq!(
        (k.timestamp, k.picture_id, k.tl0_pic_idx),
        (3000, Some(4), Some(4)),
        "the first run keeps the source's timestamps and ids"
    );
    assert!(!r.waiting_for_keyframe());
    assert_eq!(
        seq(r.rewrite(&g.v(A, 12, 3000, 34, false, 4))),
        FIRST_SEQ + 1
    );
    // A packet from before the start point (a late repair of 10) is dropped.
    assert_eq!(r.rewrite(&g.v(A, 10, 0, 40, false, 3)), None);
    // Another source than the target is not forwarded, keyframe or not.
    assert_eq!(r.rewrite(&g.v(B, 900, 0, 41, true, 1)), None);
    assert!(!r.waiting_for_keyframe());
}

#[test]
fn duplicates_are_dropped() {
    let g = Gen::new();
    let mut r = RtpRewriter::new(90_000, true);
    r.rewrite(&g.v(A, 100, 0, 0, true, 1)).unwrap();
    assert_eq!(r.rewrite(&g.v(A, 100, 0, 1, true, 1)), None, "the start");
    r.rewrite(&g.v(A, 101, 0, 2, false, 1)).unwrap();
    r.rewrite(&g.v(A, 103, 0, 3, false, 1)).unwrap();
    assert_eq!(r.rewrite(&g.v(A, 103, 0, 4, false, 1)), None, "the highest");
    assert_eq!(
        r.rewrite(&g.v(A, 101, 0, 5, false, 1)),
        None,
        "an older one"
    );
    assert_eq!(seq(r.rewrite(&g.v(A, 102, 0, 6, false, 1))), FIRST_SEQ + 2);
    assert_eq!(r.rewrite(&g.v(A, 102, 0, 7, false, 1)), None, "a late one");
    assert_eq!(r.rewrite(&g.v(A, 100, 0, 8, true, 1)), None, "the start");
    assert_eq!(seq(r.rewrite(&g.v(A, 104, 0, 9, false, 1))), FIRST_SEQ + 4);
    // Past the 64-packet window: the start is still known, a late repair goes through.
    for s in 106..300 {
        r.rewrite(&g.v(A, s, 0, 10, false, 1)).unwrap();
    }
    assert_eq!(r.rewrite(&g.v(A, 100, 0, 11, true, 1)), None, "the start");
    assert_eq!(seq(r.rewrite(&g.v(A, 105, 0, 12, false, 1))), FIRST_SEQ + 5);
}

#[test]
fn a_reorder_extended_below_zero_is_before_the_start() {
    // str0m extends 65535 arriving after 0 to just below 2^64: it is packet -1.
    let g = Gen::new();
    let mut r = RtpRewriter::new(48_000, false);
    r.rewrite(&g.a(A, 0, 0, 0)).unwrap();
    assert_eq!(r.rewrite(&g.a(A, u64::MAX, 0, 1)), None);
    assert_eq!(seq(r.rewrite(&g.a(A, 1, 960, 20))), FIRST_SEQ + 1);
}

#[test]
fn input_sequence_and_timestamps_wrap() {
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
    // A repair from before the input wrap still maps into the run.
    let mut r = RtpRewriter::new(48_000, false);
    r.rewrite(&g.a(A, 65_535, 0, 0)).unwrap();
    r.rewrite(&g.a(A, 65_537, 1920, 40)).unwrap();
    assert_eq!(seq(r.rewrite(&g.a(A, 65_536, 960, 50))), FIRST_SEQ + 1);
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
    assert!(last > 65_535, "extended output, not wrapped at 2^16");
    // A resume past the boundary continues the extended numbering.
    r.pause();
    r.switch_to(A);
    assert_eq!(seq(r.rewrite(&g.a(A, 200_000, 0, 80_000))), last + 1);
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
    assert!(!r.is_paused());
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
    // Later packets of the run keep the offsets; older ones are before its start.
    let n = r.rewrite(&g.v(A, 163, 195_000, 2066, false, 72)).unwrap();
    assert_eq!(n.seq, k.seq + 2);
    assert_eq!(n.timestamp, k.timestamp + 3000);
    assert_eq!(n.picture_id, Some(k.picture_id.unwrap() + 1));
    assert_eq!(n.tl0_pic_idx, Some(k.tl0_pic_idx.unwrap() + 1));
    assert_eq!(r.rewrite(&g.v(A, 160, 189_000, 2070, false, 70)), None);
}

#[test]
fn a_resume_advances_the_timestamp_across_its_wrap() {
    let g = Gen::new();
    let mut r = RtpRewriter::new(48_000, false);
    let a = r.rewrite(&g.a(A, 1, u32::MAX - 100, 0)).unwrap();
    r.pause();
    r.switch_to(A);
    let b = r.rewrite(&g.a(A, 9, 5, 1000)).unwrap();
    assert_eq!(b.seq, a.seq + 1);
    assert_eq!(b.timestamp, 48_000 - 101, "1 s at 48 kHz, wrapped");
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
    r.switch_to(A);
    let c = r.rewrite(&g.a(A, 3, 5, 10)).unwrap();
    assert_eq!((c.seq, c.timestamp), (b.seq + 1, b.timestamp + 1));
}

#[test]
fn switching_sources_at_a_keyframe_is_seamless() {
    let g = Gen::new();
    let mut r = RtpRewriter::new(90_000, true);
    r.rewrite(&g.v(A, 500, 1_000, 0, true, 7)).unwrap();
    let last_a = r.rewrite(&g.v(A, 501, 4_000, 33, false, 8)).unwrap();
    r.switch_to(B);
    assert!(r.waiting_for_keyframe());
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
    // A's packets after the switch point, keyframes included, stay out.
    assert_eq!(r.rewrite(&g.v(A, 503, 10_000, 134, true, 10)), None);
    // And back to A at its next keyframe, continuing after B.
    r.switch_to(A);
    let back = r.rewrite(&g.v(A, 504, 13_000, 166, true, 11)).unwrap();
    assert_eq!(back.seq, n.seq + 1);
    assert_eq!(back.timestamp, n.timestamp + 2_970, "33 ms at 90 kHz");
    assert_eq!(back.picture_id, Some(n.picture_id.unwrap() + 1));
    assert_eq!(back.tl0_pic_idx, Some(n.tl0_pic_idx.unwrap() + 1));
}

#[test]
fn a_restarted_source_starts_a_new_run_at_its_keyframe() {
    let g = Gen::new();
    let mut r = RtpRewriter::new(90_000, true);
    r.rewrite(&g.v(A, 1_000, 0, 0, true, 1)).unwrap();
    let last = r.rewrite(&g.v(A, 1_001, 3000, 33, false, 2)).unwrap();
    // Same SSRC, sequence far ahead: no huge output gap, wait for its keyframe.
    let far = 1_001 + MAX_SEQ_JUMP + 1;
    assert_eq!(r.rewrite(&g.v(A, far, 50, 66, false, 900)), None);
    assert!(r.waiting_for_keyframe());
    assert_eq!(r.rewrite(&g.v(A, far + 1, 50, 70, false, 900)), None);
    let k = r.rewrite(&g.v(A, far + 2, 3050, 99, true, 901)).unwrap();
    assert_eq!(k.seq, last.seq + 1);
    assert_eq!(k.timestamp, last.timestamp + 5_940, "66 ms at 90 kHz");
    assert_eq!(k.picture_id, Some(3));
    // A jump within the limit is loss: the gap is kept.
    let near = far + 2 + MAX_SEQ_JUMP;
    assert_eq!(
        seq(r.rewrite(&g.v(A, near, 6050, 132, false, 902))),
        k.seq + MAX_SEQ_JUMP
    );
}

#[test]
fn far_behind_is_a_restart_only_at_a_start_point() {
    let g = Gen::new();
    let mut r = RtpRewriter::new(90_000, true);
    r.rewrite(&g.v(A, 50_000, 0, 0, true, 1)).unwrap();
    r.rewrite(&g.v(A, 50_001, 0, 1, false, 1)).unwrap();
    // A stray from long ago does not end the run.
    assert_eq!(r.rewrite(&g.v(A, 3, 0, 2, false, 1)), None);
    assert!(!r.waiting_for_keyframe());
    let on = r.rewrite(&g.v(A, 50_002, 0, 3, false, 1)).unwrap();
    assert_eq!(on.seq, FIRST_SEQ + 2);
    // The restarted source's keyframe far behind starts a new run after the last.
    let k = r.rewrite(&g.v(A, 5, 0, 4, true, 1)).unwrap();
    assert_eq!(k.seq, on.seq + 1);
    assert_eq!(seq(r.rewrite(&g.v(A, 6, 0, 5, false, 1))), on.seq + 2);
    // Audio: every packet is a start point.
    let mut r = RtpRewriter::new(48_000, false);
    let a = r.rewrite(&g.a(A, 50_000, 0, 0)).unwrap();
    let b = r.rewrite(&g.a(A, 3, 0, 20)).unwrap();
    assert_eq!(b.seq, a.seq + 1);
    assert_eq!(seq(r.rewrite(&g.a(A, 4, 960, 40))), b.seq + 1);
}

#[test]
fn picture_ids_wrap_in_their_own_width() {
    let g = Gen::new();
    let mut r = RtpRewriter::new(90_000, true);
    r.rewrite(&g.v(A, 1, 0, 0, true, 0x7ffe)).unwrap();
    let p = r.rewrite(&g.v(A, 2, 3000, 33, false, 0x7fff)).unwrap();
    assert_eq!(p.picture_id, Some(0x7fff));
    let w = r.rewrite(&g.v(A, 3, 6000, 66, false, 0)).unwrap();
    assert_eq!(w.picture_id, Some(0), "15-bit wrap inside a run");
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
    assert_eq!(
        n.picture_id,
        Some(123),
        "(127 + 124) mod 128: the gap is kept"
    );
    assert_eq!(n.tl0_pic_idx, Some(6), "(255 + 7) mod 256");
    // Back onto a 15-bit source whose ids are at its wrap: continues after 123.
    r.switch_to(A);
    let k = r.rewrite(&g.v(A, 4, 9000, 166, true, 0x7fff)).unwrap();
    assert_eq!(k.picture_id, Some(124));
    let n = r.rewrite(&g.v(A, 5, 12_000, 199, false, 0)).unwrap();
    assert_eq!(n.picture_id, Some(125), "source wrapped, output did not");
    assert_eq!(n.tl0_pic_idx, Some(8), "tl0 follows its own offset");
}

#[test]
fn a_7_bit_picture_id_wraps_at_128_after_a_15_bit_start() {
    let g = Gen::new();
    let mut r = RtpRewriter::new(90_000, true);
    r.rewrite(&g.v(A, 1, 0, 0, true, 0x1234)).unwrap();
    r.switch_to(B);
    let seven = |seq: u64, ms: u64, key: bool, pid: u16| {
        let mut p = g.v(B, seq, 0, ms, key, pid);
        p.vp8 = Some(Vp8Ids {
            picture_id: Some(pid),
            picture_id_15bit: false,
            tl0_pic_idx: None,
        });
        p
    };
    // Last out 0x1234: next 0x1235 mod 128 = 0x35.
    let k = r.rewrite(&seven(20, 33, true, 126)).unwrap();
    assert_eq!((k.picture_id, k.tl0_pic_idx), (Some(0x35), None));
    let n = r.rewrite(&seven(21, 66, false, 127)).unwrap();
    assert_eq!(n.picture_id, Some(0x36));
    let n = r.rewrite(&seven(22, 99, false, 0)).unwrap();
    assert_eq!(n.picture_id, Some(0x37), "the source wrapped at 128");
}
