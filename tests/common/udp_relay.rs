//! A UDP relay on loopback in front of the SFU (which then announces the relay's address), so
//! a test can cut one participant's media off, as a network outage would, and restore it, or
//! narrow what the SFU can send to a participant, as a slow downlink would.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// A shaped downlink queues at most this long, then drops (as a router's buffer would).
const MAX_QUEUE: Duration = Duration::from_millis(150);

#[derive(Default)]
struct Shared {
    /// Client addresses in the order they first sent something.
    seen: Vec<SocketAddr>,
    blocked: HashSet<SocketAddr>,
    /// Bits per second the SFU may send to a client.
    limits: HashMap<SocketAddr, u64>,
}

/// A token bucket with a bounded queue in front of one client: datagrams leave at the rate,
/// in order, and are dropped when the queue would hold them longer than [`MAX_QUEUE`].
struct Shaper {
    /// When the link is free again.
    free_at: Instant,
    queue: mpsc::UnboundedSender<(Instant, Vec<u8>)>,
}

impl Shaper {
    fn start(front: Arc<UdpSocket>, client: SocketAddr) -> Self {
        let (queue, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
        tokio::spawn(async move {
            while let Some((at, datagram)) = rx.recv().await {
                tokio::time::sleep_until(at).await;
                let _ = front.send_to(&datagram, client).await;
            }
        });
        Shaper {
            free_at: Instant::now(),
            queue,
        }
    }

    fn offer(&mut self, datagram: &[u8], bps: u64) {
        let now = Instant::now();
        let start = self.free_at.max(now);
        if start - now > MAX_QUEUE {
            return;
        }
        let bits = (datagram.len() as u64 + 28) * 8; // with the UDP and IP headers
        self.free_at = start + Duration::from_micros(bits * 1_000_000 / bps.max(1));
        let _ = self.queue.send((self.free_at, datagram.to_vec()));
    }
}

pub struct UdpRelay {
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl UdpRelay {
    /// Relays datagrams arriving at `front` to `back`, and the answers back to their sender.
    pub async fn start(front: SocketAddr, back: SocketAddr) -> Self {
        let socket = Arc::new(UdpSocket::bind(front).await.expect("bind relay"));
        let shared = Arc::new(Mutex::new(Shared::default()));
        let state = shared.clone();
        let task = tokio::spawn(async move {
            let mut upstream: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
            let mut buf = vec![0u8; 2048];
            loop {
                let Ok((n, client)) = socket.recv_from(&mut buf).await else {
                    return;
                };
                let up = match upstream.get(&client) {
                    Some(up) => up.clone(),
                    None => {
                        // One upstream socket per client, so the SFU sees distinct peers.
                        let up = Arc::new(UdpSocket::bind((front.ip(), 0)).await.unwrap());
                        up.connect(back).await.unwrap();
                        upstream.insert(client, up.clone());
                        state.lock().unwrap().seen.push(client);
                        let (front, up2, state) = (socket.clone(), up.clone(), state.clone());
                        tokio::spawn(async move {
                            let mut buf = vec![0u8; 2048];
                            let mut shaper: Option<Shaper> = None;
                            while let Ok(n) = up2.recv(&mut buf).await {
                                let limit = {
                                    let st = state.lock().unwrap();
                                    if st.blocked.contains(&client) {
                                        continue;
                                    }
                                    st.limits.get(&client).copied()
                                };
                                match limit {
                                    Some(bps) => shaper
                                        .get_or_insert_with(|| Shaper::start(front.clone(), client))
                                        .offer(&buf[..n], bps),
                                    None => {
                                        let _ = front.send_to(&buf[..n], client).await;
                                    }
                                }
                            }
                        });
                        up
                    }
                };
                if !state.lock().unwrap().blocked.contains(&client) {
                    let _ = up.send(&buf[..n]).await;
                }
            }
        });
        Self { shared, task }
    }

    /// Client addresses seen so far, in order of appearance.
    pub fn seen(&self) -> Vec<SocketAddr> {
        self.shared.lock().unwrap().seen.clone()
    }

    /// Drops everything from and to these clients until [`UdpRelay::unblock_all`].
    pub fn block(&self, clients: &[SocketAddr]) {
        self.shared.lock().unwrap().blocked.extend(clients);
    }

    pub fn unblock_all(&self) {
        self.shared.lock().unwrap().blocked.clear();
    }

    /// What the SFU may send to these clients, in bits per second (`None`: no limit).
    pub fn limit(&self, clients: &[SocketAddr], bps: Option<u64>) {
        let mut st = self.shared.lock().unwrap();
        for c in clients {
            match bps {
                Some(bps) => st.limits.insert(*c, bps),
                None => st.limits.remove(c),
            };
        }
    }
}

impl Drop for UdpRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}
