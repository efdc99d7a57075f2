//! Events about meetings broadcast on the cache bus.
//!
//! When a meeting is ended through the REST API, [`crate::MeetingService`] publishes
//! `{"type":"ended","code":"abc-defg-hij"}` on the channel [`MEETING_EVENTS_CHANNEL`] of the
//! [`crate::Cache`]; the signaling server subscribes there (on every node, with Redis) and
//! closes the live room. The bus is used rather than a callback so that `api` does not depend
//! on `signaling` and events reach the nodes that hold the WebSockets.

use serde::{Deserialize, Serialize};

/// Cache bus channel carrying [`MeetingEvent`]s as JSON.
pub const MEETING_EVENTS_CHANNEL: &str = "meeting-events";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum MeetingEvent {
    /// The host ended the meeting; its room should close.
    Ended { code: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format() {
        let event = MeetingEvent::Ended {
            code: "abc-defg-hij".to_owned(),
        };
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            r#"{"type":"ended","code":"abc-defg-hij"}"#
        );
    }
}
