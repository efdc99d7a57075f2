//! Mini Meeting signaling: the WebSocket protocol between participants and the server, and the
//! live rooms it drives.
//!
//! - [`protocol`]: the wire messages (the one source of the TypeScript types).
//! - [`session`]: one WebSocket connection: auth deadline, limits, heartbeat.
//! - [`room`]: one meeting's live state and lifecycle, owned by one task; drives the SFU.
//! - [`hub`]: finds or starts rooms.
//! - [`lifecycle`]: the meeting state machine, pure.
//! - [`directory`]: what the server binary provides (token checks, persistence).

pub mod config;
pub mod directory;
pub mod hub;
pub mod lifecycle;
pub mod outbox;
pub mod protocol;
pub mod rate_limiter;
pub mod room;
pub mod session;
pub mod session_registry;
pub mod turn_credentials;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub use config::SignalingConfig;
pub use directory::{AuthUser, Directory, DirectoryError, MeetingRecord, MeetingStatus};
pub use hub::{ClientIpResolver, Hub, HubStats};

/// The `/ws` route.
pub fn router(hub: Hub) -> Router {
    Router::new().route("/ws", get(upgrade)).with_state(hub)
}

async fn upgrade(
    State(hub): State<Hub>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&headers, &hub.config().allowed_origins) {
        return refuse(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "this origin may not connect",
        );
    }
    let ip = hub.client_ip(&headers, peer.ip());
    let Some(admission) = hub.admit(ip) else {
        // Refused before the upgrade, so a flood of sockets costs no session state.
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_connections",
            "too many unauthenticated connections from this address",
        );
    };
    let max = hub.config().max_message_bytes;
    ws.max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| session::run(socket, hub, admission))
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    (status, axum::Json(body)).into_response()
}

/// Browsers send `Origin`; it must be the server's own host or a configured origin.
/// Clients without one (native apps, the headless participant) are not browsers.
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    if allowed
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    matches!((host, origin_host), (Some(h), Some(o)) if h.eq_ignore_ascii_case(o))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn origin_rules() {
        let allowed = vec!["https://meet.example.org".to_string()];
        assert!(origin_allowed(&headers(None, "a:1"), &allowed));
        assert!(origin_allowed(
            &headers(Some("http://a:1"), "a:1"),
            &allowed
        ));
        assert!(origin_allowed(
            &headers(Some("https://meet.example.org"), "a:1"),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(Some("http://evil.test"), "a:1"),
            &allowed
        ));
        assert!(origin_allowed(
            &headers(Some("http://evil.test"), "a:1"),
            &["*".to_string()]
        ));
    }
}
