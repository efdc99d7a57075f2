//! [`Demux`]: routes each datagram of a worker's socket to one connection with a map lookup.
//!
//! STUN binding requests carry `USERNAME = <our ufrag>:<their ufrag>`: the local ufrag names
//! the connection ([`Route::Stun`]). Everything else (DTLS, SRTP, SRTCP) is routed by the
//! remote socket address ([`Route::Addr`]). The SFU runs ICE-lite, so it never sends binding
//! requests itself and every STUN message it receives is a request carrying a USERNAME.
//!
//! A ufrag is public (it is in the SDP, and anyone on the path sees it), so a STUN route is
//! only a candidate: the sender's address is [`Demux::learn`]t only after the connection's
//! `Rtc` verified the request's MESSAGE-INTEGRITY (`Room::handle_datagram`). The table is
//! bounded: at most [`MAX_ADDRS_PER_CONN`] addresses and [`MAX_UFRAGS_PER_CONN`] ufrags per
//! connection (the least recently verified go first), and a connection's entries go with it.

use std::collections::HashMap;
use std::net::SocketAddr;

use crate::ids::{PcKind, PeerId};

/// Remote addresses kept per connection: a client's host, reflexive and relay candidates on
/// both address families fit; more only comes from someone who holds the ICE password.
pub(crate) const MAX_ADDRS_PER_CONN: usize = 8;
/// Local ufrags kept per connection: the current one and a few from before ICE restarts
/// (str0m only accepts the current one; older ones just let late requests be dropped quietly).
pub(crate) const MAX_UFRAGS_PER_CONN: usize = 4;

/// Index of a room inside its worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct RoomKey(pub u32);

/// One connection in a worker: room, peer, and which of its two connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ConnKey {
    pub room: RoomKey,
    pub peer: PeerId,
    pub pc: PcKind,
}

/// Where a datagram goes, and on what grounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// A STUN binding request naming this connection's ufrag: not yet verified.
    Stun(ConnKey),
    /// From an address a verified request of this connection came from.
    Addr(ConnKey),
}

impl Route {
    pub fn key(self) -> ConnKey {
        match self {
            Route::Stun(k) | Route::Addr(k) => k,
        }
    }
}

/// What one connection owns in the table, oldest first (the reverse index for cleanup).
#[derive(Debug, Default)]
struct Owned {
    ufrags: Vec<String>,
    addrs: Vec<SocketAddr>,
}

/// Datagram routing table of one worker.
#[derive(Debug, Default)]
pub(crate) struct Demux {
    by_ufrag: HashMap<String, ConnKey>,
    by_addr: HashMap<SocketAddr, ConnKey>,
    owned: HashMap<ConnKey, Owned>,
}

impl Demux {
    /// Registers a local ICE ufrag of a connection (initial, or after an ICE restart).
    pub fn add_ufrag(&mut self, ufrag: &str, key: ConnKey) {
        if self.by_ufrag.get(ufrag) == Some(&key) {
            return;
        }
        if let Some(old) = self.by_ufrag.insert(ufrag.to_owned(), key)
            && let Some(o) = self.owned.get_mut(&old)
        {
            o.ufrags.retain(|u| u != ufrag);
        }
        let owned = self.owned.entry(key).or_default();
        owned.ufrags.push(ufrag.to_owned());
        if owned.ufrags.len() > MAX_UFRAGS_PER_CONN {
            let oldest = owned.ufrags.remove(0);
            self.by_ufrag.remove(&oldest);
        }
    }

    /// Which connection a datagram from `src` belongs to. Records nothing: see [`Self::learn`].
    pub fn route(&self, src: SocketAddr, buf: &[u8]) -> Option<Route> {
        if let Some(ufrag) = stun_local_ufrag(buf)
            && let Some(&key) = self.by_ufrag.get(ufrag)
        {
            return Some(Route::Stun(key));
        }
        self.by_addr.get(&src).copied().map(Route::Addr)
    }

    /// Routes later datagrams from `src` to `key`. Call only after `key`'s connection verified
    /// a STUN request from `src`. Beyond [`MAX_ADDRS_PER_CONN`], the address verified least
    /// recently is forgotten.
    pub fn learn(&mut self, src: SocketAddr, key: ConnKey) {
        if let Some(old) = self.by_addr.insert(src, key)
            && let Some(o) = self.owned.get_mut(&old)
        {
            o.addrs.retain(|a| *a != src);
        }
        let owned = self.owned.entry(key).or_default();
        owned.addrs.push(src);
        if owned.addrs.len() > MAX_ADDRS_PER_CONN {
            let oldest = owned.addrs.remove(0);
            self.by_addr.remove(&oldest);
        }
    }

    /// Forgets everything routed to `key` (the peer left).
    pub fn remove(&mut self, key: ConnKey) {
        if let Some(o) = self.owned.remove(&key) {
            for u in o.ufrags {
                if self.by_ufrag.get(&u) == Some(&key) {
                    self.by_ufrag.remove(&u);
                }
            }
            for a in o.addrs {
                if self.by_addr.get(&a) == Some(&key) {
                    self.by_addr.remove(&a);
                }
            }
        }
    }

    /// Whether datagrams from `src` are routed (a verified request of a live connection came
    /// from it).
    pub fn is_routed(&self, src: SocketAddr) -> bool {
        self.by_addr.contains_key(&src)
    }

    /// Remote addresses currently routed (a gauge in [`crate::SfuStats`]).
    pub fn addr_count(&self) -> usize {
        self.by_addr.len()
    }

    #[cfg(test)]
    fn len(&self) -> (usize, usize) {
        (self.by_ufrag.len(), self.by_addr.len())
    }
}

/// RFC 7983: first byte 0..=3 is STUN.
pub(crate) fn is_stun(buf: &[u8]) -> bool {
    buf.len() >= 20 && buf[0] < 4 && buf[4..8] == [0x21, 0x12, 0xa4, 0x42]
}

/// The local ufrag (before `:`) of the USERNAME attribute of a STUN binding request.
pub(crate) fn stun_local_ufrag(buf: &[u8]) -> Option<&str> {
    if !is_stun(buf) {
        return None;
    }
    // Binding request: method 0x001, class request.
    if u16::from_be_bytes([buf[0], buf[1]]) != 0x0001 {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
    let end = (20 + len).min(buf.len());
    let mut i = 20;
    while i + 4 <= end {
        let typ = u16::from_be_bytes([buf[i], buf[i + 1]]);
        let alen = usize::from(u16::from_be_bytes([buf[i + 2], buf[i + 3]]));
        let v = i + 4;
        if v + alen > end {
            return None;
        }
        if typ == 0x0006 {
            let user = std::str::from_utf8(&buf[v..v + alen]).ok()?;
            return user.split(':').next().filter(|u| !u.is_empty());
        }
        i = v + alen.div_ceil(4) * 4;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding_request(username: &str) -> Vec<u8> {
        let mut attrs = Vec::new();
        // A PRIORITY attribute first, to exercise skipping.
        attrs.extend_from_slice(&[0x00, 0x24, 0x00, 0x04, 1, 2, 3, 4]);
        attrs.extend_from_slice(&0x0006u16.to_be_bytes());
        attrs.extend_from_slice(&(username.len() as u16).to_be_bytes());
        attrs.extend_from_slice(username.as_bytes());
        while attrs.len() % 4 != 0 {
            attrs.push(0);
        }
        let mut b = vec![0x00, 0x01];
        b.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        b.extend_from_slice(&[0x21, 0x12, 0xa4, 0x42]);
        b.extend_from_slice(&[7; 12]);
        b.extend_from_slice(&attrs);
        b
    }

    fn key(peer: u64, pc: PcKind) -> ConnKey {
        ConnKey {
            room: RoomKey(1),
            peer: PeerId(peer),
            pc,
        }
    }

    #[test]
    fn parses_username() {
        assert_eq!(stun_local_ufrag(&binding_request("abc:xyz")), Some("abc"));
        assert_eq!(stun_local_ufrag(&binding_request("abcde")), Some("abcde"));
        assert_eq!(stun_local_ufrag(&binding_request(":x")), None);
        let mut resp = binding_request("abc:xyz");
        resp[1] = 0x01;
        resp[0] = 0x01; // success response
        assert_eq!(stun_local_ufrag(&resp), None);
        assert_eq!(stun_local_ufrag(&[0x80; 40]), None, "RTP");
        let mut trunc = binding_request("abc:xyz");
        trunc.truncate(30);
        assert_eq!(stun_local_ufrag(&trunc), None);
    }

    /// What the worker does when the connection's integrity check passes.
    fn verified(d: &mut Demux, src: SocketAddr, buf: &[u8]) -> Option<ConnKey> {
        let r = d.route(src, buf)?;
        if let Route::Stun(k) = r {
            d.learn(src, k);
        }
        Some(r.key())
    }

    #[test]
    fn routes_stun_by_ufrag_then_learns_address() {
        let mut d = Demux::default();
        let a: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:4001".parse().unwrap();
        d.add_ufrag("pubA", key(1, PcKind::Publish));
        d.add_ufrag("subA", key(1, PcKind::Subscribe));
        let rtp = [0x80u8; 40];
        assert_eq!(d.route(a, &rtp), None, "unknown address");
        assert!(!d.is_routed(a));
        assert_eq!(
            verified(&mut d, a, &binding_request("pubA:cl")),
            Some(key(1, PcKind::Publish))
        );
        assert_eq!(d.route(a, &rtp), Some(Route::Addr(key(1, PcKind::Publish))));
        assert!(d.is_routed(a));
        assert_eq!(
            verified(&mut d, b, &binding_request("subA:cl")),
            Some(key(1, PcKind::Subscribe))
        );
        assert_eq!(
            d.route(b, &rtp),
            Some(Route::Addr(key(1, PcKind::Subscribe)))
        );
        assert_eq!(
            d.route(b, &binding_request("nope:cl")),
            Some(Route::Addr(key(1, PcKind::Subscribe)))
        );
    }

    #[test]
    fn routing_a_request_records_nothing() {
        let mut d = Demux::default();
        d.add_ufrag("pubA", key(1, PcKind::Publish));
        for port in 1000..3000 {
            let src = SocketAddr::from(([127, 0, 0, 1], port));
            assert_eq!(
                d.route(src, &binding_request("pubA:cl")),
                Some(Route::Stun(key(1, PcKind::Publish)))
            );
            assert_eq!(d.route(src, &[0x80; 40]), None);
        }
        assert_eq!(d.len(), (1, 0));
    }

    #[test]
    fn addresses_and_ufrags_per_connection_are_capped() {
        let mut d = Demux::default();
        let k = key(1, PcKind::Publish);
        for i in 0..10 {
            d.add_ufrag(&format!("u{i}"), k);
        }
        assert_eq!(d.len().0, MAX_UFRAGS_PER_CONN);
        assert_eq!(
            d.route(
                SocketAddr::from(([127, 0, 0, 1], 1)),
                &binding_request("u9:x")
            )
            .map(Route::key),
            Some(k)
        );
        assert_eq!(
            d.route(
                SocketAddr::from(([127, 0, 0, 1], 1)),
                &binding_request("u0:x")
            ),
            None
        );
        let addr = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
        for p in 0..100 {
            d.learn(addr(p), k);
            // The first address keeps being verified (consent checks): it is never evicted.
            d.learn(addr(1000), k);
        }
        assert_eq!(d.addr_count(), MAX_ADDRS_PER_CONN);
        assert_eq!(d.route(addr(1000), &[0x80; 40]), Some(Route::Addr(k)));
        assert_eq!(d.route(addr(99), &[0x80; 40]), Some(Route::Addr(k)));
        assert_eq!(d.route(addr(0), &[0x80; 40]), None, "least recent evicted");
        d.remove(k);
        assert_eq!(d.len(), (0, 0));
    }

    #[test]
    fn address_moves_to_newer_connection_and_cleanup() {
        let mut d = Demux::default();
        let a: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let rtp = [0x80u8; 40];
        d.add_ufrag("u1", key(1, PcKind::Publish));
        d.add_ufrag("u2", key(2, PcKind::Publish));
        verified(&mut d, a, &binding_request("u1:x"));
        verified(&mut d, a, &binding_request("u2:x"));
        assert_eq!(d.route(a, &rtp), Some(Route::Addr(key(2, PcKind::Publish))));
        d.remove(key(1, PcKind::Publish));
        assert_eq!(
            d.route(a, &rtp),
            Some(Route::Addr(key(2, PcKind::Publish))),
            "kept"
        );
        d.remove(key(2, PcKind::Publish));
        assert_eq!(d.route(a, &rtp), None);
        assert_eq!(d.len(), (0, 0));
    }

    #[test]
    fn ice_restart_adds_second_ufrag() {
        let mut d = Demux::default();
        d.add_ufrag("old", key(1, PcKind::Subscribe));
        d.add_ufrag("new", key(1, PcKind::Subscribe));
        let a: SocketAddr = "[::1]:5000".parse().unwrap();
        assert_eq!(
            verified(&mut d, a, &binding_request("new:x")),
            Some(key(1, PcKind::Subscribe))
        );
        d.remove(key(1, PcKind::Subscribe));
        assert_eq!(d.len(), (0, 0));
    }
}
