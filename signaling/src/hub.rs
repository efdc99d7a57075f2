//! The Hub: finds or starts the room of a meeting. It owns the map of live rooms; the map is
//! touched on join and on a room's end only, never per message or per packet.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::config::SignalingConfig;
use crate::directory::{Directory, MeetingStatus};
use crate::protocol::{EndReason, ErrorBody, ErrorCode};
use crate::room::{Room, RoomCmd, RoomHandle};

#[derive(Clone)]
pub struct Hub {
    inner: Arc<HubInner>,
}

struct HubInner {
    rooms: Mutex<HashMap<String, (u64, RoomHandle)>>,
    directory: Arc<dyn Directory>,
    sfu: mm_sfu::Sfu,
    config: Arc<SignalingConfig>,
    next_id: AtomicU64,
}

/// Live counts for the metrics endpoint.
#[derive(Clone, Copy, Debug, Default)]
pub struct HubStats {
    pub rooms: usize,
    pub participants: usize,
}

impl Hub {
    pub fn new(config: SignalingConfig, directory: Arc<dyn Directory>, sfu: mm_sfu::Sfu) -> Self {
        Self {
            inner: Arc::new(HubInner {
                rooms: Mutex::new(HashMap::new()),
                directory,
                sfu,
                config: Arc::new(config),
                next_id: AtomicU64::new(1),
            }),
        }
    }

    pub fn config(&self) -> &SignalingConfig {
        &self.inner.config
    }

    pub(crate) fn directory(&self) -> &Arc<dyn Directory> {
        &self.inner.directory
    }

    /// A fresh id for a session or a room instance.
    pub(crate) fn next_id(&self) -> u64 {
        self.inner.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The running room of a meeting, started if needed. Refuses unknown and ended meetings.
    pub(crate) async fn room(&self, code: &str) -> Result<RoomHandle, ErrorBody> {
        if let Some(handle) = self.live(code) {
            return Ok(handle);
        }
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
            return Err(ErrorBody {
                code: ErrorCode::MeetingEnded,
                message: "the meeting has ended".into(),
            });
        }
        let mut rooms = self.inner.rooms.lock().expect("rooms lock");
        if let Some((_, handle)) = rooms.get(code).filter(|(_, h)| !h.is_closed()) {
            return Ok(handle.clone()); // another join started it meanwhile
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
        Ok(handle)
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

    /// Closes every room: sessions get "going away", participations are closed.
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
