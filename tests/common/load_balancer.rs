//! HAProxy (Debian's `haproxy`) on loopback in front of a test's nodes: round-robin, WebSocket
//! upgrades passed through, and a node taken out of rotation when `/readyz` fails (a drain) or
//! it stops answering (a kill).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct LoadBalancer {
    child: Child,
    pub base: String,
    dir: PathBuf,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

impl LoadBalancer {
    /// Starts HAProxy in front of `nodes` (base URLs like `http://127.0.0.1:PORT`) and waits
    /// until it answers.
    pub async fn start(nodes: &[String]) -> Self {
        let dir = std::env::temp_dir().join(format!("mm-lb-{}", super::rand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let servers: String = nodes
            .iter()
            .enumerate()
            .map(|(i, url)| {
                let addr = url.trim_start_matches("http://");
                format!("  server n{i} {addr} check\n")
            })
            .collect();
        let config = format!(
            "global\n  maxconn 2000\n\
             defaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n  \
             timeout server 60s\n  timeout tunnel 1h\n\
             frontend meetings\n  bind 127.0.0.1:{port}\n  default_backend nodes\n\
             backend nodes\n  balance roundrobin\n  option httpchk GET /readyz\n  \
             http-check expect status 200\n  default-server inter 500ms fall 2 rise 1\n{servers}"
        );
        let path = dir.join("haproxy.cfg");
        std::fs::write(&path, config).unwrap();
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("haproxy is installed (apt-get install haproxy)");
        let lb = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let up = reqwest::get(format!("{}/healthz", lb.base)).await;
            if up.is_ok_and(|r| r.status().is_success()) {
                return lb;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "haproxy did not come up"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for LoadBalancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
