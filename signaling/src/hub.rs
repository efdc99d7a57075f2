//! The Hub: finds or starts the room of a meeting. It owns the map of live rooms; the map is
//! touched on join and on a room's end only, never per message or per packet.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use tokio::sync::oneshot;

use crate::config::SignalingConfig;
use crate::directory::{Directory, MeetingStatus};
use crate::outbox::{Abort, abort_channel};
use crate::placement::{Claim, Kept, Ownership, Placement, RemoteNode, SingleNode};
use crate::protocol::{EndReason, ErrorBody, ErrorCode, ServerMessage};
use crate::room::{Room, RoomCmd, RoomHandle};
use crate::session::Admission;
use crate::session_registry::{SessionLimits, SessionRegistry};

/// The client address of an upgrade request, from its headers and the socket's peer address
/// (the server binary decides whether a proxy's `X-Forwarded-For` is trusted).
pub type ClientIpResolver = Arc<dyn Fn(&HeaderMap, IpAddr) -> IpAddr + Send + Sync>;

#[derive(Clone)]
pub struct Hub {
    inner: Arc<HubInner>,
}

struct HubInner {
    rooms: Mutex<HashMap<String, (u64, RoomHandle)>>,
    sessions: SessionRegistry,
    client_ip: ClientIpResolver,
    directory: Arc<dyn Directory>,
    placement: Arc<dyn Placement>,
    sfu: mm_sfu::Sfu,
    config: Arc<SignalingConfig>,
    next_id: AtomicU64,
}

/// Where a joining session finds its meeting's room.
pub(crate) enum RoomPlace {
    Here(RoomHandle),
    /// Owned by another node: forward the session there.
    Elsewhere(RemoteNode),
}

/// Live counts for the metrics endpoint.
#[derive(Clone, Copy, Debug, Default)]
pub struct HubStats {
    pub rooms: usize,
    pub participants: usize,
}

impl Hub {
    /// A hub that takes the socket's peer address as the client's.
    pub fn new(config: SignalingConfig, directory: Arc<dyn Directory>, sfu: mm_sfu::Sfu) -> Self {
        Self::with_client_ip(config, directory, sfu, Arc::new(|_, peer| peer))
    }

    pub fn with_client_ip(
        config: SignalingConfig,
        directory: Arc<dyn Directory>,
        sfu: mm_sfu::Sfu,
        client_ip: ClientIpResolver,
    ) -> Self {
        let sessions = SessionRegistry::new(SessionLimits {
            max_unauthenticated_per_ip: config.max_unauthenticated_per_ip,
            max_sessions_per_user: config.max_sessions_per_user,
        });
        Self {
            inner: Arc::new(HubInner {
                rooms: Mutex::new(HashMap::new()),
                sessions,
                client_ip,
                directory,
                placement: Arc::new(SingleNode),
                sfu,
                config: Arc::new(config),
                next_id: AtomicU64::new(1),
            }),
        }
    }

    /// Meetings placed by `placement` (a cluster) instead of all on this node. Call before the
    /// hub is cloned.
    pub fn with_placement(mut self, placement: Arc<dyn Placement>) -> Self {
        Arc::get_mut(&mut self.inner)
            .expect("with_placement before the hub is shared")
            .placement = placement;
        self
    }

    pub fn config(&self) -> &SignalingConfig {
        &self.inner.config
    }

    pub(crate) fn directory(&self) -> &Arc<dyn Directory> {
        &self.inner.directory
    }

    pub(crate) fn sessions(&self) -> &SessionRegistry {
        &self.inner.sessions
    }

    pub(crate) fn client_ip(&self, headers: &HeaderMap, peer: IpAddr) -> IpAddr {
        (self.inner.client_ip)(headers, peer)
    }

    /// A place for a new socket from `ip`, or `None` when that address holds too many
    /// unauthenticated sockets already.
    pub(crate) fn admit(
        &self,
        ip: IpAddr,
        origin: Option<String>,
        forwarded: bool,
    ) -> Option<Admission> {
        let id = self.next_id();
        let (abort_tx, abort_rx) = abort_channel();
        let ticket = self.inner.sessions.admit(id, ip, abort_tx.clone()).ok()?;
        Some(Admission {
            id,
            ticket,
            abort_tx,
            abort_rx,
            ip,
            origin,
            forwarded,
        })
    }

    /// Closes every socket of a user who signed out (on any node: the binary calls this for
    /// the bus event). Their participants get the reconnection grace, which a signed-out
    /// client cannot use, and then leave.
    pub fn disconnect_user(&self, user_id: i64) -> usize {
        let message = "signed out";
        self.inner.sessions.abort_user(
            user_id,
            &Abort {
                last_words: Some(ServerMessage::error(ErrorCode::Unauthenticated, message)),
                code: ErrorCode::Unauthenticated.close_code(),
                reason: message.into(),
            },
        )
    }

    /// Open signaling sockets on this node.
    pub fn session_count(&self) -> usize {
        self.inner.sessions.len()
    }

    /// A fresh id for a session or a room instance.
    pub(crate) fn next_id(&self) -> u64 {
        self.inner.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The running room of a meeting, started here if this node owns (or now claims) the
    /// meeting, or the node that owns it. Refuses unknown and ended meetings.
    ///
    /// The stored status is read on every join, even with a live room: a meeting ended through
    /// the REST API whose bus event this node missed must not admit anyone.
    pub(crate) async fn room(&self, code: &str, forwarded: bool) -> Result<RoomPlace, ErrorBody> {
        let meeting = self
            .inner
            .directory
            .find_meeting(code)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "meeting lookup failed");
                ErrorBody {
                    code: ErrorCode::Internal,
                    message: "could not look the meeting up".into(),
                }
            })?
            .ok_or_else(|| ErrorBody {
                code: ErrorCode::MeetingNotFound,
                message: "no meeting has this code".into(),
            })?;
        if meeting.status == MeetingStatus::Ended {
            self.end_meeting(code, EndReason::HostEnded).await;
            return Err(ErrorBody {
                code: ErrorCode::MeetingEnded,
                message: "the meeting has ended".into(),
            });
        }
        if let Some(handle) = self.live(&meeting.code) {
            return Ok(RoomPlace::Here(handle));
        }
        let ownership = match self.inner.placement.claim(&meeting.code, forwarded).await {
            Ok(Claim::Owner(ownership)) => ownership,
            Ok(Claim::Elsewhere(node)) => return Ok(RoomPlace::Elsewhere(node)),
            Err(e) => {
                tracing::warn!(error = %e, "meeting placement failed");
                return Err(ErrorBody {
                    code: ErrorCode::Unavailable,
                    message: "the server cannot place the meeting right now; try again shortly"
                        .into(),
                });
            }
        };
        let mut rooms = self.inner.rooms.lock().expect("rooms lock");
        if let Some((_, handle)) = rooms.get(code).filter(|(_, h)| !h.is_closed()) {
            // Another join started it meanwhile, under the same lease.
            return Ok(RoomPlace::Here(handle.clone()));
        }
        let instance = self.next_id();
        let weak = Arc::downgrade(&self.inner);
        let key = meeting.code.clone();
        let on_close = Box::new(move || {
            if let Some(inner) = weak.upgrade() {
                let mut rooms = inner.rooms.lock().expect("rooms lock");
                if rooms.get(&key).is_some_and(|(i, _)| *i == instance) {
                    rooms.remove(&key);
                }
            }
        });
        let handle = Room::spawn(
            meeting,
            self.inner.config.clone(),
            self.inner.directory.clone(),
            &self.inner.sfu,
            on_close,
        );
        rooms.insert(code.to_string(), (instance, handle.clone()));
        drop(rooms);
        tokio::spawn(keep_ownership(
            self.inner.placement.clone(),
            ownership,
            handle.clone(),
        ));
        Ok(RoomPlace::Here(handle))
    }

    fn live(&self, code: &str) -> Option<RoomHandle> {
        let rooms = self.inner.rooms.lock().expect("rooms lock");
        rooms
            .get(code)
            .map(|(_, h)| h.clone())
            .filter(|h| !h.is_closed())
    }

    /// Ends a meeting's live room, if any (the host ended it through the REST API, perhaps on
    /// another node). Persisting the end is the caller's business.
    pub async fn end_meeting(&self, code: &str, reason: EndReason) {
        if let Some(handle) = self.live(code) {
            handle.send(RoomCmd::End(reason)).await;
        }
    }

    /// Closes every room (its sessions get `meeting_ended` with `server_shutdown`, then 1001,
    /// and participations are closed), then every other socket with 1001.
    pub async fn shutdown(&self) {
        let handles: Vec<RoomHandle> = {
            let rooms = self.inner.rooms.lock().expect("rooms lock");
            rooms.values().map(|(_, h)| h.clone()).collect()
        };
        for handle in handles {
            let (tx, rx) = oneshot::channel();
            if handle.send(RoomCmd::Shutdown(tx)).await {
                let _ = rx.await;
            }
        }
        self.inner.sessions.abort_all(&Abort {
            last_words: None,
            code: 1001,
            reason: "server shutting down".into(),
        });
    }

    /// Drain: every room here gives its meeting up and closes for a move, then every socket
    /// here (forwarded ones too) closes with 1012, which clients answer by reconnecting, to
    /// another node.
    pub async fn move_all(&self) {
        let handles: Vec<RoomHandle> = {
            let rooms = self.inner.rooms.lock().expect("rooms lock");
            rooms.values().map(|(_, h)| h.clone()).collect()
        };
        for handle in &handles {
            handle.request_move();
        }
        for handle in &handles {
            let _ = tokio::time::timeout(MOVE_WAIT, handle.closed()).await;
        }
        self.inner.sessions.abort_all(&Abort {
            last_words: None,
            code: 1012,
            reason: "this node is draining; reconnect".into(),
        });
    }

    pub async fn stats(&self) -> HubStats {
        let handles: Vec<RoomHandle> = {
            let rooms = self.inner.rooms.lock().expect("rooms lock");
            rooms.values().map(|(_, h)| h.clone()).collect()
        };
        let mut stats = HubStats {
            rooms: handles.len(),
            participants: 0,
        };
        for h in handles {
            stats.participants += h.participant_count().await;
        }
        stats
    }
}

/// Longest a drain waits for one room to close before it closes the sockets anyway.
const MOVE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Renews a room's ownership while the room lives, and releases it when the room ends. A lost
/// lease, or a drain, moves the room's people: for a drain the lease is released before anyone
/// is told, so their reconnections find the meeting free for another node.
async fn keep_ownership(placement: Arc<dyn Placement>, ownership: Ownership, room: RoomHandle) {
    let every = placement.renew_every();
    loop {
        tokio::select! {
            () = room.closed() => break,
            () = room.move_requested() => {
                placement.release(&ownership).await;
                room.send(RoomCmd::Moved).await;
                return;
            }
            () = tokio::time::sleep(every) => {}
        }
        match placement.renew(&ownership).await {
            Kept::Yes | Kept::Unknown => {}
            Kept::Lost => {
                tracing::warn!(meeting = %ownership.meeting_code, fence = ownership.fence,
                    "another node owns the meeting now; moving its people there");
                room.send(RoomCmd::Moved).await;
                return;
            }
        }
    }
    placement.release(&ownership).await;
}
