//! The server process's own CPU time and memory on `/metrics` (Prometheus' standard names), so
//! a benchmark on another machine can still measure the server's cost per packet.

use mm_api::Metrics;

pub fn register(metrics: &Metrics) {
    metrics.register_gauge_fn(
        "process_cpu_seconds_total",
        "User and system CPU time of the server process, seconds",
        || cpu_seconds().unwrap_or(0.0),
    );
    metrics.register_gauge_fn(
        "process_resident_memory_bytes",
        "Resident memory of the server process, bytes",
        || rss_bytes().unwrap_or(0) as f64,
    );
}

/// utime + stime from `/proc/self/stat` (fields 14 and 15, after the parenthesised name).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    let utime: f64 = fields.nth(11)?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Some((utime + stime) / hz)
}

fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        // Burn a little CPU so the counter cannot be zero.
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert!(x != 1);
        assert!(cpu_seconds().is_some_and(|s| s > 0.0));
        assert!(rss_bytes().is_some_and(|b| b > 1024 * 1024));
    }
}
