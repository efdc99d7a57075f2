//! [`run_targets`]: one configuration against our server (spawned or running), Janus, or both.

use std::net::Ipv4Addr;
use std::sync::Arc;

use anyhow::bail;

use mm_bench::janus::{HOST_IP, JANUS_IP};
use mm_bench::janus_setup::janus_pid;
use mm_bench::lossy_link::{LossSpec, LossyLink};
use mm_bench::scenario::{Node, RunConfig, RunOutcome, Target, TargetKind, run};
use mm_bench::server_process::ServerProcess;

use crate::cli::{Common, TargetArg};
use crate::server_bin;

/// Runs the configuration against the chosen target(s), ours first.
pub(crate) async fn run_targets(c: &Common, cfg: &RunConfig) -> anyhow::Result<Vec<RunOutcome>> {
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
        if !c.server_pid.is_empty() && c.server_pid.len() != c.server.len() {
            bail!("--server-pid needs one pid per --server URL, in the same order");
        }
        let mut other_nodes = vec![];
        let (_server, base, pid, link) = match c.server.split_first() {
            Some(_) if spec.is_some() => bail!(
                "--loss puts a relay in front of a server the bench spawns, announced by it \
                 (SFU_PUBLIC_IPS); it cannot relay a running server (--server): drop --server"
            ),
            Some((url, others)) => {
                other_nodes = others
                    .iter()
                    .enumerate()
                    .map(|(i, u)| Node {
                        base_url: u.clone(),
                        pid: c.server_pid.get(i + 1).copied(),
                    })
                    .collect();
                (None, url.clone(), c.server_pid.first().copied(), None)
            }
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
            other_nodes,
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
            other_nodes: vec![],
            client_ip: HOST_IP,
            janus_ip: JANUS_IP,
            link,
        };
        out.push(run(&target, cfg).await?);
    }
    Ok(out)
}
