#![no_main]
//! See `../checks/sfu_sdp.rs`: the property checked here and by the corpus-replay test.

#[path = "../checks/sfu_sdp.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
