#![allow(dead_code)]
//! Corpus replay shared by the crates' `tests/fuzz_regressions.rs`: every seed and every
//! regression input of a fuzz target goes through the same check the target runs.

/// Every file of `signaling/fuzz/corpus/<target>` and `signaling/fuzz/regressions/<target>`;
/// fails when the seed corpus is missing, so the replay cannot silently test nothing.
pub fn inputs(target: &str) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../signaling/fuzz");
    let mut out = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) else {
            continue;
        };
        for e in entries {
            let path = e.expect("directory entry").path();
            if path.is_file() {
                let data = std::fs::read(&path).expect("readable input");
                out.push((path, data));
            }
        }
    }
    out.sort();
    assert!(out.len() >= 10, "seed corpus for {target} is missing");
    out
}

/// Runs `check` on each input, naming the input that panicked.
pub fn replay(target: &str, check: fn(&[u8])) {
    for (path, data) in inputs(target) {
        let r = std::panic::catch_unwind(|| check(&data));
        assert!(r.is_ok(), "{target}: {} panicked", path.display());
    }
}
