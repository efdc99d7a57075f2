//! The first message of a session: `hello` with the protocol version and an access token.

use axum::extract::ws::WebSocket;
use tracing::info;

use super::{Flow, Session, State};
use crate::directory::DirectoryError;
use crate::protocol::{ClientMessage, ErrorCode, PROTOCOL_VERSION, ServerMessage};
use crate::session_registry::Refusal;

impl Session {
    /// `hello`: checks the version and the token, and the user's session count.
    pub(super) async fn on_hello(&mut self, socket: &mut WebSocket, msg: ClientMessage) -> Flow {
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
                let hello = ClientMessage::Hello { version, token };
                self.hello = serde_json::to_string(&hello).ok();
                if let Err(Refusal::TooManyForUser | Refusal::TooManyFromAddress) = self
                    .hub
                    .sessions()
                    .authenticated(&self.ticket, user.user_id)
                {
                    let max = self.hub.config().max_sessions_per_user;
                    let _ = self
                        .reply(
                            socket,
                            ErrorCode::TooManySessions,
                            &format!("at most {max} connections per user"),
                        )
                        .await;
                    return Flow::Close(
                        ErrorCode::TooManySessions.close_code(),
                        "too many sessions".into(),
                    );
                }
                info!(user = user.user_id, "authenticated");
                let welcome = ServerMessage::Welcome {
                    version: PROTOCOL_VERSION,
                    user_id: user.user_id,
                    name: user.name.clone(),
                    heartbeat_interval_ms: self.hub.config().heartbeat_interval.as_millis() as u32,
                };
                self.state = State::Authenticated(user);
                let _ = self.write(socket, &welcome).await;
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
            Err(DirectoryError::Unavailable(e)) => {
                // Fail closed, but never as "unauthenticated": the client keeps its tokens
                // and tries again (1013 = try again later).
                tracing::warn!(error = %e, "cannot check tokens now");
                let _ = self
                    .reply(
                        socket,
                        ErrorCode::Unavailable,
                        "the server cannot check tokens right now; try again shortly",
                    )
                    .await;
                Flow::Close(
                    ErrorCode::Unavailable.close_code(),
                    "try again later".into(),
                )
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
}
