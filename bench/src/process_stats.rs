//! CPU time and memory of a process from `/proc/<pid>/stat` and `/proc/<pid>/status`, and of
//! each of its threads from `/proc/<pid>/task/<tid>/{comm,stat}`.
//!
//! Parsing is pure (fixed text in, numbers out) so it is unit-tested without a live process.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One reading of a process's counters.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcSample {
    pub at: Instant,
    /// utime + stime of all threads.
    pub cpu: Duration,
    /// Resident set size, bytes.
    pub rss_bytes: u64,
    pub threads: u64,
    /// CPU time of each thread (tid -> utime + stime) with its name, to find a saturated one.
    pub per_thread: HashMap<u32, (String, Duration)>,
}

/// utime and stime (clock ticks) from the text of `/proc/<pid>/stat`.
///
/// The second field (`comm`) is in parentheses and may contain spaces or parentheses, so the
/// fields are counted from the last `)`.
pub fn parse_stat_ticks(stat: &str) -> Option<(u64, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After comm: state(3) ppid(4) ... utime is field 14, stime 15 (1-based, man 5 proc).
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime = fields.get(14 - 3)?.parse().ok()?;
    let stime = fields.get(15 - 3)?.parse().ok()?;
    Some((utime, stime))
}

/// The command name (second field) of a `stat` line.
pub fn parse_stat_comm(stat: &str) -> Option<&str> {
    let a = stat.find('(')?;
    let b = stat.rfind(')')?;
    (a < b).then(|| &stat[a + 1..b])
}

/// `VmRSS` (bytes) and `Threads` from the text of `/proc/<pid>/status`.
pub fn parse_status(status: &str) -> Option<(u64, u64)> {
    let mut rss = None;
    let mut threads = None;
    for line in status.lines() {
        if let Some(v) = line.strip_prefix("VmRSS:") {
            let kb: u64 = v.split_whitespace().next()?.parse().ok()?;
            rss = Some(kb * 1024);
        } else if let Some(v) = line.strip_prefix("Threads:") {
            threads = v.trim().parse().ok();
        }
    }
    Some((rss?, threads.unwrap_or(0)))
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`, 100 on Linux in practice).
pub fn clock_ticks_per_sec() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as u64 } else { 100 }
}

/// Converts clock ticks to a duration.
pub fn ticks_to_duration(ticks: u64, hz: u64) -> Duration {
    Duration::from_micros(ticks * 1_000_000 / hz.max(1))
}

/// `process_cpu_seconds_total` and `process_resident_memory_bytes` from a Prometheus text page.
pub fn parse_process_metrics(text: &str) -> Option<(f64, u64)> {
    let value = |name: &str| {
        text.lines().find_map(|l| {
            l.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse::<f64>()
                .ok()
        })
    };
    Some((
        value("process_cpu_seconds_total")?,
        value("process_resident_memory_bytes")? as u64,
    ))
}

/// The server's own CPU and memory from its `/metrics`, for a server on another machine (or
/// whose pid we do not know). No per-thread detail.
pub async fn scrape_server(base_url: &str) -> Option<ProcSample> {
    let url = format!("{}/metrics", base_url.trim_end_matches('/'));
    let text = reqwest::get(url).await.ok()?.text().await.ok()?;
    let (cpu, rss_bytes) = parse_process_metrics(&text)?;
    Some(ProcSample {
        at: Instant::now(),
        cpu: Duration::from_secs_f64(cpu),
        rss_bytes,
        threads: 0,
        per_thread: HashMap::new(),
    })
}

/// A thread's name from its `comm` file (the name it gave itself, e.g. `mm-sfu-0`), else from
/// the same field of its `stat` line.
fn thread_name(task_dir: &std::path::Path, stat: &str) -> String {
    std::fs::read_to_string(task_dir.join("comm"))
        .ok()
        .map(|c| c.trim_end_matches('\n').to_owned())
        .filter(|c| !c.is_empty())
        .or_else(|| parse_stat_comm(stat).map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// Which process to read: `self` or a pid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcTarget {
    SelfProcess,
    Pid(u32),
}

impl ProcTarget {
    fn path(&self, file: &str) -> String {
        match self {
            ProcTarget::SelfProcess => format!("/proc/self/{file}"),
            ProcTarget::Pid(p) => format!("/proc/{p}/{file}"),
        }
    }

    /// Reads the counters now; `None` when the process is gone or unreadable.
    pub fn sample(&self) -> Option<ProcSample> {
        let stat = std::fs::read_to_string(self.path("stat")).ok()?;
        let status = std::fs::read_to_string(self.path("status")).ok()?;
        let (u, s) = parse_stat_ticks(&stat)?;
        let (rss_bytes, threads) = parse_status(&status)?;
        let hz = clock_ticks_per_sec();
        let mut per_thread = HashMap::new();
        if let Ok(dir) = std::fs::read_dir(self.path("task")) {
            for e in dir.flatten() {
                let Ok(tid) = e.file_name().to_string_lossy().parse::<u32>() else {
                    continue;
                };
                let Ok(st) = std::fs::read_to_string(e.path().join("stat")) else {
                    continue;
                };
                if let Some((tu, ts)) = parse_stat_ticks(&st) {
                    per_thread.insert(
                        tid,
                        (thread_name(&e.path(), &st), ticks_to_duration(tu + ts, hz)),
                    );
                }
            }
        }
        Some(ProcSample {
            at: Instant::now(),
            cpu: ticks_to_duration(u + s, hz),
            rss_bytes,
            threads,
            per_thread,
        })
    }
}

/// What one thread used between two samples.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct ThreadUsage {
    pub tid: u32,
    /// Its name (`comm`), e.g. `mm-sfu-0`.
    pub name: String,
    /// utime + stime over the interval.
    pub cpu_secs: f64,
    /// `cpu_secs` as a share of one core over the interval, % (100 = saturated).
    pub core_pct: f64,
}

/// What a process used between two samples.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct ProcUsage {
    pub wall_secs: f64,
    pub cpu_secs: f64,
    /// CPU seconds per wall second: 1.0 = one core busy.
    pub cores: f64,
    pub rss_start_bytes: u64,
    pub rss_end_bytes: u64,
    pub threads: u64,
    /// The busiest thread over the interval: its name and cores (1.0 = saturated).
    pub busiest_thread: Option<(String, f64)>,
    /// Every thread alive at the end, busiest first (empty when sampled from `/metrics`).
    pub per_thread: Vec<ThreadUsage>,
}

impl ProcUsage {
    pub fn between(a: &ProcSample, b: &ProcSample) -> Self {
        let wall = b.at.saturating_duration_since(a.at).as_secs_f64();
        let cpu = b.cpu.saturating_sub(a.cpu).as_secs_f64();
        let mut per_thread: Vec<ThreadUsage> = if wall > 0.0 {
            b.per_thread
                .iter()
                .map(|(tid, (name, t))| {
                    // A thread born in the interval used all its CPU time in it.
                    let before = a.per_thread.get(tid).map_or(Duration::ZERO, |x| x.1);
                    let secs = t.saturating_sub(before).as_secs_f64();
                    ThreadUsage {
                        tid: *tid,
                        name: name.clone(),
                        cpu_secs: secs,
                        core_pct: secs * 100.0 / wall,
                    }
                })
                .collect()
        } else {
            vec![]
        };
        per_thread.sort_by(|x, y| y.cpu_secs.total_cmp(&x.cpu_secs).then(x.tid.cmp(&y.tid)));
        let busiest_thread = per_thread
            .first()
            .map(|t| (t.name.clone(), t.core_pct / 100.0));
        ProcUsage {
            wall_secs: wall,
            cpu_secs: cpu,
            cores: if wall > 0.0 { cpu / wall } else { 0.0 },
            rss_start_bytes: a.rss_bytes,
            rss_end_bytes: b.rss_bytes,
            threads: b.threads,
            busiest_thread,
            per_thread,
        }
    }

    /// Several processes (a cluster's nodes) as one: CPU, RSS and threads add up, the
    /// window is the longest, and the threads of all are listed together, busiest first.
    pub fn sum(parts: &[ProcUsage]) -> Self {
        let wall = parts.iter().map(|p| p.wall_secs).fold(0.0, f64::max);
        let cpu: f64 = parts.iter().map(|p| p.cpu_secs).sum();
        let mut per_thread: Vec<ThreadUsage> =
            parts.iter().flat_map(|p| p.per_thread.clone()).collect();
        per_thread.sort_by(|x, y| y.cpu_secs.total_cmp(&x.cpu_secs).then(x.tid.cmp(&y.tid)));
        let busiest_thread = parts
            .iter()
            .filter_map(|p| p.busiest_thread.clone())
            .max_by(|a, b| a.1.total_cmp(&b.1));
        ProcUsage {
            wall_secs: wall,
            cpu_secs: cpu,
            cores: if wall > 0.0 { cpu / wall } else { 0.0 },
            rss_start_bytes: parts.iter().map(|p| p.rss_start_bytes).sum(),
            rss_end_bytes: parts.iter().map(|p| p.rss_end_bytes).sum(),
            threads: parts.iter().map(|p| p.threads).sum(),
            busiest_thread,
            per_thread,
        }
    }

    /// Threads named `<prefix><n>` (e.g. our SFU's workers `mm-sfu-0`, `mm-sfu-1`, ...), by `n`.
    pub fn numbered_threads(&self, prefix: &str) -> Vec<ThreadUsage> {
        let mut v: Vec<(u32, ThreadUsage)> = self
            .per_thread
            .iter()
            .filter_map(|t| Some((t.name.strip_prefix(prefix)?.parse().ok()?, t.clone())))
            .collect();
        v.sort_by_key(|(n, t)| (*n, t.tid));
        v.into_iter().map(|(_, t)| t).collect()
    }

    /// The thread called `name` (the busiest, if several are).
    pub fn thread(&self, name: &str) -> Option<&ThreadUsage> {
        self.per_thread.iter().find(|t| t.name == name)
    }
}

/// Logical CPUs of this machine.
pub fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(cpu_secs: f64, rss: u64, threads: &[(u32, &str, f64)]) -> ProcUsage {
        ProcUsage {
            wall_secs: 10.0,
            cpu_secs,
            cores: cpu_secs / 10.0,
            rss_start_bytes: rss / 2,
            rss_end_bytes: rss,
            threads: threads.len() as u64,
            busiest_thread: threads
                .iter()
                .max_by(|a, b| a.2.total_cmp(&b.2))
                .map(|t| (t.1.to_owned(), t.2 / 10.0)),
            per_thread: threads
                .iter()
                .map(|&(tid, name, cpu_secs)| ThreadUsage {
                    tid,
                    name: name.into(),
                    cpu_secs,
                    core_pct: cpu_secs * 10.0,
                })
                .collect(),
        }
    }

    #[test]
    fn a_clusters_usage_is_the_sum_of_its_nodes() {
        let a = node(6.0, 100, &[(1, "mm-sfu-0", 5.0), (2, "tokio", 1.0)]);
        let b = node(2.0, 50, &[(7, "mm-sfu-0", 0.5), (8, "tokio", 1.5)]);
        let s = ProcUsage::sum(&[a, b]);
        assert_eq!(s.cpu_secs, 8.0);
        assert!((s.cores - 0.8).abs() < 1e-9);
        assert_eq!(
            (s.rss_start_bytes, s.rss_end_bytes, s.threads),
            (75, 150, 4)
        );
        assert_eq!(s.busiest_thread, Some(("mm-sfu-0".into(), 0.5)));
        let tids: Vec<u32> = s.per_thread.iter().map(|t| t.tid).collect();
        assert_eq!(tids, [1, 8, 2, 7], "all nodes' threads, busiest first");
        let workers: Vec<u32> = s
            .numbered_threads("mm-sfu-")
            .iter()
            .map(|t| t.tid)
            .collect();
        assert_eq!(workers, [1, 7], "each node's worker 0");
    }

    #[test]
    fn process_metrics_parse_from_prometheus_text() {
        let page = "# TYPE process_cpu_seconds_total gauge\nprocess_cpu_seconds_total 12.5\n\
                    process_resident_memory_bytes 1048576\nprocess_cpu_seconds_totalx 3\n";
        assert_eq!(parse_process_metrics(page), Some((12.5, 1_048_576)));
        assert_eq!(parse_process_metrics("http_requests_total 3\n"), None);
    }

    const STAT: &str = "4242 (mini meet (x)) S 1 4242 4242 0 -1 4194560 5000 0 0 0 \
        1234 567 0 0 20 0 9 0 100 2000000 3000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        assert_eq!(parse_stat_ticks(STAT), Some((1234, 567)));
        assert_eq!(parse_stat_ticks("garbage"), None);
        assert_eq!(parse_stat_comm(STAT), Some("mini meet (x)"));
    }

    #[test]
    fn status_gives_rss_and_threads() {
        let status = "Name:\tmini-meeting\nVmPeak:\t  999 kB\nVmRSS:\t   20480 kB\nThreads:\t9\n";
        assert_eq!(parse_status(status), Some((20480 * 1024, 9)));
        assert_eq!(parse_status("Name: x\n"), None);
    }

    #[test]
    fn usage_between_samples() {
        let t = Instant::now();
        let a = ProcSample {
            at: t,
            cpu: ticks_to_duration(100, 100),
            rss_bytes: 10,
            threads: 2,
            per_thread: HashMap::from([
                (1, ("main".into(), ticks_to_duration(50, 100))),
                (2, ("sfu-worker-0".into(), ticks_to_duration(50, 100))),
            ]),
        };
        let b = ProcSample {
            at: t + Duration::from_secs(2),
            cpu: ticks_to_duration(250, 100),
            rss_bytes: 30,
            threads: 3,
            per_thread: HashMap::from([
                (1, ("main".into(), ticks_to_duration(60, 100))),
                (2, ("sfu-worker-0".into(), ticks_to_duration(190, 100))),
            ]),
        };
        let u = ProcUsage::between(&a, &b);
        assert!((u.cpu_secs - 1.5).abs() < 1e-9);
        assert!((u.cores - 0.75).abs() < 1e-9);
        assert_eq!((u.rss_start_bytes, u.rss_end_bytes, u.threads), (10, 30, 3));
        let (name, cores) = u.busiest_thread.unwrap();
        assert_eq!(name, "sfu-worker-0");
        assert!((cores - 0.7).abs() < 1e-9);
        assert_eq!(u.per_thread.len(), 2);
        assert_eq!((u.per_thread[0].tid, u.per_thread[1].tid), (2, 1));
        assert!((u.per_thread[0].cpu_secs - 1.4).abs() < 1e-9);
        assert!((u.per_thread[0].core_pct - 70.0).abs() < 1e-9);
        assert!((u.per_thread[1].core_pct - 5.0).abs() < 1e-9);
    }

    /// `/proc/<pid>/task/<tid>/stat` of our server's media worker `mm-sfu-0` (state R, under
    /// a 1 -> 5 load), captured on this machine: utime 22, stime 5 ticks.
    const WORKER_STAT: &str = "15161 (mm-sfu-0) R 15151 15149 11755 0 -1 4194368 542 0 3 0 22 5 \
        0 0 20 0 14 0 969382 928940032 16350 18446744073709551615 93947143473536 93947160048848 \
        140722925112992 0 0 0 0 4100 17474 0 0 0 -1 1 0 0 0 0 0 93947161010608 93947161039904 \
        93947368898560 140722925115721 140722925115759 140722925115759 140722925117394 0\n";
    const WORKER_TICKS: (u64, u64) = (22, 5);

    #[test]
    fn a_captured_worker_thread_stat_line_parses() {
        assert_eq!(parse_stat_comm(WORKER_STAT), Some("mm-sfu-0"));
        assert_eq!(parse_stat_ticks(WORKER_STAT), Some(WORKER_TICKS));
    }

    fn sample(at: Instant, threads: &[(u32, &str, u64)]) -> ProcSample {
        ProcSample {
            at,
            cpu: ticks_to_duration(threads.iter().map(|t| t.2).sum(), 100),
            rss_bytes: 1,
            threads: threads.len() as u64,
            per_thread: threads
                .iter()
                .map(|(tid, name, ticks)| (*tid, ((*name).into(), ticks_to_duration(*ticks, 100))))
                .collect(),
        }
    }

    #[test]
    fn workers_are_picked_by_name_and_ordered_by_number() {
        let t = Instant::now();
        let a = sample(
            t,
            &[
                (10, "mini-meeting", 5),
                (11, "mm-sfu-1", 100),
                (12, "mm-sfu-0", 0),
            ],
        );
        // 4 s later: worker 0 used 1 s, worker 1 2 s, and a worker 10 was born and used 0.4 s.
        let b = sample(
            t + Duration::from_secs(4),
            &[
                (10, "mini-meeting", 5),
                (11, "mm-sfu-1", 300),
                (12, "mm-sfu-0", 100),
                (13, "mm-sfu-10", 40),
                (14, "mm-sfu-x", 350),
            ],
        );
        let u = ProcUsage::between(&a, &b);
        let w = u.numbered_threads("mm-sfu-");
        let got: Vec<(&str, f64, f64)> = w
            .iter()
            .map(|t| (t.name.as_str(), t.cpu_secs, t.core_pct))
            .collect();
        assert_eq!(got.len(), 3);
        for ((name, secs, pct), want) in got.iter().zip([
            ("mm-sfu-0", 1.0, 25.0),
            ("mm-sfu-1", 2.0, 50.0),
            ("mm-sfu-10", 0.4, 10.0),
        ]) {
            assert_eq!(*name, want.0);
            assert!(
                (secs - want.1).abs() < 1e-9 && (pct - want.2).abs() < 1e-9,
                "{got:?}"
            );
        }
        assert_eq!(u.thread("mm-sfu-x").map(|t| t.tid), Some(14));
        assert_eq!(
            u.busiest_thread.as_ref().map(|b| b.0.as_str()),
            Some("mm-sfu-x")
        );
    }

    #[test]
    fn this_process_can_be_sampled() {
        let s = ProcTarget::SelfProcess.sample().expect("/proc/self");
        assert!(s.rss_bytes > 0 && s.threads >= 1);
        assert!(!s.per_thread.is_empty());
    }
}
