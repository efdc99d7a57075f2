//! [`Worker`]: one OS thread running a current-thread tokio runtime that owns one UDP socket,
//! its shards of rooms, their peers and routers. Everyone else talks to it through
//! [`Command`]s carrying oneshot replies; nothing here is shared or locked.
//!
//! Loop: wait for a command (or other workers' relayed messages), socket readiness, or the
//! single worker timer (the earliest timeout of all its connections and deferred keyframe
//! requests); handle it; flush the outbox with `sendmmsg` and the relay to other workers.
//!
//! The worker is also the home of some rooms (`placement`): commands for them arrive here
//! first and go on to the worker each peer was placed on (`commands`). Rooms shared with
//! other workers exchange `RelayMsg`s (`shards`). With ICE-TCP the worker also owns a TCP
//! listener and its connections' tasks (`tcp`).

mod commands;
mod shards;
mod tcp;

pub(crate) use commands::Command;

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::net::{DatagramRecv, Protocol, Receive};
use tokio::io::Interest;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;

use crate::demux::{Demux, RoomKey};
use crate::ids::RoomId;
use crate::ip_net::allowed;
use crate::outbox::Outbox;
use crate::placement::{Placement, WorkerLoad};
use crate::relay::Relay;
use crate::room::{Room, RoomCtx, RoomSettings};
use crate::stats::SfuStats;
use crate::tcp_conn::TcpIn;
use crate::tcp_conns::{TcpConns, TcpLimits};
use crate::udp_batch::{self, RecvBatch};

/// Runs `f`, turning a panic into `None`.
fn guard<R>(f: impl FnOnce() -> R) -> Option<R> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
}

/// Longest sleep when nothing is scheduled.
const IDLE: Duration = Duration::from_millis(500);
/// Receive batches per wake-up before serving commands and timers again.
const READ_BUDGET: usize = 16;
/// Messages queued from ICE-TCP connection tasks to the worker (a full queue makes the tasks
/// wait, which is TCP back-pressure on their clients).
const TCP_IN_QUEUE: usize = 1024;

/// The owner of one socket and its rooms.
pub(crate) struct Worker {
    socket: UdpSocket,
    v6_socket: bool,
    candidates: Vec<SocketAddr>,
    tcp_candidates: Vec<SocketAddr>,
    /// The ICE-TCP listener (`None`: ICE-TCP is off).
    tcp_listener: Option<TcpListener>,
    tcp: TcpConns,
    /// Cloned into every connection task.
    tcp_tx: mpsc::Sender<TcpIn>,
    tcp_rx: mpsc::Receiver<TcpIn>,
    next_tcp_sweep: Instant,
    /// After a failed accept, none before this.
    tcp_accept_paused: Option<Instant>,
    settings: RoomSettings,
    rooms: HashMap<RoomKey, Room>,
    room_keys: HashMap<RoomId, RoomKey>,
    next_room: u32,
    demux: Demux,
    outbox: Outbox,
    stats: SfuStats,
    earliest: Instant,
    last_timeouts: Instant,
    recv: RecvBatch,
    relay: Relay,
    /// Where the peers of the rooms whose home is this worker run.
    placement: Placement,
    load: Arc<WorkerLoad>,
}

impl Worker {
    pub fn new(
        socket: UdpSocket,
        tcp_listener: Option<TcpListener>,
        settings: RoomSettings,
        relay: Relay,
        load: Arc<WorkerLoad>,
    ) -> io::Result<Worker> {
        let local = socket.local_addr()?;
        let now = Instant::now();
        let allowed: Arc<[_]> = settings.allowed_networks.clone().into();
        let (tcp_tx, tcp_rx) = mpsc::channel(TCP_IN_QUEUE);
        Ok(Worker {
            socket,
            v6_socket: local.is_ipv6(),
            candidates: settings.factory.candidates.clone(),
            tcp_candidates: settings.factory.tcp_candidates.clone(),
            tcp_listener,
            tcp: TcpConns::new(TcpLimits::default()),
            tcp_tx,
            tcp_rx,
            next_tcp_sweep: now,
            tcp_accept_paused: None,
            settings,
            rooms: HashMap::new(),
            room_keys: HashMap::new(),
            next_room: 0,
            demux: Demux::default(),
            outbox: Outbox::new(allowed),
            stats: SfuStats::default(),
            earliest: now + IDLE,
            last_timeouts: now,
            recv: RecvBatch::new(),
            placement: Placement::new(relay.me(), load.clone()),
            relay,
            load,
        })
    }

    pub async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        loop {
            let wake = self
                .earliest
                .max(self.last_timeouts + Duration::from_millis(1));
            let sleep = tokio::time::sleep_until(wake.into());
            let want_write = !self.outbox.is_empty();
            tokio::select! {
                biased;
                c = commands.recv() => match c {
                    None => break,
                    Some(Command::Shutdown { reply }) => {
                        self.close_all("sfu shutting down");
                        self.placement.clear();
                        self.flush();
                        let _ = reply.send(());
                        break;
                    }
                    Some(c) => self.command(c),
                },
                r = self.socket.readable() => {
                    if let Err(e) = r {
                        tracing::error!("socket readiness: {e}");
                    }
                    self.read();
                }
                m = self.tcp_rx.recv() => {
                    if let Some(m) = m {
                        self.tcp_input(m);
                    }
                }
                a = tcp::accept(self.tcp_listener.as_ref(), self.tcp_accept_paused) => self.tcp_accept(a),
                _ = self.socket.writable(), if want_write => {}
                _ = sleep => {}
            }
            if Instant::now() >= self.earliest {
                self.timeouts();
            }
            self.flush();
        }
        tracing::debug!("media worker stopped");
    }

    fn ctx_parts(&mut self) -> (&mut HashMap<RoomKey, Room>, RoomCtx<'_>) {
        let ctx = RoomCtx {
            outbox: &mut self.outbox,
            demux: &mut self.demux,
            stats: &mut self.stats,
            settings: &self.settings,
            now: Instant::now(),
            earliest: &mut self.earliest,
            relay: &mut self.relay,
        };
        (&mut self.rooms, ctx)
    }

    fn read(&mut self) {
        let fd = self.socket.as_raw_fd();
        let mut recv = std::mem::replace(&mut self.recv, RecvBatch::empty());
        for _ in 0..READ_BUDGET {
            let n = match self.socket.try_io(Interest::READABLE, || recv.recv(fd)) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    tracing::warn!("recvmmsg: {e}");
                    break;
                }
            };
            let now = Instant::now();
            for i in 0..n {
                match recv.get(i) {
                    Some((src, data)) => {
                        self.datagram(now, udp_batch::canonical(src), data, Protocol::Udp);
                    }
                    None => self.stats.packets_dropped += 1,
                }
            }
            if self.outbox.len() >= 4 * udp_batch::BATCH {
                self.flush();
            }
            if n < udp_batch::BATCH {
                break;
            }
        }
        self.recv = recv;
    }

    /// One datagram (or ICE-TCP frame) from `src`, which is canonical. Returns whether a
    /// connection took it.
    fn datagram(&mut self, now: Instant, src: SocketAddr, data: &[u8], proto: Protocol) -> bool {
        if !allowed(&self.settings.allowed_networks, src.ip()) {
            self.stats.packets_dropped += 1;
            return false;
        }
        let Some(route) = self.demux.route(src, data) else {
            self.stats.packets_dropped += 1;
            return false;
        };
        let Ok(contents) = DatagramRecv::try_from(data) else {
            self.stats.packets_dropped += 1;
            return false;
        };
        let candidates = match proto {
            Protocol::Tcp => &self.tcp_candidates,
            _ => &self.candidates,
        };
        let destination = candidates
            .iter()
            .find(|c| c.is_ipv4() == src.is_ipv4())
            .or(candidates.first())
            .copied()
            .unwrap_or(src);
        let recv = Receive {
            proto,
            source: src,
            destination,
            contents,
        };
        let key = route.key();
        let (rooms, mut ctx) = self.ctx_parts();
        ctx.now = now;
        let Some(room) = rooms.get_mut(&key.room) else {
            self.stats.packets_dropped += 1;
            return false;
        };
        let taken = match guard(|| room.handle_datagram(route, recv, &mut ctx)) {
            Some(true) => {
                self.stats.packets_in += 1;
                self.stats.bytes_in += data.len() as u64;
                true
            }
            Some(false) => {
                self.stats.packets_dropped += 1;
                false
            }
            None => {
                self.fail_room(key.room);
                false
            }
        };
        self.drop_if_empty(key.room);
        taken
    }

    fn timeouts(&mut self) {
        let now = Instant::now();
        self.last_timeouts = now;
        self.earliest = now + IDLE;
        let (rooms, mut ctx) = self.ctx_parts();
        ctx.now = now;
        let mut broken = Vec::new();
        for (key, room) in rooms.iter_mut() {
            if guard(|| room.handle_timeout(&mut ctx)).is_none() {
                broken.push(*key);
            }
        }
        for key in broken {
            self.fail_room(key);
        }
        let empty: Vec<RoomKey> = self
            .rooms
            .iter()
            .filter(|(_, r)| r.is_empty())
            .map(|(k, _)| *k)
            .collect();
        for key in empty {
            self.drop_if_empty(key);
        }
        if now >= self.next_tcp_sweep {
            self.sweep_tcp(now);
        }
    }

    /// Sends what is due: datagrams with `sendmmsg`, then the messages for other workers
    /// (after handling those this worker queued for itself).
    fn flush(&mut self) {
        loop {
            let own = self.relay.take_own();
            if own.is_empty() {
                break;
            }
            for m in own {
                self.relay_msg(m);
            }
        }
        self.relay.flush();
        let fd = self.socket.as_raw_fd();
        let mut sent = 0;
        while sent < self.outbox.items.len() {
            let batch = &self.outbox.items[sent..];
            let v6 = self.v6_socket;
            match self
                .socket
                .try_io(Interest::WRITABLE, || udp_batch::send_batch(fd, batch, v6))
            {
                Ok(n) => {
                    for (_, d) in &batch[..n] {
                        self.stats.packets_out += 1;
                        self.stats.bytes_out += d.len() as u64;
                    }
                    sent += n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    // The first datagram of the batch was refused (e.g. unreachable): skip it.
                    tracing::debug!(dst = %batch[0].0, "send: {e}");
                    self.stats.packets_dropped += 1;
                    sent += 1;
                }
            }
        }
        self.outbox.items.drain(..sent);
        self.flush_tcp();
        self.stats.packets_dropped += std::mem::take(&mut self.outbox.dropped);
    }

    fn drop_if_empty(&mut self, key: RoomKey) {
        if self.rooms.get(&key).is_some_and(|r| r.is_empty())
            && let Some(r) = self.rooms.remove(&key)
        {
            self.room_keys.remove(&r.id);
            tracing::debug!(room = %r.id, "room ended");
            self.announce_shard(&r.id, false);
        }
    }

    fn close_all(&mut self, reason: &str) {
        let (rooms, mut ctx) = self.ctx_parts();
        for room in rooms.values_mut() {
            room.close(reason, &mut ctx);
        }
        self.rooms.clear();
        self.room_keys.clear();
    }

    /// Runs `f` on an existing room; `None` if the room does not exist.
    fn with_room<R>(
        &mut self,
        id: &RoomId,
        f: impl FnOnce(&mut Room, &mut RoomCtx<'_>) -> R,
    ) -> Option<R> {
        let key = *self.room_keys.get(id)?;
        let (rooms, mut ctx) = self.ctx_parts();
        let room = rooms.get_mut(&key)?;
        let r = guard(|| f(room, &mut ctx));
        if r.is_none() {
            self.fail_room(key);
        }
        self.drop_if_empty(key);
        r
    }

    /// Last resort: a bug in our own room logic panicked (calls into str0m are fenced per
    /// peer already). The room's state may be inconsistent: end it, keep the worker.
    fn fail_room(&mut self, key: RoomKey) {
        let Some(mut room) = self.rooms.remove(&key) else {
            return;
        };
        tracing::error!(room = %room.id, "room failed: internal panic; closing it");
        self.room_keys.remove(&room.id);
        let (_, mut ctx) = self.ctx_parts();
        let _ = guard(|| room.close("internal error", &mut ctx));
        self.announce_shard(&room.id, false);
    }
}
