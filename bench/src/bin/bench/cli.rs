//! The `bench` command line: [`Cli`], its subcommands ([`Cmd`]) and the options they share ([`Common`]).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use mm_bench::janus::JANUS_URL;
use mm_bench::scenario::ProfileName;

#[derive(Parser)]
#[command(
    name = "bench",
    about = "Load generator for the Mini Meeting SFU (and Janus VideoRoom side by side)"
)]
pub(crate) struct Cli {
    /// Tokio worker threads of the load generator (default: the machine's CPUs).
    #[arg(long, global = true)]
    pub(crate) threads: Option<usize>,
    #[command(subcommand)]
    pub(crate) cmd: Cmd,
}

#[derive(Subcommand)]
pub(crate) enum Cmd {
    /// M meetings, each with P publishers and S receive-only subscribers.
    Fanout {
        #[command(flatten)]
        c: Common,
        #[arg(long, default_value_t = 1)]
        meetings: usize,
        #[arg(long, default_value_t = 1)]
        publishers: usize,
        #[arg(long, default_value_t = 10)]
        subscribers: usize,
    },
    /// All-to-all: N participants that all publish and receive everyone else.
    Meeting {
        #[command(flatten)]
        c: Common,
        #[arg(long, default_value_t = 1)]
        meetings: usize,
        #[arg(long, default_value_t = 4)]
        participants: usize,
    },
    /// One publisher, then N receivers joining all at once: join time and time to first frame.
    JoinStorm {
        #[command(flatten)]
        c: Common,
        #[arg(long, default_value_t = 50)]
        participants: usize,
    },
    /// Fan-out 1 -> S for each S in the list, one run per point (and target); writes an SVG.
    Sweep {
        #[command(flatten)]
        c: Common,
        #[arg(long, value_delimiter = ',', default_value = "10,50,100,200")]
        subscribers: Vec<usize>,
        #[arg(long, default_value_t = 1)]
        publishers: usize,
        /// The plot (default: sweep.svg).
        #[arg(long, default_value = "sweep.svg")]
        svg: PathBuf,
    },
    /// Tiny self-contained run for CI: spawns the server, 1 -> 3 for 3 s, checks the accounting.
    Smoke {
        /// The server binary (default: next to this one, or target/debug/mini-meeting).
        #[arg(long)]
        spawn_server: Option<PathBuf>,
        /// Through a lossy relay (see the other commands' --loss): then checks that the relay
        /// dropped that share and that receivers saw it, instead of the exact accounting.
        #[arg(long, value_name = "PERCENT", value_parser = parse_loss)]
        loss: Option<f64>,
        #[arg(long, default_value_t = 1)]
        loss_seed: u64,
    },
    /// Fills an existing meeting with N publishing headless participants and keeps them there
    /// until stdin closes or `--seconds` pass: a large meeting to try in a browser (and the web
    /// e2e's crowd). Prints one JSON line, `{"ready": ...}`, once all publish. Lines on stdin
    /// steer it: `speak N` makes member N the one loud speaker, `quiet` silences everyone.
    Crowd {
        /// The server's base URL (http://host:port).
        #[arg(long)]
        server: String,
        /// The meeting's code.
        #[arg(long)]
        meeting: String,
        #[arg(long, default_value_t = 17)]
        participants: usize,
        #[arg(long, value_enum, default_value = "360p")]
        profile: ProfileName,
        /// This participant (1-based, in join order) speaks: its audio carries a loud level,
        /// everyone else's silence.
        #[arg(long)]
        speaker: Option<usize>,
        /// Leave after this many seconds (default: when stdin closes).
        #[arg(long)]
        seconds: Option<f64>,
    },
    /// Redraws a sweep's SVG from the CSV it wrote (`--csv`).
    Plot {
        #[arg(long)]
        csv: PathBuf,
        #[arg(long)]
        svg: PathBuf,
    },
    /// Creates the netns + veth pair and starts Janus in it (root).
    JanusUp,
    /// Stops Janus and deletes the netns (root).
    JanusDown,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TargetArg {
    Ours,
    Janus,
    Both,
}

#[derive(Args, Clone)]
pub(crate) struct Common {
    /// ours, janus, or both (ours first, then Janus, same load).
    #[arg(long, value_enum, default_value = "ours")]
    pub(crate) target: TargetArg,
    /// An already running server of ours (else one is spawned per run). Several URLs,
    /// comma-separated, are the nodes of one cluster: participants join through each in turn.
    #[arg(long, value_delimiter = ',')]
    pub(crate) server: Vec<String>,
    /// Its pid (one per `--server` URL, in that order), to measure its CPU and RSS.
    #[arg(long, value_delimiter = ',')]
    pub(crate) server_pid: Vec<u32>,
    /// The server binary to spawn per run on loopback with a temporary SQLite database.
    #[arg(long)]
    pub(crate) spawn_server: Option<PathBuf>,
    /// SFU_WORKERS for a spawned server (default: the number of cores, as the server's own
    /// default).
    #[arg(long)]
    pub(crate) sfu_workers: Option<usize>,
    /// Janus's HTTP API.
    #[arg(long, default_value = JANUS_URL)]
    pub(crate) janus_url: String,
    /// Janus's pid (default: the one `bench janus-up` started).
    #[arg(long)]
    pub(crate) janus_pid: Option<u32>,
    #[arg(long, value_enum, default_value = "360p")]
    pub(crate) profile: ProfileName,
    /// Seconds between "everyone receives" and the measured window.
    #[arg(long, default_value_t = 3.0)]
    pub(crate) warmup: f64,
    /// Seconds measured.
    #[arg(long, default_value_t = 10.0)]
    pub(crate) duration: f64,
    /// Receivers joining at once.
    #[arg(long, default_value_t = 8)]
    pub(crate) join_concurrency: usize,
    /// Seconds allowed per signaling step and for media to start.
    #[arg(long, default_value_t = 30.0)]
    pub(crate) timeout: f64,
    /// Write every run as JSON.
    #[arg(long)]
    pub(crate) json: Option<PathBuf>,
    /// Write every run as CSV (one row per run).
    #[arg(long)]
    pub(crate) csv: Option<PathBuf>,
    /// Also print the table as Markdown.
    #[arg(long)]
    pub(crate) markdown: bool,
    /// No progress lines.
    #[arg(long)]
    pub(crate) quiet: bool,
    /// Drop this share (%) of the media datagrams, in each direction, in a UDP relay between
    /// the participants and the server (this kernel has no netem). Needs a server the bench
    /// spawns (not --server); with Janus, its veth pair (`janus-up`).
    #[arg(long, value_name = "PERCENT", value_parser = parse_loss)]
    pub(crate) loss: Option<f64>,
    /// Seed of the relay's drop decisions: the same seed drops the same datagrams.
    #[arg(long, default_value_t = 1)]
    pub(crate) loss_seed: u64,
}

/// A percentage from 0 to 100.
fn parse_loss(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{s}: {e}"))?;
    if (0.0..=100.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not a percentage from 0 to 100"))
    }
}
