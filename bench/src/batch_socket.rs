//! [`BatchSocket`]: a non-blocking IPv4 UDP socket read and written many datagrams per system
//! call (`recvmmsg` / `sendmmsg`), which tells each received datagram's destination address
//! (`IP_PKTINFO`) and can send each datagram from a local address of its own.
//!
//! The lossy relay needs both: its back socket is bound to the wildcard address and talks to our
//! SFU from one loopback address per participant, so that the SFU sees distinct peers through a
//! single socket, and it tells the SFU's answers apart by the address they were sent to.
//! Linux only, like the rest of the bench (`/proc`, network namespaces).

use std::io;
use std::mem;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsRawFd, RawFd};

use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Datagrams per system call.
pub const BATCH: usize = 64;
/// Receive buffer per datagram; longer datagrams are dropped (WebRTC stays under 1,500 bytes).
pub const MAX_DATAGRAM: usize = 2048;
/// Kernel socket buffers requested (root may exceed `net.core.rmem_max`).
pub const SOCKET_BUFFER_BYTES: usize = 8 << 20;
/// Ancillary data per datagram: `IP_PKTINFO` (`CMSG_SPACE(12)` = 32) and `SO_RXQ_OVFL`
/// (`CMSG_SPACE(4)` = 24).
const CONTROL_BYTES: usize = 64;

/// Control-message space, aligned for `cmsghdr`.
#[repr(C, align(8))]
#[derive(Clone, Copy)]
struct Control([u8; CONTROL_BYTES]);

/// One datagram of a [`RecvBatch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// Where it sits in the batch (for [`Outgoing::slot`]).
    pub slot: usize,
    pub len: usize,
    pub from: SocketAddrV4,
    /// The address it was sent to (`IP_PKTINFO`): tells which of our addresses it was for when
    /// the socket is bound to the wildcard address.
    pub to_ip: Option<Ipv4Addr>,
}

/// Reusable buffers for one `recvmmsg` call.
pub struct RecvBatch {
    bufs: Vec<u8>,
    names: Vec<libc::sockaddr_in>,
    controls: Vec<Control>,
    received: Vec<Received>,
    /// Length of the datagram in each slot, for sending it on.
    lens: [usize; BATCH],
    /// Datagrams the kernel dropped because this socket's receive queue was full, counted since
    /// the socket was created (`SO_RXQ_OVFL`; reported with each datagram that follows a drop).
    pub kernel_drops: Option<u32>,
    /// Datagrams longer than [`MAX_DATAGRAM`], dropped.
    pub truncated: u64,
}

impl Default for RecvBatch {
    fn default() -> Self {
        RecvBatch {
            bufs: vec![0; BATCH * MAX_DATAGRAM],
            // SAFETY: all-zero bytes are a valid sockaddr_in.
            names: vec![unsafe { mem::zeroed() }; BATCH],
            controls: vec![Control([0; CONTROL_BYTES]); BATCH],
            received: Vec::with_capacity(BATCH),
            lens: [0; BATCH],
            kernel_drops: None,
            truncated: 0,
        }
    }
}

impl RecvBatch {
    /// The datagrams of the last read.
    pub fn received(&self) -> &[Received] {
        &self.received
    }

    /// The bytes of one datagram.
    pub fn payload(&self, d: &Received) -> &[u8] {
        &self.bufs[d.slot * MAX_DATAGRAM..d.slot * MAX_DATAGRAM + d.len]
    }

    fn recv_now(&mut self, fd: RawFd) -> io::Result<usize> {
        // SAFETY: zeroed iovec/mmsghdr are valid; every pointer set below points into
        // `self.bufs` / `self.names` / `self.controls` or into `iovs`, all of which outlive the
        // call and are not otherwise touched while the kernel writes them.
        let mut iovs: [libc::iovec; BATCH] = unsafe { mem::zeroed() };
        let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { mem::zeroed() };
        for i in 0..BATCH {
            iovs[i].iov_base = self.bufs[i * MAX_DATAGRAM..].as_mut_ptr().cast();
            iovs[i].iov_len = MAX_DATAGRAM;
            let h = &mut hdrs[i].msg_hdr;
            h.msg_name = (&mut self.names[i] as *mut libc::sockaddr_in).cast();
            h.msg_namelen = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            h.msg_iov = &mut iovs[i];
            h.msg_iovlen = 1;
            h.msg_control = self.controls[i].0.as_mut_ptr().cast();
            h.msg_controllen = CONTROL_BYTES as _;
        }
        // SAFETY: `hdrs` describes BATCH valid buffers (see above).
        let n = unsafe {
            libc::recvmmsg(
                fd,
                hdrs.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        self.received.clear();
        self.lens = [0; BATCH];
        for (slot, h) in hdrs.iter().take(n as usize).enumerate() {
            if h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
                self.truncated += 1;
                continue;
            }
            let name = &self.names[slot];
            if name.sin_family != libc::AF_INET as libc::sa_family_t {
                continue;
            }
            let from = SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(name.sin_addr.s_addr)),
                u16::from_be(name.sin_port),
            );
            let mut to_ip = None;
            // SAFETY: the kernel filled msg_control/msg_controllen for this message; the CMSG_*
            // helpers stay within them, and the data is read unaligned.
            unsafe {
                let mut c = libc::CMSG_FIRSTHDR(&h.msg_hdr);
                while !c.is_null() {
                    let (level, kind) = ((*c).cmsg_level, (*c).cmsg_type);
                    if level == libc::IPPROTO_IP && kind == libc::IP_PKTINFO {
                        let info: libc::in_pktinfo =
                            std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                        to_ip = Some(Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr)));
                    } else if level == libc::SOL_SOCKET && kind == libc::SO_RXQ_OVFL {
                        let drops: u32 = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                        self.kernel_drops = Some(drops);
                    }
                    c = libc::CMSG_NXTHDR(&h.msg_hdr, c);
                }
            }
            self.lens[slot] = h.msg_len as usize;
            self.received.push(Received {
                slot,
                len: h.msg_len as usize,
                from,
                to_ip,
            });
        }
        Ok(self.received.len())
    }
}

/// One datagram of a [`RecvBatch`] to send on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// [`Received::slot`] of the payload.
    pub slot: usize,
    pub to: SocketAddrV4,
    /// Send from this local address (`IP_PKTINFO`) instead of the socket's own.
    pub from_ip: Option<Ipv4Addr>,
}

/// What [`BatchSocket::send`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sent {
    pub sent: u64,
    /// Datagrams the kernel refused (skipped, not retried).
    pub failed: u64,
}

fn sockaddr(a: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: a.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*a.ip()).to_be(),
        },
        sin_zero: [0; 8],
    }
}

fn send_now(fd: RawFd, from: &RecvBatch, plan: &[Outgoing]) -> io::Result<usize> {
    let n = plan.len().min(BATCH);
    // SAFETY: as in `recv_now`; every pointer points into the arrays below or into `from.bufs`,
    // which outlive the call; the kernel only reads them.
    let mut iovs: [libc::iovec; BATCH] = unsafe { mem::zeroed() };
    let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { mem::zeroed() };
    let mut names: [libc::sockaddr_in; BATCH] = unsafe { mem::zeroed() };
    let mut controls = [Control([0; CONTROL_BYTES]); BATCH];
    for (i, o) in plan[..n].iter().enumerate() {
        let len = from.lens.get(o.slot).copied().unwrap_or(0);
        iovs[i].iov_base = from.bufs[o.slot * MAX_DATAGRAM..].as_ptr() as *mut libc::c_void;
        iovs[i].iov_len = len;
        names[i] = sockaddr(o.to);
        let h = &mut hdrs[i].msg_hdr;
        h.msg_name = (&mut names[i] as *mut libc::sockaddr_in).cast();
        h.msg_namelen = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        h.msg_iov = &mut iovs[i];
        h.msg_iovlen = 1;
        if let Some(ip) = o.from_ip {
            let info_len = mem::size_of::<libc::in_pktinfo>() as libc::c_uint;
            h.msg_control = controls[i].0.as_mut_ptr().cast();
            // SAFETY: CMSG_SPACE/CMSG_LEN are arithmetic; the header and data written below fit
            // in `controls[i]` (CMSG_SPACE(12) = 32 <= CONTROL_BYTES) and are written unaligned.
            unsafe {
                h.msg_controllen = libc::CMSG_SPACE(info_len) as _;
                let c = libc::CMSG_FIRSTHDR(h);
                (*c).cmsg_level = libc::IPPROTO_IP;
                (*c).cmsg_type = libc::IP_PKTINFO;
                (*c).cmsg_len = libc::CMSG_LEN(info_len) as _;
                let info = libc::in_pktinfo {
                    ipi_ifindex: 0,
                    ipi_spec_dst: libc::in_addr {
                        s_addr: u32::from(ip).to_be(),
                    },
                    ipi_addr: libc::in_addr { s_addr: 0 },
                };
                std::ptr::write_unaligned(libc::CMSG_DATA(c).cast(), info);
            }
        }
    }
    // SAFETY: `hdrs[..n]` describe valid buffers (see above).
    let r = unsafe { libc::sendmmsg(fd, hdrs.as_mut_ptr(), n as libc::c_uint, 0) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r as usize)
}

fn set_int(fd: RawFd, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: setsockopt reads one c_int from a valid pointer.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Binds a non-blocking socket with `IP_PKTINFO` and `SO_RXQ_OVFL` on and large buffers
/// (`SO_RCVBUFFORCE` when allowed, else capped by `net.core.rmem_max`).
pub fn bind(addr: SocketAddrV4) -> io::Result<std::net::UdpSocket> {
    let s = std::net::UdpSocket::bind(addr)?;
    s.set_nonblocking(true)?;
    let fd = s.as_raw_fd();
    set_int(fd, libc::IPPROTO_IP, libc::IP_PKTINFO, 1)?;
    let _ = set_int(fd, libc::SOL_SOCKET, libc::SO_RXQ_OVFL, 1);
    let bytes = SOCKET_BUFFER_BYTES as libc::c_int;
    for (force, plain) in [
        (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF),
        (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF),
    ] {
        if set_int(fd, libc::SOL_SOCKET, force, bytes).is_err() {
            let _ = set_int(fd, libc::SOL_SOCKET, plain, bytes);
        }
    }
    Ok(s)
}

/// A socket from [`bind`], registered with the current tokio runtime.
pub struct BatchSocket {
    io: UdpSocket,
}

impl BatchSocket {
    /// Must be called inside the tokio runtime that will drive the socket.
    pub fn from_std(s: std::net::UdpSocket) -> io::Result<Self> {
        Ok(BatchSocket {
            io: UdpSocket::from_std(s)?,
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddrV4> {
        match self.io.local_addr()? {
            std::net::SocketAddr::V4(a) => Ok(a),
            std::net::SocketAddr::V6(a) => Err(io::Error::other(format!("IPv6 socket {a}"))),
        }
    }

    /// Waits for at least one datagram and reads up to [`BATCH`]; returns how many are usable.
    pub async fn recv(&self, batch: &mut RecvBatch) -> io::Result<usize> {
        let fd = self.io.as_raw_fd();
        self.io
            .async_io(Interest::READABLE, || batch.recv_now(fd))
            .await
    }

    /// Sends the planned datagrams of `from`, batched; waits while the socket buffer is full.
    /// A datagram the kernel refuses is counted and skipped.
    pub async fn send(&self, from: &RecvBatch, plan: &[Outgoing]) -> Sent {
        let fd = self.io.as_raw_fd();
        let mut done = Sent::default();
        let mut at = 0;
        while at < plan.len() {
            let rest = &plan[at..];
            match self
                .io
                .async_io(Interest::WRITABLE, || send_now(fd, from, rest))
                .await
            {
                Ok(n) => {
                    done.sent += n as u64;
                    at += n.max(1);
                }
                Err(_) => {
                    done.failed += 1;
                    at += 1;
                }
            }
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> SocketAddrV4 {
        s.parse().unwrap()
    }

    /// A wildcard socket sends to a server from two loopback addresses of its choosing; the
    /// server sees two distinct peers and answers each; the answers come back through the
    /// one wildcard socket, each marked with the address it was sent to.
    #[tokio::test(flavor = "current_thread")]
    async fn sends_from_chosen_addresses_and_tells_where_answers_were_sent() {
        let wild = BatchSocket::from_std(bind(v4("0.0.0.0:0")).unwrap()).unwrap();
        let wild_port = wild.local_addr().unwrap().port();
        let server = BatchSocket::from_std(bind(v4("127.0.0.1:0")).unwrap()).unwrap();
        let server_addr = server.local_addr().unwrap();

        // Two payloads arrive at the wildcard socket (from a plain client).
        let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        client
            .send_to(b"first", (Ipv4Addr::LOCALHOST, wild_port))
            .unwrap();
        client
            .send_to(b"second", (Ipv4Addr::LOCALHOST, wild_port))
            .unwrap();
        let mut at_wild = RecvBatch::default();
        assert_eq!(
            wild.recv(&mut at_wild).await.unwrap(),
            2,
            "both in one batch"
        );
        for d in at_wild.received() {
            assert_eq!(d.to_ip, Some(Ipv4Addr::LOCALHOST));
        }

        // Forward them to the server, each from its own address.
        let (a, b) = (Ipv4Addr::new(127, 9, 0, 1), Ipv4Addr::new(127, 9, 0, 2));
        let r = at_wild.received().to_vec();
        let plan = [
            Outgoing {
                slot: r[0].slot,
                to: server_addr,
                from_ip: Some(a),
            },
            Outgoing {
                slot: r[1].slot,
                to: server_addr,
                from_ip: Some(b),
            },
        ];
        assert_eq!(
            wild.send(&at_wild, &plan).await,
            Sent { sent: 2, failed: 0 }
        );

        // Loopback delivers within sendmmsg: both are queued at the server by now.
        let mut at_server = RecvBatch::default();
        assert_eq!(server.recv(&mut at_server).await.unwrap(), 2);
        let mut seen: Vec<_> = at_server
            .received()
            .iter()
            .map(|d| (d.from, at_server.payload(d).to_vec()))
            .collect();
        seen.sort();
        assert_eq!(
            seen,
            vec![
                (SocketAddrV4::new(a, wild_port), b"first".to_vec()),
                (SocketAddrV4::new(b, wild_port), b"second".to_vec()),
            ]
        );

        // The server answers each peer; the wildcard socket learns which address each was for.
        let replies: Vec<Outgoing> = at_server
            .received()
            .iter()
            .map(|d| Outgoing {
                slot: d.slot,
                to: d.from,
                from_ip: None,
            })
            .collect();
        assert_eq!(server.send(&at_server, &replies).await.sent, 2);
        assert_eq!(wild.recv(&mut at_wild).await.unwrap(), 2);
        let mut echoed: Vec<_> = at_wild
            .received()
            .iter()
            .map(|d| (d.from, d.to_ip, at_wild.payload(d).to_vec()))
            .collect();
        echoed.sort();
        assert_eq!(
            echoed,
            vec![
                (server_addr, Some(a), b"first".to_vec()),
                (server_addr, Some(b), b"second".to_vec()),
            ]
        );
    }
}
