//! The property the `signaling_frame` fuzz target and `signaling/tests/fuzz_regressions.rs`
//! both check: a client frame never panics the decoder, a rejection carries one of the two
//! decoding codes with a bounded message, and an accepted message survives a round trip.

use mm_signaling::protocol::{ClientMessage, ErrorCode};
use mm_signaling::session::parse;

/// Feeds `data` (as a WebSocket text frame, so UTF-8 only) to the decoder.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse(text) {
        Ok(msg) => {
            let again = serde_json::to_string(&msg).expect("a parsed message serializes");
            let back: ClientMessage = parse(&again).expect("a serialized message parses");
            assert_eq!(back, msg, "round trip of {text:?}");
        }
        Err((code, message)) => {
            assert!(
                matches!(code, ErrorCode::BadMessage | ErrorCode::UnknownType),
                "decoding error code {code:?}"
            );
            assert!(
                message.len() <= 2 * text.len() + 256,
                "error message of {} bytes for {} bytes of input",
                message.len(),
                text.len()
            );
        }
    }
}
