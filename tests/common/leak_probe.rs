//! For the leak test: the server binary as a process of its own, so what `/metrics` says
//! about tasks, descriptors and memory is the server's alone (the headless participants'
//! webrtc-rs stacks live in the test process), and a reader of those figures.

use std::time::Duration;

use mm_bench::server_process::ServerProcess;

use super::{Backend, TestServer, Timers};

/// Starts `target/<profile>/mini-meeting` on port 0 with SQLite and `timers`, and a
/// [`TestServer`] whose REST helpers talk to it. The process is killed when the returned
/// [`ServerProcess`] drops; [`TestServer::stop`] does nothing for it.
pub fn spawn_server(timers: Timers) -> (ServerProcess, TestServer) {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_mini-meeting"));
    let env = [
        ("HEARTBEAT_INTERVAL_SECS", timers.heartbeat_interval_secs),
        ("RECONNECT_GRACE_SECS", timers.reconnect_grace_secs),
        ("EMPTY_MEETING_GRACE_SECS", timers.empty_meeting_grace_secs),
        ("PAUSED_TIMEOUT_SECS", timers.paused_timeout_secs),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_string()));
    let mut env = env.to_vec();
    env.push(("LOG_LEVEL".into(), "error".into()));
    env.push(("SFU_PUBLIC_IPS".into(), timers.sfu_public_ip.into()));
    let process = ServerProcess::spawn(bin, &env).expect("the server binary starts");
    let base = process.base_url.clone();
    let server = TestServer {
        ws_url: format!("{}/ws", base.replacen("http://", "ws://", 1)),
        base,
        database_url: String::new(),
        backend: Backend::Sqlite,
        sfu_addrs: Vec::new(),
        shutdown: None,
        task: None,
        // Empty: the process owns its data directory and removes it.
        dir: std::path::PathBuf::new(),
        http: reqwest::Client::new(),
    };
    (process, server)
}

/// What `/metrics` says about the server's resources at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Resources {
    /// Tasks alive on the server's tokio runtime.
    pub tasks: u64,
    /// Open descriptors of the server process (sockets included).
    pub fds: u64,
    /// Database connections the server's pool holds open (each with descriptors of its own).
    pub db_connections: u64,
    /// Resident memory of the server process, bytes.
    pub rss: u64,
    pub rooms: u64,
    pub participants: u64,
    pub sfu_peers: u64,
    pub up_tracks: u64,
    pub down_tracks: u64,
}

impl Resources {
    /// Reads `/metrics` over a connection of its own that is closed afterwards, so the
    /// scrape leaves no pooled socket behind to count as a leak.
    pub async fn scrape(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .expect("http client");
        let text = http
            .get(format!("{base}/metrics"))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics body");
        Self::parse(&text)
    }

    fn parse(text: &str) -> Self {
        let value = |name: &str| -> u64 {
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .find_map(|l| {
                    let (n, v) = l.split_once(' ')?;
                    (n == name).then(|| v.trim().parse::<f64>().ok())?
                })
                .unwrap_or_else(|| panic!("{name} missing from /metrics"))
                .round() as u64
        };
        Self {
            tasks: value("mm_tokio_alive_tasks"),
            fds: value("process_open_fds"),
            db_connections: value("mm_db_connections"),
            rss: value("process_resident_memory_bytes"),
            rooms: value("mm_rooms"),
            participants: value("mm_participants"),
            sfu_peers: value("mm_sfu_peers"),
            up_tracks: value("mm_sfu_up_tracks"),
            down_tracks: value("mm_sfu_down_tracks"),
        }
    }

    /// Nothing live: no room, participant, SFU peer or track.
    pub fn idle(&self) -> bool {
        self.rooms == 0
            && self.participants == 0
            && self.sfu_peers == 0
            && self.up_tracks == 0
            && self.down_tracks == 0
    }

    /// One line for the test's log.
    pub fn line(&self) -> String {
        format!(
            "tasks {:>4}  fds {:>4}  db {:>2}  rss {:>6.1} MiB  rooms {}  participants {}  sfu peers {}  up {}  down {}",
            self.tasks,
            self.fds,
            self.db_connections,
            self.rss as f64 / (1024.0 * 1024.0),
            self.rooms,
            self.participants,
            self.sfu_peers,
            self.up_tracks,
            self.down_tracks
        )
    }
}

/// Scrapes every `every` until `done` holds or `within` has passed; returns the last reading
/// and whether `done` held.
pub async fn wait_resources(
    base: &str,
    within: Duration,
    every: Duration,
    mut done: impl FnMut(&Resources) -> bool,
) -> (Resources, bool) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let r = Resources::scrape(base).await;
        if done(&r) {
            return (r, true);
        }
        if tokio::time::Instant::now() >= deadline {
            return (r, false);
        }
        tokio::time::sleep(every).await;
    }
}
