//! [`RoomHandle`]: the cheap, cloneable handle signaling uses for one room. Each method is a
//! [`Command`] to the room's worker with a oneshot reply.

use tokio::sync::{mpsc, oneshot};

use crate::error::SfuError;
use crate::event::PeerEvent;
use crate::ids::{PcKind, PeerId, RoomId, TrackId};
use crate::simulcast::TrackWant;
use crate::worker::Command;

/// Handle to one Room (created lazily on the first join).
#[derive(Clone, Debug)]
pub struct RoomHandle {
    room: RoomId,
    tx: mpsc::UnboundedSender<Command>,
}

impl RoomHandle {
    pub(crate) fn new(room: RoomId, tx: mpsc::UnboundedSender<Command>) -> Self {
        RoomHandle { room, tx }
    }

    /// The room's id.
    pub fn id(&self) -> &RoomId {
        &self.room
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, SfuError>>) -> Command,
    ) -> Result<T, SfuError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).map_err(|_| SfuError::RoomClosed)?;
        rx.await.map_err(|_| SfuError::RoomClosed)?
    }

    /// Adds a peer. Events for it arrive on `events` until it leaves or fails; if tracks are
    /// already published in the room, a `SubscriberOffer` follows at once.
    pub async fn join(
        &self,
        peer: PeerId,
        events: mpsc::Sender<PeerEvent>,
    ) -> Result<(), SfuError> {
        let room = self.room.clone();
        self.call(|reply| Command::Join {
            room,
            peer,
            events,
            placed: None,
            reply,
        })
        .await
    }

    /// Publish connection: the client's offer (first one or any renegotiation, including ICE
    /// restart) -> the SFU's answer.
    pub async fn publish(&self, peer: PeerId, offer_sdp: String) -> Result<String, SfuError> {
        let room = self.room.clone();
        self.call(|reply| Command::Publish {
            room,
            peer,
            sdp: offer_sdp,
            reply,
        })
        .await
    }

    /// Subscribe connection: the client's answer to the last `PeerEvent::SubscriberOffer`.
    pub async fn subscriber_answer(
        &self,
        peer: PeerId,
        answer_sdp: String,
    ) -> Result<(), SfuError> {
        let room = self.room.clone();
        self.call(|reply| Command::SubscriberAnswer {
            room,
            peer,
            sdp: answer_sdp,
            reply,
        })
        .await
    }

    /// A trickled client candidate (`candidate:...`, with or without `a=`; empty = end of
    /// candidates) for one of the two connections. Candidates outside `allowed_networks` are
    /// ignored (`Ok`).
    pub async fn add_candidate(
        &self,
        peer: PeerId,
        pc: PcKind,
        candidate: String,
    ) -> Result<(), SfuError> {
        let room = self.room.clone();
        self.call(|reply| Command::AddCandidate {
            room,
            peer,
            pc,
            candidate,
            reply,
        })
        .await
    }

    /// ICE restart of the subscribe connection (a reconnecting client): emits a fresh
    /// `SubscriberOffer` (replacing an unanswered one). No-op before the first offer.
    pub async fn restart_subscriber(&self, peer: PeerId) -> Result<(), SfuError> {
        let room = self.room.clone();
        self.call(|reply| Command::RestartSubscriber { room, peer, reply })
            .await
    }

    /// What the peer shows of each remote track (`track_settings`): hidden tracks stop, shown
    /// ones resume, each at the simulcast layer that covers its rendered size. Tracks the peer
    /// does not receive are skipped.
    pub async fn track_settings(
        &self,
        peer: PeerId,
        wants: Vec<(TrackId, TrackWant)>,
    ) -> Result<(), SfuError> {
        let room = self.room.clone();
        self.call(|reply| Command::TrackSettings {
            room,
            peer,
            wants,
            reply,
        })
        .await
    }

    /// A host's stop on one of the peer's own published tracks: while `blocked`, whatever the
    /// publisher sends of it is dropped on arrival (not forwarded, not counted as speech) and
    /// its cached keyframe is forgotten everywhere. Unblocking a video asks the publisher for a
    /// keyframe, so subscribers see it again at once. `UnknownTrack` when the peer does not
    /// publish `track`.
    pub async fn block_track(
        &self,
        peer: PeerId,
        track: TrackId,
        blocked: bool,
    ) -> Result<(), SfuError> {
        let room = self.room.clone();
        self.call(|reply| Command::BlockTrack {
            room,
            peer,
            track,
            blocked,
            reply,
        })
        .await
    }

    /// Removes the peer; the others get offers without its tracks. The peer gets no `Closed`
    /// event (that one means the SFU removed it); its event channel ends.
    pub async fn leave(&self, peer: PeerId) {
        let (tx, rx) = oneshot::channel();
        let room = self.room.clone();
        if self
            .tx
            .send(Command::Leave {
                room,
                peer,
                reply: tx,
            })
            .is_ok()
        {
            let _ = rx.await;
        }
    }

    /// Ends the room: all peers get `Closed`.
    pub async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        let room = self.room.clone();
        if self.tx.send(Command::Close { room, reply: tx }).is_ok() {
            let _ = rx.await;
        }
    }
}
