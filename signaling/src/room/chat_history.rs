//! The recent chat of a live meeting, so a late joiner or a participant who reloads sees what
//! was said before (sent in `joined`). Bounded by count and by text size, so a burst of long
//! messages cannot make a `joined` message or a room's memory grow without limit.

use std::collections::VecDeque;

use crate::protocol::{ChatMessage, ParticipantId};

/// Messages kept per live meeting (Prosody's MUC, behind Jitsi Meet, keeps 20 by default).
pub(crate) const CHAT_HISTORY_MESSAGES: usize = 100;
/// Text bytes kept per live meeting: 100 messages of the 4,000-character limit would be 1.6 MB.
pub(crate) const CHAT_HISTORY_BYTES: usize = 64 * 1024;

/// Assigns chat ids and keeps the newest messages within both bounds.
pub(crate) struct ChatHistory {
    next_id: u32,
    messages: VecDeque<ChatMessage>,
    text_bytes: usize,
}

impl ChatHistory {
    pub(crate) fn new() -> Self {
        ChatHistory {
            next_id: 1,
            messages: VecDeque::new(),
            text_bytes: 0,
        }
    }

    /// Records a message and returns it, with its id and time, for broadcasting.
    pub(crate) fn record(
        &mut self,
        participant_id: ParticipantId,
        name: String,
        text: String,
    ) -> ChatMessage {
        let message = ChatMessage {
            id: self.next_id,
            participant_id,
            name,
            text,
            sent_at: chrono::Utc::now().to_rfc3339(),
        };
        self.next_id += 1;
        self.text_bytes += message.text.len();
        self.messages.push_back(message.clone());
        while self.messages.len() > CHAT_HISTORY_MESSAGES
            || (self.text_bytes > CHAT_HISTORY_BYTES && self.messages.len() > 1)
        {
            let oldest = self.messages.pop_front().expect("not empty");
            self.text_bytes -= oldest.text.len();
        }
        message
    }

    /// The kept messages, oldest first.
    pub(crate) fn recent(&self) -> Vec<ChatMessage> {
        self.messages.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn say(history: &mut ChatHistory, text: &str) -> u32 {
        history
            .record(ParticipantId(7), "Ada".into(), text.into())
            .id
    }

    #[test]
    fn keeps_the_newest_messages_in_order_with_increasing_ids() {
        let mut history = ChatHistory::new();
        let ids: Vec<u32> = (0..CHAT_HISTORY_MESSAGES + 5)
            .map(|i| say(&mut history, &format!("m{i}")))
            .collect();
        assert_eq!(ids[0], 1);
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1));
        let recent = history.recent();
        assert_eq!(recent.len(), CHAT_HISTORY_MESSAGES);
        assert_eq!(recent[0].text, "m5");
        assert_eq!(
            recent.last().unwrap().text,
            format!("m{}", CHAT_HISTORY_MESSAGES + 4)
        );
    }

    #[test]
    fn long_messages_are_dropped_oldest_first_to_stay_within_the_byte_bound() {
        let mut history = ChatHistory::new();
        let long = "x".repeat(4000);
        for _ in 0..40 {
            say(&mut history, &long);
        }
        let recent = history.recent();
        assert_eq!(recent.len(), CHAT_HISTORY_BYTES / 4000);
        assert!(recent.iter().map(|m| m.text.len()).sum::<usize>() <= CHAT_HISTORY_BYTES);
        assert_eq!(recent.last().unwrap().id, 40);
    }

    #[test]
    fn a_single_message_over_the_byte_bound_is_still_kept() {
        let mut history = ChatHistory::new();
        say(&mut history, "short");
        let huge = "y".repeat(CHAT_HISTORY_BYTES + 1);
        say(&mut history, &huge);
        let recent = history.recent();
        assert_eq!(recent.len(), 1);
        assert_eq!(recent[0].text, huge);
    }
}
