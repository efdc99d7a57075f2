//! The floor: the work no forwarder can avoid for one incoming packet fanned out to N
//! subscribers on this machine. SRTP (AEAD_AES_256_GCM, what str0m negotiates here) decrypt
//! once, then per subscriber an SRTP encrypt into its own buffer and a batched UDP send
//! (`sendmmsg`, 32 datagrams per call, as the SFU's worker sends) to a loopback socket.
//! Nothing else: no routing, no RTCP, no NACK store, no str0m. Compare with `forward` (our
//! path without the network) and with the bench tool's whole-process CPU per packet.
//!
//! `cargo bench -p mm-sfu --bench floor`

use std::net::UdpSocket;
use std::os::fd::AsRawFd;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use openssl::cipher::Cipher;
use openssl::cipher_ctx::CipherCtx;

const HEADER: usize = 12;
const PAYLOAD: usize = 1100;
const TAG: usize = 16;
const BATCH: usize = 32;

/// One SRTP context: a key schedule set up once, a fresh IV per packet (as SRTP's is derived
/// from the SSRC and packet index).
struct Srtp {
    ctx: CipherCtx,
}

impl Srtp {
    fn new(key: &[u8; 32]) -> Self {
        let mut ctx = CipherCtx::new().unwrap();
        ctx.encrypt_init(Some(Cipher::aes_256_gcm()), Some(key), None)
            .unwrap();
        Self { ctx }
    }

    fn decrypt_init(key: &[u8; 32]) -> Self {
        let mut ctx = CipherCtx::new().unwrap();
        ctx.decrypt_init(Some(Cipher::aes_256_gcm()), Some(key), None)
            .unwrap();
        Self { ctx }
    }

    /// header || ciphertext || tag, into `out`.
    fn protect(&mut self, iv: &[u8; 12], header: &[u8], payload: &[u8], out: &mut [u8]) -> usize {
        self.ctx.encrypt_init(None, None, Some(iv)).unwrap();
        self.ctx.cipher_update(header, None).unwrap();
        out[..HEADER].copy_from_slice(header);
        let n = self
            .ctx
            .cipher_update(payload, Some(&mut out[HEADER..]))
            .unwrap();
        self.ctx.cipher_final(&mut out[HEADER + n..]).unwrap();
        self.ctx
            .tag(&mut out[HEADER + n..HEADER + n + TAG])
            .unwrap();
        HEADER + n + TAG
    }

    fn unprotect(&mut self, iv: &[u8; 12], packet: &[u8], out: &mut [u8]) -> usize {
        let (header, rest) = packet.split_at(HEADER);
        let (cipher, tag) = rest.split_at(rest.len() - TAG);
        self.ctx.decrypt_init(None, None, Some(iv)).unwrap();
        self.ctx.set_tag(tag).unwrap();
        self.ctx.cipher_update(header, None).unwrap();
        let n = self.ctx.cipher_update(cipher, Some(out)).unwrap();
        self.ctx.cipher_final(&mut out[n..]).expect("tag verifies");
        n
    }
}

/// Sends `bufs[..count]` to `dest` with as few `sendmmsg` calls as batches.
fn send_batched(fd: i32, dest: &libc::sockaddr_in, bufs: &[Vec<u8>], lens: &[usize]) {
    for (chunk, chunk_lens) in bufs.chunks(BATCH).zip(lens.chunks(BATCH)) {
        // SAFETY: every pointer refers to live buffers of the stated length for the call.
        let mut iovs: Vec<libc::iovec> = chunk
            .iter()
            .zip(chunk_lens)
            .map(|(b, l)| libc::iovec {
                iov_base: b.as_ptr() as *mut _,
                iov_len: *l,
            })
            .collect();
        let mut hdrs: Vec<libc::mmsghdr> = iovs
            .iter_mut()
            .map(|iov| {
                let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
                h.msg_hdr.msg_name = dest as *const _ as *mut _;
                h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
                h.msg_hdr.msg_iov = iov;
                h.msg_hdr.msg_iovlen = 1;
                h
            })
            .collect();
        unsafe { libc::sendmmsg(fd, hdrs.as_mut_ptr(), hdrs.len() as u32, 0) };
    }
}

fn floor(c: &mut Criterion) {
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    // The sink never reads: the kernel still does the send work; a full queue drops.
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sink_addr = sink.local_addr().unwrap();
    let dest = libc::sockaddr_in {
        sin_family: libc::AF_INET as u16,
        sin_port: sink_addr.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes([127, 0, 0, 1]),
        },
        sin_zero: [0; 8],
    };

    let header = [0x80u8, 96, 0, 1, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef];
    let payload = vec![0x5au8; PAYLOAD];
    let iv = [7u8; 12];
    let ingress_key = [1u8; 32];
    let mut incoming = vec![0u8; HEADER + PAYLOAD + TAG];
    Srtp::new(&ingress_key).protect(&iv, &header, &payload, &mut incoming);
    let mut ingress = Srtp::decrypt_init(&ingress_key);
    let mut plain = vec![0u8; PAYLOAD + 32];

    for send in [true, false] {
        // Without the send: the crypto alone, to set beside `forward`, which has no network.
        let mut g = c.benchmark_group(if send {
            "floor_packet"
        } else {
            "floor_crypto_only"
        });
        g.sample_size(30);
        for n in [1usize, 10, 50, 200] {
            let mut egress: Vec<Srtp> = (0..n).map(|i| Srtp::new(&[i as u8 + 2; 32])).collect();
            let mut bufs: Vec<Vec<u8>> =
                (0..n).map(|_| vec![0u8; HEADER + PAYLOAD + TAG]).collect();
            let mut lens = vec![0usize; n];
            // Throughput in forwarded packets (one per subscriber).
            g.throughput(Throughput::Elements(n as u64));
            g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                b.iter(|| {
                    let m = ingress.unprotect(&iv, &incoming, &mut plain);
                    for ((srtp, buf), len) in egress.iter_mut().zip(&mut bufs).zip(&mut lens) {
                        *len = srtp.protect(&iv, &header, &plain[..m], buf);
                    }
                    if send {
                        send_batched(sender.as_raw_fd(), &dest, &bufs, &lens);
                    }
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, floor);
criterion_main!(benches);
