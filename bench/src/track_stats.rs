//! Per remote track verification: [`TrackRecorder`] turns received RTP into [`TrackStats`].
//!
//! Audio is checked per packet (one probe per packet). Video is checked per frame: packets are
//! reassembled first, because an SFU may re-packetize, and a frame is what a decoder would get.
//! Pure (no I/O), so it is unit-tested with crafted packets.

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::latency::{LatencyHistogram, LatencySummary};
use crate::probe::Probe;
use crate::sequence::{Arrival, SequenceStats, SequenceTracker};
use crate::vp8::{FrameAssembler, SeqUnwrapper, parse_frame};
use crate::wire::{MediaKind, ParticipantId, TrackSource};

/// First byte of our synthetic Opus payloads: TOC for CELT fullband 20 ms, mono, one frame.
pub const OPUS_TOC: u8 = 0xf8;

/// Who a received track belongs to, as far as the receiver knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackLabel {
    pub kind: MediaKind,
    /// Transceiver mid on the receiving connection.
    pub mid: Option<String>,
    /// From the latest `subscriber_offer` (absent in direct peer-to-peer tests).
    pub participant_id: Option<ParticipantId>,
    pub track_id: Option<String>,
    pub source: Option<TrackSource>,
}

/// A snapshot of what one remote track delivered.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackStats {
    pub label: TrackLabel,
    pub ssrc: u32,
    /// RTP packets and their payload bytes.
    pub packets: u64,
    pub bytes: u64,
    /// Intact units: audio packets, or reassembled video frames, with a valid probe.
    pub frames: u64,
    pub keyframes: u64,
    pub first_frame_keyframe: Option<bool>,
    /// From the recorder's start (join or subscribe) to the first intact unit.
    pub time_to_first_frame: Option<Duration>,
    /// Loss, duplicates and reordering of units, by probe sequence number.
    pub sequence: SequenceStats,
    /// Units that arrived whole but whose probe or VP8 header did not verify.
    pub corrupted: u64,
    /// RTP payloads that were not even parseable (bad VP8 descriptor, empty audio).
    pub malformed_packets: u64,
    /// RTP packets received twice (same sequence number within a frame).
    pub duplicate_packets: u64,
    /// Video frames given up because packets were missing.
    pub incomplete_frames: u64,
    /// One-way latency of intact units (send stamp -> arrival of the last packet).
    pub latency: LatencySummary,
    /// Average payload bitrate between the first and the last packet.
    pub bitrate_bps: f64,
    /// Width and height of the last keyframe.
    pub video_size: Option<(u16, u16)>,
    /// The track stopped (removed by renegotiation or connection closed).
    pub ended: bool,
}

/// What the caller should do after a packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecorderAdvice {
    /// Video cannot be decoded until the next keyframe: send a PLI (throttled by the caller).
    pub want_keyframe: bool,
}

/// Accumulates one track's statistics.
pub struct TrackRecorder {
    label: TrackLabel,
    started: Instant,
    ssrc: u32,
    packets: u64,
    bytes: u64,
    frames: u64,
    keyframes: u64,
    first_frame_keyframe: Option<bool>,
    time_to_first_frame: Option<Duration>,
    sequence: SequenceTracker,
    corrupted: u64,
    malformed: u64,
    duplicate_packets: u64,
    incomplete_frames: u64,
    latency: LatencyHistogram,
    first_packet: Option<Instant>,
    last_packet: Option<Instant>,
    video_size: Option<(u16, u16)>,
    unwrapper: SeqUnwrapper,
    assembler: FrameAssembler,
    ended: bool,
}

impl TrackRecorder {
    /// `started`: the moment time-to-first-frame is measured from.
    pub fn new(label: TrackLabel, started: Instant) -> Self {
        Self {
            label,
            started,
            ssrc: 0,
            packets: 0,
            bytes: 0,
            frames: 0,
            keyframes: 0,
            first_frame_keyframe: None,
            time_to_first_frame: None,
            sequence: SequenceTracker::default(),
            corrupted: 0,
            malformed: 0,
            duplicate_packets: 0,
            incomplete_frames: 0,
            latency: LatencyHistogram::default(),
            first_packet: None,
            last_packet: None,
            video_size: None,
            unwrapper: SeqUnwrapper::default(),
            assembler: FrameAssembler::default(),
            ended: false,
        }
    }

    pub fn label(&self) -> &TrackLabel {
        &self.label
    }

    /// Records one RTP packet that arrived at `now` (`now_us`: the probe clock, µs since epoch).
    #[allow(clippy::too_many_arguments)]
    pub fn on_packet(
        &mut self,
        ssrc: u32,
        seq: u16,
        timestamp: u32,
        marker: bool,
        payload: &Bytes,
        now: Instant,
        now_us: u64,
    ) -> RecorderAdvice {
        self.ssrc = ssrc;
        self.packets += 1;
        self.bytes += payload.len() as u64;
        self.first_packet.get_or_insert(now);
        self.last_packet = Some(now);
        match self.label.kind {
            MediaKind::Audio => {
                self.on_audio(payload, now, now_us);
                RecorderAdvice::default()
            }
            MediaKind::Video => self.on_video(seq, timestamp, marker, payload, now, now_us),
        }
    }

    /// RTP packets so far (cheaper than [`stats`](Self::stats), for progress lines).
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// The latency samples so far (to merge many tracks' into one distribution).
    pub fn latency_histogram(&self) -> &LatencyHistogram {
        &self.latency
    }

    /// Forgets the latency samples so far (the counters stay; a caller diffs those).
    pub fn reset_latency(&mut self) {
        self.latency.reset();
    }

    /// Marks the track as ended.
    pub fn end(&mut self) {
        self.ended = true;
    }

    fn on_audio(&mut self, payload: &Bytes, now: Instant, now_us: u64) {
        if payload.first() != Some(&OPUS_TOC) {
            self.malformed += 1;
            return;
        }
        match Probe::decode(&payload[1..]) {
            Ok(probe) => {
                self.on_unit(probe, now, now_us, None);
            }
            Err(_) => self.corrupted += 1,
        }
    }

    fn on_video(
        &mut self,
        seq: u16,
        timestamp: u32,
        marker: bool,
        payload: &Bytes,
        now: Instant,
        now_us: u64,
    ) -> RecorderAdvice {
        let ext = self.unwrapper.unwrap(seq);
        let out = self.assembler.push(ext, timestamp, marker, payload);
        let mut advice = RecorderAdvice::default();
        if out.malformed {
            self.malformed += 1;
        }
        if out.duplicate_packet {
            self.duplicate_packets += 1;
        }
        if out.abandoned_frames > 0 {
            self.incomplete_frames += u64::from(out.abandoned_frames);
            advice.want_keyframe = true;
        }
        for frame in out.frames {
            match parse_frame(&frame) {
                Ok(info) => {
                    if info.keyframe {
                        self.keyframes += 1;
                        self.video_size = info.size;
                    } else if self.keyframes == 0 {
                        advice.want_keyframe = true;
                    }
                    let before = self.sequence.stats().highest;
                    let arrival = self.on_unit(info.probe, now, now_us, Some(info.keyframe));
                    let gap = matches!((arrival, before), (Arrival::InOrder, Some(h)) if info.probe.seq > h + 1);
                    if gap && !info.keyframe {
                        advice.want_keyframe = true;
                    }
                }
                Err(_) => {
                    self.corrupted += 1;
                    advice.want_keyframe = true;
                }
            }
        }
        advice
    }

    fn on_unit(
        &mut self,
        probe: Probe,
        now: Instant,
        now_us: u64,
        keyframe: Option<bool>,
    ) -> Arrival {
        let arrival = self.sequence.record(probe.seq);
        if matches!(arrival, Arrival::Duplicate) {
            return arrival;
        }
        self.frames += 1;
        if self.first_frame_keyframe.is_none() {
            self.first_frame_keyframe = Some(keyframe.unwrap_or(true));
            self.time_to_first_frame = Some(now.saturating_duration_since(self.started));
        }
        self.latency.record(probe.sent_at_us, now_us);
        arrival
    }

    pub fn stats(&self) -> TrackStats {
        let span = match (self.first_packet, self.last_packet) {
            (Some(a), Some(b)) => b.saturating_duration_since(a).as_secs_f64(),
            _ => 0.0,
        };
        TrackStats {
            label: self.label.clone(),
            ssrc: self.ssrc,
            packets: self.packets,
            bytes: self.bytes,
            frames: self.frames,
            keyframes: self.keyframes,
            first_frame_keyframe: self.first_frame_keyframe,
            time_to_first_frame: self.time_to_first_frame,
            sequence: self.sequence.stats(),
            corrupted: self.corrupted,
            malformed_packets: self.malformed,
            duplicate_packets: self.duplicate_packets,
            incomplete_frames: self.incomplete_frames,
            latency: self.latency.summary(),
            bitrate_bps: if span > 0.0 {
                self.bytes as f64 * 8.0 / span
            } else {
                0.0
            },
            video_size: self.video_size,
            ended: self.ended,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vp8::{build_frame, packetize};

    fn label(kind: MediaKind) -> TrackLabel {
        TrackLabel {
            kind,
            mid: None,
            participant_id: None,
            track_id: None,
            source: None,
        }
    }

    fn audio_payload(seq: u64, sent: u64) -> Bytes {
        let mut v = vec![OPUS_TOC];
        Probe {
            seq,
            sent_at_us: sent,
            filler_len: 40,
        }
        .encode_into(&mut v);
        Bytes::from(v)
    }

    #[test]
    fn audio_counts_loss_corruption_and_latency() {
        let t0 = Instant::now();
        let mut r = TrackRecorder::new(label(MediaKind::Audio), t0);
        let later = t0 + Duration::from_millis(30);
        for (i, seq) in [0u64, 1, 3].into_iter().enumerate() {
            r.on_packet(
                1,
                i as u16,
                0,
                true,
                &audio_payload(seq, 1_000),
                later,
                1_500,
            );
        }
        let mut bad = audio_payload(4, 1_000).to_vec();
        bad[20] ^= 1;
        r.on_packet(1, 3, 0, true, &Bytes::from(bad), later, 1_500);
        r.on_packet(
            1,
            4,
            0,
            true,
            &Bytes::from_static(&[0x00, 1, 2]),
            later,
            1_500,
        );
        let s = r.stats();
        assert_eq!(
            (s.packets, s.frames, s.corrupted, s.malformed_packets),
            (5, 3, 1, 1)
        );
        assert_eq!(s.sequence.lost, 1);
        assert_eq!(s.time_to_first_frame, Some(Duration::from_millis(30)));
        assert_eq!(s.latency.count, 3);
        assert_eq!(s.latency.p50_us, 500);
    }

    fn send_frame(
        r: &mut TrackRecorder,
        rtp_seq: &mut u16,
        seq: u64,
        key: bool,
        skip: Option<usize>,
    ) -> RecorderAdvice {
        let f = build_frame(
            key,
            640,
            360,
            &Probe {
                seq,
                sent_at_us: 10,
                filler_len: 3000,
            },
        );
        let pkts = packetize(&f, seq as u16, 1200);
        let mut advice = RecorderAdvice::default();
        let n = pkts.len();
        for (i, p) in pkts.into_iter().enumerate() {
            let s = *rtp_seq;
            *rtp_seq = rtp_seq.wrapping_add(1);
            if Some(i) == skip {
                continue;
            }
            let a = r.on_packet(9, s, seq as u32 * 3000, i == n - 1, &p, Instant::now(), 20);
            advice.want_keyframe |= a.want_keyframe;
        }
        advice
    }

    #[test]
    fn video_frames_start_with_a_keyframe_and_loss_asks_for_one() {
        let mut r = TrackRecorder::new(label(MediaKind::Video), Instant::now());
        let mut rtp_seq = 65530; // crosses the 16-bit wrap
        assert!(!send_frame(&mut r, &mut rtp_seq, 0, true, None).want_keyframe);
        assert!(!send_frame(&mut r, &mut rtp_seq, 1, false, None).want_keyframe);
        // Frame 2 loses a packet: it never completes; frame 3 reveals the gap.
        send_frame(&mut r, &mut rtp_seq, 2, false, Some(1));
        assert!(send_frame(&mut r, &mut rtp_seq, 3, false, None).want_keyframe);
        let s = r.stats();
        assert_eq!(s.first_frame_keyframe, Some(true));
        assert_eq!((s.frames, s.keyframes, s.corrupted), (3, 1, 0));
        assert_eq!(s.sequence.lost, 1);
        assert_eq!(s.video_size, Some((640, 360)));
        assert!(s.bitrate_bps >= 0.0);
    }

    #[test]
    fn a_delta_frame_first_is_reported_and_asks_for_a_keyframe() {
        let mut r = TrackRecorder::new(label(MediaKind::Video), Instant::now());
        let mut rtp_seq = 0;
        assert!(send_frame(&mut r, &mut rtp_seq, 5, false, None).want_keyframe);
        assert_eq!(r.stats().first_frame_keyframe, Some(false));
    }
}
