//! The task that reads one remote track and feeds a [`TrackRecorder`].

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use webrtc::track::track_remote::TrackRemote;

use crate::latency::LatencyHistogram;
use crate::probe::now_us;
use crate::track_stats::{TrackLabel, TrackRecorder, TrackStats};

/// At most one keyframe request per track this often, like browsers and Galène.
const PLI_INTERVAL: Duration = Duration::from_millis(500);

/// A running reader of one remote track. Dropping it stops the reader.
pub struct TrackReceiver {
    recorder: Arc<Mutex<TrackRecorder>>,
    task: JoinHandle<()>,
}

impl TrackReceiver {
    /// Starts reading `track`. With `pc`, the receiver sends a PLI when video cannot be decoded
    /// (first frame not a keyframe, a frame lost), as a browser's decoder would make it do.
    pub fn spawn(
        track: Arc<TrackRemote>,
        label: TrackLabel,
        started: Instant,
        pc: Option<Weak<RTCPeerConnection>>,
    ) -> Self {
        let recorder = Arc::new(Mutex::new(TrackRecorder::new(label, started)));
        let rec = Arc::clone(&recorder);
        let task = tokio::spawn(async move {
            let mut last_pli: Option<Instant> = None;
            while let Ok((pkt, _)) = track.read_rtp().await {
                let now = Instant::now();
                let h = &pkt.header;
                let advice = rec.lock().expect("recorder lock").on_packet(
                    h.ssrc,
                    h.sequence_number,
                    h.timestamp,
                    h.marker,
                    &pkt.payload,
                    now,
                    now_us(),
                );
                let due = last_pli.is_none_or(|t| now.duration_since(t) >= PLI_INTERVAL);
                if advice.want_keyframe
                    && due
                    && let Some(pc) = pc.as_ref().and_then(Weak::upgrade)
                {
                    last_pli = Some(now);
                    let pli = PictureLossIndication {
                        sender_ssrc: 0,
                        media_ssrc: h.ssrc,
                    };
                    let _ = pc.write_rtcp(&[Box::new(pli)]).await;
                }
            }
            rec.lock().expect("recorder lock").end();
        });
        Self { recorder, task }
    }

    pub fn stats(&self) -> TrackStats {
        self.recorder.lock().expect("recorder lock").stats()
    }

    /// RTP packets so far (cheap: no percentile computation).
    pub fn packets(&self) -> u64 {
        self.recorder.lock().expect("recorder lock").packets()
    }

    /// A copy of the latency samples so far.
    pub fn latency_histogram(&self) -> LatencyHistogram {
        self.recorder
            .lock()
            .expect("recorder lock")
            .latency_histogram()
            .clone()
    }

    /// Forgets the latency samples so far (end of a warm-up).
    pub fn reset_latency(&self) {
        self.recorder.lock().expect("recorder lock").reset_latency();
    }

    pub fn label(&self) -> TrackLabel {
        self.recorder.lock().expect("recorder lock").label().clone()
    }

    /// The track ended (its reader returned).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for TrackReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}
