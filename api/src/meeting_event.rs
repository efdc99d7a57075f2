//! Events about meetings broadcast on the cache bus.
//!
//! Events are JSON objects tagged by `type`, published on the channel [`MEETING_EVENTS_CHANNEL`]
//! of the [`crate::Cache`]; the signaling server subscribes there (on every node, with Redis):
//!
//! - `{"type":"ended","code":"abc-defg-hij"}`: [`crate::MeetingService`] ended the meeting
//!   through the REST API; the live room closes.
//! - `{"type":"user_signed_out","user_id":42}`: [`crate::AuthService`] revoked the user's tokens
//!   (logout, or a refresh-token family revoked for reuse); that user's WebSockets close.
//!
//! The bus is used rather than a callback so that `api` does not depend on `signaling` and
//! events reach the nodes that hold the WebSockets. Delivery is best effort: a node that was
//! disconnected from Redis when the event was published does not see it.

use serde::{Deserialize, Serialize};

use crate::ids::UserId;

/// Cache bus channel carrying [`MeetingEvent`]s as JSON.
pub const MEETING_EVENTS_CHANNEL: &str = "meeting-events";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MeetingEvent {
    /// The host ended the meeting; its room should close.
    Ended { code: String },
    /// The user's tokens were revoked; every session of that user should close.
    UserSignedOut { user_id: UserId },
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
        let event = MeetingEvent::UserSignedOut {
            user_id: UserId(42),
        };
        let json = r#"{"type":"user_signed_out","user_id":42}"#;
        assert_eq!(serde_json::to_string(&event).unwrap(), json);
        assert_eq!(serde_json::from_str::<MeetingEvent>(json).unwrap(), event);
    }
}
