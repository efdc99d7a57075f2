//! The relay's two tasks, [`to_server`] and [`to_client`]: read a batch, route, drop, send.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::Routing;
use super::relay_counts::Counters;
use super::routes::Routes;
use crate::batch_socket::{BATCH, BatchSocket, Outgoing, RecvBatch};
use crate::drop_decider::DropDecider;

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
pub(super) async fn to_server(
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
pub(super) async fn to_client(
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
