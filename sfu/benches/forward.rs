//! Forwarding path without the network: one publisher's VP8 frame (3 packets) through a real
//! Room to N subscribers (str0m on both sides, datagrams handed over in memory).
//!
//! `cargo bench -p mm-sfu --bench forward`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mm_sfu::bench_support::ForwardHarness;

fn forward(c: &mut Criterion) {
    let mut g = c.benchmark_group("forward_frame");
    g.sample_size(30);
    for n in [1usize, 5, 10, 25] {
        let mut h = ForwardHarness::new(n, 3000);
        // Throughput in forwarded frames (one per subscriber).
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| h.forward_frame())
        });
        assert!(h.egress_packets > 0, "the SFU forwarded something");
    }
    g.finish();
}

criterion_group!(benches, forward);
criterion_main!(benches);
