//! The server process's own CPU time, memory, open descriptors and live tasks on `/metrics`
//! (Prometheus' standard names where one exists), so a benchmark on another machine can still
//! measure the server's cost per packet, and a leak test can watch resources return to their
//! baseline after participants come and go.

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
    metrics.register_gauge_fn(
        "process_open_fds",
        "Open file descriptors (sockets included) of the server process",
        || open_fds().unwrap_or(0) as f64,
    );
    metrics.register_gauge_fn(
        "mm_tokio_alive_tasks",
        "Tasks alive on the tokio runtime that serves /metrics (the server's runtime)",
        || alive_tasks().unwrap_or(0) as f64,
    );
}

/// Entries of `/proc/self/fd`, less the one `read_dir` itself holds open while listing.
fn open_fds() -> Option<usize> {
    Some(
        std::fs::read_dir("/proc/self/fd")
            .ok()?
            .count()
            .saturating_sub(1),
    )
}

/// Spawned and not yet finished tasks of the current runtime; None outside a runtime.
fn alive_tasks() -> Option<usize> {
    let handle = tokio::runtime::Handle::try_current().ok()?;
    Some(handle.metrics().num_alive_tasks())
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

    #[test]
    fn counts_descriptors_as_they_open_and_close() {
        // Other tests of this binary open files in parallel: allow them a few.
        const OTHERS: usize = 8;
        let before = open_fds().unwrap();
        let files: Vec<_> = (0..100)
            .map(|_| std::fs::File::open("/proc/self/stat").unwrap())
            .collect();
        let open = open_fds().unwrap();
        assert!(open + OTHERS >= before + 100, "{before} -> {open}");
        drop(files);
        let closed = open_fds().unwrap();
        assert!(closed + 100 <= open + OTHERS, "{open} -> {closed}");
    }

    #[test]
    fn counts_the_tasks_of_the_current_runtime() {
        assert_eq!(alive_tasks(), None, "no runtime, no count");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let before = alive_tasks().unwrap();
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            let task = tokio::spawn(async move {
                let _ = rx.await;
            });
            assert_eq!(alive_tasks().unwrap(), before + 1);
            tx.send(()).unwrap();
            task.await.unwrap();
            assert_eq!(alive_tasks().unwrap(), before);
        });
    }
}
