//! A session whose meeting another node owns: its socket is carried to the owner over one
//! node-to-node WebSocket, frame by frame, for as long as it lives.
//!
//! Why a socket per session rather than messages over the Redis bus: frames stay in order and
//! under backpressure, the owner sees an ordinary session (every check, limit and message of
//! the protocol applies unchanged), a dead owner is noticed at once (the socket drops, the
//! client reconnects), and a Redis outage does not touch meetings already running.
//!
//! The owner trusts the client address we send only with the cluster's node token, which the
//! binary derives from the shared JWT secret.

use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame as UpstreamClose;
use tracing::{debug, info, warn};

use crate::outbox::AbortReceiver;
use crate::placement::RemoteNode;

/// Header carrying the cluster's node token on a forwarded socket.
pub const NODE_TOKEN_HEADER: &str = "x-mm-node-token";
/// Header carrying the client's address on a forwarded socket.
pub const CLIENT_IP_HEADER: &str = "x-mm-client-ip";
/// Longest wait for the owner to accept the forwarded socket.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Close code for "reconnect": the owner went away (clients reconnect on 1012).
const SERVICE_RESTART: u16 = 1012;

/// What the forwarded session needs from the one it replaces.
pub(crate) struct Forward<'a> {
    pub target: &'a RemoteNode,
    pub node_token: &'a str,
    pub client_ip: std::net::IpAddr,
    pub origin: Option<&'a str>,
    /// The client's `hello` and `join`, replayed to the owner in order.
    pub hello: String,
    pub join: String,
    pub heartbeat: Duration,
    pub dead_after: Duration,
    pub write_timeout: Duration,
}

/// Carries the session to the owner until either side closes; returns the close to send the
/// client, if any is still due.
pub(crate) async fn run(
    socket: &mut WebSocket,
    abort_rx: &mut AbortReceiver,
    f: Forward<'_>,
) -> Option<(u16, String)> {
    let url = ws_url(&f.target.url);
    let mut request = match url.as_str().into_client_request() {
        Ok(r) => r,
        Err(e) => {
            warn!(url, error = %e, "bad node URL");
            return Some((1011, "cannot reach the meeting's node".into()));
        }
    };
    let headers = request.headers_mut();
    for (name, value) in [
        (NODE_TOKEN_HEADER, Some(f.node_token.to_owned())),
        (CLIENT_IP_HEADER, Some(f.client_ip.to_string())),
        ("origin", f.origin.map(str::to_owned)),
    ] {
        if let Some(v) = value.and_then(|v| v.parse().ok()) {
            headers.insert(name, v);
        }
    }
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(crate::WS_BUFFER_BYTES)
        .write_buffer_size(crate::WS_BUFFER_BYTES);
    let connect = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
    let upstream = tokio::time::timeout(CONNECT_TIMEOUT, connect);
    let mut upstream = match upstream.await {
        Ok(Ok((ws, _))) => ws,
        Ok(Err(e)) => {
            warn!(node = %f.target.id, error = %e, "the meeting's node refused the forwarded session");
            return Some((1013, "the meeting's node is unreachable; try again".into()));
        }
        Err(_) => {
            warn!(node = %f.target.id, "the meeting's node did not answer in time");
            return Some((1013, "the meeting's node is unreachable; try again".into()));
        }
    };
    info!(node = %f.target.id, "session forwarded to the meeting's owner");
    for text in [f.hello, f.join] {
        if upstream
            .send(tungstenite::Message::text(text))
            .await
            .is_err()
        {
            return Some((SERVICE_RESTART, "the meeting's node went away".into()));
        }
    }
    // The client had its `welcome` from us; the owner's is dropped.
    let mut welcome_pending = true;
    let mut heartbeat = tokio::time::interval(f.heartbeat);
    heartbeat.reset();
    let mut last_seen = Instant::now();
    loop {
        tokio::select! {
            frame = socket.recv() => {
                let Some(Ok(frame)) = frame else {
                    let _ = upstream.close(None).await;
                    return None;
                };
                last_seen = Instant::now();
                let out = match frame {
                    Message::Text(t) => tungstenite::Message::text(t.as_str()),
                    Message::Binary(b) => tungstenite::Message::binary(b),
                    Message::Close(close) => {
                        let close = close.map(|c| UpstreamClose {
                            code: c.code.into(),
                            reason: c.reason.as_str().into(),
                        });
                        let _ = upstream.close(close).await;
                        return None;
                    }
                    Message::Ping(_) | Message::Pong(_) => continue,
                };
                if upstream.send(out).await.is_err() {
                    return Some((SERVICE_RESTART, "the meeting's node went away".into()));
                }
            }
            frame = upstream.next() => {
                let text = match frame {
                    Some(Ok(tungstenite::Message::Text(t))) => t,
                    Some(Ok(tungstenite::Message::Close(close))) => {
                        let (code, reason) = close
                            .map(|c| (u16::from(c.code), c.reason.as_str().to_owned()))
                            .unwrap_or((1000, String::new()));
                        return Some((code, reason));
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => {
                        debug!(error = %e, "forwarded session lost its node");
                        return Some((SERVICE_RESTART, "the meeting's node went away".into()));
                    }
                    None => return Some((SERVICE_RESTART, "the meeting's node went away".into())),
                };
                if welcome_pending {
                    welcome_pending = false;
                    if text.as_str().contains("\"type\":\"welcome\"") {
                        continue;
                    }
                }
                let write = socket.send(Message::Text(text.as_str().into()));
                if !matches!(tokio::time::timeout(f.write_timeout, write).await, Ok(Ok(()))) {
                    let _ = upstream.close(None).await;
                    return None;
                }
            }
            Some(order) = abort_rx.recv() => {
                let _ = upstream.close(None).await;
                if let Some(msg) = &order.last_words
                    && let Ok(text) = serde_json::to_string(msg) {
                    let _ = socket.send(Message::Text(text.into())).await;
                }
                return Some((order.code, order.reason));
            }
            _ = heartbeat.tick() => {
                // The owner sees our node answer its pings, not the client: liveness of the
                // client is checked here.
                if last_seen.elapsed() > f.dead_after {
                    let _ = upstream.close(None).await;
                    return None;
                }
                let ping = socket.send(Message::Ping(Default::default()));
                if !matches!(tokio::time::timeout(f.write_timeout, ping).await, Ok(Ok(()))) {
                    let _ = upstream.close(None).await;
                    return None;
                }
            }
        }
    }
}

/// `http://host:port` as advertised -> `ws://host:port/ws`.
fn ws_url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    let rest = base
        .strip_prefix("https://")
        .map(|r| format!("wss://{r}"))
        .or_else(|| base.strip_prefix("http://").map(|r| format!("ws://{r}")))
        .unwrap_or_else(|| format!("ws://{base}"));
    format!("{rest}/ws")
}

#[cfg(test)]
mod tests {
    use super::ws_url;

    #[test]
    fn node_urls_become_socket_urls() {
        assert_eq!(ws_url("http://10.0.0.2:8080"), "ws://10.0.0.2:8080/ws");
        assert_eq!(ws_url("http://10.0.0.2:8080/"), "ws://10.0.0.2:8080/ws");
        assert_eq!(ws_url("https://a.example"), "wss://a.example/ws");
        assert_eq!(ws_url("127.0.0.1:9"), "ws://127.0.0.1:9/ws");
    }
}
