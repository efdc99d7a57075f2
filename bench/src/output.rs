//! Printing runs: the summary table (one column per run) and CSV (one row per run).

use std::fmt::Write as _;

use crate::latency::LatencySummary;
use crate::load_report::LinkReport;
use crate::process_stats::ThreadUsage;
use crate::scenario::RunOutcome;

fn opt(v: Option<f64>, prec: usize) -> String {
    v.map_or("-".into(), |v| format!("{v:.prec$}"))
}

fn thread(t: &Option<(String, f64)>) -> String {
    t.as_ref()
        .map_or("-".into(), |(n, c)| format!("{n} {c:.2}"))
}

fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

/// `p50 / p99 / p99.9` in ms.
fn percentiles(l: &LatencySummary) -> String {
    format!("{} / {} / {}", ms(l.p50_us), ms(l.p99_us), ms(l.p999_us))
}

/// A thread's CPU time over the window and its share of one core.
fn thread_cpu(t: &ThreadUsage) -> String {
    format!("{:.2} s {:.1}%", t.cpu_secs, t.core_pct)
}

fn pct(v: Option<f64>) -> String {
    opt(v, 3)
}

type Rows = Vec<(String, Vec<String>)>;

/// Inserts `extra` after the row called `after` (at the end if there is none).
fn insert_after(rows: &mut Rows, after: &str, extra: Rows) {
    let i = rows
        .iter()
        .position(|(k, _)| k == after)
        .map_or(rows.len(), |i| i + 1);
    rows.splice(i..i, extra);
}

/// Rows of (metric, value per run). The per-worker and `--loss` rows appear only when some
/// run has them.
pub fn rows(runs: &[RunOutcome]) -> Rows {
    let col = |f: &dyn Fn(&RunOutcome) -> String| runs.iter().map(f).collect::<Vec<_>>();
    let mut rows: Rows = fixed_rows(runs)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let workers = runs
        .iter()
        .map(|r| r.report.server_workers.len())
        .max()
        .unwrap_or(0);
    let worker_rows = (0..workers)
        .map(|i| {
            let name = runs
                .iter()
                .find_map(|r| r.report.server_workers.get(i).map(|t| t.name.clone()))
                .unwrap_or_default();
            let cpu = col(&|r| {
                r.report
                    .server_workers
                    .get(i)
                    .map_or("-".into(), thread_cpu)
            });
            (format!("server {name} CPU, % core"), cpu)
        })
        .collect();
    insert_after(&mut rows, "server busiest thread", worker_rows);
    if runs.iter().any(|r| r.report.link.is_some()) {
        let link = |f: &dyn Fn(&LinkReport) -> String| {
            col(&|r| r.report.link.as_ref().map_or("-".into(), f))
        };
        let direction =
            |fwd: u64, dropped: u64, p: Option<f64>| format!("{fwd} / {dropped} ({})", pct(p));
        let link_rows = vec![
            (
                "link loss % set / measured".to_owned(),
                link(&|l| format!("{:.3} / {}", l.set_pct, pct(l.measured_pct))),
            ),
            (
                "relay to server: fwd / dropped (%)".to_owned(),
                link(&|l| {
                    let c = &l.counts;
                    direction(c.to_server_forwarded, c.to_server_dropped, l.to_server_pct)
                }),
            ),
            (
                "relay to client: fwd / dropped (%)".to_owned(),
                link(&|l| {
                    let c = &l.counts;
                    direction(c.to_client_forwarded, c.to_client_dropped, l.to_client_pct)
                }),
            ),
            (
                "relay unroutable / overflow".to_owned(),
                link(&|l| format!("{} / {}", l.counts.unroutable, l.counts.kernel_drops)),
            ),
            (
                "relay thread CPU, % core".to_owned(),
                col(&|r| {
                    r.report
                        .relay_thread
                        .as_ref()
                        .map_or("-".into(), thread_cpu)
                }),
            ),
        ];
        insert_after(&mut rows, "accounting gap", link_rows);
    }
    rows
}

/// The rows every table has.
fn fixed_rows(runs: &[RunOutcome]) -> Vec<(&'static str, Vec<String>)> {
    let col = |f: &dyn Fn(&RunOutcome) -> String| runs.iter().map(f).collect::<Vec<_>>();
    vec![
        ("target", col(&|r| r.target.to_string())),
        ("scenario", col(&|r| r.config.scenario.clone())),
        ("profile", col(&|r| r.config.profile.label().into())),
        (
            "meetings x (pub + sub)",
            col(&|r| {
                format!(
                    "{} x ({} + {})",
                    r.config.meetings, r.config.publishers, r.config.subscribers
                )
            }),
        ),
        ("window s", col(&|r| format!("{:.1}", r.report.window_secs))),
        ("units sent", col(&|r| r.report.units_sent.to_string())),
        (
            "units expected",
            col(&|r| r.report.units_expected.to_string()),
        ),
        (
            "units received",
            col(&|r| r.report.units_received.to_string()),
        ),
        ("units lost", col(&|r| r.report.units_lost.to_string())),
        ("loss %", col(&|r| format!("{:.3}", r.report.loss_pct))),
        (
            "accounting gap",
            col(&|r| r.report.accounting_gap.to_string()),
        ),
        (
            "dup / reord / corrupt",
            col(&|r| {
                format!(
                    "{} / {} / {}",
                    r.report.duplicates,
                    r.report.reordered,
                    r.report.corrupted + r.report.malformed
                )
            }),
        ),
        (
            "media packets fwd/s",
            col(&|r| format!("{:.0}", r.report.packets_per_sec)),
        ),
        (
            "packets received/s",
            col(&|r| {
                format!(
                    "{:.0}",
                    r.report.packets_received as f64 / r.report.window_secs.max(1e-9)
                )
            }),
        ),
        ("latency p50 ms", col(&|r| ms(r.report.latency.p50_us))),
        ("latency p99 ms", col(&|r| ms(r.report.latency.p99_us))),
        ("latency p99.9 ms", col(&|r| ms(r.report.latency.p999_us))),
        ("latency max ms", col(&|r| ms(r.report.latency.max_us))),
        (
            "audio ms p50 / p99 / p99.9",
            col(&|r| percentiles(&r.report.audio_latency)),
        ),
        (
            "video frame ms p50 / p99 / p99.9",
            col(&|r| percentiles(&r.report.video_latency)),
        ),
        (
            "rx kbit/s mean/min",
            col(&|r| format!("{:.0} / {:.0}", r.report.rx_kbps_mean, r.report.rx_kbps_min)),
        ),
        (
            "join ms p50/p99/max",
            col(&|r| {
                let j = r.report.join_ms;
                format!("{:.0} / {:.0} / {:.0}", j.p50, j.p99, j.max)
            }),
        ),
        (
            "first frame ms p50/p99/max",
            col(&|r| {
                let j = r.report.first_frame_ms;
                format!("{:.0} / {:.0} / {:.0}", j.p50, j.p99, j.max)
            }),
        ),
        (
            "failed / no media",
            col(&|r| format!("{} / {}", r.report.failed_joins, r.report.without_media)),
        ),
        ("server cores", col(&|r| opt(r.report.server_cores, 2))),
        (
            "server cores per node",
            col(&|r| match r.report.server_node_cores.as_slice() {
                [] => "-".into(),
                nodes => nodes
                    .iter()
                    .map(|c| format!("{c:.2}"))
                    .collect::<Vec<_>>()
                    .join(" + "),
            }),
        ),
        (
            "server busiest thread",
            col(&|r| {
                r.report
                    .server_busiest
                    .as_ref()
                    .map_or("-".into(), |t| format!("{} {}", t.name, thread_cpu(t)))
            }),
        ),
        (
            "server CPU us/packet",
            col(&|r| opt(r.report.server_cpu_us_per_packet, 2)),
        ),
        ("server RSS MB", col(&|r| opt(r.report.server_rss_mb, 1))),
        (
            "RSS KB/participant",
            col(&|r| opt(r.report.server_rss_kb_per_participant, 1)),
        ),
        (
            "RSS KB/subscription",
            col(&|r| opt(r.report.server_rss_kb_per_subscription, 1)),
        ),
        (
            "generator cores",
            col(&|r| {
                format!(
                    "{:.2}{}",
                    r.report.generator_cores,
                    if r.report.generator_bound {
                        " (BOUND)"
                    } else {
                        ""
                    }
                )
            }),
        ),
        (
            "generator busiest thread",
            col(&|r| thread(&r.report.generator_busiest_thread)),
        ),
        (
            "exact checks held",
            col(&|r| format!("{}/{}", r.exact_held, r.exact_checked)),
        ),
    ]
}

/// A plain-text table, one column per run, plus every run's warnings.
pub fn table(runs: &[RunOutcome]) -> String {
    let rows = rows(runs);
    let w0 = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..runs.len())
        .map(|i| rows.iter().map(|(_, v)| v[i].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (k, vals) in &rows {
        let _ = write!(out, "{k:<w0$}");
        for (v, w) in vals.iter().zip(&widths) {
            let _ = write!(out, "  {v:>w$}");
        }
        out.push('\n');
    }
    for r in runs {
        for w in &r.report.warnings {
            let _ = writeln!(out, "!! [{}] {w}", r.target);
        }
        for f in &r.exact_failures {
            let _ = writeln!(out, "!! [{}] exact check failed: {f}", r.target);
        }
    }
    out
}

/// The same table as Markdown (for docs/benchmarks.md).
pub fn markdown(runs: &[RunOutcome]) -> String {
    let rows = rows(runs);
    let mut out = String::from("| metric |");
    for r in runs {
        let _ = write!(out, " {} {} |", r.target, r.config.subscribers);
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(runs.len()));
    out.push('\n');
    for (k, vals) in rows {
        let _ = write!(out, "| {k} |");
        for v in vals {
            let _ = write!(out, " {v} |");
        }
        out.push('\n');
    }
    out
}

pub const CSV_HEADER: &str = "target,scenario,profile,meetings,publishers,subscribers,window_s,\
units_sent,units_expected,units_received,units_lost,loss_pct,accounting_gap,duplicates,reordered,\
corrupted,packets_received,packets_forwarded,packets_per_s,lat_p50_us,lat_p99_us,lat_p999_us,lat_max_us,\
audio_p99_us,video_p99_us,rx_kbps_mean,rx_kbps_min,join_p50_ms,join_p99_ms,ttff_p50_ms,ttff_p99_ms,\
ttff_max_ms,failed_joins,without_media,server_cores,server_cpu_us_per_packet,server_rss_mb,\
rss_kb_per_participant,rss_kb_per_subscription,generator_cores,generator_bound,exact_held,exact_checked,\
audio_p50_us,audio_p999_us,video_p50_us,video_p999_us,server_busiest_thread,server_busiest_cpu_s,\
server_busiest_core_pct,server_workers,loss_set_pct,loss_seed,relay_to_server_forwarded,\
relay_to_server_dropped,relay_to_client_forwarded,relay_to_client_dropped,relay_loss_pct,\
relay_unroutable,relay_overflow,relay_thread_core_pct";

/// A CSV field without the separator.
fn field(s: &str) -> String {
    s.replace([',', '\n'], " ")
}

/// `name:cpu_s:core_pct` per thread, `;`-separated.
fn threads_field(ts: &[ThreadUsage]) -> String {
    ts.iter()
        .map(|t| format!("{}:{:.3}:{:.2}", field(&t.name), t.cpu_secs, t.core_pct))
        .collect::<Vec<_>>()
        .join(";")
}

/// One CSV row per run, with [`CSV_HEADER`].
pub fn csv(runs: &[RunOutcome]) -> String {
    let mut out = format!("{CSV_HEADER}\n");
    let o = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.3}"));
    for r in runs {
        let p = &r.report;
        let c = &r.config;
        let _ = write!(
            out,
            "{},{},{},{},{},{},{:.3},{},{},{},{},{:.4},{},{},{},{},{},{},{:.1},{},{},{},{},{},{},{:.1},{:.1},{:.1},{:.1},{:.1},{:.1},{:.1},{},{},{},{},{},{},{},{:.3},{},{},{}",
            r.target,
            c.scenario,
            c.profile.label(),
            c.meetings,
            c.publishers,
            c.subscribers,
            p.window_secs,
            p.units_sent,
            p.units_expected,
            p.units_received,
            p.units_lost,
            p.loss_pct,
            p.accounting_gap,
            p.duplicates,
            p.reordered,
            p.corrupted + p.malformed,
            p.packets_received,
            p.packets_forwarded,
            p.packets_per_sec,
            p.latency.p50_us,
            p.latency.p99_us,
            p.latency.p999_us,
            p.latency.max_us,
            p.audio_latency.p99_us,
            p.video_latency.p99_us,
            p.rx_kbps_mean,
            p.rx_kbps_min,
            p.join_ms.p50,
            p.join_ms.p99,
            p.first_frame_ms.p50,
            p.first_frame_ms.p99,
            p.first_frame_ms.max,
            p.failed_joins,
            p.without_media,
            o(p.server_cores),
            o(p.server_cpu_us_per_packet),
            o(p.server_rss_mb),
            o(p.server_rss_kb_per_participant),
            o(p.server_rss_kb_per_subscription),
            p.generator_cores,
            p.generator_bound,
            r.exact_held,
            r.exact_checked,
        );
        let busiest = p.server_busiest.as_ref();
        let link = p.link.as_ref();
        let n = |v: Option<u64>| v.map_or(String::new(), |v| v.to_string());
        let _ = writeln!(
            out,
            ",{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            p.audio_latency.p50_us,
            p.audio_latency.p999_us,
            p.video_latency.p50_us,
            p.video_latency.p999_us,
            busiest.map_or(String::new(), |t| field(&t.name)),
            o(busiest.map(|t| t.cpu_secs)),
            o(busiest.map(|t| t.core_pct)),
            threads_field(&p.server_workers),
            o(link.map(|l| l.set_pct)),
            n(link.map(|l| l.seed)),
            n(link.map(|l| l.counts.to_server_forwarded)),
            n(link.map(|l| l.counts.to_server_dropped)),
            n(link.map(|l| l.counts.to_client_forwarded)),
            n(link.map(|l| l.counts.to_client_dropped)),
            o(link.and_then(|l| l.measured_pct)),
            n(link.map(|l| l.counts.unroutable)),
            n(link.map(|l| l.counts.kernel_drops)),
            o(p.relay_thread.as_ref().map(|t| t.core_pct)),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::load_report::{LinkReport, LinkWindow, LoadReport};
    use crate::lossy_link::LossSpec;
    use crate::lossy_relay::RelayCounts;
    use crate::scenario::{ProfileName, RunConfig, TargetKind};

    fn worker(n: u32, secs: f64) -> ThreadUsage {
        ThreadUsage {
            tid: 100 + n,
            name: format!("mm-sfu-{n}"),
            cpu_secs: secs,
            core_pct: secs * 10.0,
        }
    }

    fn outcome(target: TargetKind, report: LoadReport) -> RunOutcome {
        RunOutcome {
            target,
            config: RunConfig {
                scenario: "fanout".into(),
                meetings: 1,
                publishers: 1,
                subscribers: 10,
                profile: ProfileName::P360,
                warmup: Duration::from_secs(1),
                duration: Duration::from_secs(10),
                join_concurrency: 8,
                timeout: Duration::from_secs(30),
                generator_threads: 2,
                progress: false,
            },
            report,
            exact_checked: 20,
            exact_held: 20,
            exact_failures: vec![],
        }
    }

    /// Ours with two workers and a 5 % link, Janus with its busiest thread and no link.
    fn runs() -> Vec<RunOutcome> {
        let ours = LoadReport {
            window_secs: 10.0,
            server_workers: vec![worker(0, 1.5), worker(1, 0.25)],
            server_busiest: Some(worker(0, 1.5)),
            link: Some(LinkReport::of(&LinkWindow {
                spec: LossSpec {
                    percent: 5.0,
                    seed: 9,
                },
                counts: RelayCounts {
                    to_server_forwarded: 950,
                    to_server_dropped: 50,
                    to_client_forwarded: 9_500,
                    to_client_dropped: 500,
                    ..Default::default()
                },
            })),
            ..Default::default()
        };
        let janus = LoadReport {
            window_secs: 10.0,
            server_busiest: Some(ThreadUsage {
                tid: 7,
                name: "hloop 42".into(),
                cpu_secs: 0.8,
                core_pct: 8.0,
            }),
            ..Default::default()
        };
        vec![
            outcome(TargetKind::Ours, ours),
            outcome(TargetKind::Janus, janus),
        ]
    }

    fn row<'a>(rows: &'a Rows, name: &str) -> &'a [String] {
        &rows
            .iter()
            .find(|(k, _)| k == name)
            .unwrap_or_else(|| panic!("no row {name}"))
            .1
    }

    #[test]
    fn the_table_has_a_row_per_worker_and_the_link_rows() {
        let rows = rows(&runs());
        assert_eq!(
            row(&rows, "server mm-sfu-0 CPU, % core"),
            ["1.50 s 15.0%", "-"]
        );
        assert_eq!(
            row(&rows, "server mm-sfu-1 CPU, % core"),
            ["0.25 s 2.5%", "-"]
        );
        assert_eq!(
            row(&rows, "server busiest thread"),
            ["mm-sfu-0 1.50 s 15.0%", "hloop 42 0.80 s 8.0%"]
        );
        assert_eq!(
            row(&rows, "link loss % set / measured"),
            ["5.000 / 5.000", "-"]
        );
        assert_eq!(
            row(&rows, "relay to client: fwd / dropped (%)"),
            ["9500 / 500 (5.000)", "-"]
        );
        // Worker rows follow the busiest thread; link rows follow the accounting gap.
        let names: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
        let at = |n: &str| names.iter().position(|k| *k == n).unwrap();
        assert_eq!(
            at("server mm-sfu-0 CPU, % core"),
            at("server busiest thread") + 1
        );
        assert_eq!(at("link loss % set / measured"), at("accounting gap") + 1);
        assert!(rows.iter().all(|(_, v)| v.len() == 2));
    }

    #[test]
    fn without_workers_or_a_link_the_table_has_no_such_rows() {
        let mut runs = runs();
        runs.truncate(1);
        runs[0].report.server_workers.clear();
        runs[0].report.link = None;
        let rows = rows(&runs);
        assert!(
            !rows
                .iter()
                .any(|(k, _)| k.contains("mm-sfu-") || k.contains("relay") || k.contains("link")),
            "{rows:?}"
        );
    }

    #[test]
    fn csv_rows_have_every_column_of_the_header() {
        let text = csv(&runs());
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        assert_eq!(rows.len(), 2);
        for r in &rows {
            assert_eq!(r.len(), header.len(), "{r:?}");
        }
        assert_eq!(
            rows[0][col("server_workers")],
            "mm-sfu-0:1.500:15.00;mm-sfu-1:0.250:2.50"
        );
        assert_eq!(rows[0][col("loss_set_pct")], "5.000");
        assert_eq!(rows[0][col("relay_to_client_dropped")], "500");
        assert_eq!(rows[1][col("server_busiest_thread")], "hloop 42");
        assert_eq!(rows[1][col("loss_set_pct")], "");
    }
}
