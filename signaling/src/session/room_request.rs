//! What a joined session's client message asks of its room, checked against the session's
//! limits first (sizes, chat length, `track_settings` entries), so the room only ever sees
//! valid requests. A pure function: the tests call it without a socket.

use super::ClientMessage;
use crate::config::SignalingConfig;
use crate::protocol::{ErrorCode, MAX_TRACK_SETTINGS, TrackSetting};
use crate::room::{HostAction, RoomRequest};

/// What to do with one message of a joined session.
#[derive(Debug)]
pub(super) enum Routed {
    ToRoom(RoomRequest),
    /// Nothing to do (end of candidates, a ping).
    Nothing,
    /// Refused here; the connection stays open.
    Refused(ErrorCode, String),
}

pub(super) fn route(msg: ClientMessage, cfg: &SignalingConfig) -> Routed {
    let refuse = |code: ErrorCode, message: &str| Routed::Refused(code, message.to_owned());
    let request = match msg {
        ClientMessage::PublishOffer { sdp, tracks } => {
            if sdp.len() > cfg.max_sdp_bytes {
                return refuse(ErrorCode::SdpTooLarge, "SDP too large");
            }
            RoomRequest::PublishOffer { sdp, tracks }
        }
        ClientMessage::SubscriberAnswer { sdp } => {
            if sdp.len() > cfg.max_answer_bytes {
                return refuse(ErrorCode::SdpTooLarge, "SDP too large");
            }
            RoomRequest::SubscriberAnswer { sdp }
        }
        ClientMessage::IceCandidate { pc, candidate, .. } => {
            if candidate.trim().is_empty() {
                return Routed::Nothing; // end of candidates
            }
            if candidate.len() > 1024 {
                return refuse(ErrorCode::BadMessage, "candidate too long");
            }
            RoomRequest::IceCandidate { pc, candidate }
        }
        ClientMessage::RestartSubscriber => RoomRequest::RestartSubscriber,
        ClientMessage::TrackSettings { tracks } => match track_wants(&tracks) {
            Ok(wants) => RoomRequest::TrackSettings(wants),
            Err(message) => return Routed::Refused(ErrorCode::BadMessage, message),
        },
        ClientMessage::MediaState(m) => RoomRequest::MediaState(m),
        ClientMessage::Chat { text } => {
            let text = text.trim().to_string();
            if text.is_empty() || text.chars().count() > cfg.max_chat_chars {
                let message = format!("chat text must be 1 to {} characters", cfg.max_chat_chars);
                return Routed::Refused(ErrorCode::ChatInvalid, message);
            }
            RoomRequest::Chat { text }
        }
        ClientMessage::EndMeeting => RoomRequest::EndMeeting,
        m @ (ClientMessage::MuteParticipant { .. }
        | ClientMessage::AskToUnmute { .. }
        | ClientMessage::RemoveParticipant { .. }
        | ClientMessage::LockMeeting { .. }
        | ClientMessage::SetLobby { .. }
        | ClientMessage::Admit { .. }
        | ClientMessage::Deny { .. }
        | ClientMessage::AdmitAll
        | ClientMessage::AllowGuests { .. }
        | ClientMessage::SetCohost { .. }
        | ClientMessage::LowerHand { .. }) => match HostAction::from_message(m) {
            Some(action) => RoomRequest::Host(action),
            None => return Routed::Nothing,
        },
        ClientMessage::RaiseHand { raised } => RoomRequest::RaiseHand(raised),
        ClientMessage::Reaction { emoji } => {
            if emoji.len() > 16 {
                return refuse(ErrorCode::BadMessage, "not a reaction");
            }
            RoomRequest::Reaction(emoji)
        }
        ClientMessage::Leave => RoomRequest::Leave,
        ClientMessage::Hello { .. } | ClientMessage::Join { .. } => {
            return refuse(ErrorCode::AlreadyJoined, "already in a meeting");
        }
        ClientMessage::Ping { .. } => return Routed::Nothing,
    };
    Routed::ToRoom(request)
}

/// The SFU's view of a `track_settings`: every entry valid, or an error naming the first bad
/// one (nothing is applied then).
fn track_wants(
    tracks: &[TrackSetting],
) -> Result<Vec<(mm_sfu::TrackId, mm_sfu::TrackWant)>, String> {
    if tracks.len() > MAX_TRACK_SETTINGS {
        return Err(format!(
            "at most {MAX_TRACK_SETTINGS} tracks in one track_settings"
        ));
    }
    tracks
        .iter()
        .map(|t| {
            let id = t.track_id.parse().map_err(|()| {
                let shown: String = t.track_id.chars().take(40).collect();
                format!("unknown track id {shown:?}")
            })?;
            Ok((
                id,
                mm_sfu::TrackWant {
                    disabled: !t.enabled,
                    max_width: t.max_width,
                    max_height: t.max_height,
                    priority: t.priority.unwrap_or(0),
                },
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ParticipantId, TrackSource};

    fn refused(r: Routed) -> ErrorCode {
        match r {
            Routed::Refused(code, _) => code,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn limits_are_checked_before_the_room() {
        let cfg = SignalingConfig::default();
        let big = "x".repeat(cfg.max_sdp_bytes + 1);
        let offer = ClientMessage::PublishOffer {
            sdp: big,
            tracks: vec![],
        };
        assert_eq!(refused(route(offer, &cfg)), ErrorCode::SdpTooLarge);
        let chat = ClientMessage::Chat { text: "   ".into() };
        assert_eq!(refused(route(chat, &cfg)), ErrorCode::ChatInvalid);
        let emoji = ClientMessage::Reaction {
            emoji: "x".repeat(17),
        };
        assert_eq!(refused(route(emoji, &cfg)), ErrorCode::BadMessage);
        let setting = |id: &str| TrackSetting {
            track_id: id.into(),
            enabled: true,
            max_width: None,
            max_height: None,
            priority: None,
        };
        let bad = ClientMessage::TrackSettings {
            tracks: vec![setting("tr-1"), setting("nope")],
        };
        assert_eq!(refused(route(bad, &cfg)), ErrorCode::BadMessage);
        let many = ClientMessage::TrackSettings {
            tracks: (0..=MAX_TRACK_SETTINGS)
                .map(|i| setting(&format!("tr-{i}")))
                .collect(),
        };
        assert_eq!(refused(route(many, &cfg)), ErrorCode::BadMessage);
        let end = ClientMessage::IceCandidate {
            pc: crate::protocol::PcKind::Publish,
            candidate: " ".into(),
            sdp_mid: None,
        };
        assert!(matches!(route(end, &cfg), Routed::Nothing));
    }

    #[test]
    fn host_messages_become_host_actions() {
        let cfg = SignalingConfig::default();
        let mute = ClientMessage::MuteParticipant {
            participant_id: ParticipantId(7),
            source: TrackSource::Camera,
        };
        assert!(matches!(
            route(mute, &cfg),
            Routed::ToRoom(RoomRequest::Host(HostAction::Mute {
                target: ParticipantId(7),
                ..
            }))
        ));
        let remove = ClientMessage::RemoveParticipant {
            participant_id: ParticipantId(7),
            ban: None,
        };
        assert!(matches!(
            route(remove, &cfg),
            Routed::ToRoom(RoomRequest::Host(HostAction::Remove { ban: false, .. }))
        ));
        let chat = ClientMessage::Chat {
            text: "  hi  ".into(),
        };
        assert!(
            matches!(route(chat, &cfg), Routed::ToRoom(RoomRequest::Chat { text }) if text == "hi")
        );
    }
}
