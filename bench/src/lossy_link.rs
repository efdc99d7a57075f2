//! [`LossyLink`]: the `--loss` option's relays for one target, on a thread of their own.
//!
//! This kernel has no `netem`, so loss comes from [`LossyRelay`]s in userspace:
//! - **ours**: one relay per SFU worker. The spawned server binds worker `i` to
//!   `127.0.0.1:P+i` and announces [`OURS_FRONT_IP`] (`SFU_PUBLIC_IPS`), so its ICE candidates
//!   are `127.0.0.2:P+i`, where relay `i` listens and forwards to `127.0.0.1:P+i`.
//! - **Janus**: one relay on our end of the veth pair ([`HOST_IP`](crate::janus::HOST_IP)).
//!   Janus has a port per PeerConnection that it picks itself, so instead of changing what it
//!   announces, the bench rewrites the candidates in the SDP both ways: the client is told the
//!   relay's front address, Janus is told the relay's back address, and each pair is registered
//!   with the relay (see [`JanusSession`](crate::janus::JanusSession)).
//!
//! The relays run on their own thread ([`RELAY_THREAD`]) with a single-threaded runtime, so
//! the generator's busy workers never delay them, and their CPU shows as that thread's.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

use anyhow::{Context, bail};
use serde::Serialize;

use crate::batch_socket::bind;
use crate::lossy_relay::{LossyRelay, RelayCounts, Routing};

/// The thread the relays run on (a thread name, as `/proc/.../comm` shows it).
pub const RELAY_THREAD: &str = "mm-bench-relay";
/// The address our SFU announces when its media goes through the relay.
pub const OURS_FRONT_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
/// Participants reach our SFU from `127.64.x.y` (one address each) through the relay.
const ALLOT_NET: u8 = 64;

/// What `--loss` / `--loss-seed` asked for.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LossSpec {
    /// Probability, %, that the relay drops a datagram (each direction, independently).
    pub percent: f64,
    pub seed: u64,
}

/// The relays' own thread and runtime; stops (and so stops every relay task) when dropped.
struct RelayThread {
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RelayThread {
    fn start() -> anyhow::Result<Self> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = rt.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(RELAY_THREAD.into())
            .spawn(move || {
                rt.block_on(async {
                    let _ = stopped.await;
                });
            })?;
        Ok(RelayThread {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for RelayThread {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The relays of one target.
pub struct LossyLink {
    spec: LossSpec,
    // Dropped before the thread: aborting the tasks first, then stopping their runtime.
    relays: Vec<Arc<LossyRelay>>,
    _thread: RelayThread,
}

impl std::fmt::Debug for LossyLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LossyLink")
            .field("spec", &self.spec)
            .field("relays", &self.relays)
            .finish()
    }
}

/// `workers` consecutive ports free on both 127.0.0.1 (for the SFU) and [`OURS_FRONT_IP`]
/// (bound here, for the relays): the first port and the relays' front sockets.
fn reserve_ports(workers: usize) -> anyhow::Result<(u16, Vec<std::net::UdpSocket>)> {
    'attempt: for _ in 0..50 {
        let first = bind(SocketAddrV4::new(OURS_FRONT_IP, 0))
            .with_context(|| format!("binding a relay socket on {OURS_FRONT_IP}"))?;
        let base = first.local_addr()?.port();
        if usize::from(base) + workers > 65535 {
            continue;
        }
        let mut fronts = vec![first];
        for i in 0..workers as u16 {
            let port = base + i;
            if i > 0 {
                match bind(SocketAddrV4::new(OURS_FRONT_IP, port)) {
                    Ok(s) => fronts.push(s),
                    Err(_) => continue 'attempt,
                }
            }
            // The SFU binds this one itself, right after: it only has to be free now.
            if std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).is_err() {
                continue 'attempt;
            }
        }
        return Ok((base, fronts));
    }
    bail!("no {workers} consecutive free UDP ports on 127.0.0.1 and {OURS_FRONT_IP}")
}

impl LossyLink {
    /// Relays in front of a server of ours with `workers` media workers, and the environment
    /// to spawn that server with (`SFU_UDP_ADDR`, `SFU_PUBLIC_IPS`, `SFU_WORKERS`).
    pub fn for_ours(
        spec: LossSpec,
        workers: usize,
    ) -> anyhow::Result<(Self, Vec<(String, String)>)> {
        if workers == 0 {
            bail!("SFU_WORKERS must be at least 1");
        }
        let thread = RelayThread::start()?;
        let (base, fronts) = reserve_ports(workers)?;
        let mut relays = vec![];
        for (i, front) in fronts.into_iter().enumerate() {
            let server = SocketAddrV4::new(Ipv4Addr::LOCALHOST, base + i as u16);
            let back = bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))?;
            let routing = Routing::Allot {
                server,
                net: ALLOT_NET,
            };
            let relay = LossyRelay::start(
                &thread.handle,
                front,
                back,
                routing,
                spec.percent,
                spec.seed.wrapping_add(i as u64),
            )?;
            relays.push(Arc::new(relay));
        }
        let env = vec![
            ("SFU_UDP_ADDR".into(), format!("127.0.0.1:{base}")),
            ("SFU_PUBLIC_IPS".into(), OURS_FRONT_IP.to_string()),
            ("SFU_WORKERS".into(), workers.to_string()),
        ];
        Ok((
            LossyLink {
                spec,
                relays,
                _thread: thread,
            },
            env,
        ))
    }

    /// One relay on `host_ip` (our end of Janus's veth pair), both sockets; pairs are
    /// registered as the SDP is exchanged.
    pub fn for_janus(spec: LossSpec, host_ip: Ipv4Addr) -> anyhow::Result<Self> {
        let thread = RelayThread::start()?;
        let sock = || {
            bind(SocketAddrV4::new(host_ip, 0)).with_context(|| {
                format!("binding the relay on {host_ip}, our end of Janus's veth pair (is it up? `bench janus-up`)")
            })
        };
        let relay = LossyRelay::start(
            &thread.handle,
            sock()?,
            sock()?,
            Routing::Registered,
            spec.percent,
            spec.seed,
        )?;
        Ok(LossyLink {
            spec,
            relays: vec![Arc::new(relay)],
            _thread: thread,
        })
    }

    pub fn spec(&self) -> LossSpec {
        self.spec
    }

    pub fn relays(&self) -> &[Arc<LossyRelay>] {
        &self.relays
    }

    /// All relays' counters added up.
    pub fn counts(&self) -> RelayCounts {
        let mut c = RelayCounts::default();
        for r in &self.relays {
            c.add(&r.counts());
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn ours_gets_one_relay_per_worker_on_the_ports_the_sfu_will_bind() {
        let spec = LossSpec {
            percent: 0.0,
            seed: 1,
        };
        let (link, env) = LossyLink::for_ours(spec, 3).unwrap();
        let addr: SocketAddrV4 = env
            .iter()
            .find(|(k, _)| k == "SFU_UDP_ADDR")
            .unwrap()
            .1
            .parse()
            .unwrap();
        assert!(env.contains(&("SFU_PUBLIC_IPS".into(), "127.0.0.2".into())));
        assert!(env.contains(&("SFU_WORKERS".into(), "3".into())));
        let fronts: Vec<SocketAddrV4> = link.relays().iter().map(|r| r.front_addr()).collect();
        let want: Vec<SocketAddrV4> = (0..3)
            .map(|i| SocketAddrV4::new(OURS_FRONT_IP, addr.port() + i))
            .collect();
        assert_eq!(fronts, want);

        // Worker 1's socket (bound where the SFU would bind it) hears what reaches relay 1.
        let worker = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, addr.port() + 1)).unwrap();
        worker
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        client.send_to(b"stun", fronts[1]).unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = worker.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"stun");
        assert_eq!(
            from.ip(),
            std::net::IpAddr::V4(Ipv4Addr::new(127, 64, 0, 1))
        );
        drop(link);
        // The relays are gone with the link: their front addresses are free again.
        std::net::UdpSocket::bind(fronts[0]).expect("front socket released");
    }
}
