//! What a synthetic participant sends: audio, video size, frame rate and bitrate.

use std::time::Duration;

/// Largest RTP payload we produce; leaves room for SRTP, header extensions and tunnels.
pub const MAX_RTP_PAYLOAD: usize = 1200;
/// Opus packet interval.
pub const AUDIO_PTIME: Duration = Duration::from_millis(20);

/// A synthetic camera.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VideoProfile {
    pub width: u16,
    pub height: u16,
    pub fps: u32,
    pub bitrate_bps: u32,
    /// Keyframes are this many times larger than delta frames, as in real encoders.
    pub keyframe_factor: u32,
}

impl VideoProfile {
    pub const P360: VideoProfile = VideoProfile {
        width: 640,
        height: 360,
        fps: 30,
        bitrate_bps: 600_000,
        keyframe_factor: 4,
    };
    pub const P720: VideoProfile = VideoProfile {
        width: 1280,
        height: 720,
        fps: 30,
        bitrate_bps: 2_000_000,
        keyframe_factor: 4,
    };

    /// The profile of a simulcast layer `down` times smaller in each dimension (bitrate by
    /// the area, as encoders do).
    pub fn scaled_down(&self, down: u16) -> VideoProfile {
        let d = u32::from(down.max(1));
        VideoProfile {
            width: self.width / down.max(1),
            height: self.height / down.max(1),
            bitrate_bps: self.bitrate_bps / (d * d),
            ..*self
        }
    }

    /// Bytes of a delta frame at this bitrate and frame rate.
    pub fn frame_bytes(&self) -> usize {
        (self.bitrate_bps as usize / 8 / self.fps.max(1) as usize).max(64)
    }

    pub fn keyframe_bytes(&self) -> usize {
        (self.frame_bytes() * self.keyframe_factor.max(1) as usize).min(200_000)
    }

    pub fn frame_interval(&self) -> Duration {
        Duration::from_secs(1) / self.fps.max(1)
    }
}

/// Everything a publisher sends. `Default` is audio plus 360p video.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaProfile {
    /// Opus-like audio at `audio_bitrate_bps`, one packet per 20 ms.
    pub audio: bool,
    pub audio_bitrate_bps: u32,
    pub video: Option<VideoProfile>,
    /// Send a keyframe at least this often (besides the first one and those asked for by PLI/FIR).
    pub keyframe_interval: Option<Duration>,
    /// Send the video as [`SIMULCAST_LAYERS`] simulcast layers (RIDs `q`, `h`, `f`: a quarter,
    /// half and full size, lowest first as browsers list them), each its own encoder.
    pub simulcast: bool,
}

/// The simulcast layers a publisher sends: RID and how much smaller than the profile's size.
pub const SIMULCAST_LAYERS: [(&str, u16); 3] = [("q", 4), ("h", 2), ("f", 1)];

impl Default for MediaProfile {
    fn default() -> Self {
        Self::video_360p()
    }
}

impl MediaProfile {
    /// Nothing at all: a pure viewer.
    pub fn none() -> Self {
        Self {
            audio: false,
            audio_bitrate_bps: 32_000,
            video: None,
            keyframe_interval: None,
            simulcast: false,
        }
    }

    pub fn audio_only() -> Self {
        Self {
            audio: true,
            ..Self::none()
        }
    }

    /// Audio and 640x360 video, 30 fps, about 600 kbit/s.
    pub fn video_360p() -> Self {
        Self {
            video: Some(VideoProfile::P360),
            keyframe_interval: Some(Duration::from_secs(10)),
            ..Self::audio_only()
        }
    }

    /// Audio and 1280x720 video, 30 fps, about 2 Mbit/s.
    pub fn video_720p() -> Self {
        Self {
            video: Some(VideoProfile::P720),
            ..Self::video_360p()
        }
    }

    /// Bytes in one audio packet's payload.
    pub fn audio_packet_bytes(&self) -> usize {
        let per_second = self.audio_bitrate_bps as usize / 8;
        (per_second * AUDIO_PTIME.as_millis() as usize / 1000).clamp(40, MAX_RTP_PAYLOAD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_bitrates() {
        let p = MediaProfile::video_720p();
        assert_eq!(p.audio_packet_bytes(), 80);
        let v = p.video.unwrap();
        assert_eq!(v.frame_bytes(), 8333);
        assert_eq!(v.keyframe_bytes(), 33332);
        assert_eq!(VideoProfile::P360.frame_bytes(), 2500);
        assert_eq!(v.frame_interval(), Duration::from_nanos(33_333_333));
    }
}
