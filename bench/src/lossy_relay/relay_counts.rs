//! [`RelayCounts`]: what a relay forwarded and dropped, a snapshot of its live atomic counters.

use std::sync::atomic::AtomicU64;

use serde::Serialize;

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
pub(super) struct Direction {
    pub(super) forwarded: AtomicU64,
    pub(super) dropped: AtomicU64,
}

#[derive(Default)]
pub(super) struct Counters {
    pub(super) to_server: Direction,
    pub(super) to_client: Direction,
    pub(super) unroutable: AtomicU64,
    pub(super) send_errors: AtomicU64,
    /// Latest `SO_RXQ_OVFL` of the front and the back socket (each counts from its creation).
    pub(super) kernel_drops: [AtomicU64; 2],
}
