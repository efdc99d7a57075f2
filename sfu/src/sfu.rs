//! [`Sfu`]: starts the media workers, links them to each other, and hands out
//! [`RoomHandle`]s.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::config::SfuConfig;
use crate::error::SfuError;
use crate::ids::{RoomId, WorkerId};
use crate::peer::RtcFactory;
use crate::placement::{WorkerLoad, home_of};
use crate::relay::Relay;
use crate::room::RoomSettings;
use crate::room_handle::RoomHandle;
use crate::stats::SfuStats;
use crate::udp_batch;
use crate::worker::{Command, Worker};

/// A non-blocking TCP listener for a worker's ICE-TCP candidate.
fn tcp_listener(addr: SocketAddr) -> Result<std::net::TcpListener, SfuError> {
    let l = std::net::TcpListener::bind(addr)?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// Cheap, cloneable handle to the media engine. When every clone is dropped the workers stop.
#[derive(Clone, Debug)]
pub struct Sfu {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    workers: Vec<mpsc::UnboundedSender<Command>>,
    addrs: Vec<SocketAddr>,
    tcp_addrs: Vec<SocketAddr>,
}

impl Sfu {
    /// Binds one UDP socket per worker and starts each worker on its own thread.
    pub async fn start(cfg: SfuConfig) -> Result<Sfu, SfuError> {
        let ips = cfg.announced_ips()?;
        let crypto = Arc::new(str0m::crypto::from_feature_flags());
        let mut workers = Vec::with_capacity(cfg.workers);
        let mut addrs = Vec::with_capacity(cfg.workers);
        let mut tcp_addrs = Vec::new();
        let (txs, mut rxs): (Vec<_>, Vec<_>) =
            (0..cfg.workers).map(|_| mpsc::unbounded_channel()).unzip();
        let load = WorkerLoad::new(cfg.workers);
        for (i, rx) in rxs.drain(..).enumerate() {
            let me = WorkerId(i);
            let links = txs
                .iter()
                .enumerate()
                .map(|(j, tx)| (j != i).then(|| tx.downgrade()))
                .collect();
            let relay = Relay::new(me, links);
            let load = load.clone();
            let bind = cfg.worker_bind(i)?;
            let std_sock = udp_batch::bind(bind, cfg.socket_buffer_bytes)?;
            let local = std_sock.local_addr()?;
            let tcp = match cfg.worker_tcp_bind(i)? {
                Some(a) => Some(tcp_listener(a)?),
                None => None,
            };
            let tcp_local = tcp.as_ref().map(|l| l.local_addr()).transpose()?;
            let tcp_candidates = tcp_local
                .map(|t| {
                    ips.iter()
                        .map(|ip| SocketAddr::new(*ip, t.port()))
                        .collect()
                })
                .unwrap_or_default();
            let settings = RoomSettings {
                factory: RtcFactory::new(
                    ips.iter()
                        .map(|ip| SocketAddr::new(*ip, local.port()))
                        .collect(),
                    tcp_candidates,
                    crypto.clone(),
                    cfg.bandwidth_estimation,
                )
                .ok_or_else(|| {
                    SfuError::Io(std::io::Error::other("cannot generate a DTLS certificate"))
                })?,
                allowed_networks: cfg.allowed_networks.clone(),
                keyframe_min_interval: cfg.keyframe_min_interval,
                max_tracks_per_peer: cfg.max_tracks_per_peer,
                keyframe_cache_max_age: cfg.keyframe_cache_max_age,
            };
            let (ready_tx, ready_rx) = oneshot::channel::<Result<(), SfuError>>();
            std::thread::Builder::new()
                .name(format!("mm-sfu-{i}"))
                .spawn(move || {
                    let rt = match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(rt) => rt,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.into()));
                            return;
                        }
                    };
                    rt.block_on(async move {
                        let worker = tokio::net::UdpSocket::from_std(std_sock).and_then(|s| {
                            let tcp = tcp.map(tokio::net::TcpListener::from_std).transpose()?;
                            Worker::new(s, tcp, settings, relay, load)
                        });
                        match worker {
                            Ok(w) => {
                                let _ = ready_tx.send(Ok(()));
                                w.run(rx).await;
                            }
                            Err(e) => {
                                let _ = ready_tx.send(Err(e.into()));
                            }
                        }
                    });
                })?;
            ready_rx
                .await
                .map_err(|_| SfuError::Config("media worker died at start".into()))??;
            tracing::info!(worker = i, %local, ice_tcp = ?tcp_local, "media worker started");
            workers.push(txs[i].clone());
            addrs.push(local);
            tcp_addrs.extend(tcp_local);
        }
        Ok(Sfu {
            inner: Arc::new(Inner {
                workers,
                addrs,
                tcp_addrs,
            }),
        })
    }

    /// The bound UDP address of each worker.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.inner.addrs.clone()
    }

    /// The ICE-TCP listen address of each worker (empty when ICE-TCP is off).
    pub fn tcp_addrs(&self) -> Vec<SocketAddr> {
        self.inner.tcp_addrs.clone()
    }

    /// The room `id`, created on the first join. Its commands go to its home worker (a hash
    /// of the id), which places each joining peer on the least-loaded worker.
    pub fn room(&self, id: &RoomId) -> RoomHandle {
        let home = home_of(id, self.inner.workers.len());
        RoomHandle::new(id.clone(), self.inner.workers[home.0].clone())
    }

    /// Gauges and counters of each worker, in worker order.
    pub async fn worker_stats(&self) -> Vec<SfuStats> {
        let mut all = Vec::with_capacity(self.inner.workers.len());
        for w in &self.inner.workers {
            let (tx, rx) = oneshot::channel();
            let s = if w.send(Command::Stats { reply: tx }).is_ok() {
                rx.await.unwrap_or_default()
            } else {
                SfuStats::default()
            };
            all.push(s);
        }
        all
    }

    /// Gauges and counters summed over all workers.
    pub async fn stats(&self) -> SfuStats {
        let mut total = SfuStats::default();
        for s in self.worker_stats().await {
            total += s;
        }
        total
    }

    /// Closes every room (peers get `Closed`) and stops the workers.
    pub async fn shutdown(&self) {
        for w in &self.inner.workers {
            let (tx, rx) = oneshot::channel();
            if w.send(Command::Shutdown { reply: tx }).is_ok() {
                let _ = rx.await;
            }
        }
    }
}
