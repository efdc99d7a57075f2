//! The property the `sfu_datagram` fuzz target and `sfu/tests/fuzz_regressions.rs` both check:
//! arbitrary datagrams on the media socket (STUN, DTLS, RTP lookalikes) from many sources never
//! panic the demux or the connection, and never record a source address (only a STUN request
//! signed with the connection's ICE password may, and the fuzzer does not know it).

use std::net::SocketAddr;

use mm_sfu::sdp_harness::SdpHarness;

/// Splits `data` into datagrams (2-byte big-endian length, then bytes) and feeds each from a
/// source chosen by its index.
pub fn check(data: &[u8]) {
    let mut h = SdpHarness::new();
    let mut rest = data;
    let mut i: u16 = 0;
    while rest.len() >= 2 && i < 64 {
        let n = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let (dgram, tail) = rest[2..].split_at(n);
        let src = SocketAddr::from(([127, 0, 0, 1 + (i % 4) as u8], 40_000 + i));
        h.datagram(src, dgram);
        rest = tail;
        i += 1;
    }
    assert_eq!(h.routes(), 0, "an unsigned datagram recorded a source");
    assert!(h.peer_alive(), "datagrams never take the peer down");
}
