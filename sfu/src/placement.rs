//! [`Placement`]: which worker each peer of a room runs on, kept by the room's home worker.
//!
//! Every command for a room goes to its home (a hash of the room id); the home places a
//! joining peer on the least-loaded worker and passes later commands for it on. Load is the
//! number of peers placed on each worker, over all rooms: a peer's cost is mostly its
//! subscriptions, which grow with the room it is in, and every room spreads its peers the
//! same way. Ties go to the home, so on an idle server a meeting's first peer runs where its
//! commands arrive.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::ids::{PeerId, RoomId, WorkerId};

/// Peers placed on each worker, written by the homes that placed them (never per packet).
#[derive(Debug)]
pub(crate) struct WorkerLoad(Vec<AtomicU64>);

impl WorkerLoad {
    pub fn new(workers: usize) -> Arc<WorkerLoad> {
        Arc::new(WorkerLoad(
            (0..workers).map(|_| AtomicU64::new(0)).collect(),
        ))
    }

    pub fn get(&self, w: WorkerId) -> u64 {
        self.0.get(w.0).map_or(0, |a| a.load(Ordering::Relaxed))
    }

    fn add(&self, w: WorkerId) {
        if let Some(a) = self.0.get(w.0) {
            a.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn sub(&self, w: WorkerId) {
        if let Some(a) = self.0.get(w.0) {
            let _ = a.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_sub(1));
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// Where one peer runs. `serial` tells a placement from a later one of the same peer id, so
/// a late `PeerGone` never removes a rejoin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Placed {
    pub worker: WorkerId,
    pub serial: u64,
}

/// The placements of the rooms whose home is this worker.
#[derive(Debug)]
pub(crate) struct Placement {
    home: WorkerId,
    load: Arc<WorkerLoad>,
    rooms: HashMap<RoomId, HashMap<PeerId, Placed>>,
    next_serial: u64,
}

impl Placement {
    pub fn new(home: WorkerId, load: Arc<WorkerLoad>) -> Placement {
        Placement {
            home,
            load,
            rooms: HashMap::new(),
            next_serial: 1,
        }
    }

    /// Rooms with at least one placed peer.
    pub fn room_count(&self) -> usize {
        self.rooms.len()
    }

    /// Where `peer` of `room` runs, if placed.
    pub fn get(&self, room: &RoomId, peer: PeerId) -> Option<Placed> {
        self.rooms.get(room)?.get(&peer).copied()
    }

    /// Places a new peer on the least-loaded worker (the home on ties). `None` when the peer
    /// is already placed.
    pub fn place(&mut self, room: &RoomId, peer: PeerId) -> Option<Placed> {
        let peers = self.rooms.entry(room.clone()).or_default();
        if peers.contains_key(&peer) {
            return None;
        }
        let mut best = self.home;
        for w in (0..self.load.len()).map(WorkerId) {
            if self.load.get(w) < self.load.get(best) {
                best = w;
            }
        }
        let placed = Placed {
            worker: best,
            serial: self.next_serial,
        };
        self.next_serial += 1;
        self.load.add(best);
        peers.insert(peer, placed);
        Some(placed)
    }

    /// Forgets a placement (the peer left, or the SFU removed it: then only if `serial`
    /// names the current placement).
    pub fn remove(&mut self, room: &RoomId, peer: PeerId, serial: Option<u64>) -> Option<Placed> {
        let peers = self.rooms.get_mut(room)?;
        let placed = *peers.get(&peer)?;
        if serial.is_some_and(|s| s != placed.serial) {
            return None;
        }
        peers.remove(&peer);
        self.load.sub(placed.worker);
        if peers.is_empty() {
            self.rooms.remove(room);
        }
        Some(placed)
    }

    /// Forgets a whole room (closed); returns the workers it had peers on.
    pub fn remove_room(&mut self, room: &RoomId) -> Vec<WorkerId> {
        let Some(peers) = self.rooms.remove(room) else {
            return Vec::new();
        };
        let mut workers: Vec<WorkerId> = peers.values().map(|p| p.worker).collect();
        for w in &workers {
            self.load.sub(*w);
        }
        workers.sort();
        workers.dedup();
        workers
    }

    /// Forgets everything (shutdown).
    pub fn clear(&mut self) {
        for room in self.rooms.keys().cloned().collect::<Vec<_>>() {
            self.remove_room(&room);
        }
    }
}

/// The home worker of a room: FNV-1a of its id, stable across processes and runs.
pub(crate) fn home_of(id: &RoomId, workers: usize) -> WorkerId {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in id.as_str().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    WorkerId((h % workers.max(1) as u64) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_is_stable_and_spread() {
        let a = RoomId::from("abc-defg-hij");
        assert_eq!(home_of(&a, 4), home_of(&a, 4));
        assert_eq!(home_of(&a, 1), WorkerId(0));
        let used: std::collections::HashSet<WorkerId> = (0..64)
            .map(|i| home_of(&RoomId(format!("room-{i}")), 4))
            .collect();
        assert_eq!(used.len(), 4);
    }

    #[test]
    fn peers_go_to_the_least_loaded_worker_home_first() {
        let load = WorkerLoad::new(2);
        let mut p = Placement::new(WorkerId(1), load.clone());
        let r = RoomId::from("r");
        let w: Vec<usize> = (1..=5)
            .map(|i| p.place(&r, PeerId(i)).unwrap().worker.0)
            .collect();
        assert_eq!(w, vec![1, 0, 1, 0, 1]);
        assert!(p.place(&r, PeerId(1)).is_none(), "already placed");
        assert_eq!((load.get(WorkerId(0)), load.get(WorkerId(1))), (2, 3));
        // Another home's rooms count too.
        let mut other = Placement::new(WorkerId(0), load.clone());
        assert_eq!(
            other.place(&RoomId::from("s"), PeerId(9)).unwrap().worker,
            WorkerId(0)
        );
        assert_eq!(p.place(&r, PeerId(6)).unwrap().worker, WorkerId(1));
    }

    #[test]
    fn a_stale_removal_keeps_the_new_placement() {
        let load = WorkerLoad::new(2);
        let mut p = Placement::new(WorkerId(0), load.clone());
        let r = RoomId::from("r");
        let first = p.place(&r, PeerId(1)).unwrap();
        assert!(p.remove(&r, PeerId(1), None).is_some());
        let again = p.place(&r, PeerId(1)).unwrap();
        assert_ne!(first.serial, again.serial);
        assert!(p.remove(&r, PeerId(1), Some(first.serial)).is_none());
        assert_eq!(p.get(&r, PeerId(1)), Some(again));
        assert!(p.remove(&r, PeerId(1), Some(again.serial)).is_some());
        assert_eq!(p.room_count(), 0);
        assert_eq!(load.get(WorkerId(0)), 0);
    }

    #[test]
    fn closing_a_room_frees_its_load() {
        let load = WorkerLoad::new(2);
        let mut p = Placement::new(WorkerId(0), load.clone());
        let r = RoomId::from("r");
        for i in 0..3 {
            p.place(&r, PeerId(i));
        }
        assert_eq!(p.remove_room(&r), vec![WorkerId(0), WorkerId(1)]);
        assert_eq!(load.get(WorkerId(0)) + load.get(WorkerId(1)), 0);
    }
}
