//! One signaling WebSocket: a writer task fed by a channel and a reader task that parses
//! server messages, so the participant's event loop never blocks on the socket.

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use crate::error::{BenchError, Result};
use crate::participant_state::CloseInfo;
use crate::wire::{ClientMessage, ServerMessage};

/// What the reader task reports.
#[derive(Debug)]
pub enum Incoming {
    Message(Box<ServerMessage>),
    /// A text frame that is not a known server message.
    Unparsed(String),
    /// The socket ended; nothing follows.
    Closed(CloseInfo),
}

/// Sends client messages on the connection. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SignalingSender {
    tx: mpsc::UnboundedSender<Message>,
}

impl SignalingSender {
    pub fn send(&self, msg: &ClientMessage) -> Result<()> {
        let text = serde_json::to_string(msg).map_err(|e| BenchError::Protocol(e.to_string()))?;
        self.send_raw(Message::text(text))
    }

    /// Any frame, e.g. malformed JSON for protocol tests or a close frame.
    pub fn send_raw(&self, frame: Message) -> Result<()> {
        self.tx
            .send(frame)
            .map_err(|_| BenchError::Closed { code: None })
    }
}

/// An open WebSocket. Dropping it aborts both tasks, which drops the TCP connection without a
/// close frame (what a crashed tab or a lost network looks like to the server).
pub struct SignalingConnection {
    sender: SignalingSender,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

impl SignalingConnection {
    /// Connects to `url` (`ws://host/ws`); incoming messages go to the returned receiver.
    pub async fn connect(url: &str) -> Result<(Self, mpsc::UnboundedReceiver<Incoming>)> {
        let (socket, _response) = tokio_tungstenite::connect_async(url).await?;
        let (mut sink, mut stream) = socket.split();
        let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Message>();
        let (in_tx, in_rx) = mpsc::unbounded_channel();
        let writer = tokio::spawn(async move {
            while let Some(frame) = out_rx.recv().await {
                let closing = matches!(frame, Message::Close(_));
                if sink.send(frame).await.is_err() || closing {
                    break;
                }
            }
        });
        let reader = tokio::spawn(async move {
            let close = loop {
                match stream.next().await {
                    Some(Ok(Message::Text(text))) => {
                        let incoming = match serde_json::from_str::<ServerMessage>(&text) {
                            Ok(msg) => Incoming::Message(Box::new(msg)),
                            Err(_) => Incoming::Unparsed(text.to_string()),
                        };
                        if in_tx.send(incoming).is_err() {
                            return;
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        break CloseInfo {
                            code: frame.as_ref().map(|f| u16::from(f.code)),
                            reason: frame.map(|f| f.reason.to_string()).unwrap_or_default(),
                            by_server: true,
                        };
                    }
                    Some(Ok(_)) => {} // ping/pong (answered by tungstenite), binary
                    Some(Err(e)) => {
                        break CloseInfo {
                            code: None,
                            reason: e.to_string(),
                            by_server: true,
                        };
                    }
                    None => {
                        break CloseInfo {
                            code: None,
                            reason: "connection ended".into(),
                            by_server: true,
                        };
                    }
                }
            };
            let _ = in_tx.send(Incoming::Closed(close));
        });
        let conn = Self {
            sender: SignalingSender { tx: out_tx },
            reader,
            writer,
        };
        Ok((conn, in_rx))
    }

    pub fn sender(&self) -> SignalingSender {
        self.sender.clone()
    }

    /// Queues a close frame after whatever is queued and waits (up to `timeout`) until the
    /// writer has sent both: a browser's `ws.close()` right after its last message.
    pub async fn close(&mut self, code: u16, reason: &str, timeout: std::time::Duration) {
        let frame = CloseFrame {
            code: code.into(),
            reason: reason.to_owned().into(),
        };
        if self.sender.send_raw(Message::Close(Some(frame))).is_ok() {
            let _ = tokio::time::timeout(timeout, &mut self.writer).await;
        }
    }

    /// Stops reading while the connection stays open: what a frozen client looks like. The
    /// server's frames, pings included, pile up unanswered in the kernel's buffers.
    pub fn stop_reading(&self) {
        self.reader.abort();
    }
}

impl Drop for SignalingConnection {
    fn drop(&mut self) {
        self.reader.abort();
        self.writer.abort();
    }
}
