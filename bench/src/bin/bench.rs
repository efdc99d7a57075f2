//! `bench`: the Mini Meeting load generator. See `docs/benchmarks.md`.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};

use mm_bench::janus::{HOST_IP, JANUS_IP, JANUS_URL};
use mm_bench::janus_setup::{janus_down, janus_pid, janus_up};
use mm_bench::lossy_link::{LossSpec, LossyLink};
use mm_bench::output;
use mm_bench::plot::{Panel, Series, svg};
use mm_bench::process_stats::cpu_count;
use mm_bench::scenario::{ProfileName, RunConfig, RunOutcome, Target, TargetKind, run};
use mm_bench::server_process::{ServerProcess, default_server_bin};

#[derive(Parser)]
#[command(
    name = "bench",
    about = "Load generator for the Mini Meeting SFU (and Janus VideoRoom side by side)"
)]
struct Cli {
    /// Tokio worker threads of the load generator (default: the machine's CPUs).
    #[arg(long, global = true)]
    threads: Option<usize>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
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
enum TargetArg {
    Ours,
    Janus,
    Both,
}

#[derive(Args, Clone)]
struct Common {
    /// ours, janus, or both (ours first, then Janus, same load).
    #[arg(long, value_enum, default_value = "ours")]
    target: TargetArg,
    /// An already running server of ours (else one is spawned per run).
    #[arg(long)]
    server: Option<String>,
    /// Its pid, to measure its CPU and RSS.
    #[arg(long)]
    server_pid: Option<u32>,
    /// The server binary to spawn per run on loopback with a temporary SQLite database.
    #[arg(long)]
    spawn_server: Option<PathBuf>,
    /// SFU_WORKERS for a spawned server (default: the number of cores, as the server's own
    /// default).
    #[arg(long)]
    sfu_workers: Option<usize>,
    /// Janus's HTTP API.
    #[arg(long, default_value = JANUS_URL)]
    janus_url: String,
    /// Janus's pid (default: the one `bench janus-up` started).
    #[arg(long)]
    janus_pid: Option<u32>,
    #[arg(long, value_enum, default_value = "360p")]
    profile: ProfileName,
    /// Seconds between "everyone receives" and the measured window.
    #[arg(long, default_value_t = 3.0)]
    warmup: f64,
    /// Seconds measured.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Receivers joining at once.
    #[arg(long, default_value_t = 8)]
    join_concurrency: usize,
    /// Seconds allowed per signaling step and for media to start.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
    /// Write every run as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write every run as CSV (one row per run).
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Also print the table as Markdown.
    #[arg(long)]
    markdown: bool,
    /// No progress lines.
    #[arg(long)]
    quiet: bool,
    /// Drop this share (%) of the media datagrams, in each direction, in a UDP relay between
    /// the participants and the server (this kernel has no netem). Needs a server the bench
    /// spawns (not --server); with Janus, its veth pair (`janus-up`).
    #[arg(long, value_name = "PERCENT", value_parser = parse_loss)]
    loss: Option<f64>,
    /// Seed of the relay's drop decisions: the same seed drops the same datagrams.
    #[arg(long, default_value_t = 1)]
    loss_seed: u64,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let threads = cli.threads.unwrap_or_else(cpu_count).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(dispatch(cli.cmd, threads)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(cmd: Cmd, threads: usize) -> anyhow::Result<ExitCode> {
    match cmd {
        Cmd::Fanout {
            c,
            meetings,
            publishers,
            subscribers,
        } => {
            let cfg = config(&c, "fanout", meetings, publishers, subscribers, threads);
            report(&c, run_targets(&c, &cfg).await?)
        }
        Cmd::Meeting {
            c,
            meetings,
            participants,
        } => {
            let cfg = config(&c, "meeting", meetings, participants, 0, threads);
            report(&c, run_targets(&c, &cfg).await?)
        }
        Cmd::JoinStorm { c, participants } => {
            let mut cfg = config(&c, "join-storm", 1, 1, participants, threads);
            cfg.join_concurrency = participants.max(1);
            report(&c, run_targets(&c, &cfg).await?)
        }
        Cmd::Sweep {
            c,
            subscribers,
            publishers,
            svg: path,
        } => {
            let mut all = vec![];
            for s in &subscribers {
                let cfg = config(&c, "sweep", 1, publishers, *s, threads);
                let runs = run_targets(&c, &cfg).await?;
                println!("{}", output::table(&runs));
                all.extend(runs);
            }
            std::fs::write(&path, sweep_svg(&plot_points(&all), c.profile.label()))
                .with_context(|| format!("writing {}", path.display()))?;
            println!("plot written to {}", path.display());
            report(&c, all)
        }
        Cmd::Plot { csv, svg: out } => {
            let (points, profile) = csv_points(&std::fs::read_to_string(&csv)?)?;
            std::fs::write(&out, sweep_svg(&points, &profile))?;
            println!("plot written to {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Smoke {
            spawn_server,
            loss,
            loss_seed,
        } => {
            let spec = loss.map(|percent| LossSpec {
                percent,
                seed: loss_seed,
            });
            smoke(spawn_server, spec, threads).await
        }
        Cmd::JanusUp => janus_up().await.map(|_| ExitCode::SUCCESS),
        Cmd::JanusDown => janus_down().map(|_| ExitCode::SUCCESS),
    }
}

fn config(
    c: &Common,
    scenario: &str,
    meetings: usize,
    publishers: usize,
    subscribers: usize,
    threads: usize,
) -> RunConfig {
    RunConfig {
        scenario: scenario.into(),
        meetings,
        publishers,
        subscribers,
        profile: c.profile,
        warmup: Duration::from_secs_f64(c.warmup),
        duration: Duration::from_secs_f64(c.duration),
        join_concurrency: c.join_concurrency,
        timeout: Duration::from_secs_f64(c.timeout),
        generator_threads: threads,
        progress: !c.quiet,
    }
}

fn server_bin(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = default_server_bin() {
        return Ok(p);
    }
    eprintln!("mini-meeting binary not found: building it (cargo build --bin mini-meeting)");
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let st = std::process::Command::new("cargo")
        .args(["build", "--quiet", "--bin", "mini-meeting"])
        .current_dir(&ws)
        .status()?;
    if !st.success() {
        bail!("cargo build --bin mini-meeting failed");
    }
    default_server_bin().context("mini-meeting binary still not found")
}

/// Runs the configuration against the chosen target(s), ours first.
async fn run_targets(c: &Common, cfg: &RunConfig) -> anyhow::Result<Vec<RunOutcome>> {
    let spec = c.loss.map(|percent| LossSpec {
        percent,
        seed: c.loss_seed,
    });
    let mut out = vec![];
    if matches!(c.target, TargetArg::Ours | TargetArg::Both) {
        let workers = c
            .sfu_workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let mut env = vec![("SFU_WORKERS".to_owned(), workers.to_string())];
        let (_server, base, pid, link) = match &c.server {
            Some(_) if spec.is_some() => bail!(
                "--loss puts a relay in front of a server the bench spawns, announced by it \
                 (SFU_PUBLIC_IPS); it cannot relay a running server (--server): drop --server"
            ),
            Some(url) => (None, url.clone(), c.server_pid, None),
            None => {
                let link = match spec {
                    Some(spec) => {
                        let (link, link_env) = LossyLink::for_ours(spec, workers)?;
                        env.extend(link_env);
                        Some(Arc::new(link))
                    }
                    None => None,
                };
                let bin = server_bin(c.spawn_server.as_deref())?;
                let s = ServerProcess::spawn(&bin, &env)?;
                eprintln!(
                    "spawned {} (pid {}) at {}",
                    bin.display(),
                    s.pid,
                    s.base_url
                );
                if let Some(l) = &link {
                    eprintln!("media through {l:?}");
                }
                let (b, p) = (s.base_url.clone(), s.pid);
                (Some(s), b, Some(p), link)
            }
        };
        let target = Target {
            kind: TargetKind::Ours,
            base_url: base,
            server_pid: pid,
            client_ip: Ipv4Addr::LOCALHOST,
            janus_ip: JANUS_IP,
            link,
        };
        out.push(run(&target, cfg).await?);
    }
    if matches!(c.target, TargetArg::Janus | TargetArg::Both) {
        let link = match spec {
            Some(spec) => Some(Arc::new(LossyLink::for_janus(spec, HOST_IP)?)),
            None => None,
        };
        if let Some(l) = &link {
            eprintln!("janus media through {l:?}");
        }
        let target = Target {
            kind: TargetKind::Janus,
            base_url: c.janus_url.clone(),
            server_pid: c.janus_pid.or_else(janus_pid),
            client_ip: HOST_IP,
            janus_ip: JANUS_IP,
            link,
        };
        out.push(run(&target, cfg).await?);
    }
    Ok(out)
}

fn report(c: &Common, runs: Vec<RunOutcome>) -> anyhow::Result<ExitCode> {
    println!("{}", output::table(&runs));
    if c.markdown {
        println!("{}", output::markdown(&runs));
    }
    if let Some(p) = &c.json {
        std::fs::write(p, serde_json::to_string_pretty(&runs)?)?;
    }
    if let Some(p) = &c.csv {
        std::fs::write(p, output::csv(&runs))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One point of a sweep plot.
struct PlotPoint {
    target: String,
    subscribers: f64,
    cpu_us: Option<f64>,
    p99_ms: f64,
    loss_pct: f64,
}

fn plot_points(runs: &[RunOutcome]) -> Vec<PlotPoint> {
    runs.iter()
        .map(|r| PlotPoint {
            target: r.target.to_string(),
            subscribers: r.config.subscribers as f64,
            cpu_us: r.report.server_cpu_us_per_packet,
            p99_ms: r.report.latency.p99_us as f64 / 1000.0,
            loss_pct: r.report.loss_pct,
        })
        .collect()
}

/// Reads the points back from a CSV written by `--csv` (columns looked up by name).
fn csv_points(text: &str) -> anyhow::Result<(Vec<PlotPoint>, String)> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().context("empty CSV")?.split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .with_context(|| format!("CSV has no column {name}"))
    };
    let (t, s, c, l, lo, pr) = (
        col("target")?,
        col("subscribers")?,
        col("server_cpu_us_per_packet")?,
        col("lat_p99_us")?,
        col("loss_pct")?,
        col("profile")?,
    );
    let mut out = vec![];
    let mut profile = String::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(',').collect();
        profile = f[pr].to_owned();
        out.push(PlotPoint {
            target: f[t].to_owned(),
            subscribers: f[s].parse()?,
            cpu_us: f[c].parse().ok(),
            p99_ms: f[l].parse::<f64>()? / 1000.0,
            loss_pct: f[lo].parse()?,
        });
    }
    Ok((out, profile))
}

fn sweep_svg(points: &[PlotPoint], profile: &str) -> String {
    let series = |f: &dyn Fn(&PlotPoint) -> Option<f64>| -> Vec<Series> {
        ["ours", "janus"]
            .into_iter()
            .filter_map(|t| {
                let points: Vec<(f64, f64)> = points
                    .iter()
                    .filter(|p| p.target == t)
                    .filter_map(|p| Some((p.subscribers, f(p)?)))
                    .collect();
                let name = if t == "ours" {
                    "Mini Meeting SFU"
                } else {
                    "Janus VideoRoom"
                };
                (!points.is_empty()).then(|| Series {
                    name: name.into(),
                    points,
                })
            })
            .collect()
    };
    let panels = [
        Panel {
            title: "server CPU µs per forwarded packet".into(),
            series: series(&|p| p.cpu_us),
            log_y: false,
        },
        Panel {
            title: "p99 added latency, ms (log scale)".into(),
            series: series(&|p| Some(p.p99_ms)),
            log_y: true,
        },
        Panel {
            title: "loss, %".into(),
            series: series(&|p| Some(p.loss_pct)),
            log_y: false,
        },
    ];
    svg(
        &format!(
            "Fan-out 1 -> N, {profile} (load generator and server share {} CPUs)",
            cpu_count()
        ),
        "subscribers",
        &panels,
    )
}

async fn smoke(
    spawn_server: Option<PathBuf>,
    loss: Option<LossSpec>,
    threads: usize,
) -> anyhow::Result<ExitCode> {
    let bin = server_bin(spawn_server.as_deref())?;
    let mut env = vec![];
    let link = match loss {
        Some(spec) => {
            let (link, link_env) = LossyLink::for_ours(spec, 1)?;
            env = link_env;
            Some(Arc::new(link))
        }
        None => None,
    };
    let server = ServerProcess::spawn(&bin, &env)?;
    let target = Target {
        kind: TargetKind::Ours,
        base_url: server.base_url.clone(),
        server_pid: Some(server.pid),
        client_ip: Ipv4Addr::LOCALHOST,
        janus_ip: JANUS_IP,
        link,
    };
    let cfg = RunConfig {
        scenario: "smoke".into(),
        meetings: 1,
        publishers: 1,
        subscribers: 3,
        profile: ProfileName::P360,
        warmup: Duration::from_secs(1),
        duration: Duration::from_secs(3),
        join_concurrency: 3,
        timeout: Duration::from_secs(20),
        generator_threads: threads,
        progress: true,
    };
    let r = run(&target, &cfg).await?;
    drop(server);
    println!("{}", output::table(std::slice::from_ref(&r)));
    let p = &r.report;
    let mut problems = vec![];
    if p.units_expected == 0 || p.units_received == 0 {
        problems.push("nothing was sent or received in the window".into());
    }
    if p.corrupted + p.malformed > 0 {
        problems.push(format!(
            "{} corrupted/malformed units",
            p.corrupted + p.malformed
        ));
    }
    if p.failed_joins > 0 || p.without_media > 0 {
        problems.push(format!(
            "{} failed joins, {} without media",
            p.failed_joins, p.without_media
        ));
    }
    if p.server_workers.is_empty() {
        problems.push("no mm-sfu-N worker thread in the server's CPU figures".into());
    }
    match &p.link {
        None => {
            // 3 subscribers × (audio + video) tracks.
            if r.exact_checked != 6 || r.exact_held != 6 {
                problems.push(format!(
                    "exact accounting held on {}/{} tracks (want 6/6): received must equal \
                     sent minus reported loss",
                    r.exact_held, r.exact_checked
                ));
            }
            // The window's edges may cut one unit per track in flight.
            if p.accounting_gap.unsigned_abs() > 12 {
                problems.push(format!("window accounting gap {}", p.accounting_gap));
            }
            if p.loss_pct > 1.0 {
                problems.push(format!("loss {:.3}% on loopback", p.loss_pct));
            }
        }
        Some(l) => {
            // Lost tails and retransmissions make the exact checks and the window's edges
            // inexact; what must hold is that the relay carried the media and dropped its share.
            if l.counts.to_server_forwarded == 0 || l.counts.to_client_forwarded == 0 {
                problems.push(format!("the relay did not carry the media: {:?}", l.counts));
            }
            if l.off_target() || l.counts.kernel_drops > 0 {
                problems.push(format!(
                    "the relay dropped {:?}% (set {}%), {} overflowed",
                    l.measured_pct, l.set_pct, l.counts.kernel_drops
                ));
            }
            if l.set_pct > 0.0 && p.units_lost == 0 {
                problems.push("receivers lost nothing through a lossy link".into());
            }
            let gap_limit = (p.units_expected / 50).max(12);
            if p.accounting_gap.unsigned_abs() > gap_limit {
                problems.push(format!(
                    "window accounting gap {} (limit {gap_limit})",
                    p.accounting_gap
                ));
            }
        }
    }
    if problems.is_empty() {
        println!("smoke: OK");
        Ok(ExitCode::SUCCESS)
    } else {
        for pr in &problems {
            eprintln!("smoke FAILED: {pr}");
        }
        Ok(ExitCode::FAILURE)
    }
}
