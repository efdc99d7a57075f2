//! A worker's ICE-TCP side: accepting connections (network filter and limits of
//! [`crate::tcp_conns`]), feeding their frames through the same `Demux` and rooms as UDP
//! datagrams, handing TCP transmits to the connections' write queues, and closing the
//! connections that outlived their purpose.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::net::Protocol;
use tokio::net::{TcpListener, TcpStream};

use super::Worker;
use crate::frame_decoder::frames;
use crate::ip_net::allowed;
use crate::tcp_conn::{self, TcpIn};
use crate::tcp_conns::Sent;
use crate::udp_batch::canonical;

/// How often deadlines and idle connections are checked.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// Pause after a failed `accept` (e.g. out of file descriptors), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The next connection of `listener`; never ready without one, or before `paused_until`.
pub(super) async fn accept(
    listener: Option<&TcpListener>,
    paused_until: Option<Instant>,
) -> io::Result<(TcpStream, SocketAddr)> {
    let Some(l) = listener else {
        return std::future::pending().await;
    };
    if let Some(t) = paused_until {
        tokio::time::sleep_until(t.into()).await;
    }
    l.accept().await
}

impl Worker {
    pub(super) fn tcp_accept(&mut self, accepted: io::Result<(TcpStream, SocketAddr)>) {
        let (stream, from) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!("ice-tcp accept: {e}");
                self.tcp_accept_paused = Some(Instant::now() + ACCEPT_BACKOFF);
                return;
            }
        };
        self.tcp_accept_paused = None;
        let from = canonical(from);
        if !allowed(&self.settings.allowed_networks, from.ip()) {
            self.stats.tcp_refused += 1;
            return;
        }
        match self.tcp.admit(from, Instant::now()) {
            Ok((id, queue)) => {
                self.stats.tcp_accepted += 1;
                let max_frame = self.tcp.limits.max_frame;
                let tx = self.tcp_tx.clone();
                tokio::spawn(tcp_conn::run(stream, id, from, max_frame, tx, queue));
            }
            Err(why) => {
                tracing::debug!(%from, ?why, "ice-tcp connection refused");
                self.stats.tcp_refused += 1;
            }
        }
    }

    pub(super) fn tcp_input(&mut self, m: TcpIn) {
        match m {
            TcpIn::Frames { id, from, chunk } => {
                let now = Instant::now();
                if !self.tcp.received(id, from, now) {
                    return; // closed meanwhile
                }
                for frame in frames(&chunk) {
                    self.stats.tcp_frames_in += 1;
                    self.datagram(now, from, frame, Protocol::Tcp);
                }
                // Verified once a STUN request on it passed its `Rtc`'s check (the `Demux`
                // learnt the address).
                if !self.tcp.is_verified(from) && self.demux.is_routed(from) {
                    self.tcp.verify(from);
                }
                if self.outbox.len() >= 4 * crate::udp_batch::BATCH {
                    self.flush();
                }
            }
            TcpIn::Ended { id, from } => self.tcp.ended(id, from),
        }
    }

    /// Hands queued TCP transmits to their connections; never waits.
    pub(super) fn flush_tcp(&mut self) {
        for (to, d) in self.outbox.tcp_items.drain(..) {
            match self.tcp.send(to, d) {
                Sent::Queued => self.stats.tcp_frames_out += 1,
                Sent::Full | Sent::NoConn => {
                    self.stats.tcp_dropped += 1;
                    self.stats.packets_dropped += 1;
                }
            }
        }
    }

    pub(super) fn sweep_tcp(&mut self, now: Instant) {
        self.next_tcp_sweep = now + SWEEP_EVERY;
        let demux = &self.demux;
        let closed = self.tcp.sweep(now, |a| demux.is_routed(a));
        self.stats.tcp_expired += closed as u64;
    }
}
