//! Drain: the node takes no new meetings, tells everyone here to reconnect (they land on other
//! nodes and resume there), waits until its sockets are gone or the drain timeout passes, and
//! lets the shutdown finish the rest. SIGTERM in a cluster and `POST /admin/drain` both come
//! here; a node failure is the same move without the warning.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mm_api::AppState;
use mm_signaling::Hub;
use tokio::sync::Notify;
use tracing::info;

use crate::cluster::NodeRegistry;

/// How often the drain looks whether everyone has gone.
const POLL: Duration = Duration::from_millis(100);

#[derive(Clone)]
pub struct Drain {
    inner: Arc<Inner>,
}

struct Inner {
    registry: NodeRegistry,
    hub: Hub,
    state: AppState,
    timeout: Duration,
    requested: Notify,
    started: AtomicBool,
}

impl Drain {
    pub fn new(registry: NodeRegistry, hub: Hub, state: AppState, timeout: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                registry,
                hub,
                state,
                timeout,
                requested: Notify::new(),
                started: AtomicBool::new(false),
            }),
        }
    }

    /// Asks the server to drain and stop; `false` if a drain was already asked for.
    pub fn request(&self) -> bool {
        let first = !self.inner.started.swap(true, Ordering::SeqCst);
        self.inner.requested.notify_one();
        first
    }

    /// Completes once a drain was requested.
    pub async fn requested(&self) {
        self.inner.requested.notified().await;
    }

    /// Moves everyone off this node, for at most the drain timeout. With no other node to go
    /// to, nobody is moved: the shutdown then pauses the meetings, as a single server does.
    pub async fn run(&self) {
        let i = &self.inner;
        i.started.store(true, Ordering::SeqCst);
        i.registry.start_draining().await;
        i.state.set_draining();
        let me = i.registry.me().await.id;
        let elsewhere = (i.registry.nodes().await)
            .is_ok_and(|nodes| nodes.iter().any(|n| n.id != me && !n.draining));
        if !elsewhere {
            info!("draining: no other node to move people to");
            return;
        }
        let before = i.hub.session_count();
        info!(sessions = before, timeout = ?i.timeout, "draining");
        i.hub.move_all().await;
        let waited = tokio::time::timeout(i.timeout, async {
            while i.hub.session_count() > 0 {
                tokio::time::sleep(POLL).await;
            }
        })
        .await;
        info!(
            left = i.hub.session_count(),
            complete = waited.is_ok(),
            "drain finished"
        );
    }
}
