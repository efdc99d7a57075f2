//! [`SpeechMeter`]: whether one audio track carries speech, from the audio level its
//! publisher writes in every packet (RFC 6464, which browsers always send), so clients learn
//! who speaks without decoding every audio track.
//!
//! The room closes a window every half second. A window speaks when at least a third of its
//! packets are voice (louder than [`VOICE_DBOV`]); a speaker stops after two quiet windows, so
//! the pauses between words do not make the speaker list flicker.

/// A packet at least this loud (dBov, 0 is the loudest) counts as voice.
pub(crate) const VOICE_DBOV: i8 = -50;

/// Quiet windows before a speaker is no longer speaking.
const QUIET_WINDOWS: u8 = 2;

/// A change of level reported at least (on the 1-100 scale), besides starting and stopping.
const LEVEL_STEP: u8 = 10;

/// One audio track's speech over the current window.
#[derive(Debug, Default)]
pub(crate) struct SpeechMeter {
    packets: u32,
    voiced: u32,
    /// Sum over voiced packets of the level above -127 dBov.
    loudness: u32,
    quiet: u8,
    reported: Option<u8>,
}

impl SpeechMeter {
    /// One packet's level (`dBov`, -127..=0).
    pub fn packet(&mut self, dbov: i8) {
        self.packets += 1;
        if dbov >= VOICE_DBOV {
            self.voiced += 1;
            self.loudness += (i32::from(dbov) + 127).clamp(0, 127) as u32;
        }
    }

    /// Closes the window. `Some(level)` when what should be reported changed: `Some(1..=100)`
    /// speaking at that loudness, `None` stopped.
    pub fn close_window(&mut self) -> Option<Option<u8>> {
        let speaking = self.packets > 0 && self.voiced * 3 >= self.packets;
        let level = speaking.then(|| {
            let mean = self.loudness / self.voiced.max(1);
            (mean * 100 / 127).clamp(1, 100) as u8
        });
        self.packets = 0;
        self.voiced = 0;
        self.loudness = 0;
        let next = match (level, self.reported) {
            (Some(l), Some(r)) => {
                self.quiet = 0;
                if l.abs_diff(r) < LEVEL_STEP {
                    return None;
                }
                Some(l)
            }
            (Some(l), None) => {
                self.quiet = 0;
                Some(l)
            }
            (None, Some(_)) => {
                self.quiet += 1;
                if self.quiet < QUIET_WINDOWS {
                    return None;
                }
                None
            }
            (None, None) => return None,
        };
        self.reported = next;
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(m: &mut SpeechMeter, voiced: u32, quiet: u32, dbov: i8) -> Option<Option<u8>> {
        for _ in 0..voiced {
            m.packet(dbov);
        }
        for _ in 0..quiet {
            m.packet(-127);
        }
        m.close_window()
    }

    #[test]
    fn speech_starts_at_a_third_of_voiced_packets() {
        let mut m = SpeechMeter::default();
        assert_eq!(window(&mut m, 7, 18, -20), None, "under a third");
        assert_eq!(window(&mut m, 9, 16, -20), Some(Some(84)));
        assert_eq!(
            window(&mut m, 25, 0, -22),
            None,
            "a small change is not reported"
        );
        assert_eq!(
            window(&mut m, 25, 0, -60),
            None,
            "too faint: a first quiet window"
        );
    }

    #[test]
    fn a_speaker_stops_after_two_quiet_windows() {
        let mut m = SpeechMeter::default();
        assert_eq!(window(&mut m, 25, 0, -30), Some(Some(76)));
        assert_eq!(window(&mut m, 0, 25, -30), None, "one pause between words");
        assert_eq!(
            window(&mut m, 25, 0, -30),
            None,
            "speaking again: no change"
        );
        assert_eq!(window(&mut m, 0, 25, -30), None);
        assert_eq!(
            window(&mut m, 0, 0, -30),
            Some(None),
            "no packets (muted) is quiet"
        );
        assert_eq!(window(&mut m, 0, 25, -30), None, "stays stopped");
    }

    #[test]
    fn loudness_changes_are_reported_in_steps() {
        let mut m = SpeechMeter::default();
        assert_eq!(window(&mut m, 25, 0, -40), Some(Some(68)));
        assert_eq!(window(&mut m, 25, 0, -10), Some(Some(92)));
        assert_eq!(window(&mut m, 25, 0, -50), Some(Some(60)));
    }
}
