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

mod forwarding;
mod relay_counts;
mod routes;
#[cfg(test)]
mod tests;

pub use relay_counts::RelayCounts;

use std::io;
use std::net::SocketAddrV4;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::batch_socket::BatchSocket;
use crate::drop_decider::{DropDecider, stream_seed};
use forwarding::{to_client, to_server};
use relay_counts::Counters;
use routes::Routes;

/// How the relay finds the server side of a participant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Routing {
    /// Every participant goes to `server`; each new one gets a source address `127.<net>.x.y`
    /// on the (wildcard-bound) back socket.
    Allot { server: SocketAddrV4, net: u8 },
    /// Only pairs added with [`LossyRelay::add_route`] are relayed.
    Registered,
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
