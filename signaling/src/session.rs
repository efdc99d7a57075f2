//! A Session: one signaling WebSocket. It authenticates, joins a room, checks every message
//! against the limits and forwards what is valid; a misbehaving client only ever affects
//! its own connection.

use std::time::Instant;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use tokio::sync::{mpsc, oneshot};
use tracing::{Instrument, debug, info, info_span};

use crate::directory::{AuthUser, DirectoryError};
use crate::hub::Hub;
use crate::outbox::{Outbound, SessionLink};
use crate::protocol::{
    ClientMessage, ErrorCode, MediaState, PROTOCOL_VERSION, ParticipantId, ServerMessage,
};
use crate::rate_limiter::RateLimiter;
use crate::room::{RoomCmd, RoomHandle, RoomRequest};

/// Messages a room may queue for one session before the session counts as too slow.
const OUTBOX_CAPACITY: usize = 512;

/// How long a closing session waits for the client's close frame.
const CLOSE_LINGER: std::time::Duration = std::time::Duration::from_secs(2);

enum State {
    AwaitHello,
    Authenticated(AuthUser),
    Joined {
        room: RoomHandle,
        participant: ParticipantId,
    },
}

/// What the loop does after a message.
enum Flow {
    Continue,
    Close(u16, String),
}

pub(crate) async fn run(socket: WebSocket, hub: Hub) {
    let id = hub.next_id();
    let span = info_span!("session", id);
    Session::new(hub, id).run(socket).instrument(span).await;
}

struct Session {
    hub: Hub,
    id: u64,
    state: State,
    limiter: RateLimiter,
    violations: u32,
    last_seen: Instant,
    outbox_tx: mpsc::Sender<Outbound>,
    outbox: mpsc::Receiver<Outbound>,
}

impl Session {
    fn new(hub: Hub, id: u64) -> Self {
        let now = Instant::now();
        let cfg = hub.config();
        let limiter = RateLimiter::new(cfg.messages_per_second, cfg.message_burst, now);
        let (outbox_tx, outbox) = mpsc::channel(OUTBOX_CAPACITY);
        Self {
            hub,
            id,
            state: State::AwaitHello,
            limiter,
            violations: 0,
            last_seen: now,
            outbox_tx,
            outbox,
        }
    }

    async fn run(mut self, mut socket: WebSocket) {
        let auth_deadline = tokio::time::Instant::now() + self.hub.config().auth_timeout;
        let mut heartbeat = tokio::time::interval(self.hub.config().heartbeat_interval);
        heartbeat.reset();
        let dead_after = self.hub.config().dead_after();
        let close = loop {
            let awaiting_hello = matches!(self.state, State::AwaitHello);
            let flow = tokio::select! {
                frame = socket.recv() => match frame {
                    None | Some(Ok(Message::Close(_))) => break None,
                    Some(Err(e)) => {
                        debug!(error = %e, "socket error");
                        // The only read error a client can provoke on purpose is a frame over
                        // the size limit; tell it why before hanging up.
                        break Some((1009, "message too large".to_string()));
                    }
                    Some(Ok(frame)) => {
                        self.last_seen = Instant::now();
                        self.on_frame(&mut socket, frame).await
                    }
                },
                out = self.outbox.recv() => match out {
                    Some(Outbound::Message(msg)) => {
                        if send(&mut socket, &msg).await.is_err() { break None; }
                        Flow::Continue
                    }
                    Some(Outbound::Close { code, reason }) => Flow::Close(code, reason),
                    None => Flow::Close(1008, "too slow to keep up".into()),
                },
                _ = heartbeat.tick() => {
                    if self.last_seen.elapsed() > dead_after {
                        info!("connection silent for too long; dropping it");
                        break None;
                    }
                    if socket.send(Message::Ping(Default::default())).await.is_err() { break None; }
                    Flow::Continue
                }
                _ = tokio::time::sleep_until(auth_deadline), if awaiting_hello => {
                    let _ = send(&mut socket, &ServerMessage::error(
                        ErrorCode::AuthTimeout, "send hello with a token first")).await;
                    Flow::Close(ErrorCode::AuthTimeout.close_code(), "authentication timeout".into())
                }
            };
            if let Flow::Close(code, reason) = flow {
                break Some((code, reason));
            }
        };
        if let Some((code, reason)) = close {
            // Flush what the room queued before the close (for example "meeting ended").
            while let Ok(Outbound::Message(msg)) = self.outbox.try_recv() {
                let _ = send(&mut socket, &msg).await;
            }
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            if socket.send(Message::Close(Some(frame))).await.is_ok() {
                // Complete the closing handshake: dropping a socket with unread input makes
                // the kernel reset the connection, and the client would lose our last words.
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
        if let State::Joined { room, participant } = &self.state {
            room.send(RoomCmd::SessionGone {
                participant: *participant,
                session: self.id,
            })
            .await;
        }
        debug!("session ended");
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
                let _ = send(
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
            let _ = send(socket, &ServerMessage::Pong { nonce }).await;
            return Flow::Continue;
        }
        match &self.state {
            State::AwaitHello => self.on_hello(socket, msg).await,
            State::Authenticated(_) => self.on_join(socket, msg).await,
            State::Joined { .. } => self.on_joined(socket, msg).await,
        }
    }

    async fn on_hello(&mut self, socket: &mut WebSocket, msg: ClientMessage) -> Flow {
        let ClientMessage::Hello { version, token } = msg else {
            let _ = self
                .reply(socket, ErrorCode::Unauthenticated, "send hello first")
                .await;
            return Flow::Close(4001, "unauthenticated".into());
        };
        if version != PROTOCOL_VERSION {
            let _ = self
                .reply(
                    socket,
                    ErrorCode::UnsupportedVersion,
                    &format!("this server speaks protocol version {PROTOCOL_VERSION}"),
                )
                .await;
            return Flow::Close(4003, "unsupported version".into());
        }
        match self.hub.directory().authenticate(&token).await {
            Ok(user) => {
                info!(user = user.user_id, "authenticated");
                let welcome = ServerMessage::Welcome {
                    version: PROTOCOL_VERSION,
                    user_id: user.user_id,
                    name: user.name.clone(),
                    heartbeat_interval_ms: self.hub.config().heartbeat_interval.as_millis() as u32,
                };
                self.state = State::Authenticated(user);
                let _ = send(socket, &welcome).await;
                Flow::Continue
            }
            Err(DirectoryError::Unauthenticated) => {
                let _ = self
                    .reply(
                        socket,
                        ErrorCode::Unauthenticated,
                        "invalid or expired token",
                    )
                    .await;
                Flow::Close(4001, "unauthenticated".into())
            }
            Err(e) => {
                tracing::warn!(error = %e, "authentication failed");
                let _ = self
                    .reply(socket, ErrorCode::Internal, "could not check the token")
                    .await;
                Flow::Close(1011, "internal error".into())
            }
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
            let code = match msg {
                ClientMessage::Hello { .. } => ErrorCode::BadMessage,
                _ => ErrorCode::NotJoined,
            };
            return self.reply(socket, code, "join a meeting first").await;
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
        let room = match self.hub.room(&meeting_code).await {
            Ok(room) => room,
            Err(e) => return self.reply(socket, e.code, &e.message).await,
        };
        let (reply, answer) = oneshot::channel();
        let cmd = RoomCmd::Join {
            user: user.clone(),
            resume_token,
            media: media.unwrap_or(MediaState::default()),
            session: SessionLink::new(self.id, self.outbox_tx.clone()),
            reply,
        };
        let result = if room.send(cmd).await {
            answer.await.ok()
        } else {
            None
        };
        match result {
            Some(Ok(participant)) => {
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
        let cfg = self.hub.config();
        let request = match msg {
            ClientMessage::PublishOffer { sdp, tracks } => {
                if sdp.len() > cfg.max_sdp_bytes {
                    return self
                        .reply(socket, ErrorCode::SdpTooLarge, "SDP too large")
                        .await;
                }
                RoomRequest::PublishOffer { sdp, tracks }
            }
            ClientMessage::SubscriberAnswer { sdp } => {
                if sdp.len() > cfg.max_sdp_bytes {
                    return self
                        .reply(socket, ErrorCode::SdpTooLarge, "SDP too large")
                        .await;
                }
                RoomRequest::SubscriberAnswer { sdp }
            }
            ClientMessage::IceCandidate { pc, candidate, .. } => {
                if candidate.trim().is_empty() {
                    return Flow::Continue; // end of candidates
                }
                if candidate.len() > 1024 {
                    return self
                        .reply(socket, ErrorCode::BadMessage, "candidate too long")
                        .await;
                }
                RoomRequest::IceCandidate { pc, candidate }
            }
            ClientMessage::RestartSubscriber => RoomRequest::RestartSubscriber,
            ClientMessage::MediaState(m) => RoomRequest::MediaState(m),
            ClientMessage::Chat { text } => {
                let text = text.trim().to_string();
                if text.is_empty() || text.chars().count() > cfg.max_chat_chars {
                    let message =
                        format!("chat text must be 1 to {} characters", cfg.max_chat_chars);
                    return self.reply(socket, ErrorCode::ChatInvalid, &message).await;
                }
                RoomRequest::Chat { text }
            }
            ClientMessage::EndMeeting => RoomRequest::EndMeeting,
            ClientMessage::Leave => RoomRequest::Leave,
            ClientMessage::Hello { .. } | ClientMessage::Join { .. } => {
                return self
                    .reply(socket, ErrorCode::AlreadyJoined, "already in a meeting")
                    .await;
            }
            ClientMessage::Ping { .. } => return Flow::Continue,
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
        if send(socket, &ServerMessage::error(code, message))
            .await
            .is_err()
        {
            return Flow::Close(1011, "send failed".into());
        }
        Flow::Continue
    }
}

/// Parses a client frame, telling bad JSON apart from a type this server does not know.
pub(crate) fn parse(text: &str) -> Result<ClientMessage, (ErrorCode, String)> {
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
