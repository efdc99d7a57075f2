//! Synthetic VP8: frames that look real to an SFU (frame tag, keyframe start code and size) but
//! carry a [`Probe`](crate::probe::Probe) instead of picture data, and their RTP packetization
//! (RFC 7741 payload descriptor).
//!
//! The receiver reassembles whole frames (S bit + partition 0 starts a frame, the RTP marker bit
//! ends it, all packets share one RTP timestamp) so it keeps working when an SFU re-packetizes.

use std::collections::{BTreeMap, HashMap, VecDeque};

use bytes::{Bytes, BytesMut};

use crate::probe::{Probe, ProbeError};

/// VP8 keyframe start code (RFC 6386 §9.1).
pub const VP8_START_CODE: [u8; 3] = [0x9d, 0x01, 0x2a];
/// Our packetizer's payload descriptor: X, I and M bits set, 15-bit picture id (as browsers).
pub const DESCRIPTOR_LEN: usize = 4;

/// Why a buffer is not one of our VP8 frames or packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Vp8Error {
    #[error("VP8 payload too short")]
    Truncated,
    #[error("keyframe without the 0x9d 0x01 0x2a start code")]
    BadStartCode,
    #[error("probe: {0}")]
    Probe(#[from] ProbeError),
}

/// One synthetic frame as the receiver sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vp8FrameInfo {
    pub keyframe: bool,
    /// Width and height, keyframes only.
    pub size: Option<(u16, u16)>,
    pub probe: Probe,
}

/// Builds a frame: the 3-byte frame tag, the keyframe header when `keyframe`, then the probe.
pub fn build_frame(keyframe: bool, width: u16, height: u16, probe: &Probe) -> Vec<u8> {
    let body = Probe::encoded_len(probe.filler_len);
    let mut out = Vec::with_capacity(10 + body);
    // Frame tag (RFC 6386 §9.1), little endian: bit 0 inverse keyframe flag, bits 1-3 version 0,
    // bit 4 show_frame, bits 5-23 first partition size (we claim the whole probe).
    let first_part = (body as u32).min((1 << 19) - 1);
    let tag = u32::from(!keyframe) | (1 << 4) | (first_part << 5);
    out.extend_from_slice(&tag.to_le_bytes()[..3]);
    if keyframe {
        out.extend_from_slice(&VP8_START_CODE);
        out.extend_from_slice(&(width & 0x3fff).to_le_bytes());
        out.extend_from_slice(&(height & 0x3fff).to_le_bytes());
    }
    probe.encode_into(&mut out);
    out
}

/// Parses and verifies a frame made by [`build_frame`].
pub fn parse_frame(frame: &[u8]) -> Result<Vp8FrameInfo, Vp8Error> {
    if frame.len() < 3 {
        return Err(Vp8Error::Truncated);
    }
    let keyframe = frame[0] & 1 == 0;
    let (size, body) = if keyframe {
        if frame.len() < 10 {
            return Err(Vp8Error::Truncated);
        }
        if frame[3..6] != VP8_START_CODE {
            return Err(Vp8Error::BadStartCode);
        }
        let w = u16::from_le_bytes([frame[6], frame[7]]) & 0x3fff;
        let h = u16::from_le_bytes([frame[8], frame[9]]) & 0x3fff;
        (Some((w, h)), &frame[10..])
    } else {
        (None, &frame[3..])
    };
    Ok(Vp8FrameInfo {
        keyframe,
        size,
        probe: Probe::decode(body)?,
    })
}

/// Splits a frame into RTP payloads of at most `max_payload` bytes (descriptor included), of
/// near-equal size as libwebrtc does. The caller sets the marker bit on the last one.
pub fn packetize(frame: &[u8], picture_id: u16, max_payload: usize) -> Vec<Bytes> {
    assert!(max_payload > DESCRIPTOR_LEN, "max_payload too small");
    let room = max_payload - DESCRIPTOR_LEN;
    let count = frame.len().div_ceil(room).max(1);
    let base = frame.len() / count;
    let extra = frame.len() % count;
    let pid = picture_id & 0x7fff;
    let mut at = 0;
    (0..count)
        .map(|i| {
            let len = base + usize::from(i < extra);
            let mut p = BytesMut::with_capacity(DESCRIPTOR_LEN + len);
            // X=1, S on the first packet, partition 0; I=1; M=1 with a 15-bit picture id.
            p.extend_from_slice(&[
                0x80 | if i == 0 { 0x10 } else { 0 },
                0x80,
                0x80 | (pid >> 8) as u8,
                pid as u8,
            ]);
            p.extend_from_slice(&frame[at..at + len]);
            at += len;
            p.freeze()
        })
        .collect()
}

/// The parts of a VP8 payload descriptor the receiver needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vp8Descriptor {
    /// S bit set and partition 0: this packet starts a frame.
    pub starts_frame: bool,
    pub picture_id: Option<u16>,
    /// Length of the descriptor; the VP8 data follows.
    pub len: usize,
}

/// Parses any RFC 7741 payload descriptor (not only ours: an SFU may rewrite it).
pub fn parse_descriptor(p: &[u8]) -> Result<Vp8Descriptor, Vp8Error> {
    let b0 = *p.first().ok_or(Vp8Error::Truncated)?;
    let mut at = 1;
    let mut picture_id = None;
    if b0 & 0x80 != 0 {
        let x = *p.get(at).ok_or(Vp8Error::Truncated)?;
        at += 1;
        if x & 0x80 != 0 {
            let m = *p.get(at).ok_or(Vp8Error::Truncated)?;
            if m & 0x80 != 0 {
                let lo = *p.get(at + 1).ok_or(Vp8Error::Truncated)?;
                picture_id = Some(u16::from(m & 0x7f) << 8 | u16::from(lo));
                at += 2;
            } else {
                picture_id = Some(u16::from(m & 0x7f));
                at += 1;
            }
        }
        if x & 0x40 != 0 {
            at += 1; // TL0PICIDX
        }
        if x & 0x30 != 0 {
            at += 1; // TID/Y/KEYIDX
        }
    }
    if at > p.len() {
        return Err(Vp8Error::Truncated);
    }
    Ok(Vp8Descriptor {
        starts_frame: b0 & 0x10 != 0 && b0 & 0x0f == 0,
        picture_id,
        len: at,
    })
}

/// Extends 16-bit RTP sequence numbers to a monotonic 64-bit counter.
#[derive(Clone, Debug, Default)]
pub struct SeqUnwrapper {
    last: Option<u64>,
}

impl SeqUnwrapper {
    pub fn unwrap(&mut self, seq: u16) -> u64 {
        let Some(last) = self.last else {
            // Start high enough that a few reordered packets before the first stay positive.
            let ext = (1u64 << 16) + u64::from(seq);
            self.last = Some(ext);
            return ext;
        };
        let delta = seq.wrapping_sub(last as u16) as i16;
        let ext = last.saturating_add_signed(i64::from(delta));
        if ext > last {
            self.last = Some(ext);
        }
        ext
    }
}

/// What one RTP packet did to the [`FrameAssembler`].
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AssemblerOutput {
    /// Frames completed by this packet (the reassembled VP8 data, descriptor stripped).
    pub frames: Vec<Bytes>,
    /// The packet was a copy of one already held or already assembled.
    pub duplicate_packet: bool,
    /// Frames given up because they stayed incomplete too long.
    pub abandoned_frames: u32,
    /// The payload descriptor did not parse.
    pub malformed: bool,
}

#[derive(Default)]
struct PendingFrame {
    /// Extended sequence number -> (starts frame, marker, VP8 data).
    packets: BTreeMap<u64, (bool, bool, Bytes)>,
    arrival: u64,
}

/// Reassembles frames from VP8 RTP packets, tolerating reordering and duplicates.
pub struct FrameAssembler {
    pending: HashMap<u32, PendingFrame>,
    done: VecDeque<u32>,
    arrivals: u64,
    max_pending: usize,
}

impl Default for FrameAssembler {
    fn default() -> Self {
        Self::new(8)
    }
}

impl FrameAssembler {
    /// `max_pending`: how many incomplete frames to hold before abandoning the oldest.
    pub fn new(max_pending: usize) -> Self {
        Self {
            pending: HashMap::new(),
            done: VecDeque::new(),
            arrivals: 0,
            max_pending: max_pending.max(1),
        }
    }

    /// Frames still waiting for packets.
    pub fn pending_frames(&self) -> usize {
        self.pending.len()
    }

    /// Feeds one packet: `ext_seq` from a [`SeqUnwrapper`], the RTP timestamp and marker bit.
    pub fn push(
        &mut self,
        ext_seq: u64,
        timestamp: u32,
        marker: bool,
        payload: &Bytes,
    ) -> AssemblerOutput {
        let mut out = AssemblerOutput::default();
        let desc = match parse_descriptor(payload) {
            Ok(d) => d,
            Err(_) => {
                out.malformed = true;
                return out;
            }
        };
        if self.done.contains(&timestamp) {
            out.duplicate_packet = true;
            return out;
        }
        self.arrivals += 1;
        let arrival = self.arrivals;
        let frame = self
            .pending
            .entry(timestamp)
            .or_insert_with(|| PendingFrame {
                packets: BTreeMap::new(),
                arrival,
            });
        if frame.packets.contains_key(&ext_seq) {
            out.duplicate_packet = true;
            return out;
        }
        frame.packets.insert(
            ext_seq,
            (desc.starts_frame, marker, payload.slice(desc.len..)),
        );
        if let Some(data) = complete(frame) {
            self.pending.remove(&timestamp);
            self.done.push_back(timestamp);
            if self.done.len() > 64 {
                self.done.pop_front();
            }
            out.frames.push(data);
        }
        while self.pending.len() > self.max_pending {
            let oldest = *self
                .pending
                .iter()
                .min_by_key(|(_, f)| f.arrival)
                .map(|(ts, _)| ts)
                .expect("not empty");
            self.pending.remove(&oldest);
            out.abandoned_frames += 1;
        }
        out
    }
}

/// The frame's data if its packets run without a gap from a frame start to a marker.
fn complete(frame: &PendingFrame) -> Option<Bytes> {
    let (&first, &(starts, _, _)) = frame.packets.first_key_value()?;
    let (&last, &(_, marker, _)) = frame.packets.last_key_value()?;
    if !starts || !marker || last - first + 1 != frame.packets.len() as u64 {
        return None;
    }
    let mut data = BytesMut::new();
    for (_, _, chunk) in frame.packets.values() {
        data.extend_from_slice(chunk);
    }
    Some(data.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(seq: u64, filler_len: u32) -> Probe {
        Probe {
            seq,
            sent_at_us: 42,
            filler_len,
        }
    }

    #[test]
    fn keyframe_has_start_code_and_size() {
        let f = build_frame(true, 1280, 720, &probe(7, 100));
        assert_eq!(f[0] & 1, 0, "keyframe flag is inverted: 0 means key");
        assert_eq!(&f[3..6], &VP8_START_CODE);
        let info = parse_frame(&f).unwrap();
        assert!(info.keyframe);
        assert_eq!(info.size, Some((1280, 720)));
        assert_eq!(info.probe, probe(7, 100));
    }

    #[test]
    fn interframe_round_trips() {
        let f = build_frame(false, 640, 360, &probe(8, 3000));
        assert_eq!(f[0] & 1, 1);
        let info = parse_frame(&f).unwrap();
        assert!(!info.keyframe);
        assert_eq!(info.size, None);
        assert_eq!(info.probe.seq, 8);
    }

    #[test]
    fn packetize_respects_mtu_and_marks_the_start() {
        let f = build_frame(true, 640, 360, &probe(1, 5000));
        let pkts = packetize(&f, 300, 1200);
        assert!(pkts.len() >= 5);
        assert!(pkts.iter().all(|p| p.len() <= 1200));
        for (i, p) in pkts.iter().enumerate() {
            let d = parse_descriptor(p).unwrap();
            assert_eq!(d.starts_frame, i == 0);
            assert_eq!(d.picture_id, Some(300));
            assert_eq!(d.len, DESCRIPTOR_LEN);
        }
        let joined: Vec<u8> = pkts
            .iter()
            .flat_map(|p| p[DESCRIPTOR_LEN..].to_vec())
            .collect();
        assert_eq!(joined, f);
    }

    #[test]
    fn parses_foreign_descriptors() {
        // No extension: 1 byte.
        let d = parse_descriptor(&[0x10, 0xaa]).unwrap();
        assert!(d.starts_frame);
        assert_eq!(d.len, 1);
        // X, I with 7-bit id, L and T/K: 1 + 1 + 1 + 1 + 1.
        let d = parse_descriptor(&[0x90, 0xf0, 0x05, 0x01, 0x20, 0xaa]).unwrap();
        assert_eq!(d.picture_id, Some(5));
        assert_eq!(d.len, 5);
        // S set but partition 1 does not start a frame.
        assert!(!parse_descriptor(&[0x11, 0]).unwrap().starts_frame);
        assert!(parse_descriptor(&[0x80]).is_err());
    }

    fn feed(
        asm: &mut FrameAssembler,
        pkts: &[Bytes],
        order: &[usize],
        seq0: u64,
        ts: u32,
    ) -> Vec<Bytes> {
        let mut frames = vec![];
        for &i in order {
            let out = asm.push(seq0 + i as u64, ts, i == pkts.len() - 1, &pkts[i]);
            frames.extend(out.frames);
        }
        frames
    }

    #[test]
    fn assembles_in_order_reordered_and_duplicated() {
        let f = build_frame(false, 640, 360, &probe(2, 4000));
        let pkts = packetize(&f, 1, 1200);
        let n = pkts.len();
        let mut asm = FrameAssembler::default();
        let in_order: Vec<usize> = (0..n).collect();
        assert_eq!(
            feed(&mut asm, &pkts, &in_order, 100, 9000),
            vec![Bytes::from(f.clone())]
        );

        let reversed: Vec<usize> = (0..n).rev().collect();
        assert_eq!(
            feed(&mut asm, &pkts, &reversed, 200, 12000),
            vec![Bytes::from(f.clone())]
        );

        // A duplicate after completion is reported, not turned into a new frame.
        let out = asm.push(200, 12000, false, &pkts[0]);
        assert!(out.duplicate_packet && out.frames.is_empty());
        assert_eq!(asm.pending_frames(), 0);
    }

    #[test]
    fn a_missing_packet_abandons_the_frame_later() {
        let f = build_frame(false, 640, 360, &probe(3, 4000));
        let pkts = packetize(&f, 1, 1200);
        let mut asm = FrameAssembler::new(2);
        let without_second: Vec<usize> = (0..pkts.len()).filter(|&i| i != 1).collect();
        assert!(feed(&mut asm, &pkts, &without_second, 0, 1).is_empty());
        assert_eq!(asm.pending_frames(), 1);
        feed(&mut asm, &pkts, &[0], 100, 2);
        let out = asm.push(200, 3, false, &pkts[0]);
        assert_eq!(out.abandoned_frames, 1);
        assert_eq!(asm.pending_frames(), 2);
    }

    #[test]
    fn unwrapper_crosses_the_16_bit_wrap_and_handles_reordering() {
        let mut u = SeqUnwrapper::default();
        let a = u.unwrap(65534);
        assert_eq!(u.unwrap(65535), a + 1);
        assert_eq!(u.unwrap(0), a + 2);
        assert_eq!(u.unwrap(65535), a + 1, "late packet from before the wrap");
        assert_eq!(u.unwrap(1), a + 3);
    }
}
