//! Unit tests of the relay over loopback sockets: routing, seeded drops, and its counters.

use super::*;
use crate::batch_socket::bind;
use std::net::{Ipv4Addr, UdpSocket};
use std::time::{Duration, Instant};

fn v4(s: &str) -> SocketAddrV4 {
    s.parse().unwrap()
}

fn local(s: &UdpSocket) -> SocketAddrV4 {
    match s.local_addr().unwrap() {
        std::net::SocketAddr::V4(a) => a,
        a => panic!("{a}"),
    }
}

/// Waits (bounded) until `cond` holds on the relay's counters.
fn wait_counts(relay: &LossyRelay, cond: impl Fn(&RelayCounts) -> bool) -> RelayCounts {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let c = relay.counts();
        if cond(&c) || Instant::now() > deadline {
            return c;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// Two participants behind an allotting relay reach one server socket as two distinct
/// peers, and each gets its own answers back, from the relay's front address.
#[test]
fn allotting_relay_gives_each_participant_its_own_address() {
    let rt = runtime();
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    server
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let routing = Routing::Allot {
        server: local(&server),
        net: 65,
    };
    let relay = LossyRelay::start(
        rt.handle(),
        bind(v4("127.0.0.2:0")).unwrap(),
        bind(v4("0.0.0.0:0")).unwrap(),
        routing,
        0.0,
        1,
    )
    .unwrap();
    let front = relay.front_addr();
    let (a, b) = (
        UdpSocket::bind("127.0.0.1:0").unwrap(),
        UdpSocket::bind("127.0.0.1:0").unwrap(),
    );
    for c in [&a, &b] {
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    }
    a.send_to(b"from a", front).unwrap();
    let mut buf = [0u8; 64];
    let (n, peer_a) = server.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"from a");
    b.send_to(b"from b", front).unwrap();
    let (n, peer_b) = server.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"from b");
    assert_ne!(peer_a, peer_b, "the server must see two peers");
    assert_eq!(
        peer_a.ip(),
        std::net::IpAddr::V4(Ipv4Addr::new(127, 65, 0, 1))
    );

    server.send_to(b"to b", peer_b).unwrap();
    server.send_to(b"to a", peer_a).unwrap();
    let (n, from) = a.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"to a"[..], front.into()));
    let (n, from) = b.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"to b"[..], front.into()));
    let c = wait_counts(&relay, |c| c.to_client_forwarded == 2);
    assert_eq!((c.to_server_forwarded, c.to_client_forwarded), (2, 2));
    assert_eq!(c.dropped() + c.unroutable + c.send_errors, 0);
}

/// Pairs registered up front are relayed; anything else is counted as unroutable.
#[test]
fn registered_relay_forwards_only_known_pairs() {
    let rt = runtime();
    let relay = LossyRelay::start(
        rt.handle(),
        bind(v4("127.0.0.1:0")).unwrap(),
        bind(v4("127.0.0.1:0")).unwrap(),
        Routing::Registered,
        0.0,
        1,
    )
    .unwrap();
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
    for s in [&server, &client] {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    }
    relay.add_route(local(&client), local(&server));
    stranger.send_to(b"nobody", relay.front_addr()).unwrap();
    client.send_to(b"hello", relay.front_addr()).unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = server.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"hello"[..], relay.back_addr().into()));
    server.send_to(b"welcome", relay.back_addr()).unwrap();
    let (n, from) = client.recv_from(&mut buf).unwrap();
    assert_eq!(
        (&buf[..n], from),
        (&b"welcome"[..], relay.front_addr().into())
    );
    let c = wait_counts(&relay, |c| c.unroutable == 1 && c.to_client_forwarded == 1);
    assert_eq!((c.unroutable, c.to_server_forwarded), (1, 1));
}

/// A stream through a 10 % relay to an echo server: each direction drops about 10 % and
/// forwards the rest, and every datagram is accounted for (forwarded + dropped = sent, as
/// none were lost in the relay's own buffers).
#[test]
fn lossy_relay_drops_the_set_share_and_counts_every_datagram() {
    let rt = runtime();
    // Large buffers at both ends too, so that only the relay could lose anything.
    let blocking = |a: &str| {
        let s = bind(v4(a)).unwrap();
        s.set_nonblocking(false).unwrap();
        s
    };
    let server = blocking("127.0.0.1:0");
    let relay = LossyRelay::start(
        rt.handle(),
        bind(v4("127.0.0.2:0")).unwrap(),
        bind(v4("0.0.0.0:0")).unwrap(),
        Routing::Allot {
            server: local(&server),
            net: 66,
        },
        10.0,
        7,
    )
    .unwrap();
    let client = blocking("127.0.0.1:0");
    for s in [&server, &client] {
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
    }
    // Both ends read while the stream flows, so their socket buffers never fill.
    let echo = std::thread::spawn(move || {
        let (mut buf, mut n) = ([0u8; 64], 0u64);
        while let Ok((len, from)) = server.recv_from(&mut buf) {
            server.send_to(&buf[..len], from).unwrap();
            n += 1;
        }
        n
    });
    let rx = client.try_clone().unwrap();
    let back = std::thread::spawn(move || {
        let (mut buf, mut n) = ([0u8; 64], 0u64);
        while rx.recv_from(&mut buf).is_ok() {
            n += 1;
        }
        n
    });
    const N: u64 = 10_000;
    for i in 0..N {
        client
            .send_to(&i.to_be_bytes(), relay.front_addr())
            .unwrap();
        if i % 20 == 19 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let (echoed, back) = (echo.join().unwrap(), back.join().unwrap());
    let c = relay.counts();
    assert_eq!(c.kernel_drops, 0, "the relay kept up: {c:?}");
    assert_eq!(c.to_server_forwarded + c.to_server_dropped, N, "{c:?}");
    assert_eq!(echoed, c.to_server_forwarded, "{c:?}");
    assert_eq!(c.to_client_forwarded + c.to_client_dropped, echoed, "{c:?}");
    assert_eq!(back, c.to_client_forwarded, "{c:?}");
    // 10k draws at 10 %: the share's standard deviation is 0.3 points; ±1.5 is 5 of them
    // (and the seed is fixed, so the outcome does not vary between runs).
    for share in [c.to_server_loss_pct(), c.to_client_loss_pct()] {
        let s = share.unwrap();
        assert!((8.5..=11.5).contains(&s), "{s} % dropped: {c:?}");
    }
    assert_eq!(c.unroutable + c.send_errors, 0);
}

#[test]
fn counts_diff_and_sum() {
    let a = RelayCounts {
        to_server_forwarded: 90,
        to_server_dropped: 10,
        to_client_forwarded: 190,
        to_client_dropped: 10,
        ..Default::default()
    };
    assert_eq!(a.loss_pct(), Some(20.0 * 100.0 / 300.0));
    assert_eq!(a.to_server_loss_pct(), Some(10.0));
    assert_eq!(a.to_client_loss_pct(), Some(5.0));
    let mut b = a;
    b.add(&a);
    assert_eq!(b.since(&a), a);
    assert_eq!(RelayCounts::default().loss_pct(), None);
}
