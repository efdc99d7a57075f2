//! The property the `sfu_sdp` fuzz target and `sfu/tests/fuzz_regressions.rs` both check:
//! a client's publish offer (and the candidate lines in it, trickled) goes through the SFU's
//! own checks and str0m without a panic; it is answered or refused with `BadSdp` /
//! `TooManyTracks`, and never takes the peer down.

use mm_sfu::sdp_harness::SdpHarness;
use mm_sfu::{PcKind, SfuError};

/// Offers `data` on the publish connection of a fresh peer, then trickles its candidates.
pub fn check(data: &[u8]) {
    let Ok(sdp) = std::str::from_utf8(data) else {
        return;
    };
    let mut h = SdpHarness::new();
    match h.publish(sdp) {
        Ok(answer) => {
            assert!(answer.starts_with("v=0"), "an answer is an SDP: {answer}");
            assert!(answer.contains("a=ice-lite"), "the SFU answers ICE-lite");
        }
        Err(SfuError::BadSdp(_) | SfuError::TooManyTracks) => {}
        Err(e) => panic!("unexpected error for a bad offer: {e:?}"),
    }
    for line in sdp.lines().filter(|l| l.contains("candidate")).take(16) {
        for pc in [PcKind::Publish, PcKind::Subscribe] {
            match h.add_candidate(pc, line) {
                Ok(()) | Err(SfuError::BadSdp(_)) => {}
                Err(e) => panic!("unexpected error for a candidate: {e:?}"),
            }
        }
    }
    assert!(h.peer_alive(), "client text never takes the peer down");
}
