//! Prometheus metrics in text exposition format, without a metrics library.
//!
//! HTTP requests are counted by route template (never the raw path, which would make one
//! series per meeting code). The binary adds its own gauges (rooms, participants) with
//! [`Metrics::set_gauge`] or [`Metrics::register_gauge_fn`].

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex, MutexGuard};

/// Upper bounds (seconds) of the request duration histogram.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

type GaugeFn = Box<dyn Fn() -> f64 + Send + Sync>;

/// Shared metrics registry. Cheap to clone.
#[derive(Clone, Default)]
pub struct Metrics {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    durations: BTreeMap<(String, String), Histogram>,
    gauges: BTreeMap<String, (String, f64)>,
    /// Counters kept elsewhere (the SFU's), copied in at each refresh.
    counters: BTreeMap<String, (String, u64)>,
    gauge_fns: BTreeMap<String, (String, GaugeFn)>,
    /// Labelled series set as a whole (e.g. one value per media worker).
    series: BTreeMap<String, Series>,
}

/// One metric with a value per label value.
struct Series {
    help: String,
    kind: MetricKind,
    label: String,
    values: Vec<(String, f64)>,
}

/// The Prometheus type of a [`Metrics::set_series`] metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// A value that goes up and down.
    Gauge,
    /// A count that only grows where it is kept.
    Counter,
}

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records one finished HTTP request.
    pub fn record_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let mut inner = self.lock();
        *inner
            .requests
            .entry((route.to_owned(), method.to_owned(), status))
            .or_default() += 1;
        let histogram = inner
            .durations
            .entry((route.to_owned(), method.to_owned()))
            .or_default();
        for (count, bound) in histogram.counts.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *count += 1;
            }
        }
        histogram.sum += seconds;
        histogram.count += 1;
    }

    /// Sets a gauge to `value`. Names that are not valid Prometheus names are ignored (logged).
    pub fn set_gauge(&self, name: &str, help: &str, value: f64) {
        if valid_name(name) {
            self.lock()
                .gauges
                .insert(name.to_owned(), (help.to_owned(), value));
        } else {
            tracing::warn!(name, "invalid metric name ignored");
        }
    }

    /// Sets a counter owned elsewhere (it only grows there) to its current `value`.
    pub fn set_counter(&self, name: &str, help: &str, value: u64) {
        if valid_name(name) {
            self.lock()
                .counters
                .insert(name.to_owned(), (help.to_owned(), value));
        } else {
            tracing::warn!(name, "invalid metric name ignored");
        }
    }

    /// Sets every value of a labelled metric at once (`values`: label value, value), e.g.
    /// `mm_sfu_worker_peers{worker="0"}`. Invalid metric or label names are ignored (logged).
    pub fn set_series(
        &self,
        name: &str,
        help: &str,
        kind: MetricKind,
        label: &str,
        values: Vec<(String, f64)>,
    ) {
        if valid_name(name) && valid_name(label) && !label.contains(':') {
            self.lock().series.insert(
                name.to_owned(),
                Series {
                    help: help.to_owned(),
                    kind,
                    label: label.to_owned(),
                    values,
                },
            );
        } else {
            tracing::warn!(name, label, "invalid metric or label name ignored");
        }
    }

    /// Registers a gauge read by calling `read` at each scrape; replaces one of the same name.
    pub fn register_gauge_fn(
        &self,
        name: &str,
        help: &str,
        read: impl Fn() -> f64 + Send + Sync + 'static,
    ) {
        if valid_name(name) {
            self.lock()
                .gauge_fns
                .insert(name.to_owned(), (help.to_owned(), Box::new(read)));
        } else {
            tracing::warn!(name, "invalid metric name ignored");
        }
    }

    /// The whole registry in Prometheus text format 0.0.4.
    pub fn render(&self) -> String {
        let inner = self.lock();
        let mut out = String::new();
        out.push_str(
            "# HELP http_requests_total HTTP requests by route template, method and status.\n",
        );
        out.push_str("# TYPE http_requests_total counter\n");
        for ((route, method, status), count) in &inner.requests {
            let _ = writeln!(
                out,
                "http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {count}",
                escape(route),
                escape(method)
            );
        }
        out.push_str("# HELP http_request_duration_seconds HTTP request duration by route template and method.\n");
        out.push_str("# TYPE http_request_duration_seconds histogram\n");
        for ((route, method), h) in &inner.durations {
            let labels = format!("route=\"{}\",method=\"{}\"", escape(route), escape(method));
            for (bound, count) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        let gauges = inner
            .gauges
            .iter()
            .map(|(name, (help, value))| (name, help, *value))
            .chain(
                inner
                    .gauge_fns
                    .iter()
                    .map(|(name, (help, read))| (name, help, read())),
            );
        for (name, help, value) in gauges {
            let help = help.replace('\\', "\\\\").replace('\n', "\\n");
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        for (name, (help, value)) in &inner.counters {
            let help = help.replace('\\', "\\\\").replace('\n', "\\n");
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        }
        for (name, s) in &inner.series {
            let help = s.help.replace('\\', "\\\\").replace('\n', "\\n");
            let kind = match s.kind {
                MetricKind::Gauge => "gauge",
                MetricKind::Counter => "counter",
            };
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (label, value) in &s.values {
                let _ = writeln!(out, "{name}{{{}=\"{}\"}} {value}", s.label, escape(label));
            }
        }
        out
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges() {
        let metrics = Metrics::new();
        metrics.record_request("/api/meetings/{code}", "GET", 200, 0.02);
        metrics.record_request("/api/meetings/{code}", "GET", 200, 3.0);
        metrics.set_gauge("mm_rooms", "Live rooms.", 3.0);
        metrics.register_gauge_fn("mm_participants", "Connected participants.", || 7.0);
        metrics.set_gauge("bad name", "ignored", 1.0);
        metrics.set_counter("mm_sfu_nacks_total", "NACKs.", 5);
        metrics.set_counter("mm_sfu_nacks_total", "NACKs.", 9);
        let text = metrics.render();
        assert!(text.contains(
            "http_requests_total{route=\"/api/meetings/{code}\",method=\"GET\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "http_request_duration_seconds_bucket{route=\"/api/meetings/{code}\",method=\"GET\",le=\"0.025\"} 1"
        ));
        assert!(text.contains(
            "http_request_duration_seconds_bucket{route=\"/api/meetings/{code}\",method=\"GET\",le=\"+Inf\"} 2"
        ));
        assert!(text.contains("# TYPE mm_rooms gauge\nmm_rooms 3\n"));
        assert!(text.contains("mm_participants 7\n"));
        assert!(!text.contains("bad name"));
        assert!(text.contains("# TYPE mm_sfu_nacks_total counter\nmm_sfu_nacks_total 9\n"));
    }

    #[test]
    fn renders_labelled_series() {
        let metrics = Metrics::new();
        let per_worker = |a: f64, b: f64| vec![("0".to_owned(), a), ("1".to_owned(), b)];
        metrics.set_series(
            "mm_w",
            "Per worker.",
            MetricKind::Gauge,
            "worker",
            per_worker(1.0, 2.0),
        );
        metrics.set_series(
            "mm_w",
            "Per worker.",
            MetricKind::Gauge,
            "worker",
            per_worker(3.0, 4.0),
        );
        metrics.set_series(
            "mm_c_total",
            "C.",
            MetricKind::Counter,
            "worker",
            per_worker(5.0, 6.0),
        );
        metrics.set_series(
            "mm_bad",
            "x",
            MetricKind::Gauge,
            "bad label",
            per_worker(0.0, 0.0),
        );
        let text = metrics.render();
        assert!(text.contains("# TYPE mm_w gauge\nmm_w{worker=\"0\"} 3\nmm_w{worker=\"1\"} 4\n"));
        assert!(text.contains(
            "# TYPE mm_c_total counter\nmm_c_total{worker=\"0\"} 5\nmm_c_total{worker=\"1\"} 6\n"
        ));
        assert!(!text.contains("mm_bad"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\n"), "a\\\"b\\\\c\\n");
    }
}
