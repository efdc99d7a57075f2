//! Replays the `signaling_frame` fuzz corpus and regression inputs (`signaling/fuzz/`)
//! through the check the fuzz target runs.

#[path = "../fuzz/checks/replay.rs"]
mod replay;
#[path = "../fuzz/checks/signaling_frame.rs"]
mod signaling_frame;

#[test]
fn frame_corpus_and_regressions() {
    replay::replay("signaling_frame", signaling_frame::check);
}
