//! A Room: the live session of one meeting. One task owns its participants, its lifecycle and
//! its SFU room; sessions and the SFU talk to it through [`RoomHandle`] commands, so no state is
//! shared behind a lock.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use base64::Engine;
use mm_sfu::{PeerEvent, PeerId, RoomId};
use rand::RngCore;
use tokio::sync::{mpsc, oneshot};
use tracing::{Instrument, debug, info, info_span, warn};

mod admission;
mod chat_history;
mod closing;
mod lobby;
mod media_events;
mod meeting_writes;
use meeting_writes::MeetingWrite;
mod moderation;
mod requests;
mod speakers;

pub use self::moderation::HostAction;
use crate::config::SignalingConfig;
use crate::directory::{AuthUser, Directory, MeetingClaim, MeetingRecord};
use crate::lifecycle::{Lifecycle, LifecycleTimeouts, Transition};
use crate::outbox::{Outbound, SessionLink};
use crate::protocol::{
    ConnectionState, EndReason, ErrorBody, ErrorCode, LeaveReason, MediaState, ParticipantId,
    ParticipantInfo, PcKind, PublishedTrack, ServerMessage, TrackDecl, TrackSource,
};

/// Requests a joined session forwards to its room.
#[derive(Debug)]
pub enum RoomRequest {
    PublishOffer { sdp: String, tracks: Vec<TrackDecl> },
    SubscriberAnswer { sdp: String },
    IceCandidate { pc: PcKind, candidate: String },
    RestartSubscriber,
    TrackSettings(Vec<(mm_sfu::TrackId, mm_sfu::TrackWant)>),
    MediaState(MediaState),
    Chat { text: String },
    EndMeeting,
    Host(HostAction),
    RaiseHand(bool),
    Reaction(String),
    Leave,
}

pub(crate) enum RoomCmd {
    Join {
        user: AuthUser,
        resume_token: Option<String>,
        media: MediaState,
        session: SessionLink,
        reply: oneshot::Sender<Result<JoinOutcome, ErrorBody>>,
    },
    /// A session waiting in the lobby ended or withdrew.
    LobbyGone {
        session: u64,
    },
    Request {
        participant: ParticipantId,
        session: u64,
        request: RoomRequest,
    },
    SessionGone {
        participant: ParticipantId,
        session: u64,
    },
    Peer {
        participant: ParticipantId,
        event: PeerEvent,
    },
    End(EndReason),
    Shutdown(oneshot::Sender<()>),
    /// Another node owns the meeting now (or this one drains): everyone reconnects there.
    Moved,
    Count(oneshot::Sender<usize>),
}

/// What a `join` led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinOutcome {
    Joined(ParticipantId),
    /// In the lobby: `joined` follows through the session's queue if a host admits it.
    Waiting,
}

/// A cloneable address of a running room.
#[derive(Clone)]
pub struct RoomHandle {
    tx: mpsc::Sender<RoomCmd>,
    /// Asks the room's ownership keeper to give the meeting up and move everyone (drain).
    mover: std::sync::Arc<tokio::sync::Notify>,
}

impl RoomHandle {
    pub(crate) async fn send(&self, cmd: RoomCmd) -> bool {
        self.tx.send(cmd).await.is_ok()
    }

    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Completes once the room has stopped.
    pub async fn closed(&self) {
        self.tx.closed().await;
    }

    /// Drain: the keeper releases the meeting first, then the room sends everyone away, so
    /// that whoever reconnects first can make another node the owner.
    pub(crate) fn request_move(&self) {
        self.mover.notify_one();
    }

    pub(crate) async fn move_requested(&self) {
        self.mover.notified().await;
    }

    /// Participants currently in the room (connected or reconnecting).
    pub async fn participant_count(&self) -> usize {
        let (tx, rx) = oneshot::channel();
        if !self.send(RoomCmd::Count(tx)).await {
            return 0;
        }
        rx.await.unwrap_or(0)
    }
}

struct Participant {
    id: ParticipantId,
    user: AuthUser,
    media: MediaState,
    /// Sources the publisher declared per mid of its publish connection.
    declared: HashMap<String, TrackSource>,
    tracks: Vec<PublishedTrack>,
    session: Option<SessionLink>,
    /// The most recent session's id, kept after the room dropped that session (too slow), so
    /// its last `leave` still counts.
    session_id: u64,
    resume_token: String,
    /// Media connections (publish, subscribe) the SFU reports as disconnected.
    media_down: [bool; 2],
    /// Set while reconnecting (no session, or media down): when the participant counts as left.
    lost_until: Option<Instant>,
    /// Loudness 1-100 while the SFU hears speech on its microphone.
    speaking: Option<u8>,
    moderation: moderation::ParticipantModeration,
}

impl Participant {
    fn is_lost(&self) -> bool {
        self.session.is_none() || self.media_down.iter().any(|d| *d)
    }
}

pub(crate) struct Room {
    meeting: MeetingRecord,
    config: Arc<SignalingConfig>,
    directory: Arc<dyn Directory>,
    sfu: mm_sfu::RoomHandle,
    participants: HashMap<ParticipantId, Participant>,
    lifecycle: Lifecycle,
    chat: chat_history::ChatHistory,
    moderation: moderation::Moderation,
    lobby: lobby::Lobby,
    /// Participants whose session the room dropped while sending (queue full or gone); their
    /// reconnection grace starts before the next command is handled.
    dropped: Vec<ParticipantId>,
    /// The speakers last broadcast (`active_speakers`), loudest first.
    speakers: Vec<ParticipantId>,
    tx: mpsc::Sender<RoomCmd>,
    /// Told when the room ends, so the hub forgets it.
    on_close: Box<dyn FnOnce() + Send + Sync>,
    /// The room's claim on the meeting, which its writes carry (`meeting_writes.rs`).
    claim: Option<MeetingClaim>,
    /// A write found a later claim: another room runs the meeting, and this one moves out.
    deposed: bool,
}

impl Room {
    /// Starts the room's task and returns its handle.
    pub(crate) fn spawn(
        meeting: MeetingRecord,
        config: Arc<SignalingConfig>,
        directory: Arc<dyn Directory>,
        sfu: &mm_sfu::Sfu,
        on_close: Box<dyn FnOnce() + Send + Sync>,
    ) -> RoomHandle {
        let (tx, rx) = mpsc::channel(256);
        let lifecycle = Lifecycle::new(
            meeting.status,
            LifecycleTimeouts {
                empty_grace: config.empty_grace,
                paused_timeout: config.paused_timeout,
            },
        );
        let span = info_span!("room", meeting = %meeting.code);
        let moderation = moderation::Moderation::new(meeting.lobby, meeting.allow_guests);
        let room = Room {
            sfu: sfu.room(&RoomId(meeting.code.clone())),
            meeting,
            config,
            directory,
            participants: HashMap::new(),
            lifecycle,
            chat: chat_history::ChatHistory::new(),
            moderation,
            lobby: lobby::Lobby::default(),
            dropped: Vec::new(),
            speakers: Vec::new(),
            tx: tx.clone(),
            on_close,
            claim: None,
            deposed: false,
        };
        tokio::spawn(room.run(rx).instrument(span));
        RoomHandle {
            tx,
            mover: Default::default(),
        }
    }

    async fn run(mut self, mut rx: mpsc::Receiver<RoomCmd>) {
        // Claimed before anything else, so every earlier room of the meeting is fenced from
        // now on; if the database does not answer, the first write claims.
        if let Err(e) = self.claim().await {
            warn!(error = %e, "could not claim the meeting yet");
        }
        loop {
            let deadline = self.next_deadline();
            let cmd = tokio::select! {
                cmd = rx.recv() => cmd,
                _ = sleep_until(deadline) => {
                    if self.on_deadline().await || self.settle().await || self.hand_over().await {
                        break;
                    }
                    continue;
                }
            };
            let Some(cmd) = cmd else { break };
            let ended = match cmd {
                RoomCmd::Join {
                    user,
                    resume_token,
                    media,
                    session,
                    reply,
                } => {
                    let result = self.join(user, resume_token, media, session).await;
                    let _ = reply.send(result);
                    false
                }
                RoomCmd::Request {
                    participant,
                    session,
                    request,
                } => self.request(participant, session, request).await,
                RoomCmd::LobbyGone { session } => {
                    self.waiter_gone(session);
                    false
                }
                RoomCmd::SessionGone {
                    participant,
                    session,
                } => {
                    self.session_gone(participant, session).await;
                    false
                }
                RoomCmd::Peer { participant, event } => {
                    self.peer_event(participant, event).await;
                    false
                }
                RoomCmd::End(reason) => {
                    self.end(reason).await;
                    true
                }
                RoomCmd::Shutdown(done) => {
                    self.shutdown().await;
                    let _ = done.send(());
                    true
                }
                RoomCmd::Moved => {
                    self.moved().await;
                    true
                }
                RoomCmd::Count(reply) => {
                    let _ = reply.send(self.participants.len());
                    false
                }
            };
            if ended || self.settle().await || self.hand_over().await {
                break;
            }
            // Nobody joined (a refused join, a failed resume) and nothing is pending: a room
            // with no one in it and no timer running has nothing left to do.
            if self.participants.is_empty()
                && self.lobby.waiting.is_empty()
                && self.lifecycle.next_deadline().is_none()
                && rx.is_empty()
            {
                break;
            }
        }
        // Refuse whatever is still queued: the room is gone.
        rx.close();
        while let Ok(cmd) = rx.try_recv() {
            if let RoomCmd::Join { reply, .. } = cmd {
                let _ = reply.send(Err(err(ErrorCode::MeetingEnded, "the meeting has ended")));
            }
        }
        (self.on_close)();
        debug!("room closed");
    }

    fn next_deadline(&self) -> Option<Instant> {
        let lost = self
            .participants
            .values()
            .filter_map(|p| p.lost_until)
            .min();
        [
            lost,
            self.lifecycle.next_deadline(),
            self.next_waiter_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Starts the reconnection grace of every participant whose session was dropped while
    /// sending; true when that ended the room. Telling the others may drop more sessions, so
    /// this runs until nothing is left.
    async fn settle(&mut self) -> bool {
        while let Some(id) = self.dropped.pop() {
            if self.refresh_connection(id, true).await {
                return true;
            }
        }
        false
    }

    /// Handles expired reconnection graces and lifecycle timeouts; true when the room ended.
    async fn on_deadline(&mut self) -> bool {
        let now = Instant::now();
        let expired: Vec<ParticipantId> = self
            .participants
            .values()
            .filter(|p| p.lost_until.is_some_and(|t| t <= now))
            .map(|p| p.id)
            .collect();
        for id in expired {
            info!(participant = %id, "reconnection grace expired");
            self.remove(id, LeaveReason::TimedOut).await;
        }
        self.expire_waiters(now);
        if let Transition::End(reason) = self.lifecycle.tick(now) {
            self.end(reason).await;
            return true;
        }
        false
    }

    /// The session's connection ended without a `leave`: keep the participant for the grace.
    async fn session_gone(&mut self, id: ParticipantId, session: u64) {
        let Some(p) = self.participants.get_mut(&id) else {
            return;
        };
        if p.session.as_ref().map(|s| s.id) != Some(session) {
            return;
        }
        p.session = None;
        info!(participant = %id, "signaling connection lost; waiting for a reconnect");
        self.dropped.push(id);
    }

    /// Moves a participant between connected and reconnecting after its session or its media
    /// connections changed: the reconnection grace starts or stops, the lifecycle follows, and
    /// (with `announce`) the others are told.
    /// True when the lifecycle ended the room.
    async fn refresh_connection(&mut self, id: ParticipantId, announce: bool) -> bool {
        let grace = self.config.reconnect_grace;
        let Some(p) = self.participants.get_mut(&id) else {
            return false;
        };
        let now = Instant::now();
        let t = match (p.lost_until.is_some(), p.is_lost()) {
            (false, true) => {
                p.lost_until = Some(now + grace);
                self.lifecycle.lost(now)
            }
            (true, false) => {
                p.lost_until = None;
                self.lifecycle.connected(true)
            }
            _ => return false,
        };
        if announce {
            let info = self.info(&self.participants[&id]);
            self.broadcast_except(id, ServerMessage::ParticipantUpdated { participant: info });
        }
        self.apply(t).await
    }

    /// Removes a participant for good: SFU peer, participation row, the others are told.
    async fn remove(&mut self, id: ParticipantId, reason: LeaveReason) {
        let Some(p) = self.participants.remove(&id) else {
            return;
        };
        self.sfu.leave(PeerId(id.0 as u64)).await;
        if let Err(e) = self.directory.close_participation(id).await {
            warn!(participant = %id, error = %e, "could not close participation");
        }
        if let Some(s) = &p.session {
            s.close_normal("left the meeting");
        }
        info!(participant = %id, ?reason, "participant left");
        self.broadcast(ServerMessage::ParticipantLeft {
            participant_id: id,
            reason,
        });
        if p.speaking.is_some() {
            self.broadcast_speakers();
        }
        let was_connected = p.lost_until.is_none();
        let _ = self.lifecycle.left(was_connected, Instant::now());
    }

    /// Persists a lifecycle transition; true when it ended the room.
    async fn apply(&mut self, t: Transition) -> bool {
        match t {
            Transition::None => false,
            Transition::To(status) => {
                self.persist(MeetingWrite::Status(status)).await;
                false
            }
            Transition::End(reason) => {
                self.finish(reason).await;
                true
            }
        }
    }

    fn info(&self, p: &Participant) -> ParticipantInfo {
        ParticipantInfo {
            id: p.id,
            user_id: p.user.user_id,
            name: p.user.name.clone(),
            is_host: p.user.user_id == self.meeting.host_user_id,
            is_cohost: self.moderation.cohosts.contains(&p.user.user_id),
            is_guest: p.user.guest_of.is_some(),
            raised_hand: p.moderation.raised_hand,
            connection: if p.lost_until.is_some() {
                ConnectionState::Reconnecting
            } else {
                ConnectionState::Connected
            },
            media: p.media,
            tracks: p.tracks.clone(),
        }
    }

    fn send_to(&mut self, id: ParticipantId, msg: ServerMessage) {
        let Some(p) = self.participants.get_mut(&id) else {
            return;
        };
        if let Some(s) = &p.session
            && !s.send(Outbound::Message(msg))
        {
            // Too slow to keep up, or already gone: close it for sure (the control line
            // reaches it even with a full queue) and start its reconnection grace; it may come
            // back with its resume token, or it leaves when the grace ends.
            warn!(participant = %id, "session outbox full or closed; disconnecting it");
            s.close_with(1008, "too slow to keep up");
            p.session = None;
            self.dropped.push(id);
        }
    }

    fn send_error(&mut self, id: ParticipantId, code: ErrorCode, message: impl Into<String>) {
        self.send_to(id, ServerMessage::error(code, message));
    }

    fn broadcast(&mut self, msg: ServerMessage) {
        let ids: Vec<ParticipantId> = self.participants.keys().copied().collect();
        for id in ids {
            self.send_to(id, msg.clone());
        }
    }

    fn broadcast_except(&mut self, except: ParticipantId, msg: ServerMessage) {
        let ids: Vec<ParticipantId> = self
            .participants
            .keys()
            .copied()
            .filter(|id| *id != except)
            .collect();
        for id in ids {
            self.send_to(id, msg.clone());
        }
    }
}

fn err(code: ErrorCode, message: &str) -> ErrorBody {
    ErrorBody {
        code,
        message: message.into(),
    }
}

/// 128 random bits: whoever holds it can take the participant over.
fn new_resume_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}
