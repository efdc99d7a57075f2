//! [`Command`]s to a worker, and how a room's home passes those for peers it placed on other
//! workers on to them ([`crate::placement`]).

use tokio::sync::{mpsc, oneshot};

use super::Worker;
use crate::demux::RoomKey;
use crate::error::SfuError;
use crate::event::PeerEvent;
use crate::ids::{PcKind, PeerId, RoomId, TrackId};
use crate::placement::home_of;
use crate::relay::RelayMsg;
use crate::room::Room;
use crate::simulcast::TrackWant;
use crate::stats::SfuStats;

pub(crate) type Reply<T> = oneshot::Sender<Result<T, SfuError>>;

/// A request to a worker.
pub(crate) enum Command {
    Join {
        room: RoomId,
        peer: PeerId,
        events: mpsc::Sender<PeerEvent>,
        /// `None` from a handle (the home places the peer); the placement serial once placed.
        placed: Option<u64>,
        reply: Reply<()>,
    },
    Publish {
        room: RoomId,
        peer: PeerId,
        sdp: String,
        reply: Reply<String>,
    },
    SubscriberAnswer {
        room: RoomId,
        peer: PeerId,
        sdp: String,
        reply: Reply<()>,
    },
    AddCandidate {
        room: RoomId,
        peer: PeerId,
        pc: PcKind,
        candidate: String,
        reply: Reply<()>,
    },
    RestartSubscriber {
        room: RoomId,
        peer: PeerId,
        reply: Reply<()>,
    },
    TrackSettings {
        room: RoomId,
        peer: PeerId,
        wants: Vec<(TrackId, TrackWant)>,
        reply: Reply<()>,
    },
    BlockTrack {
        room: RoomId,
        peer: PeerId,
        track: TrackId,
        blocked: bool,
        reply: Reply<()>,
    },
    Leave {
        room: RoomId,
        peer: PeerId,
        reply: oneshot::Sender<()>,
    },
    Close {
        room: RoomId,
        reply: oneshot::Sender<()>,
    },
    Stats {
        reply: oneshot::Sender<SfuStats>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
    /// Messages from the shards of shared rooms on another worker.
    Relay(Vec<RelayMsg>),
}

impl Command {
    /// The room and peer a command is about, for routing.
    fn target(&self) -> Option<(&RoomId, Option<PeerId>)> {
        match self {
            Command::Join { room, peer, .. }
            | Command::Publish { room, peer, .. }
            | Command::SubscriberAnswer { room, peer, .. }
            | Command::AddCandidate { room, peer, .. }
            | Command::RestartSubscriber { room, peer, .. }
            | Command::TrackSettings { room, peer, .. }
            | Command::BlockTrack { room, peer, .. }
            | Command::Leave { room, peer, .. } => Some((room, Some(*peer))),
            Command::Close { room, .. } => Some((room, None)),
            Command::Stats { .. } | Command::Shutdown { .. } | Command::Relay(_) => None,
        }
    }
}

impl Worker {
    pub(super) fn command(&mut self, c: Command) {
        let Some(c) = self.route(c) else {
            return;
        };
        match c {
            Command::Join {
                room,
                peer,
                events,
                placed,
                reply,
            } => {
                if !self.room_keys.contains_key(&room) {
                    let key = RoomKey(self.next_room);
                    self.next_room = self.next_room.wrapping_add(1);
                    let home = home_of(&room, self.load.len());
                    self.rooms.insert(key, Room::new(room.clone(), key, home));
                    self.room_keys.insert(room.clone(), key);
                    self.announce_shard(&room, true);
                }
                let serial = placed.unwrap_or(0);
                let r = self
                    .with_room(&room, |r, ctx| r.join(peer, events, serial, ctx))
                    .unwrap_or(Err(SfuError::RoomClosed));
                let _ = reply.send(r);
            }
            Command::Publish {
                room,
                peer,
                sdp,
                reply,
            } => {
                let r = self
                    .with_room(&room, |r, ctx| r.publish(peer, &sdp, ctx))
                    .unwrap_or(Err(SfuError::UnknownPeer));
                let _ = reply.send(r);
            }
            Command::SubscriberAnswer {
                room,
                peer,
                sdp,
                reply,
            } => {
                let r = self
                    .with_room(&room, |r, ctx| r.subscriber_answer(peer, &sdp, ctx))
                    .unwrap_or(Err(SfuError::UnknownPeer));
                let _ = reply.send(r);
            }
            Command::AddCandidate {
                room,
                peer,
                pc,
                candidate,
                reply,
            } => {
                let r = self
                    .with_room(&room, |r, ctx| r.add_candidate(peer, pc, &candidate, ctx))
                    .unwrap_or(Err(SfuError::UnknownPeer));
                let _ = reply.send(r);
            }
            Command::RestartSubscriber { room, peer, reply } => {
                let r = self
                    .with_room(&room, |r, ctx| r.restart_subscriber(peer, ctx))
                    .unwrap_or(Err(SfuError::UnknownPeer));
                let _ = reply.send(r);
            }
            Command::TrackSettings {
                room,
                peer,
                wants,
                reply,
            } => {
                let r = self
                    .with_room(&room, |r, ctx| r.track_settings(peer, &wants, ctx))
                    .unwrap_or(Err(SfuError::UnknownPeer));
                let _ = reply.send(r);
            }
            Command::BlockTrack {
                room,
                peer,
                track,
                blocked,
                reply,
            } => {
                let r = self
                    .with_room(&room, |r, ctx| r.block_track(peer, track, blocked, ctx))
                    .unwrap_or(Err(SfuError::UnknownPeer));
                let _ = reply.send(r);
            }
            Command::Leave { room, peer, reply } => {
                self.with_room(&room, |r, ctx| r.leave(peer, ctx));
                let _ = reply.send(());
            }
            Command::Close { room, reply } => {
                self.with_room(&room, |r, ctx| r.close("room closed", ctx));
                if let Some(key) = self.room_keys.remove(&room) {
                    self.rooms.remove(&key);
                    self.announce_shard(&room, false);
                }
                let _ = reply.send(());
            }
            Command::Stats { reply } => {
                let mut s = self.stats;
                s.routes = self.demux.addr_count() as u64;
                s.tcp_connections = self.tcp.len() as u64;
                s.rooms = self.placement.room_count() as u64;
                s.placed_peers = self.load.get(self.relay.me());
                for r in self.rooms.values() {
                    r.add_gauges(&mut s);
                }
                let _ = reply.send(s);
            }
            Command::Shutdown { reply } => {
                // Handled in `run`.
                let _ = reply.send(());
            }
            Command::Relay(msgs) => {
                for m in msgs {
                    self.relay_msg(m);
                }
            }
        }
    }

    /// At a room's home: places joining peers, and passes a command for a peer placed on
    /// another worker on to it (`None`: passed on or answered). Elsewhere a room command was
    /// passed on by its home and runs here.
    fn route(&mut self, c: Command) -> Option<Command> {
        let me = self.relay.me();
        let (room, peer) = match c.target() {
            Some((room, peer)) if home_of(room, self.load.len()) == me => (room.clone(), peer),
            _ => return Some(c),
        };
        let to = match c {
            Command::Join {
                room,
                peer,
                events,
                placed: None,
                reply,
            } => {
                let Some(p) = self.placement.place(&room, peer) else {
                    let _ = reply.send(Err(SfuError::PeerExists));
                    return None;
                };
                let c = Command::Join {
                    room,
                    peer,
                    events,
                    placed: Some(p.serial),
                    reply,
                };
                return self.pass(p.worker, c);
            }
            Command::Close { .. } => {
                for w in self.relay.others().collect::<Vec<_>>() {
                    let (tx, _rx) = oneshot::channel();
                    let close = Command::Close {
                        room: room.clone(),
                        reply: tx,
                    };
                    self.pass(w, close);
                }
                self.placement.remove_room(&room);
                return Some(c);
            }
            Command::Leave { .. } => peer.and_then(|p| self.placement.remove(&room, p, None)),
            _ => peer.and_then(|p| self.placement.get(&room, p)),
        };
        match to {
            Some(p) => self.pass(p.worker, c),
            None => Some(c),
        }
    }

    /// Sends `c` to worker `to` (or returns it when that is this one). A worker that is gone
    /// drops it, and the caller's reply channel tells it the room is closed.
    fn pass(&mut self, to: crate::ids::WorkerId, c: Command) -> Option<Command> {
        if to == self.relay.me() {
            return Some(c);
        }
        self.relay.command(to, c);
        None
    }
}
