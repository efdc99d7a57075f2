//! A Session: one signaling WebSocket. It authenticates, joins a room, checks every message
//! against the limits and forwards what is valid; a misbehaving client only ever affects
//! its own connection.
//!
//! Every way a session ends is bounded in time: no `hello` (auth deadline), no `join` (join
//! deadline), silence (heartbeat), a client that stops reading (write timeout, or the room
//! finds its queue full and aborts it through the control line).

use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use tokio::sync::{mpsc, oneshot};
use tracing::{Instrument, debug, info, info_span};

use crate::directory::AuthUser;
use crate::hub::{Hub, RoomPlace};
use crate::outbox::{Abort, AbortReceiver, Outbound, SessionLink};
use crate::placement::RemoteNode;
use crate::protocol::{ClientMessage, ErrorCode, MediaState, ParticipantId, ServerMessage};
use crate::rate_limiter::RateLimiter;
use crate::room::{JoinOutcome, RoomCmd, RoomHandle};
use crate::session_registry::SessionTicket;

/// Messages a room may queue for one session before the session counts as too slow.
const OUTBOX_CAPACITY: usize = 512;

/// How long a closing session waits for the client's close frame.
const CLOSE_LINGER: Duration = Duration::from_secs(2);

pub(crate) mod forward;
mod hello;
mod room_request;

enum State {
    AwaitHello,
    Authenticated(AuthUser),
    Joined {
        room: RoomHandle,
        participant: ParticipantId,
    },
    /// In a meeting's lobby: `joined` (through the outbox) makes it a participant.
    Waiting {
        room: RoomHandle,
        user: AuthUser,
    },
}

/// What the loop does after a message.
enum Flow {
    Continue,
    Close(u16, String),
    /// The meeting lives on another node: carry the socket there with this `join`.
    Forward(RemoteNode, String),
}

/// A session's place on this node: its id, its registry ticket and its control line, all made
/// before the upgrade so that a refused socket costs nothing.
pub(crate) struct Admission {
    pub id: u64,
    pub ticket: SessionTicket,
    pub abort_tx: mpsc::Sender<Abort>,
    pub abort_rx: AbortReceiver,
    /// Where the client connects from (a forwarded socket: the address its first node saw).
    pub ip: std::net::IpAddr,
    pub origin: Option<String>,
    /// Forwarded by another node of the cluster, which chose this one.
    pub forwarded: bool,
}

pub(crate) async fn run(socket: WebSocket, hub: Hub, admission: Admission) {
    let span = info_span!("session", id = admission.id);
    Session::new(hub, admission)
        .run(socket)
        .instrument(span)
        .await;
}

struct Session {
    hub: Hub,
    id: u64,
    ticket: SessionTicket,
    state: State,
    limiter: RateLimiter,
    violations: u32,
    last_seen: Instant,
    write_timeout: Duration,
    outbox_tx: mpsc::Sender<Outbound>,
    outbox: mpsc::Receiver<Outbound>,
    abort_tx: mpsc::Sender<Abort>,
    abort_rx: AbortReceiver,
    ip: std::net::IpAddr,
    origin: Option<String>,
    forwarded: bool,
    /// The client's `hello`, kept to replay it if the session is forwarded to another node.
    hello: Option<String>,
}

impl Session {
    fn new(hub: Hub, admission: Admission) -> Self {
        let now = Instant::now();
        let cfg = hub.config();
        let limiter = RateLimiter::new(cfg.messages_per_second, cfg.message_burst, now);
        let write_timeout = cfg.write_timeout;
        let (outbox_tx, outbox) = mpsc::channel(OUTBOX_CAPACITY);
        Self {
            hub,
            id: admission.id,
            ticket: admission.ticket,
            state: State::AwaitHello,
            limiter,
            violations: 0,
            last_seen: now,
            write_timeout,
            outbox_tx,
            outbox,
            abort_tx: admission.abort_tx,
            abort_rx: admission.abort_rx,
            ip: admission.ip,
            origin: admission.origin,
            forwarded: admission.forwarded,
            hello: None,
        }
    }

    async fn run(mut self, mut socket: WebSocket) {
        let cfg = self.hub.config();
        let auth_deadline = tokio::time::Instant::now() + cfg.auth_timeout;
        let mut join_deadline = tokio::time::Instant::now();
        let mut heartbeat = tokio::time::interval(cfg.heartbeat_interval);
        heartbeat.reset();
        let dead_after = cfg.dead_after();
        let join_timeout = cfg.join_timeout;
        let mut forward_to = None;
        let mut close = loop {
            let awaiting_hello = matches!(self.state, State::AwaitHello);
            let awaiting_join = matches!(self.state, State::Authenticated(_));
            let flow = tokio::select! {
                frame = socket.recv() => match frame {
                    None | Some(Ok(Message::Close(_))) => break None,
                    Some(Err(e)) => {
                        debug!(error = %e, "socket error");
                        // The only read error a client can provoke on purpose is a frame over
                        // the size limit; tell it why before hanging up.
                        let _ = self.write(&mut socket, &ServerMessage::error(
                            ErrorCode::MessageTooLarge, "a frame is over the size limit")).await;
                        break Some((1009, "message too large".to_string()));
                    }
                    Some(Ok(frame)) => {
                        self.last_seen = Instant::now();
                        let flow = self.on_frame(&mut socket, frame).await;
                        if awaiting_hello && matches!(self.state, State::Authenticated(_)) {
                            join_deadline = tokio::time::Instant::now() + join_timeout;
                        }
                        flow
                    }
                },
                out = self.outbox.recv() => match out {
                    Some(Outbound::Message(msg)) => {
                        self.admitted(&msg);
                        if self.write(&mut socket, &msg).await.is_err() { break None; }
                        Flow::Continue
                    }
                    Some(Outbound::LeftLobby) => {
                        if let State::Waiting { user, .. } = &self.state {
                            self.state = State::Authenticated(user.clone());
                            join_deadline = tokio::time::Instant::now() + join_timeout;
                        }
                        Flow::Continue
                    }
                    Some(Outbound::Close { code, reason }) => Flow::Close(code, reason),
                    None => Flow::Close(1008, "too slow to keep up".into()),
                },
                Some(order) = self.abort_rx.recv() => {
                    // Whatever the room queued before (for example "meeting ended") goes
                    // first; the flush below is bounded like every write.
                    if let Some(msg) = &order.last_words {
                        let _ = self.outbox_tx.try_send(Outbound::Message(msg.clone()));
                    }
                    Flow::Close(order.code, order.reason)
                }
                _ = heartbeat.tick() => {
                    if self.last_seen.elapsed() > dead_after {
                        info!("connection silent for too long; dropping it");
                        break None;
                    }
                    let ping = tokio::time::timeout(
                        self.write_timeout, socket.send(Message::Ping(Default::default())));
                    if !matches!(ping.await, Ok(Ok(()))) { break None; }
                    Flow::Continue
                }
                _ = tokio::time::sleep_until(auth_deadline), if awaiting_hello => {
                    let _ = self.write(&mut socket, &ServerMessage::error(
                        ErrorCode::AuthTimeout, "send hello with a token first")).await;
                    Flow::Close(ErrorCode::AuthTimeout.close_code(), "authentication timeout".into())
                }
                _ = tokio::time::sleep_until(join_deadline), if awaiting_join => {
                    let _ = self.write(&mut socket, &ServerMessage::error(
                        ErrorCode::JoinTimeout, "join a meeting within the deadline")).await;
                    Flow::Close(ErrorCode::JoinTimeout.close_code(), "join timeout".into())
                }
            };
            match flow {
                Flow::Continue => {}
                Flow::Close(code, reason) => break Some((code, reason)),
                Flow::Forward(node, join) => {
                    forward_to = Some((node, join));
                    break None;
                }
            }
        };
        if let Some((node, join)) = forward_to {
            close = self.forward(&mut socket, &node, join).await;
        }
        if let Some((code, reason)) = close {
            // The whole goodbye is bounded: a client that stopped reading cannot hold it.
            let bound = self.write_timeout + CLOSE_LINGER;
            let _ = tokio::time::timeout(bound, self.goodbye(&mut socket, code, reason)).await;
        }
        match &self.state {
            State::Joined { room, participant } => {
                let participant = *participant;
                (room.send(RoomCmd::SessionGone {
                    participant,
                    session: self.id,
                }))
                .await;
            }
            State::Waiting { room, .. } => {
                room.send(RoomCmd::LobbyGone { session: self.id }).await;
            }
            _ => {}
        }
        debug!("session ended");
    }

    /// Carries the rest of this session to the node that owns its meeting.
    async fn forward(
        &mut self,
        socket: &mut WebSocket,
        node: &RemoteNode,
        join: String,
    ) -> Option<(u16, String)> {
        let cfg = self.hub.config();
        let (Some(node_token), Some(hello)) = (cfg.node_token.clone(), self.hello.take()) else {
            return Some((1011, "this node cannot forward sessions".into()));
        };
        let f = forward::Forward {
            target: node,
            node_token: &node_token,
            client_ip: self.ip,
            origin: self.origin.as_deref(),
            hello,
            join,
            heartbeat: cfg.heartbeat_interval,
            dead_after: cfg.dead_after(),
            write_timeout: self.write_timeout,
        };
        forward::run(socket, &mut self.abort_rx, f).await
    }

    /// Flushes what the room queued before the close, sends the close frame and completes the
    /// closing handshake: dropping a socket with unread input makes the kernel reset the
    /// connection, and the client would lose our last words.
    async fn goodbye(&mut self, socket: &mut WebSocket, code: u16, reason: String) {
        while let Ok(Outbound::Message(msg)) = self.outbox.try_recv() {
            if self.write(socket, &msg).await.is_err() {
                return;
            }
        }
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        if socket.send(Message::Close(Some(frame))).await.is_ok() {
            let _ = tokio::time::timeout(CLOSE_LINGER, async {
                while let Some(Ok(frame)) = socket.recv().await {
                    if matches!(frame, Message::Close(_)) {
                        break;
                    }
                }
            })
            .await;
        }
    }

    /// A host let this session in from the lobby: the `joined` the room queued names its
    /// participant, and from now on its requests go to the room as that participant's.
    fn admitted(&mut self, msg: &ServerMessage) {
        if let (State::Waiting { room, .. }, ServerMessage::Joined { participant_id, .. }) =
            (&self.state, msg)
        {
            let (room, participant) = (room.clone(), *participant_id);
            tracing::Span::current().record("participant", participant.0);
            info!(participant = %participant, "admitted from the lobby");
            self.state = State::Joined { room, participant };
        }
    }

    /// In the lobby only `leave` (withdraw) and `ping` mean anything.
    async fn on_waiting(&mut self, socket: &mut WebSocket, msg: ClientMessage) -> Flow {
        let State::Waiting { room, .. } = &self.state else {
            return Flow::Continue;
        };
        match msg {
            ClientMessage::Leave => {
                room.send(RoomCmd::LobbyGone { session: self.id }).await;
                Flow::Close(1000, "left the lobby".into())
            }
            ClientMessage::Hello { .. } | ClientMessage::Join { .. } => {
                self.reply(
                    socket,
                    ErrorCode::AlreadyJoined,
                    "waiting in a lobby already",
                )
                .await
            }
            _ => {
                let message = "waiting in the lobby for a host to let you in";
                self.reply(socket, ErrorCode::NotJoined, message).await
            }
        }
    }

    /// Writes one message, bounded by the write timeout.
    async fn write(&self, socket: &mut WebSocket, msg: &ServerMessage) -> Result<(), ()> {
        match tokio::time::timeout(self.write_timeout, send(socket, msg)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(()),
            Err(_) => {
                info!("client stopped reading; dropping the connection");
                Err(())
            }
        }
    }

    async fn on_frame(&mut self, socket: &mut WebSocket, frame: Message) -> Flow {
        let text = match frame {
            Message::Text(text) => text,
            Message::Binary(_) => {
                return self
                    .reply(socket, ErrorCode::BadMessage, "binary frames are not used")
                    .await;
            }
            _ => return Flow::Continue, // ping/pong: liveness only
        };
        if !self.limiter.allow(Instant::now()) {
            self.violations += 1;
            if self.violations > self.hub.config().max_violations {
                let _ = self
                    .write(
                        socket,
                        &ServerMessage::error(ErrorCode::RateLimited, "too many messages"),
                    )
                    .await;
                return Flow::Close(ErrorCode::RateLimited.close_code(), "rate limited".into());
            }
            return self
                .reply(
                    socket,
                    ErrorCode::RateLimited,
                    "too many messages; slow down",
                )
                .await;
        }
        match parse(&text) {
            Ok(msg) => self.on_message(socket, msg).await,
            Err((code, message)) => self.reply(socket, code, &message).await,
        }
    }

    async fn on_message(&mut self, socket: &mut WebSocket, msg: ClientMessage) -> Flow {
        if let ClientMessage::Ping { nonce } = msg {
            let _ = self.write(socket, &ServerMessage::Pong { nonce }).await;
            return Flow::Continue;
        }
        match &self.state {
            State::AwaitHello => self.on_hello(socket, msg).await,
            State::Authenticated(_) => self.on_join(socket, msg).await,
            State::Joined { .. } => self.on_joined(socket, msg).await,
            State::Waiting { .. } => self.on_waiting(socket, msg).await,
        }
    }

    async fn on_join(&mut self, socket: &mut WebSocket, msg: ClientMessage) -> Flow {
        let State::Authenticated(user) = &self.state else {
            return Flow::Continue;
        };
        let ClientMessage::Join {
            meeting_code,
            resume_token,
            media,
        } = msg
        else {
            let (code, message) = match msg {
                ClientMessage::Hello { .. } => (ErrorCode::AlreadyJoined, "already authenticated"),
                _ => (ErrorCode::NotJoined, "join a meeting first"),
            };
            return self.reply(socket, code, message).await;
        };
        if meeting_code.len() > 64 || resume_token.as_ref().is_some_and(|t| t.len() > 128) {
            return self
                .reply(
                    socket,
                    ErrorCode::BadMessage,
                    "meeting code or token too long",
                )
                .await;
        }
        let room = match self.hub.room(&meeting_code, self.forwarded).await {
            Ok(RoomPlace::Here(room)) => room,
            Ok(RoomPlace::Elsewhere(_)) if self.forwarded => {
                // Sent here by another node, and this one would send it on again: ownership is
                // changing hands (a lease about to expire). Never chain: the client retries.
                let message = "the meeting is moving between nodes; try again shortly";
                let _ = self.reply(socket, ErrorCode::Unavailable, message).await;
                return Flow::Close(ErrorCode::Unavailable.close_code(), message.into());
            }
            Ok(RoomPlace::Elsewhere(node)) => {
                let join = ClientMessage::Join {
                    meeting_code,
                    resume_token,
                    media,
                };
                return match serde_json::to_string(&join) {
                    Ok(join) => Flow::Forward(node, join),
                    Err(_) => Flow::Close(1011, "internal error".into()),
                };
            }
            Err(e) if e.code == ErrorCode::Unavailable => {
                // Nothing to do here until the cluster can place the meeting: the client
                // reconnects with back-off (1013).
                let _ = self.reply(socket, e.code, &e.message).await;
                return Flow::Close(e.code.close_code(), e.message);
            }
            Err(e) => return self.reply(socket, e.code, &e.message).await,
        };
        let (reply, answer) = oneshot::channel();
        let cmd = RoomCmd::Join {
            user: user.clone(),
            resume_token,
            media: media.unwrap_or(MediaState::default()),
            session: SessionLink::new(self.id, self.outbox_tx.clone(), self.abort_tx.clone()),
            reply,
        };
        let result = if room.send(cmd).await {
            answer.await.ok()
        } else {
            None
        };
        match result {
            Some(Ok(JoinOutcome::Waiting)) => {
                info!(meeting = %meeting_code, "waiting in the lobby");
                let user = user.clone();
                self.state = State::Waiting { room, user };
                Flow::Continue
            }
            Some(Ok(JoinOutcome::Joined(participant))) => {
                tracing::Span::current().record("participant", participant.0);
                info!(participant = %participant, meeting = %meeting_code, "joined");
                self.state = State::Joined { room, participant };
                Flow::Continue
            }
            Some(Err(e)) => self.reply(socket, e.code, &e.message).await,
            None => {
                self.reply(socket, ErrorCode::MeetingEnded, "the meeting has ended")
                    .await
            }
        }
    }

    async fn on_joined(&mut self, socket: &mut WebSocket, msg: ClientMessage) -> Flow {
        let State::Joined { room, participant } = &self.state else {
            return Flow::Continue;
        };
        let request = match room_request::route(msg, self.hub.config()) {
            room_request::Routed::ToRoom(request) => request,
            room_request::Routed::Nothing => return Flow::Continue,
            room_request::Routed::Refused(code, message) => {
                return self.reply(socket, code, &message).await;
            }
        };
        room.send(RoomCmd::Request {
            participant: *participant,
            session: self.id,
            request,
        })
        .await;
        Flow::Continue
    }

    /// Sends a non-fatal error; the connection stays open.
    async fn reply(&self, socket: &mut WebSocket, code: ErrorCode, message: &str) -> Flow {
        if self
            .write(socket, &ServerMessage::error(code, message))
            .await
            .is_err()
        {
            return Flow::Close(1011, "send failed".into());
        }
        Flow::Continue
    }
}

/// Parses a client frame, telling bad JSON apart from a type this server does not know.
pub fn parse(text: &str) -> Result<ClientMessage, (ErrorCode, String)> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| (ErrorCode::BadMessage, format!("not valid JSON: {e}")))?;
    let Some(kind) = value.get("type").and_then(|t| t.as_str()) else {
        return Err((
            ErrorCode::BadMessage,
            "a message is a JSON object with a string \"type\"".into(),
        ));
    };
    let kind = kind.chars().take(40).collect::<String>();
    serde_json::from_value(value).map_err(|e| {
        if e.to_string().starts_with("unknown variant") {
            (
                ErrorCode::UnknownType,
                format!("unknown message type {kind:?}"),
            )
        } else {
            (ErrorCode::BadMessage, format!("bad {kind} message: {e}"))
        }
    })
}

async fn send(socket: &mut WebSocket, msg: &ServerMessage) -> Result<(), axum::Error> {
    let text = serde_json::to_string(msg).expect("server messages serialize");
    socket.send(Message::Text(text.into())).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_tells_error_kinds_apart() {
        assert_eq!(parse("{nope").unwrap_err().0, ErrorCode::BadMessage);
        assert_eq!(parse("[1,2]").unwrap_err().0, ErrorCode::BadMessage);
        assert_eq!(
            parse(r#"{"type":"fly"}"#).unwrap_err().0,
            ErrorCode::UnknownType
        );
        assert_eq!(
            parse(r#"{"type":"chat","text":5}"#).unwrap_err().0,
            ErrorCode::BadMessage
        );
        assert_eq!(
            parse(r#"{"type":"chat","text":"hi"}"#).unwrap(),
            ClientMessage::Chat { text: "hi".into() }
        );
    }
}
