//! The lobby (waiting room): with it on, a newcomer waits, without the roster, media or
//! chat, until a host or co-host admits or denies them. The room holds the waiting sessions;
//! nothing of the meeting is sent to them, and a session only becomes a participant through
//! [`Room::admit_waiter`], so a client that skips the UI gets nothing.
//!
//! Hosts and co-hosts, and anyone already admitted once while the room lives (a reload, a
//! dropped connection), go straight in. Waiting is bounded in number and in time.

use std::time::{Duration, Instant};

use tracing::info;

use super::{JoinOutcome, Room};
use crate::directory::AuthUser;
use crate::outbox::{Outbound, SessionLink};
use crate::protocol::{ErrorBody, ErrorCode, LobbyEntry, LobbyId, MediaState, ServerMessage};

/// People waiting in one lobby at most; the next gets `meeting_full`.
pub(super) const MAX_WAITING: usize = 100;

pub(super) struct Waiter {
    pub user: AuthUser,
    pub media: MediaState,
    pub session: SessionLink,
    pub until: Instant,
}

impl Waiter {
    fn id(&self) -> LobbyId {
        LobbyId(self.session.id)
    }
}

/// Who waits, in order of arrival.
#[derive(Default)]
pub(super) struct Lobby {
    pub waiting: Vec<Waiter>,
    /// Users admitted while the room lives: they do not wait again.
    pub admitted: std::collections::HashSet<i64>,
}

impl Room {
    /// Whether `user` has to wait in the lobby to join now.
    /// Guests always do, whether the lobby is on or not.
    pub(super) fn must_wait(&self, user: &AuthUser) -> bool {
        (self.moderation.lobby || user.guest_of.is_some())
            && !self.has_host_rights(user.user_id)
            && !self.lobby.admitted.contains(&user.user_id)
    }

    /// Puts a joiner in the lobby (a second tab of someone waiting takes their place).
    pub(super) fn enter_lobby(
        &mut self,
        user: AuthUser,
        media: MediaState,
        session: SessionLink,
        wait: Duration,
    ) -> Result<JoinOutcome, ErrorBody> {
        if let Some(i) = (self.lobby.waiting.iter()).position(|w| w.user.user_id == user.user_id) {
            let old = self.lobby.waiting.remove(i);
            old.session.close(
                ErrorCode::Replaced,
                "another session of this user is waiting",
            );
        } else if self.lobby.waiting.len() >= MAX_WAITING {
            return Err(ErrorBody {
                code: ErrorCode::MeetingFull,
                message: format!("the lobby is full ({MAX_WAITING} waiting)"),
            });
        }
        info!(user = user.user_id, "waiting in the lobby");
        session.send(Outbound::Message(ServerMessage::LobbyWaiting {
            meeting: self.meeting_info(),
        }));
        self.lobby.waiting.push(Waiter {
            user,
            media,
            session,
            until: Instant::now() + wait,
        });
        self.tell_hosts_lobby();
        Ok(JoinOutcome::Waiting)
    }

    /// Lets a waiter in: from here it is an ordinary join.
    pub(super) async fn admit_waiter(&mut self, id: LobbyId) -> bool {
        let Some(i) = self.lobby.waiting.iter().position(|w| w.id() == id) else {
            return false;
        };
        let w = self.lobby.waiting.remove(i);
        self.lobby.admitted.insert(w.user.user_id);
        let session = w.session.clone();
        if let Err(e) = self.join(w.user, None, w.media, w.session).await {
            session.send(Outbound::Message(ServerMessage::Error(e)));
            session.send(Outbound::LeftLobby);
        }
        // After `participant_joined`, so hosts never see someone vanish from both lists.
        self.tell_hosts_lobby();
        true
    }

    /// Sends a waiter away with `code`; it may join again (and wait again).
    pub(super) fn dismiss_waiter(&mut self, id: LobbyId, code: ErrorCode, message: &str) -> bool {
        let Some(i) = self.lobby.waiting.iter().position(|w| w.id() == id) else {
            return false;
        };
        let w = self.lobby.waiting.remove(i);
        w.session
            .send(Outbound::Message(ServerMessage::error(code, message)));
        w.session.send(Outbound::LeftLobby);
        self.tell_hosts_lobby();
        true
    }

    /// The waiter's session ended or withdrew.
    pub(super) fn waiter_gone(&mut self, session: u64) {
        let before = self.lobby.waiting.len();
        self.lobby.waiting.retain(|w| w.session.id != session);
        if self.lobby.waiting.len() != before {
            self.tell_hosts_lobby();
        }
    }

    /// Waiters nobody admitted in time.
    pub(super) fn expire_waiters(&mut self, now: Instant) {
        let expired: Vec<LobbyId> = (self.lobby.waiting.iter())
            .filter(|w| w.until <= now)
            .map(Waiter::id)
            .collect();
        for id in expired {
            let message = "nobody let you in; ask the host and try again";
            self.dismiss_waiter(id, ErrorCode::LobbyTimeout, message);
        }
    }

    pub(super) fn next_waiter_deadline(&self) -> Option<Instant> {
        self.lobby.waiting.iter().map(|w| w.until).min()
    }

    /// The lobby as hosts see it.
    fn lobby_entries(&self) -> Vec<LobbyEntry> {
        (self.lobby.waiting.iter())
            .map(|w| LobbyEntry {
                lobby_id: w.id(),
                user_id: w.user.user_id,
                name: w.user.name.clone(),
                is_guest: w.user.guest_of.is_some(),
            })
            .collect()
    }

    /// Tells every host and co-host who waits now.
    pub(super) fn tell_hosts_lobby(&mut self) {
        let hosts: Vec<_> = (self.participants.values())
            .filter(|p| self.has_host_rights(p.user.user_id))
            .map(|p| p.id)
            .collect();
        let waiting = self.lobby_entries();
        for id in hosts {
            self.send_to(
                id,
                ServerMessage::LobbyUpdated {
                    waiting: waiting.clone(),
                },
            );
        }
    }

    /// Tells one participant who waits, if it may admit them (after it joined, or was made
    /// a co-host) and anyone does.
    pub(super) fn tell_lobby_to(&mut self, id: crate::protocol::ParticipantId) {
        let user = self.participants[&id].user.user_id;
        if self.lobby.waiting.is_empty() || !self.has_host_rights(user) {
            return;
        }
        let waiting = self.lobby_entries();
        self.send_to(id, ServerMessage::LobbyUpdated { waiting });
    }

    /// Tells a participant who just lost host rights that it sees nobody waiting any more.
    pub(super) fn hide_lobby_from(&mut self, id: crate::protocol::ParticipantId) {
        if !self.lobby.waiting.is_empty() {
            let waiting = Vec::new();
            self.send_to(id, ServerMessage::LobbyUpdated { waiting });
        }
    }

    /// The meeting ends (or the server stops): waiters get the same last words as everyone.
    pub(super) fn close_lobby(&mut self, last: &ServerMessage, code: u16, reason: &str) {
        for w in self.lobby.waiting.drain(..) {
            w.session.send(Outbound::Message(last.clone()));
            w.session.close_with(code, reason);
        }
    }
}
