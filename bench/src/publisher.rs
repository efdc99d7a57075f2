//! The synthetic media source: Opus-like audio every 20 ms and VP8 frames at the frame rate,
//! each carrying a [`Probe`], written to `TrackLocalStaticRTP`s.
//!
//! The first video frame is a keyframe; later keyframes follow PLI/FIR from the remote side
//! (read from the `RTCRtpSender`, which also lets the NACK and report interceptors work) and the
//! profile's keyframe interval.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use webrtc::api::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use webrtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use webrtc::rtp::extension::HeaderExtension;
use webrtc::rtp::extension::audio_level_extension::AudioLevelExtension;
use webrtc::rtp::header::Header;
use webrtc::rtp::packet::Packet;
use webrtc::rtp_transceiver::rtp_codec::RTCRtpCodecCapability;
use webrtc::rtp_transceiver::rtp_sender::RTCRtpSender;
use webrtc::rtp_transceiver::rtp_transceiver_direction::RTCRtpTransceiverDirection;
use webrtc::rtp_transceiver::{RTCRtpTransceiver, RTCRtpTransceiverInit};
use webrtc::track::track_local::track_local_static_rtp::TrackLocalStaticRTP;
use webrtc::track::track_local::{TrackLocal, TrackLocalWriter};

use crate::error::Result;
use crate::media_profile::{
    AUDIO_PTIME, MAX_RTP_PAYLOAD, MediaProfile, SIMULCAST_LAYERS, VideoProfile,
};
use crate::probe::{PROBE_HEADER_LEN, Probe, now_us};
use crate::track_stats::OPUS_TOC;
use crate::vp8::{build_frame, packetize};

/// A local track and the transceiver sending it.
#[derive(Clone)]
pub struct LocalTrack {
    /// The track, or with simulcast its first (lowest) layer.
    pub track: Arc<TrackLocalStaticRTP>,
    /// With simulcast, every layer (the first is `track`) and how much smaller than the
    /// profile's size it is; empty without.
    pub layers: Vec<(Arc<TrackLocalStaticRTP>, u16)>,
    /// Per layer, what the server's `publish_layers` (dynacast) paused, as a browser applies
    /// it with `encodings[i].active = false`: that encoder sends nothing until resumed.
    pub paused: Arc<[AtomicBool; SIMULCAST_LAYERS.len()]>,
    pub sender: Arc<RTCRtpSender>,
    pub transceiver: Arc<RTCRtpTransceiver>,
}

impl LocalTrack {
    /// Applies a `publish_layers`: the layers whose RID is not in `active` pause.
    pub fn set_active_layers(&self, active: &[String]) {
        if self.layers.is_empty() {
            return;
        }
        for (i, (rid, _)) in SIMULCAST_LAYERS.iter().enumerate() {
            let on = active.iter().any(|a| a == rid);
            self.paused[i].store(!on, Ordering::Relaxed);
        }
    }

    /// The transceiver's mid (known once an offer has been created).
    pub fn mid(&self) -> Option<String> {
        self.transceiver.mid().map(|m| m.to_string())
    }
}

/// The tracks a profile publishes, added to a peer connection as send-only transceivers
/// (audio first, then video: the order a browser's client adds them).
#[derive(Clone, Default)]
pub struct SendTracks {
    pub audio: Option<LocalTrack>,
    pub video: Option<LocalTrack>,
}

impl SendTracks {
    pub async fn add_to(
        pc: &RTCPeerConnection,
        profile: &MediaProfile,
        stream_id: &str,
    ) -> Result<Self> {
        let mut out = SendTracks::default();
        if profile.audio {
            let codec = RTCRtpCodecCapability {
                mime_type: MIME_TYPE_OPUS.to_owned(),
                clock_rate: 48_000,
                channels: 2,
                sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
                rtcp_feedback: vec![],
            };
            out.audio = Some(add_sendonly(pc, codec, "audio", stream_id).await?);
        }
        if profile.video.is_some() {
            let codec = RTCRtpCodecCapability {
                mime_type: MIME_TYPE_VP8.to_owned(),
                clock_rate: 90_000,
                ..Default::default()
            };
            out.video = Some(if profile.simulcast {
                add_simulcast(pc, codec, "video", stream_id).await?
            } else {
                add_sendonly(pc, codec, "video", stream_id).await?
            });
        }
        Ok(out)
    }
}

/// A send-only video transceiver with one encoding per [`SIMULCAST_LAYERS`] entry, each with
/// its RID (webrtc-rs offers `a=simulcast` and sends the RID header extension).
async fn add_simulcast(
    pc: &RTCPeerConnection,
    codec: RTCRtpCodecCapability,
    id: &str,
    stream_id: &str,
) -> Result<LocalTrack> {
    let layers: Vec<(Arc<TrackLocalStaticRTP>, u16)> = SIMULCAST_LAYERS
        .iter()
        .map(|(rid, down)| {
            let t = TrackLocalStaticRTP::new_with_rid(
                codec.clone(),
                id.to_owned(),
                (*rid).to_owned(),
                stream_id.to_owned(),
            );
            (Arc::new(t), *down)
        })
        .collect();
    let local = add_transceiver(pc, Arc::clone(&layers[0].0)).await?;
    for (t, _) in &layers[1..] {
        local
            .sender
            .add_encoding(Arc::clone(t) as Arc<dyn TrackLocal + Send + Sync>)
            .await?;
    }
    Ok(LocalTrack { layers, ..local })
}

async fn add_sendonly(
    pc: &RTCPeerConnection,
    codec: RTCRtpCodecCapability,
    id: &str,
    stream_id: &str,
) -> Result<LocalTrack> {
    let track = TrackLocalStaticRTP::new(codec, id.to_owned(), stream_id.to_owned());
    add_transceiver(pc, Arc::new(track)).await
}

/// A send-only transceiver whose first (or only) encoding is `track`.
async fn add_transceiver(
    pc: &RTCPeerConnection,
    track: Arc<TrackLocalStaticRTP>,
) -> Result<LocalTrack> {
    let transceiver = pc
        .add_transceiver_from_track(
            Arc::clone(&track) as Arc<dyn TrackLocal + Send + Sync>,
            Some(RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Sendonly,
                send_encodings: vec![],
            }),
        )
        .await?;
    let sender = transceiver.sender().await;
    Ok(LocalTrack {
        track,
        layers: Vec::new(),
        paused: Arc::default(),
        sender,
        transceiver,
    })
}

/// What the publisher has sent so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PublisherStats {
    pub audio_packets: u64,
    pub video_packets: u64,
    pub video_frames: u64,
    /// Video frames per simulcast layer (all in the first without simulcast).
    pub layer_frames: [u64; SIMULCAST_LAYERS.len()],
    pub keyframes: u64,
    /// PLI and FIR received from the remote side.
    pub keyframe_requests: u64,
    pub bytes: u64,
}

#[derive(Default)]
struct Shared {
    audio_packets: AtomicU64,
    video_packets: AtomicU64,
    video_frames: AtomicU64,
    layer_frames: [AtomicU64; SIMULCAST_LAYERS.len()],
    keyframes: AtomicU64,
    keyframe_requests: AtomicU64,
    bytes: AtomicU64,
    /// Per layer (one without simulcast): the next frame of that encoder is a keyframe.
    keyframe_wanted: [AtomicBool; SIMULCAST_LAYERS.len()],
    audio_muted: AtomicBool,
    /// The audio level each packet carries, -dBov (127: silence).
    audio_dbov: AtomicU8,
    video_muted: AtomicBool,
}

/// Running media tasks. Dropping it stops them.
pub struct Publisher {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl Publisher {
    /// Starts sending on the given tracks; each waits until its sender is negotiated.
    pub fn start(tracks: &SendTracks, profile: &MediaProfile) -> Self {
        let (audio, video) = (tracks.audio.clone(), tracks.video.clone());
        let shared = Arc::new(Shared {
            audio_dbov: AtomicU8::new(127),
            ..Shared::default()
        });
        let mut tasks = vec![];
        if let Some(a) = audio {
            tasks.push(tokio::spawn(drain_rtcp(a.sender.clone(), shared.clone())));
            tasks.push(tokio::spawn(send_audio(a, *profile, shared.clone())));
        }
        if let (Some(v), Some(vp)) = (video, profile.video) {
            if v.layers.is_empty() {
                tasks.push(tokio::spawn(drain_rtcp(v.sender.clone(), shared.clone())));
            }
            for (i, (rid, _)) in SIMULCAST_LAYERS.iter().enumerate().take(v.layers.len()) {
                let (sender, shared) = (v.sender.clone(), shared.clone());
                tasks.push(tokio::spawn(drain_layer_rtcp(sender, shared, rid, i)));
            }
            let encoders: Vec<(Arc<TrackLocalStaticRTP>, VideoProfile)> = if v.layers.is_empty() {
                vec![(v.track.clone(), vp)]
            } else {
                v.layers
                    .iter()
                    .map(|(t, down)| (t.clone(), vp.scaled_down(*down)))
                    .collect()
            };
            for (layer, (track, vp)) in encoders.into_iter().enumerate() {
                let sender = v.sender.clone();
                tasks.push(tokio::spawn(send_video(
                    VideoEncoder {
                        track,
                        sender,
                        layer,
                        paused: v.paused.clone(),
                    },
                    vp,
                    profile.keyframe_interval,
                    shared.clone(),
                )));
            }
        }
        Self { shared, tasks }
    }

    pub fn stats(&self) -> PublisherStats {
        let s = &self.shared;
        PublisherStats {
            audio_packets: s.audio_packets.load(Ordering::Relaxed),
            video_packets: s.video_packets.load(Ordering::Relaxed),
            video_frames: s.video_frames.load(Ordering::Relaxed),
            layer_frames: std::array::from_fn(|i| s.layer_frames[i].load(Ordering::Relaxed)),
            keyframes: s.keyframes.load(Ordering::Relaxed),
            keyframe_requests: s.keyframe_requests.load(Ordering::Relaxed),
            bytes: s.bytes.load(Ordering::Relaxed),
        }
    }

    /// Muted tracks send nothing (as a browser with a disabled track sends almost nothing).
    /// Unmuting video starts with a keyframe.
    pub fn set_muted(&self, audio: bool, video: bool) {
        self.shared.audio_muted.store(audio, Ordering::Relaxed);
        let was = self.shared.video_muted.swap(video, Ordering::Relaxed);
        if was && !video {
            self.shared.want_keyframes();
        }
    }

    /// The audio level packets carry from now on (-dBov: 0 loudest, 127 silence).
    pub fn set_audio_level(&self, dbov: u8) {
        self.shared
            .audio_dbov
            .store(dbov.min(127), Ordering::Relaxed);
    }

    /// Asks for a keyframe as the next video frame (of every layer).
    pub fn request_keyframe(&self) {
        self.shared.want_keyframes();
    }

    pub fn stop(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Shared {
    fn want_keyframes(&self) {
        for w in &self.keyframe_wanted {
            w.store(true, Ordering::Relaxed);
        }
    }
}

/// One encoder: the track it writes, the sender whose negotiation it waits for, its layer.
struct VideoEncoder {
    track: Arc<TrackLocalStaticRTP>,
    sender: Arc<RTCRtpSender>,
    layer: usize,
    paused: Arc<[AtomicBool; SIMULCAST_LAYERS.len()]>,
}

/// One simulcast layer's RTCP (webrtc-rs reads each encoding's apart; unread, its PLIs and
/// NACKs would go unanswered): a PLI or FIR asks that layer's encoder for a keyframe.
async fn drain_layer_rtcp(sender: Arc<RTCRtpSender>, shared: Arc<Shared>, rid: &str, layer: usize) {
    while let Ok((pkts, _)) = sender.read_rtcp_simulcast(rid).await {
        for p in pkts {
            let any = p.as_any();
            if any.is::<PictureLossIndication>() || any.is::<FullIntraRequest>() {
                shared.keyframe_requests.fetch_add(1, Ordering::Relaxed);
                shared.keyframe_wanted[layer].store(true, Ordering::Relaxed);
            }
        }
    }
}

async fn drain_rtcp(sender: Arc<RTCRtpSender>, shared: Arc<Shared>) {
    while let Ok((pkts, _)) = sender.read_rtcp().await {
        for p in pkts {
            let any = p.as_any();
            if any.is::<PictureLossIndication>() || any.is::<FullIntraRequest>() {
                shared.keyframe_requests.fetch_add(1, Ordering::Relaxed);
                shared.want_keyframes();
            }
        }
    }
}

/// RTP header fields we own: sequence number and timestamp (SSRC and payload type are set by
/// `TrackLocalStaticRTP` per binding).
struct RtpClock {
    seq: u16,
    timestamp: u32,
}

impl RtpClock {
    fn random() -> Self {
        Self {
            seq: rand::random(),
            timestamp: rand::random(),
        }
    }

    fn packet(&mut self, marker: bool, payload: Bytes) -> Packet {
        let header = Header {
            version: 2,
            marker,
            sequence_number: self.seq,
            timestamp: self.timestamp,
            ..Default::default()
        };
        self.seq = self.seq.wrapping_add(1);
        Packet { header, payload }
    }
}

async fn send_audio(local: LocalTrack, profile: MediaProfile, shared: Arc<Shared>) {
    local.sender.wait_for_send().await;
    let filler = profile
        .audio_packet_bytes()
        .saturating_sub(1 + PROBE_HEADER_LEN) as u32;
    let mut clock = RtpClock::random();
    let mut seq = 0u64;
    let mut tick = tokio::time::interval(AUDIO_PTIME);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut last = Instant::now();
    loop {
        tick.tick().await;
        // Advance the RTP clock by real elapsed time so a stall looks like a stall.
        let now = Instant::now();
        let elapsed = now.duration_since(last);
        last = now;
        let periods = (elapsed.as_micros() as u64 + 10_000) / 20_000;
        clock.timestamp = clock.timestamp.wrapping_add(960 * periods.max(1) as u32);
        if shared.audio_muted.load(Ordering::Relaxed) {
            continue;
        }
        let mut payload = Vec::with_capacity(1 + PROBE_HEADER_LEN + filler as usize);
        payload.push(OPUS_TOC);
        Probe {
            seq,
            sent_at_us: now_us(),
            filler_len: filler,
        }
        .encode_into(&mut payload);
        seq += 1;
        let len = payload.len() as u64;
        let pkt = clock.packet(true, Bytes::from(payload));
        let dbov = shared.audio_dbov.load(Ordering::Relaxed);
        let level = HeaderExtension::AudioLevel(AudioLevelExtension {
            level: dbov,
            voice: dbov <= 50,
        });
        if local
            .track
            .write_rtp_with_extensions(&pkt, &[level])
            .await
            .is_ok()
        {
            shared.audio_packets.fetch_add(1, Ordering::Relaxed);
            shared.bytes.fetch_add(len, Ordering::Relaxed);
        }
    }
}

async fn send_video(
    local: VideoEncoder,
    profile: VideoProfile,
    keyframe_interval: Option<Duration>,
    shared: Arc<Shared>,
) {
    local.sender.wait_for_send().await;
    let mut clock = RtpClock::random();
    let mut seq = 0u64;
    let mut picture_id: u16 = rand::random::<u16>() & 0x7fff;
    let mut last_keyframe: Option<Instant> = None;
    let mut was_paused = false;
    let start = Instant::now();
    let start_ts = clock.timestamp;
    let mut tick = tokio::time::interval(profile.frame_interval());
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let now = Instant::now();
        // 90 kHz timestamps from the wall clock, as a capturer would stamp them.
        let elapsed_ticks = (now.duration_since(start).as_micros() * 9 / 100) as u32;
        clock.timestamp = start_ts.wrapping_add(elapsed_ticks);
        if shared.video_muted.load(Ordering::Relaxed) {
            continue;
        }
        if local.paused[local.layer].load(Ordering::Relaxed) {
            was_paused = true;
            continue;
        }
        // A resumed encoder starts with a keyframe, as a browser's does.
        let resumed = std::mem::take(&mut was_paused);
        let periodic = keyframe_interval
            .zip(last_keyframe)
            .is_some_and(|(i, t)| now.duration_since(t) >= i);
        let keyframe = last_keyframe.is_none()
            || resumed
            || periodic
            || shared.keyframe_wanted[local.layer].swap(false, Ordering::Relaxed);
        let size = if keyframe {
            profile.keyframe_bytes()
        } else {
            profile.frame_bytes()
        };
        let header = if keyframe { 10 } else { 3 };
        let probe = Probe {
            seq,
            sent_at_us: now_us(),
            filler_len: size.saturating_sub(header + PROBE_HEADER_LEN) as u32,
        };
        let frame = build_frame(keyframe, profile.width, profile.height, &probe);
        let payloads = packetize(&frame, picture_id, MAX_RTP_PAYLOAD);
        let count = payloads.len();
        let mut written = 0u64;
        for (i, payload) in payloads.into_iter().enumerate() {
            let len = payload.len() as u64;
            let pkt = clock.packet(i + 1 == count, payload);
            if local.track.write_rtp(&pkt).await.is_ok() {
                written += 1;
                shared.bytes.fetch_add(len, Ordering::Relaxed);
            }
        }
        seq += 1;
        picture_id = (picture_id + 1) & 0x7fff;
        shared.video_packets.fetch_add(written, Ordering::Relaxed);
        shared.video_frames.fetch_add(1, Ordering::Relaxed);
        shared.layer_frames[local.layer].fetch_add(1, Ordering::Relaxed);
        if keyframe {
            last_keyframe = Some(now);
            shared.keyframes.fetch_add(1, Ordering::Relaxed);
        }
    }
}
