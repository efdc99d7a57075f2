//! A UDP relay on loopback in front of the SFU (which then announces the relay's address), so
//! a test can cut one participant's media off, as a network outage would, and restore it.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::UdpSocket;

#[derive(Default)]
struct Shared {
    /// Client addresses in the order they first sent something.
    seen: Vec<SocketAddr>,
    blocked: HashSet<SocketAddr>,
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
                            while let Ok(n) = up2.recv(&mut buf).await {
                                if !state.lock().unwrap().blocked.contains(&client) {
                                    let _ = front.send_to(&buf[..n], client).await;
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
}

impl Drop for UdpRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}
