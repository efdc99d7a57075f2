//! [`Outbox`]: datagrams str0m wants to send, batched until the worker flushes them with one
//! `sendmmsg`. Destinations outside `allowed_networks` are dropped here (defence in depth:
//! the SFU never sends to a network it does not accept traffic from). Transmits over ICE-TCP
//! wait in `tcp_items` for their connections' queues (`TcpConns`).

use std::net::SocketAddr;
use std::sync::Arc;

use str0m::net::{DatagramSend, Protocol, Transmit};

use crate::ip_net::{IpNet, allowed};

/// Upper bound of queued datagrams; beyond it new ones are dropped (the socket is stuck).
const MAX_QUEUED: usize = 16 * 1024;

/// Pending datagrams of one worker.
#[derive(Debug)]
pub(crate) struct Outbox {
    pub items: Vec<(SocketAddr, DatagramSend)>,
    /// Frames for ICE-TCP connections, by remote address.
    pub tcp_items: Vec<(SocketAddr, DatagramSend)>,
    allowed: Arc<[IpNet]>,
    pub dropped: u64,
}

impl Outbox {
    pub fn new(allowed: Arc<[IpNet]>) -> Self {
        Outbox {
            items: Vec::with_capacity(256),
            tcp_items: Vec::new(),
            allowed,
            dropped: 0,
        }
    }

    /// Queues one transmit from str0m (moves its buffer, no copy).
    pub fn push(&mut self, t: Transmit) {
        if !allowed(&self.allowed, t.destination.ip()) {
            self.dropped += 1;
            return;
        }
        let queue = match t.proto {
            Protocol::Udp => &mut self.items,
            Protocol::Tcp => &mut self.tcp_items,
            _ => {
                self.dropped += 1;
                return;
            }
        };
        if queue.len() >= MAX_QUEUED {
            self.dropped += 1;
            return;
        }
        queue.push((t.destination, t.contents));
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// No UDP datagram waits (TCP frames are handed to their queues on every flush).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}
