//! The crate's error type.

use crate::wire::ErrorCode;

/// Everything that can go wrong for a headless participant or the API client.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("HTTP request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The REST API answered with its `{"error":{"code","message"}}` body.
    #[error("API returned {status} {code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    #[error("WebSocket: {0}")]
    WebSocket(Box<tokio_tungstenite::tungstenite::Error>),
    #[error("WebRTC: {0}")]
    WebRtc(Box<webrtc::Error>),
    /// The signaling server sent `error` in reply to what we were waiting for.
    #[error("server error {code:?}: {message}")]
    Server { code: ErrorCode, message: String },
    #[error("timed out waiting for {0}")]
    Timeout(String),
    /// The signaling connection is closed (`code` from the close frame, if any).
    #[error("signaling connection closed (code {code:?})")]
    Closed { code: Option<u16> },
    #[error("{0}")]
    Protocol(String),
}

impl From<tokio_tungstenite::tungstenite::Error> for BenchError {
    fn from(e: tokio_tungstenite::tungstenite::Error) -> Self {
        Self::WebSocket(Box::new(e))
    }
}

impl From<webrtc::Error> for BenchError {
    fn from(e: webrtc::Error) -> Self {
        Self::WebRtc(Box::new(e))
    }
}

pub type Result<T, E = BenchError> = std::result::Result<T, E>;
