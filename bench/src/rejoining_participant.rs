//! A participant that comes back by itself, as the web client does: when the server closes its
//! socket with a code that means "reconnect" (a node drained or died, a restart), or the socket
//! just drops, it leaves its old connections behind and joins again, trying the given server
//! URLs in turn with back-off, until it is in. Its participant id stays the same when the
//! server kept its participation open (a move between nodes does).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::error::Result;
use crate::participant::{JoinOptions, Participant};

/// Back-off between failed joins: doubles from the first to the second.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(200), Duration::from_secs(2));

/// Close codes after which a client reconnects: none (the socket dropped), 1001 (server going
/// away), 1006 (abnormal), 1011 (server error), 1012 (service restart: moved to another node),
/// 1013 (try again later).
pub fn asks_to_reconnect(code: Option<u16>) -> bool {
    matches!(code, None | Some(1001 | 1006 | 1011 | 1012 | 1013))
}

pub struct RejoiningParticipant {
    current: Arc<Mutex<Arc<Participant>>>,
    rejoins: Arc<AtomicU64>,
    supervisor: JoinHandle<()>,
}

impl RejoiningParticipant {
    /// Joins through `opts.base_url`; later joins try `urls` in turn (a load balancer's one
    /// URL, or the nodes themselves).
    pub async fn join(opts: JoinOptions, urls: Vec<String>) -> Result<Self> {
        let first = Arc::new(Participant::join(opts.clone()).await?);
        let current = Arc::new(Mutex::new(first));
        let rejoins = Arc::new(AtomicU64::new(0));
        let supervisor = tokio::spawn(supervise(opts, urls, current.clone(), rejoins.clone()));
        Ok(Self {
            current,
            rejoins,
            supervisor,
        })
    }

    /// The participant as it is now (a new one after each rejoin).
    pub fn current(&self) -> Arc<Participant> {
        self.current.lock().expect("lock").clone()
    }

    /// How many times it joined again.
    pub fn rejoins(&self) -> u64 {
        self.rejoins.load(Ordering::Relaxed)
    }

    /// Stops coming back, and closes.
    pub async fn close(self) {
        self.supervisor.abort();
        self.current().close().await;
    }
}

async fn supervise(
    mut opts: JoinOptions,
    urls: Vec<String>,
    current: Arc<Mutex<Arc<Participant>>>,
    rejoins: Arc<AtomicU64>,
) {
    let mut next_url = 0;
    loop {
        let participant = current.lock().expect("lock").clone();
        let mut state = participant.subscribe_state();
        let closed = state
            .wait_for(|s| !s.connected && s.close.is_some())
            .await
            .map(|s| s.close.clone());
        let Ok(Some(close)) = closed else { return };
        if !close.by_server || !asks_to_reconnect(close.code) {
            return;
        }
        participant.close().await;
        let mut delay = BACKOFF.0;
        loop {
            if !urls.is_empty() {
                opts.base_url = urls[next_url % urls.len()].clone();
                next_url += 1;
            }
            match Participant::join(opts.clone()).await {
                Ok(joined) => {
                    *current.lock().expect("lock") = Arc::new(joined);
                    rejoins.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Err(e) => {
                    tracing::debug!(error = %e, url = %opts.base_url, "rejoin failed; trying again");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(BACKOFF.1);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::asks_to_reconnect;

    #[test]
    fn final_closes_are_final() {
        for code in [None, Some(1001), Some(1006), Some(1012), Some(1013)] {
            assert!(asks_to_reconnect(code), "{code:?}");
        }
        // left, removed, ended, replaced, unauthenticated
        for code in [1000, 4012, 4010, 4011, 4001] {
            assert!(!asks_to_reconnect(Some(code)), "{code}");
        }
    }
}
