//! The probe every synthetic media unit carries, so a receiver can measure loss, reordering,
//! latency and corruption end to end without any decoder.
//!
//! Layout (big endian), followed by `filler_len` filler bytes:
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `MMP1` |
//! | 8 | sequence number of the unit (audio packet or video frame) on its track |
//! | 8 | send time, µs since the UNIX epoch (sender and receiver share this machine's clock) |
//! | 4 | filler length |
//! | 8 | FNV-1a 64 checksum of the 24 bytes above and the filler |
//!
//! The filler is a pseudo-random stream seeded by the sequence number, so it cannot be mistaken
//! for another unit's and does not compress.

use std::time::{SystemTime, UNIX_EPOCH};

/// Marks the start of a probe.
pub const PROBE_MAGIC: [u8; 4] = *b"MMP1";
/// Size of the probe header without filler.
pub const PROBE_HEADER_LEN: usize = 32;

/// What a probe says about the unit it arrived in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    pub seq: u64,
    pub sent_at_us: u64,
    pub filler_len: u32,
}

/// Why a buffer is not an intact probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error("shorter than a probe header")]
    Truncated,
    #[error("magic bytes missing")]
    BadMagic,
    #[error("filler length does not match the buffer")]
    BadLength,
    #[error("checksum mismatch")]
    BadChecksum,
}

impl Probe {
    /// Appends this probe, with `filler_len` filler bytes, to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&PROBE_MAGIC);
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.sent_at_us.to_be_bytes());
        out.extend_from_slice(&self.filler_len.to_be_bytes());
        let sum_at = out.len();
        out.extend_from_slice(&[0; 8]);
        fill(self.seq, self.filler_len as usize, out);
        let sum = checksum(&out[start..sum_at], &out[sum_at + 8..]);
        out[sum_at..sum_at + 8].copy_from_slice(&sum.to_be_bytes());
    }

    /// The encoded probe as a new buffer.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(PROBE_HEADER_LEN + self.filler_len as usize);
        self.encode_into(&mut out);
        out
    }

    /// Parses and verifies a probe that fills `buf` exactly.
    pub fn decode(buf: &[u8]) -> Result<Probe, ProbeError> {
        if buf.len() < PROBE_HEADER_LEN {
            return Err(ProbeError::Truncated);
        }
        if buf[..4] != PROBE_MAGIC {
            return Err(ProbeError::BadMagic);
        }
        let u64_at = |i: usize| u64::from_be_bytes(buf[i..i + 8].try_into().expect("8 bytes"));
        let filler_len = u32::from_be_bytes(buf[20..24].try_into().expect("4 bytes"));
        if buf.len() - PROBE_HEADER_LEN != filler_len as usize {
            return Err(ProbeError::BadLength);
        }
        if checksum(&buf[..24], &buf[PROBE_HEADER_LEN..]) != u64_at(24) {
            return Err(ProbeError::BadChecksum);
        }
        Ok(Probe {
            seq: u64_at(4),
            sent_at_us: u64_at(12),
            filler_len,
        })
    }

    /// Encoded size of a probe with `filler_len` filler bytes.
    pub fn encoded_len(filler_len: u32) -> usize {
        PROBE_HEADER_LEN + filler_len as usize
    }
}

/// Microseconds since the UNIX epoch: the clock probes are stamped with.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

fn fill(seed: u64, len: usize, out: &mut Vec<u8>) {
    // xorshift64*: cheap, deterministic, never zero-state.
    let mut x = seed ^ 0x9E37_79B9_7F4A_7C15;
    if x == 0 {
        x = 1;
    }
    let mut left = len;
    while left > 0 {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let word = x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        let n = left.min(8);
        out.extend_from_slice(&word[..n]);
        left -= n;
    }
}

fn checksum(head: &[u8], filler: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in head.iter().chain(filler) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(filler_len: u32) -> Probe {
        Probe {
            seq: 0x0102_0304_0506_0708,
            sent_at_us: 1_700_000_000_123_456,
            filler_len,
        }
    }

    #[test]
    fn round_trips_with_and_without_filler() {
        for len in [0, 1, 7, 8, 9, 1000] {
            let p = sample(len);
            let buf = p.encode();
            assert_eq!(buf.len(), Probe::encoded_len(len));
            assert_eq!(Probe::decode(&buf), Ok(p));
        }
    }

    #[test]
    fn detects_a_flipped_bit_anywhere() {
        let buf = sample(200).encode();
        for i in 0..buf.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = buf.clone();
                bad[i] ^= bit;
                assert!(
                    Probe::decode(&bad).is_err(),
                    "flip at byte {i} went unnoticed"
                );
            }
        }
    }

    #[test]
    fn detects_truncation_and_extension() {
        let buf = sample(50).encode();
        assert_eq!(Probe::decode(&buf[..10]), Err(ProbeError::Truncated));
        assert_eq!(
            Probe::decode(&buf[..buf.len() - 1]),
            Err(ProbeError::BadLength)
        );
        let mut longer = buf.clone();
        longer.push(0);
        assert_eq!(Probe::decode(&longer), Err(ProbeError::BadLength));
        let mut other = buf;
        other[0] = b'X';
        assert_eq!(Probe::decode(&other), Err(ProbeError::BadMagic));
    }

    #[test]
    fn filler_differs_between_units() {
        let a = Probe {
            seq: 1,
            ..sample(64)
        }
        .encode();
        let b = Probe {
            seq: 2,
            ..sample(64)
        }
        .encode();
        assert_ne!(a[PROBE_HEADER_LEN..], b[PROBE_HEADER_LEN..]);
    }
}
