//! A sweep's SVG: [`PlotPoint`]s from runs or from the CSV they wrote, drawn as three panels.

use anyhow::Context;

use mm_bench::plot::{Panel, Series, svg};
use mm_bench::process_stats::cpu_count;
use mm_bench::scenario::RunOutcome;

/// One point of a sweep plot.
pub(crate) struct PlotPoint {
    target: String,
    subscribers: f64,
    cpu_us: Option<f64>,
    p99_ms: f64,
    loss_pct: f64,
}

pub(crate) fn plot_points(runs: &[RunOutcome]) -> Vec<PlotPoint> {
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
pub(crate) fn csv_points(text: &str) -> anyhow::Result<(Vec<PlotPoint>, String)> {
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

pub(crate) fn sweep_svg(points: &[PlotPoint], profile: &str) -> String {
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
