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
//! Sequence numbers are compared by wrapping difference, never by `<` on the extended value:
//! str0m extends a packet that precedes the very first one across the 16-bit wrap to just
//! below 2^64.
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

/// A source's sequence number this far from the highest seen is a restarted source (or an
/// outage longer than any receiver repairs by NACK: libwebrtc keeps at most 1000 missing
/// packets, then asks for a keyframe), not loss or reordering. Well below 2^15 because str0m
/// extends every sequence number to the nearest value of the highest it saw: a restarted
/// source lands anywhere up to 2^15 away, never further.
const MAX_SEQ_JUMP: u64 = 1 << 12;

/// First outgoing sequence number of a DownTrack.
const FIRST_SEQ: u64 = 1;

/// Timestamp advance across a pause at most: a larger step reads as a step back (RFC 3550
/// timestamps compare modulo 2^32).
const MAX_TS_STEP: u32 = (1 << 31) - 1;

const PICTURE_ID_15: u16 = 1 << 15;
const PICTURE_ID_7: u16 = 1 << 7;

/// What to do with one packet of the current run's source.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Forward,
    Drop,
    /// The source moved too far: the run ends, the packet may start a new one.
    Restart,
}

/// The fixed mapping of one run of the target source.
#[derive(Debug, Clone, Copy)]
struct Run {
    start_seq: u64,
    highest_seq: u64,
    /// Bit `i`: `highest_seq - i` was forwarded (drops duplicates among the last 64).
    seen: u64,
    out_start_seq: u64,
    ts_offset: u32,
    /// Modulo 2^15; applied modulo 2^7 to 7-bit ids (2^7 divides 2^15).
    picture_id_offset: u16,
    tl0_offset: u8,
}

impl Run {
    /// Judges `seq` and records it when forwarded. `start_point`: the packet could start a
    /// run (a far-behind packet that could not is a stray, and the run goes on).
    fn admit(&mut self, seq: u64, start_point: bool) -> Verdict {
        let ahead = seq.wrapping_sub(self.highest_seq) as i64;
        if ahead > 0 {
            if ahead.unsigned_abs() > MAX_SEQ_JUMP {
                return Verdict::Restart;
            }
            self.seen = self.seen.checked_shl(ahead as u32).unwrap_or(0) | 1;
            self.highest_seq = seq;
            return Verdict::Forward;
        }
        let behind = ahead.unsigned_abs();
        if behind > MAX_SEQ_JUMP {
            return if start_point {
                Verdict::Restart
            } else {
                Verdict::Drop
            };
        }
        if seq.wrapping_sub(self.start_seq) as i64 <= 0 {
            return Verdict::Drop; // from before the start point, or the start again
        }
        match 1u64.checked_shl(behind as u32) {
            Some(bit) if self.seen & bit != 0 => Verdict::Drop,
            Some(bit) => {
                self.seen |= bit;
                Verdict::Forward
            }
            // Older than the window: a late repair as far as we can tell.
            None => Verdict::Forward,
        }
    }
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
    /// from before the current start, a duplicate, or waiting for a start point.
    pub fn rewrite(&mut self, p: &SourcePacket) -> Option<Rewritten> {
        if self.paused {
            return None;
        }
        let target = *self.target.get_or_insert(p.source);
        if p.source != target {
            return None;
        }
        let start_point = !self.video || p.keyframe_start;
        if let Some(run) = self.run.as_mut() {
            match run.admit(p.seq, start_point) {
                Verdict::Forward => {
                    let run = *run;
                    return Some(self.map(&run, p));
                }
                Verdict::Drop => return None,
                Verdict::Restart => self.run = None,
            }
        }
        if !start_point {
            return None;
        }
        let run = self.start(p);
        self.run = Some(run);
        Some(self.map(&run, p))
    }

    /// Stops forwarding until [`Self::switch_to`] (the subscriber hid the track).
    pub fn pause(&mut self) {
        self.paused = true;
        self.run = None;
    }

    /// Forwards `source` from its next start point on (a resume, a restart after a reconnect,
    /// or a switch to another source, also while running), continuing the outgoing numbering.
    pub fn switch_to(&mut self, source: SourceId) {
        self.paused = false;
        self.target = Some(source);
        self.run = None;
    }

    #[cfg_attr(not(test), allow(dead_code))]
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Something was forwarded already (the subscriber has seen this stream).
    pub fn has_sent(&self) -> bool {
        self.last.is_some()
    }

    /// Video only (audio starts at any packet): waiting for a keyframe of the target source,
    /// the cue to ask the publisher for one.
    pub fn waiting_for_keyframe(&self) -> bool {
        self.video && !self.paused && self.run.is_none()
    }

    /// A new run starting at `p`, continuing after the last packet sent (if any).
    fn start(&self, p: &SourcePacket) -> Run {
        let (out_start_seq, ts_offset, picture_id_offset, tl0_offset) = match self.last {
            // The first run keeps the source's numbering but for the sequence number.
            None => (FIRST_SEQ, 0, 0, 0),
            Some(last) => {
                let elapsed = p.arrival.saturating_duration_since(last.arrival);
                let ticks = elapsed.as_nanos() * u128::from(self.clock_rate) / 1_000_000_000;
                let step = u32::try_from(ticks)
                    .unwrap_or(u32::MAX)
                    .clamp(1, MAX_TS_STEP);
                let ts = last.timestamp.wrapping_add(step);
                let ids = p.vp8;
                let pid = match (last.picture_id, ids.and_then(|v| v.picture_id)) {
                    (Some(l), Some(inp)) => {
                        let m = picture_id_modulus(ids.is_some_and(|v| v.picture_id_15bit));
                        let want = (l + 1) % m;
                        (want + PICTURE_ID_15 - inp % m) % PICTURE_ID_15
                    }
                    _ => 0,
                };
                let tl0 = match (last.tl0_pic_idx, ids.and_then(|v| v.tl0_pic_idx)) {
                    (Some(l), Some(inp)) => l.wrapping_add(1).wrapping_sub(inp),
                    _ => 0,
                };
                (last.seq + 1, ts.wrapping_sub(p.timestamp), pid, tl0)
            }
        };
        Run {
            start_seq: p.seq,
            highest_seq: p.seq,
            seen: 1,
            out_start_seq,
            ts_offset,
            picture_id_offset,
            tl0_offset,
        }
    }

    /// The packet's values under `run` (which admitted it); remembers the newest sent.
    fn map(&mut self, run: &Run, p: &SourcePacket) -> Rewritten {
        let out = Rewritten {
            seq: run.out_start_seq + p.seq.wrapping_sub(run.start_seq),
            timestamp: p.timestamp.wrapping_add(run.ts_offset),
            picture_id: p.vp8.and_then(|v| {
                let m = picture_id_modulus(v.picture_id_15bit);
                v.picture_id.map(|id| {
                    ((u32::from(id % m) + u32::from(run.picture_id_offset)) % u32::from(m)) as u16
                })
            }),
            tl0_pic_idx: p
                .vp8
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

fn picture_id_modulus(fifteen_bit: bool) -> u16 {
    if fifteen_bit {
        PICTURE_ID_15
    } else {
        PICTURE_ID_7
    }
}

#[cfg(test)]
mod tests;
