//! Replays the `api_token` fuzz corpus and regression inputs (`signaling/fuzz/`) through the
//! check the fuzz target runs: a real `TokenService` over the in-process cache.

#[path = "../../signaling/fuzz/checks/api_token.rs"]
mod api_token;
#[path = "../../signaling/fuzz/checks/replay.rs"]
mod replay;

#[test]
fn token_corpus_and_regressions() {
    replay::replay("api_token", api_token::check);
}

/// The seed corpus holds tokens this service accepts: the replay covers the `Ok` branch too.
#[test]
fn corpus_holds_an_accepted_token() {
    let (svc, rt) = api_token::service();
    let accepted = replay::inputs("api_token")
        .iter()
        .filter(|(_, d)| {
            rt.block_on(svc.verify_access(&String::from_utf8_lossy(d)))
                .is_ok()
        })
        .count();
    assert!(accepted >= 1, "no seed token is valid under the fuzz key");
}
