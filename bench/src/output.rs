//! Printing runs: the summary table (one column per run) and CSV (one row per run).

use std::fmt::Write as _;

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

/// Rows of (metric, value per run).
pub fn rows(runs: &[RunOutcome]) -> Vec<(&'static str, Vec<String>)> {
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
        ("audio p99 ms", col(&|r| ms(r.report.audio_latency.p99_us))),
        (
            "video frame p99 ms",
            col(&|r| ms(r.report.video_latency.p99_us)),
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
            "server busiest thread",
            col(&|r| thread(&r.report.server_busiest_thread)),
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
rss_kb_per_participant,rss_kb_per_subscription,generator_cores,generator_bound,exact_held,exact_checked";

/// One CSV row per run, with [`CSV_HEADER`].
pub fn csv(runs: &[RunOutcome]) -> String {
    let mut out = format!("{CSV_HEADER}\n");
    let o = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.3}"));
    for r in runs {
        let p = &r.report;
        let c = &r.config;
        let _ = writeln!(
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
    }
    out
}
