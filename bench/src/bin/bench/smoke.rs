//! [`smoke`]: the tiny self-contained CI run (1 -> 3 on a spawned server) and its checks.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use mm_bench::janus::JANUS_IP;
use mm_bench::lossy_link::{LossSpec, LossyLink};
use mm_bench::output;
use mm_bench::scenario::{ProfileName, RunConfig, Target, TargetKind, run};
use mm_bench::server_process::ServerProcess;

use crate::server_bin;

pub(crate) async fn smoke(
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
        other_nodes: vec![],
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
