use super::*;

#[test]
fn client_messages_are_tagged_snake_case() {
    let m: ClientMessage =
        serde_json::from_str(r#"{"type":"hello","version":1,"token":"t"}"#).unwrap();
    assert_eq!(
        m,
        ClientMessage::Hello {
            version: 1,
            token: "t".into()
        }
    );
    let m: ClientMessage =
        serde_json::from_str(r#"{"type":"media_state","audio_muted":true,"video_muted":false}"#)
            .unwrap();
    assert_eq!(
        m,
        ClientMessage::MediaState(MediaState {
            audio_muted: true,
            video_muted: false,
            screen_sharing: false
        })
    );
    let m: ClientMessage = serde_json::from_str(r#"{"type":"end_meeting"}"#).unwrap();
    assert_eq!(m, ClientMessage::EndMeeting);
}

#[test]
fn server_error_serializes_code_and_message() {
    let json = serde_json::to_value(ServerMessage::error(ErrorCode::SdpTooLarge, "big")).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"type":"error","code":"sdp_too_large","message":"big"})
    );
}

#[test]
fn fatal_codes_map_to_application_close_codes() {
    assert_eq!(ErrorCode::Unauthenticated.close_code(), 4001);
    assert_eq!(ErrorCode::MessageTooLarge.close_code(), 1009);
    assert_eq!(ErrorCode::BadMessage.close_code(), 1008);
}
