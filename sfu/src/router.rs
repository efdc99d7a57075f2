//! [`Router`]: per Room, which DownTracks each UpTrack feeds.
//!
//! Pure bookkeeping: membership changes and publish changes return the list of
//! [`DownChange`]s (DownTracks to add / remove on subscribers) that the room then negotiates.
//! The fan-out list of each UpTrack is also the hot-path table: a subscriber receives media
//! once its DownTrack has a negotiated mid ([`Router::set_open`]).

use std::collections::HashMap;

use str0m::media::Mid;

use crate::ids::{MediaKind, PeerId, TrackId};

/// One subscriber of an UpTrack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sub {
    pub peer: PeerId,
    /// Mid in the subscriber's subscribe connection, once negotiated.
    pub mid: Option<Mid>,
}

#[derive(Debug, Clone)]
struct Route {
    publisher: PeerId,
    kind: MediaKind,
    subs: Vec<Sub>,
}

/// A DownTrack to add to or remove from a subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DownChange {
    Add {
        subscriber: PeerId,
        track: TrackId,
        publisher: PeerId,
        kind: MediaKind,
    },
    Remove {
        subscriber: PeerId,
        track: TrackId,
    },
}

/// Which DownTracks each UpTrack feeds.
#[derive(Debug, Default)]
pub(crate) struct Router {
    members: Vec<PeerId>,
    routes: HashMap<TrackId, Route>,
}

impl Router {
    /// A peer joins: it subscribes to every UpTrack already published.
    pub fn add_member(&mut self, peer: PeerId) -> Vec<DownChange> {
        if self.members.contains(&peer) {
            return Vec::new();
        }
        self.members.push(peer);
        let mut out = Vec::new();
        for (track, r) in &mut self.routes {
            if r.publisher != peer {
                r.subs.push(Sub { peer, mid: None });
                out.push(DownChange::Add {
                    subscriber: peer,
                    track: *track,
                    publisher: r.publisher,
                    kind: r.kind,
                });
            }
        }
        sort(&mut out);
        out
    }

    /// A peer leaves: its UpTracks are removed from every subscriber; its own DownTracks
    /// vanish with it (no change is returned for the leaving peer).
    pub fn remove_member(&mut self, peer: PeerId) -> Vec<DownChange> {
        self.members.retain(|p| *p != peer);
        let mut out = Vec::new();
        self.routes.retain(|track, r| {
            if r.publisher == peer {
                out.extend(r.subs.iter().map(|s| DownChange::Remove {
                    subscriber: s.peer,
                    track: *track,
                }));
                false
            } else {
                r.subs.retain(|s| s.peer != peer);
                true
            }
        });
        sort(&mut out);
        out
    }

    /// The publisher's UpTracks are now exactly `tracks`: diff against the current ones.
    pub fn set_published(
        &mut self,
        publisher: PeerId,
        tracks: &[(TrackId, MediaKind)],
    ) -> Vec<DownChange> {
        let mut out = Vec::new();
        self.routes.retain(|track, r| {
            if r.publisher == publisher && !tracks.iter().any(|(t, _)| t == track) {
                out.extend(r.subs.iter().map(|s| DownChange::Remove {
                    subscriber: s.peer,
                    track: *track,
                }));
                false
            } else {
                true
            }
        });
        for &(track, kind) in tracks {
            if self.routes.contains_key(&track) {
                continue;
            }
            let subs: Vec<Sub> = self
                .members
                .iter()
                .filter(|p| **p != publisher)
                .map(|&peer| Sub { peer, mid: None })
                .collect();
            out.extend(subs.iter().map(|s| DownChange::Add {
                subscriber: s.peer,
                track,
                publisher,
                kind,
            }));
            self.routes.insert(
                track,
                Route {
                    publisher,
                    kind,
                    subs,
                },
            );
        }
        sort(&mut out);
        out
    }

    /// The subscriber's DownTrack of `track` is negotiated on `mid`: start forwarding.
    pub fn set_open(&mut self, track: TrackId, subscriber: PeerId, mid: Mid) -> bool {
        let Some(r) = self.routes.get_mut(&track) else {
            return false;
        };
        match r.subs.iter_mut().find(|s| s.peer == subscriber) {
            Some(s) => {
                s.mid = Some(mid);
                true
            }
            None => false,
        }
    }

    /// Subscribers of an UpTrack (hot path).
    pub fn subscribers(&self, track: TrackId) -> &[Sub] {
        self.routes.get(&track).map_or(&[], |r| &r.subs)
    }

    /// Publisher of an UpTrack.
    #[cfg(test)]
    pub fn publisher(&self, track: TrackId) -> Option<PeerId> {
        self.routes.get(&track).map(|r| r.publisher)
    }

    #[cfg(test)]
    pub fn up_track_count(&self) -> usize {
        self.routes.len()
    }

    pub fn down_track_count(&self) -> usize {
        self.routes.values().map(|r| r.subs.len()).sum()
    }
}

fn sort(v: &mut [DownChange]) {
    v.sort_by_key(|c| match *c {
        DownChange::Add {
            subscriber, track, ..
        } => (0, subscriber, track),
        DownChange::Remove { subscriber, track } => (1, subscriber, track),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use MediaKind::*;

    const A: PeerId = PeerId(1);
    const B: PeerId = PeerId(2);
    const C: PeerId = PeerId(3);
    const T1: TrackId = TrackId(101);
    const T2: TrackId = TrackId(102);
    const T3: TrackId = TrackId(103);

    fn add(subscriber: PeerId, track: TrackId, publisher: PeerId, kind: MediaKind) -> DownChange {
        DownChange::Add {
            subscriber,
            track,
            publisher,
            kind,
        }
    }

    fn rm(subscriber: PeerId, track: TrackId) -> DownChange {
        DownChange::Remove { subscriber, track }
    }

    #[test]
    fn publish_feeds_every_other_member() {
        let mut r = Router::default();
        assert!(r.add_member(A).is_empty());
        assert!(r.add_member(B).is_empty());
        let ch = r.set_published(A, &[(T1, Audio), (T2, Video)]);
        assert_eq!(ch, vec![add(B, T1, A, Audio), add(B, T2, A, Video)]);
        assert_eq!(r.up_track_count(), 2);
        assert_eq!(r.down_track_count(), 2);
        // Same set again: no change.
        assert!(r.set_published(A, &[(T1, Audio), (T2, Video)]).is_empty());
    }

    #[test]
    fn late_joiner_gets_existing_tracks() {
        let mut r = Router::default();
        r.add_member(A);
        r.add_member(B);
        r.set_published(A, &[(T1, Audio)]);
        r.set_published(B, &[(T2, Video)]);
        let ch = r.add_member(C);
        assert_eq!(ch, vec![add(C, T1, A, Audio), add(C, T2, B, Video)]);
        assert!(r.add_member(C).is_empty(), "idempotent");
        assert_eq!(r.down_track_count(), 4);
    }

    #[test]
    fn unpublish_removes_from_subscribers() {
        let mut r = Router::default();
        r.add_member(A);
        r.add_member(B);
        r.add_member(C);
        r.set_published(A, &[(T1, Audio), (T2, Video)]);
        let ch = r.set_published(A, &[(T1, Audio), (T3, Video)]);
        assert_eq!(
            ch,
            vec![
                add(B, T3, A, Video),
                add(C, T3, A, Video),
                rm(B, T2),
                rm(C, T2)
            ]
        );
        assert!(r.subscribers(T2).is_empty());
    }

    #[test]
    fn leaving_member_removes_its_tracks_and_subscriptions() {
        let mut r = Router::default();
        r.add_member(A);
        r.add_member(B);
        r.add_member(C);
        r.set_published(A, &[(T1, Video)]);
        r.set_published(B, &[(T2, Audio)]);
        let ch = r.remove_member(A);
        assert_eq!(ch, vec![rm(B, T1), rm(C, T1)]);
        // A's subscription to T2 vanished without a change for A.
        assert_eq!(r.subscribers(T2).len(), 1);
        assert_eq!(r.subscribers(T2)[0].peer, C);
        assert_eq!(r.publisher(T1), None);
        // A later publish does not include A.
        let ch = r.set_published(C, &[(T3, Audio)]);
        assert_eq!(ch, vec![add(B, T3, C, Audio)]);
    }

    #[test]
    fn open_sets_mid_for_fanout() {
        let mut r = Router::default();
        r.add_member(A);
        r.add_member(B);
        r.set_published(A, &[(T1, Video)]);
        assert_eq!(r.subscribers(T1)[0].mid, None);
        assert!(r.set_open(T1, B, Mid::from("3")));
        assert_eq!(r.subscribers(T1)[0].mid, Some(Mid::from("3")));
        assert!(!r.set_open(T1, C, Mid::from("4")), "not a subscriber");
        assert!(!r.set_open(T2, B, Mid::from("4")), "no such track");
    }
}
