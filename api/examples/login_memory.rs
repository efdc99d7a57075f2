//! Resident memory after many password verifications, the work of a login.
//!
//! `cargo run --release -p mm-api --example login_memory -- [reused|allocating] [logins]`
//!
//! `reused` goes through [`PasswordHasher`] (one working area per permit); `allocating` does
//! what it did before, argon2's own allocating path on the blocking pool under the same
//! semaphore. Prints VmRSS before and after, in MiB.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use mm_api::password_hasher::PasswordHasher;
use tokio::sync::Semaphore;

/// Concurrent logins in flight, as a small burst of clients would make.
const CLIENTS: usize = 8;
/// Hashing permits, as `AppState` gives on this two-core machine.
const PERMITS: usize = 2;

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "reused".to_owned());
    let logins: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(400);
    let salt = SaltString::encode_b64(b"sixteen byte slt").expect("salt");
    let hash: Arc<str> = argon2()
        .hash_password(b"correct horse battery", &salt)
        .expect("hash")
        .to_string()
        .into();
    let hasher = PasswordHasher::new(PERMITS).expect("hasher");
    let permits = Arc::new(Semaphore::new(PERMITS));
    let before = rss_mib();
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let (mode, hash, hasher, permits) =
            (mode.clone(), hash.clone(), hasher.clone(), permits.clone());
        clients.push(tokio::spawn(async move {
            for _ in (client..logins).step_by(CLIENTS) {
                let ok = if mode == "allocating" {
                    let _permit = permits.acquire().await.expect("permit");
                    let hash = hash.clone();
                    tokio::task::spawn_blocking(move || {
                        let parsed = PasswordHash::new(&hash).expect("parse");
                        argon2()
                            .verify_password(b"correct horse battery", &parsed)
                            .is_ok()
                    })
                    .await
                    .expect("task")
                } else {
                    hasher
                        .verify("correct horse battery", Some(&hash))
                        .await
                        .expect("verify")
                };
                assert!(ok);
            }
        }));
    }
    for client in clients {
        client.await.expect("client");
    }
    let after = rss_mib();
    println!(
        "{mode}: {logins} logins, RSS {before:.1} MiB -> {after:.1} MiB (+{:.1} MiB)",
        after - before
    );
}
