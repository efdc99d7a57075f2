//! Starts the `mini-meeting` binary on loopback with a temporary SQLite database, for runs that
//! bring their own server (`--spawn-server`, `smoke`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

/// A running server we started; killed (by its pid) when dropped.
pub struct ServerProcess {
    child: Child,
    pub base_url: String,
    pub pid: u32,
    dir: PathBuf,
}

/// The URL in the server's `Mini Meeting listening on http://ADDR` line.
pub fn parse_listening_line(line: &str) -> Option<String> {
    let i = line.find("listening on ")?;
    let url = line[i + "listening on ".len()..].trim();
    url.starts_with("http://").then(|| url.to_owned())
}

impl ServerProcess {
    /// Starts `bin` with loopback-only media and waits (up to 60 s) for its listening line.
    /// `extra_env` overrides the defaults (e.g. `SFU_WORKERS`).
    pub fn spawn(bin: &Path, extra_env: &[(String, String)]) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "mm-bench-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir)?;
        let mut cmd = Command::new(bin);
        cmd.env("HTTP_ADDR", "127.0.0.1:0")
            .env("SFU_UDP_ADDR", "127.0.0.1:0")
            .env("SFU_PUBLIC_IPS", "127.0.0.1")
            .env("SFU_ALLOWED_NETWORKS", "127.0.0.0/8")
            .env("DATA_DIR", &dir)
            .env(
                "DATABASE_URL",
                format!("sqlite:{}", dir.join("mm.db").display()),
            )
            .env("JWT_SECRET", "mm-bench-secret-mm-bench-secret-0123456789")
            .env("WEB_DIR", dir.join("web"))
            // `BENCH_SERVER_LOG` (a tracing filter) shows more of the server when a run goes wrong.
            .env(
                "LOG_LEVEL",
                std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
            )
            // Every participant of a load run signs up from 127.0.0.1.
            .env("API_RATE_LIMIT_PER_MINUTE", "100000000")
            // Every simulated participant connects from the generator's one address; a join
            // storm opens far more WebSockets at once than a real client's address would.
            .env("WS_MAX_UNAUTHENTICATED_PER_IP", "100000")
            .env_remove("REDIS_URL")
            .env_remove("RUST_LOG")
            .env_remove("CONFIG_FILE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let pid = child.id();
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !sent && let Some(url) = parse_listening_line(&line) {
                    let _ = tx.send(url);
                    sent = true;
                } else {
                    // The server logs to stdout: its warnings belong beside the bench's output.
                    eprintln!("[server] {line}");
                }
            }
        });
        let mut server = ServerProcess {
            child,
            base_url: String::new(),
            pid,
            dir,
        };
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => server.base_url = url,
            Err(_) => bail!("{} did not print its listening line in 60 s", bin.display()),
        }
        Ok(server)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where the server binary probably is: next to this executable (`target/<profile>/`), else in
/// the workspace's `target/debug`.
pub fn default_server_bin() -> Option<PathBuf> {
    let mut candidates = vec![];
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent()
    {
        candidates.push(dir.join("mini-meeting"));
    }
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    candidates.push(ws.join("target/debug/mini-meeting"));
    candidates.push(ws.join("target/release/mini-meeting"));
    candidates.into_iter().find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_line() {
        assert_eq!(
            parse_listening_line("Mini Meeting listening on http://127.0.0.1:4567"),
            Some("http://127.0.0.1:4567".into())
        );
        assert_eq!(parse_listening_line("something else"), None);
    }
}
