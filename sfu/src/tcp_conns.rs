//! [`TcpConns`]: the ICE-TCP connections one worker accepted, and the limits that keep a TCP
//! listener open to the internet cheap to hold.
//!
//! A TCP connection costs a task, a socket and buffers before the client proved anything, so:
//! admission is capped per worker and per remote IP; a connection must pass a STUN check
//! (the worker's `Demux` learnt its address) within [`TcpLimits::auth_deadline`]; a silent one
//! goes after [`TcpLimits::idle_timeout`]; and once verified it lives only as long as its
//! address is routed to an `Rtc` (the peer left, or the address was evicted: it closes).
//! Writes go through a bounded queue per connection; a full queue drops (UDP semantics: the
//! worker never waits for a slow TCP reader).
//!
//! Pure bookkeeping (no socket): the worker spawns one [`crate::tcp_conn`] task per admitted
//! connection and closes one by dropping its queue's sender.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use str0m::net::DatagramSend;
use tokio::sync::mpsc::{self, error::TrySendError};

use crate::udp_batch::MAX_DATAGRAM;

/// Open connections per worker.
pub(crate) const MAX_TCP_CONNS_PER_WORKER: usize = 1024;
/// Open connections per remote IP (per worker): a NAT of one office with 30 participants on
/// TCP (two connections each) fits.
pub(crate) const MAX_TCP_CONNS_PER_IP: usize = 64;
/// Time a new connection has to send a STUN binding request that passes its `Rtc`'s check.
pub(crate) const TCP_AUTH_DEADLINE: Duration = Duration::from_secs(5);
/// A connection that received nothing for this long is closed (ICE consent checks come every
/// few seconds).
pub(crate) const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest RFC 4571 frame accepted: the largest UDP datagram the SFU accepts.
pub(crate) const TCP_MAX_FRAME: usize = MAX_DATAGRAM;
/// Frames queued per connection for its writer; beyond that they are dropped.
pub(crate) const TCP_WRITE_QUEUE: usize = 512;

/// The limits above, overridable in tests.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TcpLimits {
    pub max_conns: usize,
    pub max_per_ip: usize,
    pub auth_deadline: Duration,
    pub idle_timeout: Duration,
    pub max_frame: usize,
    pub write_queue: usize,
}

impl Default for TcpLimits {
    fn default() -> Self {
        TcpLimits {
            max_conns: MAX_TCP_CONNS_PER_WORKER,
            max_per_ip: MAX_TCP_CONNS_PER_IP,
            auth_deadline: TCP_AUTH_DEADLINE,
            idle_timeout: TCP_IDLE_TIMEOUT,
            max_frame: TCP_MAX_FRAME,
            write_queue: TCP_WRITE_QUEUE,
        }
    }
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    WorkerFull,
    IpFull,
    /// A connection from the same address and port is open.
    Duplicate,
}

/// What became of a frame to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    Queued,
    /// The connection's queue is full.
    Full,
    /// No connection to that address (it closed).
    NoConn,
}

/// Identifies one accepted connection (an address can be reused after a close).
pub(crate) type ConnId = u64;

#[derive(Debug)]
struct Entry {
    id: ConnId,
    tx: mpsc::Sender<DatagramSend>,
    opened: Instant,
    last_rx: Instant,
    verified: bool,
}

/// The worker's open TCP connections by remote address.
#[derive(Debug)]
pub(crate) struct TcpConns {
    pub limits: TcpLimits,
    by_addr: HashMap<SocketAddr, Entry>,
    per_ip: HashMap<IpAddr, usize>,
    next_id: ConnId,
}

impl TcpConns {
    pub fn new(limits: TcpLimits) -> Self {
        TcpConns {
            limits,
            by_addr: HashMap::new(),
            per_ip: HashMap::new(),
            next_id: 1,
        }
    }

    /// Admits a connection from `addr`: its id and the receiving end of its write queue.
    pub fn admit(
        &mut self,
        addr: SocketAddr,
        now: Instant,
    ) -> Result<(ConnId, mpsc::Receiver<DatagramSend>), Refusal> {
        if self.by_addr.contains_key(&addr) {
            return Err(Refusal::Duplicate);
        }
        if self.by_addr.len() >= self.limits.max_conns {
            return Err(Refusal::WorkerFull);
        }
        let n = self.per_ip.entry(addr.ip()).or_default();
        if *n >= self.limits.max_per_ip {
            return Err(Refusal::IpFull);
        }
        *n += 1;
        let (tx, rx) = mpsc::channel(self.limits.write_queue);
        let id = self.next_id;
        self.next_id += 1;
        self.by_addr.insert(
            addr,
            Entry {
                id,
                tx,
                opened: now,
                last_rx: now,
                verified: false,
            },
        );
        Ok((id, rx))
    }

    /// Frames arrived on connection `id`; false when it is no longer open (drop them).
    pub fn received(&mut self, id: ConnId, addr: SocketAddr, now: Instant) -> bool {
        match self.by_addr.get_mut(&addr) {
            Some(e) if e.id == id => {
                e.last_rx = now;
                true
            }
            _ => false,
        }
    }

    /// Whether `addr`'s connection passed a STUN check already.
    pub fn is_verified(&self, addr: SocketAddr) -> bool {
        self.by_addr.get(&addr).is_some_and(|e| e.verified)
    }

    /// `addr`'s connection passed a STUN check: the auth deadline no longer applies.
    pub fn verify(&mut self, addr: SocketAddr) {
        if let Some(e) = self.by_addr.get_mut(&addr) {
            e.verified = true;
        }
    }

    /// Connection `id`'s task ended (EOF, error, bad frame).
    pub fn ended(&mut self, id: ConnId, addr: SocketAddr) {
        if self.by_addr.get(&addr).is_some_and(|e| e.id == id) {
            self.close(addr);
        }
    }

    /// Queues a payload for `addr`'s connection without waiting.
    pub fn send(&mut self, addr: SocketAddr, payload: DatagramSend) -> Sent {
        let Some(e) = self.by_addr.get(&addr) else {
            return Sent::NoConn;
        };
        match e.tx.try_send(payload) {
            Ok(()) => Sent::Queued,
            Err(TrySendError::Full(_)) => Sent::Full,
            Err(TrySendError::Closed(_)) => {
                self.close(addr);
                Sent::NoConn
            }
        }
    }

    /// Closes connections past their auth deadline, idle ones, and verified ones whose address
    /// `routed` no longer names. Returns how many were closed.
    pub fn sweep(&mut self, now: Instant, routed: impl Fn(SocketAddr) -> bool) -> usize {
        let l = self.limits;
        let stale: Vec<SocketAddr> = self
            .by_addr
            .iter()
            .filter(|(a, e)| {
                let since = |t: Instant| now.saturating_duration_since(t);
                (!e.verified && since(e.opened) >= l.auth_deadline)
                    || since(e.last_rx) >= l.idle_timeout
                    || (e.verified && !routed(**a))
            })
            .map(|(a, _)| *a)
            .collect();
        for a in &stale {
            self.close(*a);
        }
        stale.len()
    }

    /// Open connections.
    pub fn len(&self) -> usize {
        self.by_addr.len()
    }

    /// Dropping the sender ends the connection's task, which closes the socket.
    fn close(&mut self, addr: SocketAddr) {
        if self.by_addr.remove(&addr).is_some()
            && let Some(n) = self.per_ip.get_mut(&addr.ip())
        {
            *n -= 1;
            if *n == 0 {
                self.per_ip.remove(&addr.ip());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(ip: u8, port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, ip], port))
    }

    fn limits() -> TcpLimits {
        TcpLimits {
            max_conns: 4,
            max_per_ip: 2,
            write_queue: 2,
            ..TcpLimits::default()
        }
    }

    #[test]
    fn defaults() {
        let l = TcpLimits::default();
        assert_eq!(l.max_conns, 1024);
        assert_eq!(l.max_per_ip, 64);
        assert_eq!(l.auth_deadline, Duration::from_secs(5));
        assert_eq!(l.idle_timeout, Duration::from_secs(30));
        assert_eq!(l.max_frame, 2048);
        assert_eq!(l.write_queue, 512);
    }

    #[test]
    fn per_ip_and_per_worker_caps() {
        let now = Instant::now();
        let mut t = TcpConns::new(limits());
        let mut keep = Vec::new();
        keep.push(t.admit(addr(1, 1), now).unwrap());
        keep.push(t.admit(addr(1, 2), now).unwrap());
        assert_eq!(t.admit(addr(1, 3), now).unwrap_err(), Refusal::IpFull);
        assert_eq!(t.admit(addr(1, 1), now).unwrap_err(), Refusal::Duplicate);
        keep.push(t.admit(addr(2, 1), now).unwrap());
        keep.push(t.admit(addr(3, 1), now).unwrap());
        assert_eq!(t.admit(addr(4, 1), now).unwrap_err(), Refusal::WorkerFull);
        assert_eq!(t.len(), 4);
        // A close frees both counts.
        let (id, _) = &keep[0];
        t.ended(*id, addr(1, 1));
        assert_eq!(t.len(), 3);
        t.admit(addr(1, 3), now).unwrap();
    }

    #[test]
    fn unverified_connection_closes_at_the_deadline() {
        let now = Instant::now();
        let mut t = TcpConns::new(limits());
        let (id_a, _ra) = t.admit(addr(1, 1), now).unwrap();
        let (id_b, _rb) = t.admit(addr(1, 2), now).unwrap();
        // Frames that fail the STUN check keep it alive for the idle timer, not the deadline.
        assert!(t.received(id_a, addr(1, 1), now + Duration::from_secs(4)));
        t.verify(addr(1, 2));
        assert!(t.received(id_b, addr(1, 2), now + Duration::from_secs(4)));
        assert_eq!(t.sweep(now + Duration::from_secs(4), |_| true), 0);
        assert_eq!(t.sweep(now + TCP_AUTH_DEADLINE, |_| true), 1);
        assert!(!t.received(id_a, addr(1, 1), now), "closed");
        assert!(t.is_verified(addr(1, 2)));
    }

    #[test]
    fn idle_and_unrouted_connections_close() {
        let now = Instant::now();
        let mut t = TcpConns::new(limits());
        let (a, _ra) = t.admit(addr(1, 1), now).unwrap();
        let (b, _rb) = t.admit(addr(2, 1), now).unwrap();
        t.verify(addr(1, 1));
        t.verify(addr(2, 1));
        let later = now + TCP_IDLE_TIMEOUT;
        assert!(t.received(b, addr(2, 1), later - Duration::from_secs(1)));
        assert_eq!(t.sweep(later, |_| true), 1, "a was idle");
        assert!(!t.received(a, addr(1, 1), later));
        // The Rtc went: its address is no longer routed.
        assert_eq!(t.sweep(later, |x| x != addr(2, 1)), 1);
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn full_write_queue_drops_and_closed_task_is_forgotten() {
        let now = Instant::now();
        let mut t = TcpConns::new(limits());
        let (_, rx) = t.admit(addr(1, 1), now).unwrap();
        let d = || DatagramSend::from(vec![1u8; 10]);
        assert_eq!(t.send(addr(1, 1), d()), Sent::Queued);
        assert_eq!(t.send(addr(1, 1), d()), Sent::Queued);
        assert_eq!(t.send(addr(1, 1), d()), Sent::Full);
        assert_eq!(t.send(addr(9, 9), d()), Sent::NoConn);
        drop(rx); // the task ended
        assert_eq!(t.send(addr(1, 1), d()), Sent::NoConn);
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn stale_end_of_a_reused_address_is_ignored() {
        let now = Instant::now();
        let mut t = TcpConns::new(limits());
        let (old, _r1) = t.admit(addr(1, 1), now).unwrap();
        t.ended(old, addr(1, 1));
        let (new, _r2) = t.admit(addr(1, 1), now).unwrap();
        t.ended(old, addr(1, 1));
        assert!(t.received(new, addr(1, 1), now));
        assert!(!t.received(old, addr(1, 1), now));
    }
}
