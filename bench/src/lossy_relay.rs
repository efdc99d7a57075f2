//! [`LossyRelay`]: a UDP relay between the participants and one media-server address that
//! drops each datagram, in each direction, independently with a fixed probability (seeded), and
//! counts what it forwarded and dropped, so a report can show the loss the link really had.
//!
//! Two sockets, one task each, batched ([`BatchSocket`]: `recvmmsg` / `sendmmsg`):
//! - the *front* socket is the address participants are given; its task forwards to the server;
//! - the *back* socket talks to the server; its task forwards the answers to the participants.
//!
//! A server must see each participant at an address of its own. Towards our SFU (one socket per
//! worker, every peer on it) the back socket is bound to the wildcard address and sends each
//! participant's datagrams from a loopback address of that participant's (`127.64.x.y`, allotted
//! on its first datagram: [`Routing::Allot`]); the SFU's answers are told apart by the address
//! they were sent to (`IP_PKTINFO`). Towards Janus (a socket per PeerConnection) every
//! participant talks to a server address of its own anyway, so one back address serves all, and
//! the bench registers each pair from the SDP it exchanges ([`Routing::Registered`]).

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::batch_socket::{BATCH, BatchSocket, Outgoing, RecvBatch};
use crate::drop_decider::{DropDecider, stream_seed};

/// How the relay finds the server side of a participant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Routing {
    /// Every participant goes to `server`; each new one gets a source address `127.<net>.x.y`
    /// on the (wildcard-bound) back socket.
    Allot { server: SocketAddrV4, net: u8 },
    /// Only pairs added with [`LossyRelay::add_route`] are relayed.
    Registered,
}

/// What the relay did, in both directions: a snapshot of its counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RelayCounts {
    pub to_server_forwarded: u64,
    pub to_server_dropped: u64,
    pub to_client_forwarded: u64,
    pub to_client_dropped: u64,
    /// Datagrams from an address with no route (ignored, neither forwarded nor dropped).
    pub unroutable: u64,
    /// Datagrams the kernel refused to send.
    pub send_errors: u64,
    /// Datagrams lost in the relay's own socket buffers (`SO_RXQ_OVFL`): the relay was too slow.
    pub kernel_drops: u64,
}

fn pct(dropped: u64, forwarded: u64) -> Option<f64> {
    let n = dropped + forwarded;
    (n > 0).then(|| dropped as f64 * 100.0 / n as f64)
}

impl RelayCounts {
    /// `self - start`, saturating.
    pub fn since(&self, start: &RelayCounts) -> RelayCounts {
        RelayCounts {
            to_server_forwarded: self
                .to_server_forwarded
                .saturating_sub(start.to_server_forwarded),
            to_server_dropped: self
                .to_server_dropped
                .saturating_sub(start.to_server_dropped),
            to_client_forwarded: self
                .to_client_forwarded
                .saturating_sub(start.to_client_forwarded),
            to_client_dropped: self
                .to_client_dropped
                .saturating_sub(start.to_client_dropped),
            unroutable: self.unroutable.saturating_sub(start.unroutable),
            send_errors: self.send_errors.saturating_sub(start.send_errors),
            kernel_drops: self.kernel_drops.saturating_sub(start.kernel_drops),
        }
    }

    pub fn add(&mut self, o: &RelayCounts) {
        self.to_server_forwarded += o.to_server_forwarded;
        self.to_server_dropped += o.to_server_dropped;
        self.to_client_forwarded += o.to_client_forwarded;
        self.to_client_dropped += o.to_client_dropped;
        self.unroutable += o.unroutable;
        self.send_errors += o.send_errors;
        self.kernel_drops += o.kernel_drops;
    }

    pub fn forwarded(&self) -> u64 {
        self.to_server_forwarded + self.to_client_forwarded
    }

    pub fn dropped(&self) -> u64 {
        self.to_server_dropped + self.to_client_dropped
    }

    /// Dropped / (forwarded + dropped), both directions, %; `None` before any datagram.
    pub fn loss_pct(&self) -> Option<f64> {
        pct(self.dropped(), self.forwarded())
    }

    pub fn to_server_loss_pct(&self) -> Option<f64> {
        pct(self.to_server_dropped, self.to_server_forwarded)
    }

    pub fn to_client_loss_pct(&self) -> Option<f64> {
        pct(self.to_client_dropped, self.to_client_forwarded)
    }
}

#[derive(Default)]
struct Direction {
    forwarded: AtomicU64,
    dropped: AtomicU64,
}

#[derive(Default)]
struct Counters {
    to_server: Direction,
    to_client: Direction,
    unroutable: AtomicU64,
    send_errors: AtomicU64,
    /// Latest `SO_RXQ_OVFL` of the front and the back socket (each counts from its creation).
    kernel_drops: [AtomicU64; 2],
}

/// The relay's routing table, shared by its two tasks (locked once per batch).
#[derive(Default)]
struct Routes {
    /// Participant -> (server, source address on the back socket; `None`: the bound one).
    up: HashMap<SocketAddrV4, (SocketAddrV4, Option<Ipv4Addr>)>,
    /// (server, address the server sent to) -> participant.
    down: HashMap<(SocketAddrV4, Ipv4Addr), SocketAddrV4>,
    allotted: u32,
}

impl Routes {
    /// A fresh `127.<net>.x.y` for `client`; `None` once the 65,534 addresses are used up.
    fn allot(
        &mut self,
        client: SocketAddrV4,
        server: SocketAddrV4,
        net: u8,
    ) -> Option<(SocketAddrV4, Option<Ipv4Addr>)> {
        if self.allotted >= 0xfffe {
            return None;
        }
        self.allotted += 1;
        let n = self.allotted;
        let ip = Ipv4Addr::new(127, net, (n >> 8) as u8, n as u8);
        self.up.insert(client, (server, Some(ip)));
        self.down.insert((server, ip), client);
        Some((server, Some(ip)))
    }
}

/// One relay: a front and a back socket and the two tasks between them. Stops when dropped.
pub struct LossyRelay {
    front: SocketAddrV4,
    back: SocketAddrV4,
    routes: Arc<Mutex<Routes>>,
    counters: Arc<Counters>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for LossyRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LossyRelay")
            .field("front", &self.front)
            .field("back", &self.back)
            .finish_non_exhaustive()
    }
}

impl LossyRelay {
    /// Starts relaying between `front` and `back` (sockets from
    /// [`batch_socket::bind`](crate::batch_socket::bind)) on `rt`, dropping `percent` % of the
    /// datagrams of each direction; `seed` makes the drops repeatable.
    pub fn start(
        rt: &tokio::runtime::Handle,
        front: std::net::UdpSocket,
        back: std::net::UdpSocket,
        routing: Routing,
        percent: f64,
        seed: u64,
    ) -> io::Result<Self> {
        let v4 = |s: &std::net::UdpSocket| match s.local_addr()? {
            std::net::SocketAddr::V4(a) => Ok(a),
            a => Err(io::Error::other(format!("relay socket {a} is not IPv4"))),
        };
        let (front_addr, back_addr) = (v4(&front)?, v4(&back)?);
        let (front, back) = {
            let _in_rt = rt.enter();
            (
                Arc::new(BatchSocket::from_std(front)?),
                Arc::new(BatchSocket::from_std(back)?),
            )
        };
        let routes = Arc::new(Mutex::new(Routes::default()));
        let counters = Arc::new(Counters::default());
        let up = rt.spawn(to_server(
            front.clone(),
            back.clone(),
            routes.clone(),
            counters.clone(),
            routing,
            DropDecider::new(percent, stream_seed(seed, 0)),
        ));
        let down = rt.spawn(to_client(
            back,
            front,
            routes.clone(),
            counters.clone(),
            DropDecider::new(percent, stream_seed(seed, 1)),
        ));
        Ok(LossyRelay {
            front: front_addr,
            back: back_addr,
            routes,
            counters,
            tasks: vec![up, down],
        })
    }

    /// The address participants send to.
    pub fn front_addr(&self) -> SocketAddrV4 {
        self.front
    }

    /// The address the server sees (for [`Routing::Registered`]; wildcard for
    /// [`Routing::Allot`]).
    pub fn back_addr(&self) -> SocketAddrV4 {
        self.back
    }

    /// Relays `client` to `server` and back ([`Routing::Registered`]); a later route for the
    /// same client replaces the earlier one.
    pub fn add_route(&self, client: SocketAddrV4, server: SocketAddrV4) {
        let mut r = self.routes.lock().expect("lock");
        if let Some((old, _)) = r.up.insert(client, (server, None)) {
            r.down.remove(&(old, *self.back.ip()));
        }
        r.down.insert((server, *self.back.ip()), client);
    }

    /// The counters now.
    pub fn counts(&self) -> RelayCounts {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        RelayCounts {
            to_server_forwarded: get(&c.to_server.forwarded),
            to_server_dropped: get(&c.to_server.dropped),
            to_client_forwarded: get(&c.to_client.forwarded),
            to_client_dropped: get(&c.to_client.dropped),
            unroutable: get(&c.unroutable),
            send_errors: get(&c.send_errors),
            kernel_drops: c.kernel_drops.iter().map(get).sum(),
        }
    }
}

impl Drop for LossyRelay {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Reads a batch; on an error other than "nothing to read" waits a little (the socket stays).
async fn read(sock: &BatchSocket, batch: &mut RecvBatch, what: &str) -> bool {
    match sock.recv(batch).await {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!("lossy relay: reading the {what} socket: {e}");
            tokio::time::sleep(Duration::from_millis(10)).await;
            false
        }
    }
}

/// Front socket -> server, through the back socket.
async fn to_server(
    front: Arc<BatchSocket>,
    back: Arc<BatchSocket>,
    routes: Arc<Mutex<Routes>>,
    counters: Arc<Counters>,
    routing: Routing,
    mut drops: DropDecider,
) {
    let mut batch = RecvBatch::default();
    let mut plan = Vec::with_capacity(BATCH);
    loop {
        if !read(&front, &mut batch, "front").await {
            continue;
        }
        if let Some(k) = batch.kernel_drops {
            counters.kernel_drops[0].store(k.into(), Ordering::Relaxed);
        }
        plan.clear();
        let (mut dropped, mut unroutable) = (0, 0);
        {
            let mut r = routes.lock().expect("lock");
            for d in batch.received() {
                let route = match (r.up.get(&d.from).copied(), routing) {
                    (Some(route), _) => Some(route),
                    (None, Routing::Allot { server, net }) => r.allot(d.from, server, net),
                    (None, Routing::Registered) => None,
                };
                let Some((to, from_ip)) = route else {
                    unroutable += 1;
                    continue;
                };
                if drops.drop_next() {
                    dropped += 1;
                    continue;
                }
                plan.push(Outgoing {
                    slot: d.slot,
                    to,
                    from_ip,
                });
            }
        }
        let sent = back.send(&batch, &plan).await;
        counters
            .to_server
            .forwarded
            .fetch_add(sent.sent, Ordering::Relaxed);
        counters
            .to_server
            .dropped
            .fetch_add(dropped, Ordering::Relaxed);
        counters.unroutable.fetch_add(unroutable, Ordering::Relaxed);
        counters
            .send_errors
            .fetch_add(sent.failed, Ordering::Relaxed);
    }
}

/// Back socket -> participants, through the front socket.
async fn to_client(
    back: Arc<BatchSocket>,
    front: Arc<BatchSocket>,
    routes: Arc<Mutex<Routes>>,
    counters: Arc<Counters>,
    mut drops: DropDecider,
) {
    let mut batch = RecvBatch::default();
    let mut plan = Vec::with_capacity(BATCH);
    loop {
        if !read(&back, &mut batch, "back").await {
            continue;
        }
        if let Some(k) = batch.kernel_drops {
            counters.kernel_drops[1].store(k.into(), Ordering::Relaxed);
        }
        plan.clear();
        let (mut dropped, mut unroutable) = (0, 0);
        {
            let r = routes.lock().expect("lock");
            for d in batch.received() {
                let client = d.to_ip.and_then(|ip| r.down.get(&(d.from, ip)).copied());
                let Some(to) = client else {
                    unroutable += 1;
                    continue;
                };
                if drops.drop_next() {
                    dropped += 1;
                    continue;
                }
                plan.push(Outgoing {
                    slot: d.slot,
                    to,
                    from_ip: None,
                });
            }
        }
        let sent = front.send(&batch, &plan).await;
        counters
            .to_client
            .forwarded
            .fetch_add(sent.sent, Ordering::Relaxed);
        counters
            .to_client
            .dropped
            .fetch_add(dropped, Ordering::Relaxed);
        counters.unroutable.fetch_add(unroutable, Ordering::Relaxed);
        counters
            .send_errors
            .fetch_add(sent.failed, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch_socket::bind;
    use std::net::UdpSocket;
    use std::time::Instant;

    fn v4(s: &str) -> SocketAddrV4 {
        s.parse().unwrap()
    }

    fn local(s: &UdpSocket) -> SocketAddrV4 {
        match s.local_addr().unwrap() {
            std::net::SocketAddr::V4(a) => a,
            a => panic!("{a}"),
        }
    }

    /// Waits (bounded) until `cond` holds on the relay's counters.
    fn wait_counts(relay: &LossyRelay, cond: impl Fn(&RelayCounts) -> bool) -> RelayCounts {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let c = relay.counts();
            if cond(&c) || Instant::now() > deadline {
                return c;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    }

    /// Two participants behind an allotting relay reach one server socket as two distinct
    /// peers, and each gets its own answers back, from the relay's front address.
    #[test]
    fn allotting_relay_gives_each_participant_its_own_address() {
        let rt = runtime();
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let routing = Routing::Allot {
            server: local(&server),
            net: 65,
        };
        let relay = LossyRelay::start(
            rt.handle(),
            bind(v4("127.0.0.2:0")).unwrap(),
            bind(v4("0.0.0.0:0")).unwrap(),
            routing,
            0.0,
            1,
        )
        .unwrap();
        let front = relay.front_addr();
        let (a, b) = (
            UdpSocket::bind("127.0.0.1:0").unwrap(),
            UdpSocket::bind("127.0.0.1:0").unwrap(),
        );
        for c in [&a, &b] {
            c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        }
        a.send_to(b"from a", front).unwrap();
        let mut buf = [0u8; 64];
        let (n, peer_a) = server.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"from a");
        b.send_to(b"from b", front).unwrap();
        let (n, peer_b) = server.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"from b");
        assert_ne!(peer_a, peer_b, "the server must see two peers");
        assert_eq!(
            peer_a.ip(),
            std::net::IpAddr::V4(Ipv4Addr::new(127, 65, 0, 1))
        );

        server.send_to(b"to b", peer_b).unwrap();
        server.send_to(b"to a", peer_a).unwrap();
        let (n, from) = a.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"to a"[..], front.into()));
        let (n, from) = b.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"to b"[..], front.into()));
        let c = wait_counts(&relay, |c| c.to_client_forwarded == 2);
        assert_eq!((c.to_server_forwarded, c.to_client_forwarded), (2, 2));
        assert_eq!(c.dropped() + c.unroutable + c.send_errors, 0);
    }

    /// Pairs registered up front are relayed; anything else is counted as unroutable.
    #[test]
    fn registered_relay_forwards_only_known_pairs() {
        let rt = runtime();
        let relay = LossyRelay::start(
            rt.handle(),
            bind(v4("127.0.0.1:0")).unwrap(),
            bind(v4("127.0.0.1:0")).unwrap(),
            Routing::Registered,
            0.0,
            1,
        )
        .unwrap();
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
        for s in [&server, &client] {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        }
        relay.add_route(local(&client), local(&server));
        stranger.send_to(b"nobody", relay.front_addr()).unwrap();
        client.send_to(b"hello", relay.front_addr()).unwrap();
        let mut buf = [0u8; 64];
        let (n, from) = server.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"hello"[..], relay.back_addr().into()));
        server.send_to(b"welcome", relay.back_addr()).unwrap();
        let (n, from) = client.recv_from(&mut buf).unwrap();
        assert_eq!(
            (&buf[..n], from),
            (&b"welcome"[..], relay.front_addr().into())
        );
        let c = wait_counts(&relay, |c| c.unroutable == 1 && c.to_client_forwarded == 1);
        assert_eq!((c.unroutable, c.to_server_forwarded), (1, 1));
    }

    /// A stream through a 10 % relay to an echo server: each direction drops about 10 % and
    /// forwards the rest, and every datagram is accounted for (forwarded + dropped = sent, as
    /// none were lost in the relay's own buffers).
    #[test]
    fn lossy_relay_drops_the_set_share_and_counts_every_datagram() {
        let rt = runtime();
        // Large buffers at both ends too, so that only the relay could lose anything.
        let blocking = |a: &str| {
            let s = bind(v4(a)).unwrap();
            s.set_nonblocking(false).unwrap();
            s
        };
        let server = blocking("127.0.0.1:0");
        let relay = LossyRelay::start(
            rt.handle(),
            bind(v4("127.0.0.2:0")).unwrap(),
            bind(v4("0.0.0.0:0")).unwrap(),
            Routing::Allot {
                server: local(&server),
                net: 66,
            },
            10.0,
            7,
        )
        .unwrap();
        let client = blocking("127.0.0.1:0");
        for s in [&server, &client] {
            s.set_read_timeout(Some(Duration::from_millis(300)))
                .unwrap();
        }
        // Both ends read while the stream flows, so their socket buffers never fill.
        let echo = std::thread::spawn(move || {
            let (mut buf, mut n) = ([0u8; 64], 0u64);
            while let Ok((len, from)) = server.recv_from(&mut buf) {
                server.send_to(&buf[..len], from).unwrap();
                n += 1;
            }
            n
        });
        let rx = client.try_clone().unwrap();
        let back = std::thread::spawn(move || {
            let (mut buf, mut n) = ([0u8; 64], 0u64);
            while rx.recv_from(&mut buf).is_ok() {
                n += 1;
            }
            n
        });
        const N: u64 = 10_000;
        for i in 0..N {
            client
                .send_to(&i.to_be_bytes(), relay.front_addr())
                .unwrap();
            if i % 20 == 19 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let (echoed, back) = (echo.join().unwrap(), back.join().unwrap());
        let c = relay.counts();
        assert_eq!(c.kernel_drops, 0, "the relay kept up: {c:?}");
        assert_eq!(c.to_server_forwarded + c.to_server_dropped, N, "{c:?}");
        assert_eq!(echoed, c.to_server_forwarded, "{c:?}");
        assert_eq!(c.to_client_forwarded + c.to_client_dropped, echoed, "{c:?}");
        assert_eq!(back, c.to_client_forwarded, "{c:?}");
        // 10k draws at 10 %: the share's standard deviation is 0.3 points; ±1.5 is 5 of them
        // (and the seed is fixed, so the outcome does not vary between runs).
        for share in [c.to_server_loss_pct(), c.to_client_loss_pct()] {
            let s = share.unwrap();
            assert!((8.5..=11.5).contains(&s), "{s} % dropped: {c:?}");
        }
        assert_eq!(c.unroutable + c.send_errors, 0);
    }

    #[test]
    fn counts_diff_and_sum() {
        let a = RelayCounts {
            to_server_forwarded: 90,
            to_server_dropped: 10,
            to_client_forwarded: 190,
            to_client_dropped: 10,
            ..Default::default()
        };
        assert_eq!(a.loss_pct(), Some(20.0 * 100.0 / 300.0));
        assert_eq!(a.to_server_loss_pct(), Some(10.0));
        assert_eq!(a.to_client_loss_pct(), Some(5.0));
        let mut b = a;
        b.add(&a);
        assert_eq!(b.since(&a), a);
        assert_eq!(RelayCounts::default().loss_pct(), None);
    }
}
