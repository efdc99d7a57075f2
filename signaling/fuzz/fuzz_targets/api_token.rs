#![no_main]
//! See `../checks/api_token.rs`: the property checked here and by the corpus-replay test.

#[path = "../checks/api_token.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
