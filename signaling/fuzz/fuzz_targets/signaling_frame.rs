#![no_main]
//! See `../checks/signaling_frame.rs`: the property checked here and by the corpus-replay test.

#[path = "../checks/signaling_frame.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
