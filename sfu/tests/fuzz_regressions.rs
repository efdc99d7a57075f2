//! Replays the `sfu_sdp` and `sfu_datagram` fuzz corpora and regression inputs
//! (`signaling/fuzz/`) through the checks the fuzz targets run.

#[path = "../../signaling/fuzz/checks/replay.rs"]
mod replay;
#[path = "../../signaling/fuzz/checks/sfu_datagram.rs"]
mod sfu_datagram;
#[path = "../../signaling/fuzz/checks/sfu_sdp.rs"]
mod sfu_sdp;

#[test]
fn sdp_corpus_and_regressions() {
    replay::replay("sfu_sdp", sfu_sdp::check);
}

#[test]
fn datagram_corpus_and_regressions() {
    replay::replay("sfu_datagram", sfu_datagram::check);
}
