//! [`FrameDecoder`]: RFC 4571 framing of ICE-TCP (RFC 6544): every STUN, DTLS, SRTP or SRTCP
//! packet on a TCP connection is preceded by its length as a 2-byte big-endian integer.
//!
//! Pure (no socket): the connection task reads into [`FrameDecoder::buffer`] and takes what is
//! complete with [`FrameDecoder::take`], which hands out every complete frame of the read at
//! once, still framed, as one shared chunk (no copy, one message to the worker per read, not
//! per packet); [`frames`] walks such a chunk. A zero length or one above the limit is a
//! protocol error: the caller closes the connection (there is no way to resynchronise).

use bytes::{Bytes, BytesMut};

/// Bytes of the length prefix.
pub(crate) const PREFIX: usize = 2;

/// Why a stream was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FrameError {
    #[error("zero-length frame")]
    Empty,
    #[error("frame of {0} bytes is over the limit")]
    TooLarge(usize),
}

/// Reassembles RFC 4571 frames from the bytes of one TCP connection.
#[derive(Debug)]
pub(crate) struct FrameDecoder {
    buf: BytesMut,
    /// Bytes at the start of `buf` already checked to be complete frames.
    scanned: usize,
    max_frame: usize,
}

impl FrameDecoder {
    /// A decoder that refuses frames longer than `max_frame` bytes.
    pub fn new(max_frame: usize) -> Self {
        FrameDecoder {
            buf: BytesMut::with_capacity(2 * (PREFIX + max_frame)),
            scanned: 0,
            max_frame,
        }
    }

    /// Where to read into; always has room for at least one whole frame.
    pub fn buffer(&mut self) -> &mut BytesMut {
        self.buf.reserve(PREFIX + self.max_frame);
        &mut self.buf
    }

    /// Appends received bytes (for callers that do not read into [`Self::buffer`]).
    #[cfg(test)]
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Every complete frame received so far, framed, in one chunk (`None`: none complete yet).
    /// An incomplete frame stays buffered for the next read.
    pub fn take(&mut self) -> Result<Option<Bytes>, FrameError> {
        loop {
            let rest = &self.buf[self.scanned..];
            if rest.len() < PREFIX {
                break;
            }
            let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
            if len == 0 {
                return Err(FrameError::Empty);
            }
            if len > self.max_frame {
                return Err(FrameError::TooLarge(len));
            }
            if rest.len() < PREFIX + len {
                break;
            }
            self.scanned += PREFIX + len;
        }
        if self.scanned == 0 {
            return Ok(None);
        }
        let chunk = self.buf.split_to(self.scanned).freeze();
        self.scanned = 0;
        Ok(Some(chunk))
    }
}

/// The payloads of a chunk from [`FrameDecoder::take`] (a malformed tail ends the walk).
pub(crate) fn frames(mut chunk: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        if chunk.len() < PREFIX {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([chunk[0], chunk[1]]));
        let frame = chunk.get(PREFIX..PREFIX + len)?;
        chunk = &chunk[PREFIX + len..];
        Some(frame)
    })
}

/// The length prefix of a payload; `None` when it cannot be framed (empty or over 65535).
pub(crate) fn prefix(payload: &[u8]) -> Option<[u8; PREFIX]> {
    let len = u16::try_from(payload.len()).ok().filter(|l| *l > 0)?;
    Some(len.to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(payloads: &[&[u8]]) -> Vec<u8> {
        let mut v = Vec::new();
        for p in payloads {
            v.extend_from_slice(&prefix(p).unwrap());
            v.extend_from_slice(p);
        }
        v
    }

    fn take_all(d: &mut FrameDecoder) -> Vec<Vec<u8>> {
        match d.take().unwrap() {
            Some(c) => frames(&c).map(<[u8]>::to_vec).collect(),
            None => Vec::new(),
        }
    }

    #[test]
    fn several_frames_in_one_read() {
        let mut d = FrameDecoder::new(1500);
        d.push(&framed(&[b"abc", b"d", &[7; 1500]]));
        let got = take_all(&mut d);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], b"abc");
        assert_eq!(got[1], b"d");
        assert_eq!(got[2], vec![7; 1500]);
        assert_eq!(d.take(), Ok(None), "nothing left");
    }

    #[test]
    fn frame_split_across_reads_and_partial_prefix() {
        let bytes = framed(&[b"hello", b"world!"]);
        // Every split point, including inside a length prefix.
        for cut in 0..=bytes.len() {
            let mut d = FrameDecoder::new(1500);
            d.push(&bytes[..cut]);
            let mut got = take_all(&mut d);
            d.push(&bytes[cut..]);
            got.extend(take_all(&mut d));
            assert_eq!(
                got,
                vec![b"hello".to_vec(), b"world!".to_vec()],
                "cut {cut}"
            );
        }
    }

    #[test]
    fn byte_by_byte() {
        let bytes = framed(&[b"x", b"yz", b"0123456789"]);
        let mut d = FrameDecoder::new(16);
        let mut got = Vec::new();
        for b in &bytes {
            d.buffer().extend_from_slice(&[*b]);
            got.extend(take_all(&mut d));
        }
        assert_eq!(
            got,
            vec![b"x".to_vec(), b"yz".to_vec(), b"0123456789".to_vec()]
        );
    }

    #[test]
    fn complete_frames_before_a_partial_one_are_handed_out() {
        let mut bytes = framed(&[b"one"]);
        bytes.extend_from_slice(&[0, 10, 1, 2]);
        let mut d = FrameDecoder::new(100);
        d.push(&bytes);
        assert_eq!(take_all(&mut d), vec![b"one".to_vec()]);
        d.push(&[3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(take_all(&mut d), vec![(1..=10).collect::<Vec<u8>>()]);
    }

    #[test]
    fn zero_and_oversized_lengths_are_refused() {
        let mut d = FrameDecoder::new(100);
        d.push(&[0, 0, 1]);
        assert_eq!(d.take(), Err(FrameError::Empty));
        let mut d = FrameDecoder::new(100);
        d.push(&framed(&[b"ok"]));
        d.push(&[0, 101]);
        assert_eq!(d.take(), Err(FrameError::TooLarge(101)));
        // At the limit is fine.
        let mut d = FrameDecoder::new(100);
        d.push(&framed(&[&[1; 100]]));
        assert_eq!(take_all(&mut d).len(), 1);
    }

    #[test]
    fn prefix_limits() {
        assert_eq!(prefix(&[]), None);
        assert_eq!(prefix(&[0; 300]), Some([1, 44]));
        assert_eq!(prefix(&vec![0; 65535]), Some([255, 255]));
        assert_eq!(prefix(&vec![0; 65536]), None);
    }

    #[test]
    fn buffer_has_room_for_a_frame() {
        let mut d = FrameDecoder::new(1500);
        let b = d.buffer();
        assert!(b.capacity() - b.len() >= PREFIX + 1500);
    }
}
