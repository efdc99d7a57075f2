//! [`Relay`]: what one media worker sends the others about the rooms they share.
//!
//! A meeting's peers may sit on several workers; each of those workers holds a shard of the
//! room (its own peers, and a remote UpTrack for every track published on another worker).
//! The shards talk only through [`RelayMsg`]s on the workers' command channels, so nothing is
//! shared or locked:
//!
//! * `Interest`: a worker gained its first peer of a room (or lost its last one). Each shard
//!   that hears of a new one answers with its own `Interest`, its local publishers' `Tracks`
//!   and the packets of its keyframe caches, so a subscriber there starts without a keyframe
//!   request.
//! * `Tracks`: a publisher's current tracks (empty: it left).
//! * `Media`: packets of local publishers, one `Arc` payload clone per interested worker
//!   (never per subscriber), batched per loop iteration of the sender.
//! * `KeyframeRequest`: a remote subscriber needs a keyframe; the publisher's worker
//!   throttles it as any local request.
//! * `LayerDemand` / `Layers`: simulcast; which layers a shard's subscribers want, and what
//!   the publisher's worker knows of them (size, paused by dynacast).
//! * `PeerGone`: the SFU removed a peer by itself; its room's home forgets the placement.
//!
//! One channel per pair of workers keeps every message in the order it was sent, which is
//! what makes this simple: a shard always hears `Tracks` before the `Media` of those tracks.

use str0m::format::PayloadParams;
use str0m::media::{Mid, Rid};
use tokio::sync::mpsc::WeakUnboundedSender;

use crate::ids::{MediaKind, PeerId, RoomId, TrackId, WorkerId};
use crate::packet_store::StoredPacket;
use crate::worker::Command;

/// One packet of a local publisher, as another worker forwards it.
#[derive(Clone, Debug)]
pub(crate) struct RelayedPacket {
    pub track: TrackId,
    /// The simulcast layer's RID (`None`: no simulcast).
    pub rid: Option<Rid>,
    pub packet: StoredPacket,
    pub audio_level: Option<(i8, bool)>,
    /// What the publisher's payload type stands for (subscribers map it to their own).
    pub params: Option<PayloadParams>,
}

/// One simulcast layer, as the publisher's worker describes it to the shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LayerInfo {
    pub rid: Rid,
    pub size: Option<(u16, u16)>,
    pub paused: bool,
}

/// A published track, as other workers learn of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RemoteTrack {
    pub id: TrackId,
    /// The track's mid in its publisher's publish connection.
    pub mid: Mid,
    pub kind: MediaKind,
}

/// A message between the shards of one room.
#[derive(Debug)]
pub(crate) enum RelayMsg {
    Interest {
        room: RoomId,
        from: WorkerId,
        hosting: bool,
        /// The receiver should answer with its own `Interest` (the first announcement).
        answer: bool,
    },
    Tracks {
        room: RoomId,
        from: WorkerId,
        publisher: PeerId,
        tracks: Vec<RemoteTrack>,
    },
    Media {
        room: RoomId,
        packets: Vec<RelayedPacket>,
    },
    KeyframeRequest {
        room: RoomId,
        track: TrackId,
        rid: Option<Rid>,
    },
    /// Dynacast, shard -> publisher's worker: the layers of `track` its subscribers want.
    LayerDemand {
        room: RoomId,
        from: WorkerId,
        track: TrackId,
        rids: Vec<Rid>,
    },
    /// Publisher's worker -> shards: the simulcast layers of `track`, their sizes and which
    /// dynacast paused, whenever that changes (a shard cannot learn the size of a layer it
    /// never receives, nor tell a paused layer from a dead one).
    Layers {
        room: RoomId,
        track: TrackId,
        layers: Vec<LayerInfo>,
    },
    PeerGone {
        room: RoomId,
        peer: PeerId,
        placement: u64,
    },
    /// Publisher's worker -> shards: a host stopped `track`; what the shards cached of it
    /// (its last keyframe) must not reach anyone who starts watching later.
    TrackBlocked { room: RoomId, track: TrackId },
}

/// The worker's outgoing messages to the other workers, sent once per loop iteration.
pub(crate) struct Relay {
    me: WorkerId,
    /// Weak: the workers' channels close when the last `Sfu` handle is dropped.
    links: Vec<Option<WeakUnboundedSender<Command>>>,
    pending: Vec<Vec<RelayMsg>>,
}

impl Relay {
    /// `links[i]`: worker `i`'s command channel (`None` for `me`).
    pub fn new(me: WorkerId, links: Vec<Option<WeakUnboundedSender<Command>>>) -> Relay {
        let pending = links.iter().map(|_| Vec::new()).collect();
        Relay { me, links, pending }
    }

    /// An empty relay for a single worker (harnesses, tests).
    pub fn alone() -> Relay {
        Relay::new(WorkerId(0), vec![None])
    }

    pub fn me(&self) -> WorkerId {
        self.me
    }

    /// Every worker but this one.
    pub fn others(&self) -> impl Iterator<Item = WorkerId> + '_ {
        (0..self.links.len())
            .map(WorkerId)
            .filter(move |w| *w != self.me)
    }

    /// Queues `msg` for worker `to`; one for this worker itself waits for [`Self::take_own`].
    pub fn send(&mut self, to: WorkerId, msg: RelayMsg) {
        if let Some(q) = self.pending.get_mut(to.0) {
            q.push(msg);
        }
    }

    /// Messages this worker queued for itself (e.g. the home hearing of its own room's
    /// removed peer), handled by the worker after the work that queued them.
    pub fn take_own(&mut self) -> Vec<RelayMsg> {
        self.pending
            .get_mut(self.me.0)
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Queues one packet for worker `to`, appended to the batch of the same room when that
    /// is the last message queued for it.
    pub fn media(&mut self, to: WorkerId, room: &RoomId, packet: RelayedPacket) {
        let Some(q) = self.pending.get_mut(to.0) else {
            return;
        };
        if let Some(RelayMsg::Media { room: r, packets }) = q.last_mut()
            && r == room
        {
            packets.push(packet);
            return;
        }
        q.push(RelayMsg::Media {
            room: room.clone(),
            packets: vec![packet],
        });
    }

    /// Passes a command on to worker `to` at once (commands are not batched: each waits for
    /// its reply). Dropped when that worker is gone.
    pub fn command(&self, to: WorkerId, c: Command) {
        if let Some(tx) = self.links.get(to.0).and_then(|l| l.as_ref()?.upgrade()) {
            let _ = tx.send(c);
        }
    }

    /// Sends everything queued: one channel message per worker with something for it.
    pub fn flush(&mut self) {
        for (i, q) in self.pending.iter_mut().enumerate() {
            if q.is_empty() || i == self.me.0 {
                continue;
            }
            let msgs = std::mem::take(q);
            if let Some(tx) = self.links[i].as_ref().and_then(|l| l.upgrade()) {
                let _ = tx.send(Command::Relay(msgs));
            }
        }
    }
}
