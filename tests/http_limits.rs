//! The HTTP server bounds what an unauthenticated client can hold (issue 12, finding 3):
//! silent and half-sent connections are closed after the header-read timeout, a stalled body
//! after the idle timeout, the connection cap refuses what exceeds it, and shutdown does not
//! wait on a half-sent request longer than its grace.
//!
//! Every wait is bounded and asserts that an event happens, never how long it took.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use mini_meeting::config::Settings;
use mini_meeting::{Config, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// Far longer than any limit a test sets: reaching it means the server kept the connection.
const BOUND: Duration = Duration::from_secs(20);

struct Limits {
    header_read_timeout_secs: u64,
    idle_timeout_secs: u64,
    max_connections: Option<usize>,
    shutdown_grace_secs: u64,
}

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    dir: PathBuf,
}

async fn start(limits: Limits) -> Running {
    let dir = std::env::temp_dir().join(format!("mm-http-limits-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let settings = Settings {
        http_addr: Some("127.0.0.1:0".parse().unwrap()),
        data_dir: Some(dir.clone()),
        database_url: Some(format!("sqlite:{}", dir.join("mm.db").display())),
        jwt_secret: Some("http-limits-secret-http-limits-secret".into()),
        web_dir: Some(dir.join("web")),
        sfu_udp_addr: Some("127.0.0.1:0".parse().unwrap()),
        sfu_public_ips: Some(vec!["127.0.0.1".parse().unwrap()]),
        sfu_allowed_networks: Some(vec!["127.0.0.0/8".into()]),
        http_header_read_timeout_secs: Some(limits.header_read_timeout_secs),
        http_idle_timeout_secs: Some(limits.idle_timeout_secs),
        http_max_connections: limits.max_connections,
        shutdown_grace_secs: Some(limits.shutdown_grace_secs),
        ..Settings::default()
    };
    let config = Config::from_settings(settings).unwrap();
    mini_meeting::telemetry::init(config.log_format, "error");
    let server = Server::start(config).await.expect("server starts");
    let addr = server.http_addr();
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(server.run_until(async {
        let _ = rx.await;
    }));
    Running {
        addr,
        stop: Some(tx),
        task,
        dir,
    }
}

impl Running {
    /// The test's SIGTERM: asserts the server stops within the bound.
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(BOUND, &mut self.task)
            .await
            .expect("the server stops instead of waiting on open connections")
            .unwrap()
            .unwrap();
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    async fn healthz(&self) -> u16 {
        reqwest::get(format!("http://{}/healthz", self.addr))
            .await
            .expect("/healthz answers")
            .status()
            .as_u16()
    }
}

/// Reads until the server closes the connection; returns what it sent. Panics if the
/// connection is still open at [`BOUND`].
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(BOUND, async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open");
    received
}

#[tokio::test]
async fn silent_and_half_sent_connections_are_closed_after_the_header_read_timeout() {
    let server = start(Limits {
        header_read_timeout_secs: 1,
        idle_timeout_secs: 600,
        max_connections: None,
        shutdown_grace_secs: 5,
    })
    .await;
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let mut half_sent = TcpStream::connect(server.addr).await.unwrap();
    half_sent
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .unwrap();
    // A keep-alive connection that answered once and then went quiet.
    let mut kept_alive = TcpStream::connect(server.addr).await.unwrap();
    kept_alive
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();

    assert!(read_until_closed(&mut silent).await.is_empty());
    assert!(read_until_closed(&mut half_sent).await.is_empty());
    let answered = String::from_utf8(read_until_closed(&mut kept_alive).await).unwrap();
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    assert_eq!(server.healthz().await, 200, "others are served meanwhile");
    server.stop().await;
}

#[tokio::test]
async fn a_stalled_request_body_is_closed_after_the_idle_timeout() {
    let server = start(Limits {
        header_read_timeout_secs: 600,
        idle_timeout_secs: 1,
        max_connections: None,
        shutdown_grace_secs: 5,
    })
    .await;
    let mut stalled = TcpStream::connect(server.addr).await.unwrap();
    stalled
        .write_all(
            b"POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\n\
              Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"email\":",
        )
        .await
        .unwrap();
    let answer = read_until_closed(&mut stalled).await;
    assert!(
        answer.is_empty(),
        "closed for idleness, not answered: {}",
        String::from_utf8_lossy(&answer)
    );
    server.stop().await;
}

#[tokio::test]
async fn the_connection_cap_refuses_the_next_connection_until_one_closes() {
    const CAP: usize = 4;
    let server = start(Limits {
        header_read_timeout_secs: 3,
        idle_timeout_secs: 600,
        max_connections: Some(CAP),
        shutdown_grace_secs: 5,
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..CAP {
        held.push(TcpStream::connect(server.addr).await.unwrap());
    }
    // Accepted after the CAP before it, so it finds every permit taken.
    let mut over = TcpStream::connect(server.addr).await.unwrap();
    let refusal = String::from_utf8(read_until_closed(&mut over).await).unwrap();
    assert!(
        refusal.starts_with("HTTP/1.1 503"),
        "over the cap: refused with 503, got {refusal:?}"
    );
    // The header-read timeout frees the held connections, and with them the cap.
    for stream in &mut held {
        assert!(read_until_closed(stream).await.is_empty());
    }
    assert_eq!(server.healthz().await, 200);
    server.stop().await;
}

#[tokio::test]
async fn shutdown_does_not_wait_on_a_half_sent_request_past_the_grace() {
    let server = start(Limits {
        header_read_timeout_secs: 600,
        idle_timeout_secs: 600,
        max_connections: None,
        shutdown_grace_secs: 1,
    })
    .await;
    let mut half_sent = TcpStream::connect(server.addr).await.unwrap();
    half_sent
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    assert_eq!(server.healthz().await, 200, "the server is serving");
    let addr = server.addr;
    server.stop().await;
    assert!(read_until_closed(&mut half_sent).await.is_empty());
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "nothing listens after the stop"
    );
}
