//! A raw signaling client for protocol tests: sends any frame, waits for typed messages.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Long enough for a loaded CI machine; a bound, not a timing assertion.
const WAIT: Duration = Duration::from_secs(30);

pub struct WsClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Messages received while waiting for another type, in order.
    pub seen: Vec<Value>,
}

impl WsClient {
    pub async fn connect(url: &str) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Self {
            ws,
            seen: Vec::new(),
        }
    }

    /// As a browser on `origin` would connect.
    pub async fn connect_with_origin(url: &str, origin: &str) -> Self {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        Self::connect_request(request).await
    }

    /// Connects with a request of the test's own (extra headers).
    pub async fn connect_request(
        request: tokio_tungstenite::tungstenite::handshake::client::Request,
    ) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        Self {
            ws,
            seen: Vec::new(),
        }
    }

    pub async fn send(&mut self, v: Value) {
        self.send_text(v.to_string()).await;
    }

    pub async fn send_text(&mut self, text: String) {
        self.ws.send(Message::Text(text.into())).await.unwrap();
    }

    /// Sends, ignoring failure (the server may already have closed the socket).
    pub async fn try_send_text(&mut self, text: String) -> bool {
        self.ws.send(Message::Text(text.into())).await.is_ok()
    }

    /// The next JSON message, or None when the socket closed.
    pub async fn next(&mut self) -> Option<Value> {
        // One deadline for the message, not per frame: the server's pings every few seconds
        // must not keep a wait for a message that never comes alive for ever.
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .expect("no message from the server in time");
            match frame {
                Some(Ok(Message::Text(t))) => return Some(serde_json::from_str(&t).unwrap()),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Waits for a message of type `kind` that satisfies `pred`.
    pub async fn expect_where(&mut self, kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let msg = self.next().await.unwrap_or_else(|| {
                panic!(
                    "socket closed while waiting for {kind}; saw {:?}",
                    self.seen
                )
            });
            if msg["type"] == kind && pred(&msg) {
                return msg;
            }
            self.seen.push(msg);
        }
    }

    pub async fn expect(&mut self, kind: &str) -> Value {
        self.expect_where(kind, |_| true).await
    }

    pub async fn expect_error(&mut self, code: &str) -> Value {
        self.expect_where("error", |m| m["code"] == code).await
    }

    /// Reads until the server closes; returns the close code.
    pub async fn expect_close(&mut self) -> u16 {
        loop {
            let frame = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("the server did not close the socket in time");
            match frame {
                Some(Ok(Message::Close(frame))) => {
                    return frame.map(|f| u16::from(f.code)).unwrap_or(1005);
                }
                Some(Ok(Message::Text(t))) => self.seen.push(serde_json::from_str(&t).unwrap()),
                Some(Ok(_)) => {}
                None | Some(Err(_)) => return 1006,
            }
        }
    }

    /// Drops the TCP connection without a close handshake, as a crashed client would.
    pub fn drop_abruptly(self) {
        drop(self.ws);
    }
}
