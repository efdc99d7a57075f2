//! Active speakers: the SFU tells each participant's room when its microphone carries speech
//! and how loud; the room broadcasts `active_speakers` (loudest first) whenever who speaks, or
//! their order, changes, so clients show speaking rings and order the grid without decoding
//! every audio track.

use super::Room;
use crate::protocol::{ParticipantId, ServerMessage, SpeakerLevel};

impl Room {
    /// The SFU's word on `id`'s speech (`None`: stopped).
    pub(super) fn speaking(&mut self, id: ParticipantId, level: Option<u8>) {
        let Some(p) = self.participants.get_mut(&id) else {
            return;
        };
        p.speaking = level;
        self.broadcast_speakers();
    }

    /// Broadcasts the speakers when who speaks or their order changed since the last time.
    pub(super) fn broadcast_speakers(&mut self) {
        let now = self.current_speakers();
        let order: Vec<ParticipantId> = now.iter().map(|s| s.participant_id).collect();
        if order == self.speakers {
            return;
        }
        self.speakers = order;
        self.broadcast(ServerMessage::ActiveSpeakers { speakers: now });
    }

    /// Tells a participant who just joined (or came back) who is speaking, so its rings and
    /// order are right before the next change.
    pub(super) fn send_speakers_to(&mut self, id: ParticipantId) {
        let speakers = self.current_speakers();
        if !speakers.is_empty() {
            self.send_to(id, ServerMessage::ActiveSpeakers { speakers });
        }
    }

    /// Who speaks, loudest first (ties by id, so the order is stable).
    fn current_speakers(&self) -> Vec<SpeakerLevel> {
        let mut now: Vec<SpeakerLevel> = self
            .participants
            .values()
            .filter_map(|p| {
                p.speaking.map(|level| SpeakerLevel {
                    participant_id: p.id,
                    level,
                })
            })
            .collect();
        now.sort_by(|a, b| {
            b.level
                .cmp(&a.level)
                .then(a.participant_id.cmp(&b.participant_id))
        });
        now
    }
}
