//! A TCP proxy on loopback that a test can cut or silence, to play a database outage without
//! touching the shared PostgreSQL server.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does with connections, old and new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Bytes flow both ways.
    Forward,
    /// Every connection is closed, new ones at once after accept.
    Cut,
    /// Connections stay open and silent: a server that accepts but never answers.
    Hang,
}

pub struct TcpProxy {
    addr: SocketAddr,
    mode: Arc<watch::Sender<Mode>>,
    accept: JoinHandle<()>,
}

impl TcpProxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let mode = Arc::new(watch::Sender::new(Mode::Forward));
        let modes = mode.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(client, target, modes.subscribe()));
            }
        });
        Self { addr, mode, accept }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.set(Mode::Cut);
    }
}

/// One connection: forwards while the mode is `Forward`; on `Cut` drops both sides; on `Hang`
/// stops forwarding and holds both sides open until the mode changes to `Cut`.
async fn relay(mut client: TcpStream, target: SocketAddr, mut mode: watch::Receiver<Mode>) {
    loop {
        let current = *mode.borrow_and_update();
        match current {
            Mode::Cut => return,
            Mode::Hang => {
                if mode.changed().await.is_err() {
                    return;
                }
            }
            Mode::Forward => break,
        }
    }
    let Ok(mut server) = TcpStream::connect(target).await else {
        return;
    };
    let stopped = tokio::select! {
        _ = copy_bidirectional(&mut client, &mut server) => false,
        _ = mode.wait_for(|m| *m != Mode::Forward) => true,
    };
    if stopped {
        // Hang: keep both sockets, forward nothing, until cut.
        let _ = mode.wait_for(|m| *m == Mode::Cut).await;
    }
}
