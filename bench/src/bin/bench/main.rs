//! `bench`: the Mini Meeting load generator. See `docs/benchmarks.md`.

mod cli;
mod crowd;
mod run_targets;
mod smoke;
mod sweep_plot;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;

use mm_bench::janus_setup::{janus_down, janus_up};
use mm_bench::lossy_link::LossSpec;
use mm_bench::output;
use mm_bench::process_stats::cpu_count;
use mm_bench::scenario::{RunConfig, RunOutcome};
use mm_bench::server_process::default_server_bin;

use cli::{Cli, Cmd, Common};
use crowd::{CrowdConfig, crowd};
use run_targets::run_targets;
use smoke::smoke;
use sweep_plot::{csv_points, plot_points, sweep_svg};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `BENCH_LOG` (a tracing filter, e.g. `webrtc_dtls=debug`) shows the headless peers' WebRTC
    // stack when a run goes wrong; the bench is quiet without it.
    if let Ok(filter) = std::env::var("BENCH_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .try_init();
    }
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
        Cmd::Crowd {
            server,
            meeting,
            participants,
            profile,
            speaker,
            seconds,
        } => {
            let cfg = CrowdConfig {
                base_url: server,
                meeting_code: meeting,
                participants,
                profile: profile.profile(),
                speaker,
                hold: seconds.map(Duration::from_secs_f64),
            };
            crowd(cfg).await.map(|_| ExitCode::SUCCESS)
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
    // Figures from a run in which someone could not join or got no media measure a broken
    // meeting: say so in the exit status too, so scripts do not publish them.
    let broken: Vec<String> = (runs.iter())
        .filter(|r| r.report.failed_joins > 0 || r.report.without_media > 0)
        .map(|r| {
            format!(
                "{} ({} failed joins, {} without media)",
                r.target, r.report.failed_joins, r.report.without_media
            )
        })
        .collect();
    if broken.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "bench: runs with participants left out: {}",
            broken.join("; ")
        );
        Ok(ExitCode::FAILURE)
    }
}
