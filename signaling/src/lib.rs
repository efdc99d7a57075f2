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
pub mod placement;
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
pub use directory::{
    AuthUser, Directory, DirectoryError, MeetingClaim, MeetingRecord, MeetingStatus,
};
pub use hub::{ClientIpResolver, Hub, HubStats};
pub use placement::{Claim, Kept, Ownership, Placement, PlacementError, RemoteNode};
pub use session::forward::{CLIENT_IP_HEADER, NODE_TOKEN_HEADER};

/// Read and write buffer of each signaling socket. tungstenite's default, 128 KiB each way,
/// is sized for bulk transfer; signaling messages are small and rare, and every participant
/// holds a socket, forwarded ones two (a larger message still gets through: the buffers grow
/// for it).
pub(crate) const WS_BUFFER_BYTES: usize = 8 * 1024;

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
    // A forwarded socket's origin was checked by the node the browser reached, against that
    // node's own host; here the host is ours, and the browser's origin would not match it.
    let forwarded = forwarded_by_node(&headers, hub.config().node_token.as_deref());
    if forwarded.is_none() && !origin_allowed(&headers, &hub.config().allowed_origins) {
        return refuse(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "this origin may not connect",
        );
    }
    let ip = match forwarded {
        Some(ip) => ip,
        None => hub.client_ip(&headers, peer.ip()),
    };
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_owned);
    let Some(admission) = hub.admit(ip, origin, forwarded.is_some()) else {
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
        .read_buffer_size(WS_BUFFER_BYTES)
        .write_buffer_size(WS_BUFFER_BYTES)
        .on_upgrade(move |socket| session::run(socket, hub, admission))
}

/// A socket another node of the cluster forwarded: the client's address it passes on, trusted
/// only with the cluster's node token.
fn forwarded_by_node(headers: &HeaderMap, node_token: Option<&str>) -> Option<std::net::IpAddr> {
    let expected = node_token?;
    let presented = headers.get(NODE_TOKEN_HEADER)?.as_bytes();
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        presented,
        expected.as_bytes(),
    )) {
        return None;
    }
    headers.get(CLIENT_IP_HEADER)?.to_str().ok()?.parse().ok()
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
    fn only_the_node_token_makes_a_socket_forwarded() {
        let mut h = HeaderMap::new();
        h.insert(CLIENT_IP_HEADER, HeaderValue::from_static("203.0.113.9"));
        assert_eq!(forwarded_by_node(&h, Some("secret")), None);
        h.insert(NODE_TOKEN_HEADER, HeaderValue::from_static("wrong!"));
        assert_eq!(forwarded_by_node(&h, Some("secret")), None);
        h.insert(NODE_TOKEN_HEADER, HeaderValue::from_static("secret"));
        assert_eq!(
            forwarded_by_node(&h, Some("secret")),
            Some("203.0.113.9".parse().unwrap())
        );
        // A single server trusts no forwarding at all.
        assert_eq!(forwarded_by_node(&h, None), None);
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
