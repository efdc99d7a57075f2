//! [`RunConfig`]: what one run does, with the media profile ([`ProfileName`]) its publishers send.

use std::time::Duration;

use serde::Serialize;

use crate::media_profile::MediaProfile;

/// The media a publisher sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
pub enum ProfileName {
    #[value(name = "audio")]
    #[serde(rename = "audio")]
    Audio,
    #[value(name = "360p")]
    #[serde(rename = "360p")]
    P360,
    #[value(name = "720p")]
    #[serde(rename = "720p")]
    P720,
}

impl ProfileName {
    pub fn profile(self) -> MediaProfile {
        match self {
            ProfileName::Audio => MediaProfile::audio_only(),
            ProfileName::P360 => MediaProfile::video_360p(),
            ProfileName::P720 => MediaProfile::video_720p(),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ProfileName::Audio => "audio",
            ProfileName::P360 => "360p",
            ProfileName::P720 => "720p",
        }
    }
}

/// What to run.
#[derive(Clone, Debug, Serialize)]
pub struct RunConfig {
    /// `fanout`, `meeting`, `join-storm`, `smoke`.
    pub scenario: String,
    pub meetings: usize,
    pub publishers: usize,
    pub subscribers: usize,
    pub profile: ProfileName,
    pub warmup: Duration,
    pub duration: Duration,
    /// Receivers joining at once.
    pub join_concurrency: usize,
    /// Per signaling step, and for media to start.
    pub timeout: Duration,
    /// Tokio worker threads of the generator.
    pub generator_threads: usize,
    /// Print a progress line every second.
    pub progress: bool,
}
