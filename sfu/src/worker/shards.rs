//! A worker's side of the rooms it shares with other workers: announcing its shards and
//! handling the other shards' [`RelayMsg`]s.

use super::Worker;
use crate::ids::RoomId;
use crate::relay::RelayMsg;

impl Worker {
    /// Tells every other worker that this one now has (or no longer has) a shard of `room`.
    pub(super) fn announce_shard(&mut self, room: &RoomId, hosting: bool) {
        let me = self.relay.me();
        for w in self.relay.others().collect::<Vec<_>>() {
            self.relay.send(
                w,
                RelayMsg::Interest {
                    room: room.clone(),
                    from: me,
                    hosting,
                    answer: hosting,
                },
            );
        }
    }

    pub(super) fn relay_msg(&mut self, m: RelayMsg) {
        match m {
            RelayMsg::Interest {
                room,
                from,
                hosting,
                answer,
            } => {
                if !self.room_keys.contains_key(&room) {
                    return; // no shard here: it announces itself when it gets one
                }
                if hosting && answer {
                    // Before our tracks, so that `from` relays its own publishers' packets
                    // here as soon as it knows what we publish.
                    let me = self.relay.me();
                    self.relay.send(
                        from,
                        RelayMsg::Interest {
                            room: room.clone(),
                            from: me,
                            hosting: true,
                            answer: false,
                        },
                    );
                }
                self.with_room(&room, |r, ctx| {
                    if hosting {
                        r.shard_joined(from, ctx);
                    } else {
                        r.shard_left(from, ctx);
                    }
                });
            }
            RelayMsg::Tracks {
                room,
                from,
                publisher,
                tracks,
            } => {
                self.with_room(&room, |r, ctx| {
                    r.remote_tracks(from, publisher, tracks, ctx)
                });
            }
            RelayMsg::Media { room, packets } => {
                self.stats.relayed_in += packets.len() as u64;
                self.with_room(&room, |r, ctx| r.relayed(packets, ctx));
            }
            RelayMsg::KeyframeRequest { room, track, rid } => {
                self.with_room(&room, |r, ctx| r.request_keyframe_for_rid(track, rid, ctx));
            }
            RelayMsg::LayerDemand {
                room,
                from,
                track,
                rids,
            } => {
                self.with_room(&room, |r, ctx| r.layer_demand(from, track, rids, ctx));
            }
            RelayMsg::Layers {
                room,
                track,
                layers,
            } => {
                self.with_room(&room, |r, _| r.layer_infos(track, &layers));
            }
            RelayMsg::PeerGone {
                room,
                peer,
                placement,
            } => {
                self.placement.remove(&room, peer, Some(placement));
            }
            RelayMsg::TrackBlocked { room, track } => {
                self.with_room(&room, |r, _| r.forget_cached(track));
            }
        }
    }
}
