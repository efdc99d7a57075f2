//! Batched UDP I/O for a worker socket: `recvmmsg` / `sendmmsg` (Linux) on a non-blocking
//! socket with large kernel buffers. Other Unix systems fall back to one datagram per call.

use std::io;
use std::mem;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

use socket2::{Domain, Protocol, Socket, Type};
use str0m::net::DatagramSend;

/// Datagrams per system call.
pub(crate) const BATCH: usize = 32;
/// Receive buffer per datagram; larger datagrams are truncated and dropped.
pub(crate) const MAX_DATAGRAM: usize = 2048;

/// Binds a non-blocking UDP socket with `SO_RCVBUF`/`SO_SNDBUF` of `buffer_bytes`.
/// An IPv6 wildcard bind also accepts IPv4 (v4-mapped).
pub(crate) fn bind(addr: SocketAddr, buffer_bytes: usize) -> io::Result<std::net::UdpSocket> {
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        let _ = s.set_only_v6(false);
    }
    if let Err(e) = s.set_recv_buffer_size(buffer_bytes) {
        tracing::warn!("SO_RCVBUF {buffer_bytes}: {e}");
    }
    if let Err(e) = s.set_send_buffer_size(buffer_bytes) {
        tracing::warn!("SO_SNDBUF {buffer_bytes}: {e}");
    }
    // Linux caps the request at net.core.rmem_max / wmem_max (and reports twice the value).
    let (r, w) = (s.recv_buffer_size()?, s.send_buffer_size()?);
    if r < buffer_bytes || w < buffer_bytes {
        tracing::warn!(
            requested = buffer_bytes,
            rcvbuf = r,
            sndbuf = w,
            "UDP socket buffers capped by the kernel; raise net.core.rmem_max/wmem_max"
        );
    }
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    Ok(s.into())
}

/// Reusable receive buffers for one `recvmmsg` call.
pub(crate) struct RecvBatch {
    bufs: Vec<u8>,
    addrs: Vec<libc::sockaddr_storage>,
    lens: Vec<usize>,
}

impl RecvBatch {
    /// Buffers for [`BATCH`] datagrams, allocated once per worker.
    pub fn new() -> Self {
        RecvBatch {
            bufs: vec![0; BATCH * MAX_DATAGRAM],
            // SAFETY: all-zero is a valid sockaddr_storage.
            addrs: vec![unsafe { mem::zeroed() }; BATCH],
            lens: vec![0; BATCH],
        }
    }

    /// A placeholder that owns no buffers (no allocation): it stands in while the worker
    /// lends its batch out, so reading never allocates.
    pub fn empty() -> Self {
        RecvBatch {
            bufs: Vec::new(),
            addrs: Vec::new(),
            lens: Vec::new(),
        }
    }

    /// Reads up to [`BATCH`] datagrams; `WouldBlock` when none is queued.
    #[cfg(target_os = "linux")]
    pub fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        // SAFETY: zeroed iovec/mmsghdr are valid; every pointer set below points into
        // `self.bufs` / `self.addrs`, which outlive the call and are not aliased meanwhile.
        let mut iovs: [libc::iovec; BATCH] = unsafe { mem::zeroed() };
        let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { mem::zeroed() };
        for i in 0..BATCH {
            iovs[i].iov_base = self.bufs[i * MAX_DATAGRAM..].as_mut_ptr().cast();
            iovs[i].iov_len = MAX_DATAGRAM;
            let h = &mut hdrs[i].msg_hdr;
            h.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_storage).cast();
            h.msg_namelen = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_iov = &mut iovs[i];
            h.msg_iovlen = 1;
        }
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
        let n = n as usize;
        for (i, h) in hdrs.iter().enumerate().take(n) {
            let truncated = h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
            self.lens[i] = if truncated { 0 } else { h.msg_len as usize };
        }
        Ok(n)
    }

    /// Fallback: one datagram per call.
    #[cfg(not(target_os = "linux"))]
    pub fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        let mut len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: buffer and address point into self, sized as declared.
        let n = unsafe {
            libc::recvfrom(
                fd,
                self.bufs.as_mut_ptr().cast(),
                MAX_DATAGRAM,
                0,
                (&mut self.addrs[0] as *mut libc::sockaddr_storage).cast(),
                &mut len,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        self.lens[0] = n as usize;
        Ok(1)
    }

    /// Datagram `i` of the last `recv`: sender and contents (`None` if truncated or of an
    /// unknown address family).
    pub fn get(&self, i: usize) -> Option<(SocketAddr, &[u8])> {
        let len = self.lens[i];
        if len == 0 {
            return None;
        }
        let addr = from_raw(&self.addrs[i])?;
        Some((addr, &self.bufs[i * MAX_DATAGRAM..i * MAX_DATAGRAM + len]))
    }
}

/// Sends up to [`BATCH`] datagrams from `items` in one call; returns how many were sent.
/// `v6_socket`: IPv4 destinations are written as v4-mapped addresses.
#[cfg(target_os = "linux")]
pub(crate) fn send_batch(
    fd: RawFd,
    items: &[(SocketAddr, DatagramSend)],
    v6_socket: bool,
) -> io::Result<usize> {
    let n = items.len().min(BATCH);
    if n == 0 {
        return Ok(0);
    }
    // SAFETY: see recv; the datagram buffers are only read by the kernel.
    let mut addrs: [libc::sockaddr_storage; BATCH] = unsafe { mem::zeroed() };
    let mut iovs: [libc::iovec; BATCH] = unsafe { mem::zeroed() };
    let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { mem::zeroed() };
    for i in 0..n {
        let (dst, data) = &items[i];
        let alen = to_raw(*dst, v6_socket, &mut addrs[i]);
        iovs[i].iov_base = data.as_ptr() as *mut libc::c_void;
        iovs[i].iov_len = data.len();
        let h = &mut hdrs[i].msg_hdr;
        h.msg_name = (&mut addrs[i] as *mut libc::sockaddr_storage).cast();
        h.msg_namelen = alen;
        h.msg_iov = &mut iovs[i];
        h.msg_iovlen = 1;
    }
    let r = unsafe { libc::sendmmsg(fd, hdrs.as_mut_ptr(), n as libc::c_uint, libc::MSG_DONTWAIT) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r as usize)
}

/// Fallback: one datagram per call.
#[cfg(not(target_os = "linux"))]
pub(crate) fn send_batch(
    fd: RawFd,
    items: &[(SocketAddr, DatagramSend)],
    v6_socket: bool,
) -> io::Result<usize> {
    let Some((dst, data)) = items.first() else {
        return Ok(0);
    };
    let mut a: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let alen = to_raw(*dst, v6_socket, &mut a);
    let r = unsafe {
        libc::sendto(
            fd,
            data.as_ptr().cast(),
            data.len(),
            0,
            (&a as *const libc::sockaddr_storage).cast(),
            alen,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(1)
}

/// Maps `::ffff:a.b.c.d` to `a.b.c.d` (what a dual-stack socket reports for IPv4 peers).
pub(crate) fn canonical(a: SocketAddr) -> SocketAddr {
    match a {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), v6.port()),
            None => a,
        },
        v4 => v4,
    }
}

fn from_raw(s: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(s.ss_family) {
        libc::AF_INET => {
            // SAFETY: family says this storage holds a sockaddr_in.
            let a: &libc::sockaddr_in = unsafe { &*(s as *const _ as *const libc::sockaddr_in) };
            let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(a.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: family says this storage holds a sockaddr_in6.
            let a: &libc::sockaddr_in6 = unsafe { &*(s as *const _ as *const libc::sockaddr_in6) };
            let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(a.sin6_port),
                u32::from_be(a.sin6_flowinfo),
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

fn to_raw(a: SocketAddr, v6_socket: bool, out: &mut libc::sockaddr_storage) -> libc::socklen_t {
    let a = match a {
        SocketAddr::V4(v4) if v6_socket => {
            SocketAddr::V6(SocketAddrV6::new(v4.ip().to_ipv6_mapped(), v4.port(), 0, 0))
        }
        other => other,
    };
    match a {
        SocketAddr::V4(v4) => {
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in.
            let s: &mut libc::sockaddr_in =
                unsafe { &mut *(out as *mut _ as *mut libc::sockaddr_in) };
            s.sin_family = libc::AF_INET as libc::sa_family_t;
            s.sin_port = v4.port().to_be();
            s.sin_addr = libc::in_addr {
                s_addr: u32::from(*v4.ip()).to_be(),
            };
            mem::size_of::<libc::sockaddr_in>() as libc::socklen_t
        }
        SocketAddr::V6(v6) => {
            // SAFETY: as above for sockaddr_in6.
            let s: &mut libc::sockaddr_in6 =
                unsafe { &mut *(out as *mut _ as *mut libc::sockaddr_in6) };
            s.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            s.sin6_port = v6.port().to_be();
            s.sin6_flowinfo = v6.flowinfo().to_be();
            s.sin6_addr = libc::in6_addr {
                s6_addr: v6.ip().octets(),
            };
            s.sin6_scope_id = v6.scope_id();
            mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_address_roundtrip() {
        for a in ["127.0.0.1:5000", "[::1]:6000", "[fe80::1%2]:7"] {
            let a: SocketAddr = a.parse().unwrap();
            let mut s: libc::sockaddr_storage = unsafe { mem::zeroed() };
            to_raw(a, false, &mut s);
            assert_eq!(from_raw(&s), Some(a));
        }
        let a: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let mut s: libc::sockaddr_storage = unsafe { mem::zeroed() };
        to_raw(a, true, &mut s);
        let mapped = from_raw(&s).unwrap();
        assert!(mapped.is_ipv6());
        assert_eq!(canonical(mapped), a);
    }
}
