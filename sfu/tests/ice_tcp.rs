//! ICE over TCP (RFC 6544, RFC 4571 framing): the SFU announces a passive TCP host candidate
//! below its UDP one; a str0m client with only an active TCP candidate connects (ICE and DTLS
//! over one TCP connection); the SFU closes that connection when the peer leaves, a silent
//! one at the auth deadline, one that breaks the framing at once, and refuses connections from
//! outside `allowed_networks`. All traffic stays on 127.0.0.1.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mm_sfu::{PeerId, RoomId, Sfu, SfuConfig, SfuStats};
use str0m::change::SdpAnswer;
use str0m::media::{Direction, MediaKind};
use str0m::net::{Protocol, Receive, TcpType};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::sync::mpsc;

fn config() -> SfuConfig {
    SfuConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        allowed_networks: vec!["127.0.0.0/8".parse().unwrap()],
        ..Default::default()
    }
}

async fn stats_until(sfu: &Sfu, what: &str, done: impl Fn(&SfuStats) -> bool) -> SfuStats {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let s = sfu.stats().await;
        if done(&s) {
            return s;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}: {s:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until the SFU closes `s` (EOF or reset); panics after `within`.
async fn closed_within(s: &mut TcpStream, within: Duration) {
    s.set_nonblocking(true).unwrap();
    let end = Instant::now() + within;
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
        assert!(Instant::now() < end, "the SFU kept the connection open");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A client `Rtc` whose only candidate is an active TCP one, on one framed TCP stream.
struct TcpClient {
    rtc: Rtc,
    stream: TcpStream,
    local: SocketAddr,
    remote: SocketAddr,
    inbuf: Vec<u8>,
    connected: bool,
    frames_in: usize,
}

impl TcpClient {
    fn connect(sfu_tcp: SocketAddr) -> TcpClient {
        let stream = TcpStream::connect(sfu_tcp).unwrap();
        stream.set_nonblocking(true).unwrap();
        let local = stream.local_addr().unwrap();
        let mut rtc = Rtc::builder()
            .set_crypto_provider(Arc::new(str0m::crypto::from_feature_flags()))
            .clear_codecs()
            .enable_opus(true, false)
            .build(Instant::now());
        let c = Candidate::builder()
            .tcp()
            .host(local)
            .tcptype(TcpType::Active)
            .build()
            .unwrap();
        rtc.add_local_candidate(c);
        TcpClient {
            rtc,
            stream,
            local,
            remote: sfu_tcp,
            inbuf: Vec::new(),
            connected: false,
            frames_in: 0,
        }
    }

    fn drain(&mut self) {
        loop {
            match self.rtc.poll_output().unwrap() {
                Output::Timeout(_) => break,
                Output::Transmit(t) => {
                    assert_eq!(t.proto, Protocol::Tcp, "only TCP was offered");
                    assert_eq!(t.destination, self.remote);
                    let mut framed = (t.contents.len() as u16).to_be_bytes().to_vec();
                    framed.extend_from_slice(&t.contents);
                    self.stream.set_nonblocking(false).unwrap();
                    self.stream.write_all(&framed).unwrap();
                    self.stream.set_nonblocking(true).unwrap();
                }
                Output::Event(e) => {
                    if matches!(e, Event::Connected) {
                        self.connected = true;
                    }
                }
            }
        }
    }

    fn pump(&mut self) {
        let mut buf = [0u8; 8192];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => self.inbuf.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("client read: {e}"),
            }
        }
        while self.inbuf.len() >= 2 {
            let len = usize::from(u16::from_be_bytes([self.inbuf[0], self.inbuf[1]]));
            assert!(len > 0, "the SFU sent an empty frame");
            if self.inbuf.len() < 2 + len {
                break;
            }
            let frame: Vec<u8> = self.inbuf.drain(..2 + len).skip(2).collect();
            self.frames_in += 1;
            let input = Input::Receive(
                Instant::now(),
                Receive {
                    proto: Protocol::Tcp,
                    source: self.remote,
                    destination: self.local,
                    contents: frame.as_slice().try_into().unwrap(),
                },
            );
            if self.rtc.accepts(&input) {
                self.rtc.handle_input(input).unwrap();
            }
            self.drain();
        }
        self.rtc
            .handle_input(Input::Timeout(Instant::now()))
            .unwrap();
        self.drain();
    }
}

/// The candidate lines of an SDP.
fn candidates(sdp: &str) -> Vec<Candidate> {
    sdp.lines()
        .filter_map(|l| l.trim().strip_prefix("a="))
        .filter(|l| l.starts_with("candidate:"))
        .map(|l| Candidate::from_sdp_string(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_connects_over_tcp_and_the_connection_goes_with_its_peer() {
    common::init_tracing();
    let sfu = Sfu::start(config()).await.unwrap();
    let tcp = sfu.tcp_addrs()[0];
    let udp = sfu.local_addrs()[0];
    assert_eq!(tcp.ip(), udp.ip());
    let room = sfu.room(&RoomId::from("ice-tcp"));
    let (tx, _events) = mpsc::channel(64);
    room.join(PeerId(1), tx).await.unwrap();

    let mut client = TcpClient::connect(tcp);
    let mut api = client.rtc.sdp_api();
    api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    let (offer, pending) = api.apply().unwrap();
    let answer = room
        .publish(PeerId(1), offer.to_sdp_string())
        .await
        .unwrap();
    let cands = candidates(&answer);
    let t = cands
        .iter()
        .find(|c| c.proto() == Protocol::Tcp)
        .expect("a TCP candidate");
    let u = cands
        .iter()
        .find(|c| c.proto() == Protocol::Udp)
        .expect("a UDP candidate");
    assert_eq!(t.tcptype(), Some(TcpType::Passive));
    assert_eq!(t.addr(), tcp);
    assert!(t.prio() < u.prio(), "UDP wins when both work");

    client
        .rtc
        .sdp_api()
        .accept_answer(pending, SdpAnswer::from_sdp_string(&answer).unwrap())
        .unwrap();
    client.drain();
    let end = Instant::now() + Duration::from_secs(15);
    while !client.connected {
        assert!(Instant::now() < end, "client did not connect over TCP");
        client.pump();
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(client.frames_in > 0);
    let s = stats_until(&sfu, "tcp counters", |s| s.tcp_frames_out > 0).await;
    assert_eq!(
        (s.tcp_connections, s.tcp_accepted, s.tcp_refused),
        (1, 1, 0)
    );
    assert!(s.tcp_frames_in > 0 && s.packets_in >= s.tcp_frames_in);
    assert_eq!(s.routes, 1, "the TCP address was verified and learnt");

    // The peer leaves: its Rtc goes, and so does its TCP connection.
    room.leave(PeerId(1)).await;
    closed_within(&mut client.stream, Duration::from_secs(5)).await;
    let s = stats_until(&sfu, "connection closed", |s| s.tcp_connections == 0).await;
    assert_eq!(s.tcp_expired, 1);
    sfu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_misframed_connections_are_closed() {
    common::init_tracing();
    let sfu = Sfu::start(config()).await.unwrap();
    let tcp = sfu.tcp_addrs()[0];
    let mut silent = TcpStream::connect(tcp).unwrap();
    let mut zero = TcpStream::connect(tcp).unwrap();
    zero.write_all(&[0, 0, 1, 2]).unwrap();
    let mut big = TcpStream::connect(tcp).unwrap();
    big.write_all(&[0xff, 0xff]).unwrap();
    // Valid framing, but no STUN request that passes a check: dropped, then the deadline.
    let mut junk = TcpStream::connect(tcp).unwrap();
    junk.write_all(&[0, 4, 0x80, 0, 0, 1]).unwrap();
    stats_until(&sfu, "accepted", |s| s.tcp_accepted == 4).await;
    closed_within(&mut zero, Duration::from_secs(1)).await;
    closed_within(&mut big, Duration::from_secs(1)).await;
    let s = stats_until(&sfu, "misframed closed", |s| s.tcp_connections == 2).await;
    assert_eq!(
        s.tcp_expired, 0,
        "the connection tasks closed those themselves"
    );
    let started = Instant::now();
    closed_within(&mut silent, Duration::from_secs(8)).await;
    closed_within(&mut junk, Duration::from_secs(2)).await;
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "not before the deadline"
    );
    let s = stats_until(&sfu, "expired", |s| s.tcp_connections == 0).await;
    assert_eq!(s.tcp_expired, 2);
    assert_eq!(s.tcp_frames_in, 1);
    sfu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_from_outside_allowed_networks_are_refused() {
    common::init_tracing();
    let sfu = Sfu::start(SfuConfig {
        allowed_networks: vec!["10.0.0.0/8".parse().unwrap()],
        ..config()
    })
    .await
    .unwrap();
    let mut s = TcpStream::connect(sfu.tcp_addrs()[0]).unwrap();
    closed_within(&mut s, Duration::from_secs(2)).await;
    let st = stats_until(&sfu, "refused", |s| s.tcp_refused == 1).await;
    assert_eq!((st.tcp_accepted, st.tcp_connections), (0, 0));
    sfu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ice_tcp_can_be_turned_off() {
    let sfu = Sfu::start(SfuConfig {
        ice_tcp: false,
        workers: 2,
        ..config()
    })
    .await
    .unwrap();
    assert!(sfu.tcp_addrs().is_empty());
    let room = sfu.room(&RoomId::from("no-tcp"));
    let (tx, _events) = mpsc::channel(64);
    room.join(PeerId(1), tx).await.unwrap();
    let mut client = common::PcClient::new();
    let mut api = client.rtc.sdp_api();
    api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    let (offer, _pending) = api.apply().unwrap();
    let answer = room
        .publish(PeerId(1), offer.to_sdp_string())
        .await
        .unwrap();
    assert!(
        candidates(&answer)
            .iter()
            .all(|c| c.proto() == Protocol::Udp)
    );
    sfu.shutdown().await;
}
