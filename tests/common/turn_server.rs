//! A coturn `turnserver` of the test's own on loopback, with the TURN REST API's shared secret
//! (`use-auth-secret`), relaying between loopback addresses only. Killed when dropped.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TurnServer {
    pub port: u16,
    pub secret: String,
    child: Child,
}

impl TurnServer {
    pub const REALM: &'static str = "mini-meeting.test";

    pub async fn start(secret: &str) -> Self {
        let port = std::net::UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .expect("free port")
            .port();
        let child = Command::new("turnserver")
            .args(["-n", "--no-cli", "--no-tls", "--no-dtls", "--simple-log"])
            .args(["--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1"])
            .args(["--listening-port", &port.to_string()])
            // Relay ports away from the listening port's neighbourhood.
            .args(["--min-port", "49160", "--max-port", "49400"])
            .args(["--use-auth-secret", "--static-auth-secret", secret])
            .args(["--realm", Self::REALM, "--allow-loopback-peers"])
            .args(["--log-file", "stdout"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("turnserver (Debian package coturn) must be installed to run this test");
        let server = TurnServer {
            port,
            secret: secret.to_owned(),
            child,
        };
        server.wait_listening().await;
        server
    }

    pub fn url(&self) -> String {
        format!("turn:127.0.0.1:{}?transport=udp", self.port)
    }

    /// coturn listens on TCP and UDP alike: the TCP port answering means it is up.
    async fn wait_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "turnserver did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for TurnServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
