//! Finding 11: forged STUN binding requests (a valid ufrag, which is public, but a wrong
//! MESSAGE-INTEGRITY) from thousands of source addresses record nothing in the SFU's routing
//! table; correctly signed ones are recorded up to a per-connection cap; a real peer still
//! connects; everything goes when the peer leaves. All traffic stays on 127.0.0.0/8.

mod common;

use std::collections::HashSet;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use mm_sfu::{PeerId, RoomId, Sfu, SfuConfig, SfuStats};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use str0m::change::SdpAnswer;
use str0m::ice::{StunMessage, TransId};
use str0m::media::{Direction, MediaKind};
use tokio::sync::mpsc;

/// The per-connection address cap documented in docs/security.md.
const MAX_ADDRS_PER_CONN: u64 = 8;
const FORGED: usize = 3000;

fn sha1_hmac(key: &[u8], payloads: &[&[u8]]) -> [u8; 20] {
    let key = PKey::hmac(key).unwrap();
    let mut s = Signer::new(MessageDigest::sha1(), &key).unwrap();
    for p in payloads {
        s.update(p).unwrap();
    }
    s.sign_to_vec().unwrap().try_into().unwrap()
}

/// A binding request as a controlling ICE agent sends it, signed with `password`.
fn binding_request(username: &str, password: &str) -> Vec<u8> {
    let msg = StunMessage::binding_request(username, TransId::new(), true, 42, 1_000_000, true);
    let mut buf = vec![0u8; 512];
    let n = msg
        .to_bytes(Some(password.as_bytes()), &mut buf, sha1_hmac)
        .unwrap();
    buf.truncate(n);
    buf
}

fn sdp_attr<'a>(sdp: &'a str, name: &str) -> &'a str {
    sdp.lines()
        .find_map(|l| l.trim().strip_prefix(name))
        .unwrap_or_else(|| panic!("{name} in {sdp}"))
        .trim()
}

/// Polls the SFU's stats until `done` holds; panics after 10 s.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_binding_requests_do_not_grow_the_routing_table() {
    common::init_tracing();
    let sfu = Sfu::start(SfuConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        public_ips: vec!["127.0.0.1".parse().unwrap()],
        allowed_networks: vec!["127.0.0.0/8".parse().unwrap()],
        workers: 1,
        ..Default::default()
    })
    .await
    .unwrap();
    let target = sfu.local_addrs()[0];
    let room = sfu.room(&RoomId::from("stun-forgery"));
    let (tx, _events) = mpsc::channel(64);
    room.join(PeerId(1), tx).await.unwrap();

    // A real client offers; the SFU's answer carries the ufrag an attacker can learn.
    let mut client = common::PcClient::new();
    let mut api = client.rtc.sdp_api();
    api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    let (offer, pending) = api.apply().unwrap();
    let offer_sdp = offer.to_sdp_string();
    let answer = room.publish(PeerId(1), offer_sdp.clone()).await.unwrap();
    let username = format!(
        "{}:{}",
        sdp_attr(&answer, "a=ice-ufrag:"),
        sdp_attr(&offer_sdp, "a=ice-ufrag:")
    );
    let password = sdp_attr(&answer, "a=ice-pwd:").to_owned();

    // Forged: right USERNAME, integrity under a guessed password, from many sources.
    let mut sources = HashSet::new();
    for batch in 0..FORGED / 100 {
        let mut socks = Vec::new();
        for i in 0..100 {
            // One address per source, so each is new to the SFU.
            let ip = [127, 1, batch as u8, i as u8 + 1];
            let s = UdpSocket::bind(SocketAddr::from((ip, 0))).unwrap();
            s.send_to(
                &binding_request(&username, "not-the-password-000000"),
                target,
            )
            .unwrap();
            sources.insert(s.local_addr().unwrap());
            socks.push(s);
        }
        let want = ((batch + 1) * 100) as u64;
        stats_until(&sfu, "forged requests rejected", |s| {
            s.stun_rejected >= want
        })
        .await;
    }
    assert_eq!(sources.len(), FORGED, "distinct source addresses");
    let s = sfu.stats().await;
    assert_eq!(s.stun_rejected, FORGED as u64);
    assert_eq!(s.routes, 0, "no forged source was recorded");
    assert_eq!(s.packets_in, 0, "nothing forged reached a connection");

    // Correctly signed requests are recorded, up to the per-connection cap.
    let signed: Vec<UdpSocket> = (0..20)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    for (i, s) in signed.iter().enumerate() {
        s.send_to(&binding_request(&username, &password), target)
            .unwrap();
        let want = i as u64 + 1;
        let st = stats_until(&sfu, "signed request accepted", |s| s.packets_in >= want).await;
        assert_eq!(st.routes, want.min(MAX_ADDRS_PER_CONN));
    }
    assert_eq!(sfu.stats().await.stun_rejected, FORGED as u64);

    // The real client still connects (its address is learnt, evicting the oldest one).
    let answer = SdpAnswer::from_sdp_string(&answer).unwrap();
    client.rtc.sdp_api().accept_answer(pending, answer).unwrap();
    client.drain();
    let end = Instant::now() + Duration::from_secs(15);
    while !client.connected {
        assert!(Instant::now() < end, "real client did not connect");
        client.pump();
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(sfu.stats().await.routes, MAX_ADDRS_PER_CONN);

    // The table's entries go with their peer.
    room.leave(PeerId(1)).await;
    let s = sfu.stats().await;
    assert_eq!((s.peers, s.routes), (0, 0));
    sfu.shutdown().await;
}
