//! TURN credentials minted per join (TURN REST API, coturn's `use-auth-secret`), checked by a
//! real coturn on loopback: the credential from `joined.ice_servers` allocates a relay, and
//! data sent through it arrives; a tampered credential is refused.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::turn_server::TurnServer;
use common::{TestServer, Timers, backends};
use serde_json::Value;
use tokio::net::UdpSocket;
use webrtc::turn::client::{Client, ClientConfig};
use webrtc::util::Conn;

/// A TURN client on loopback with these credentials; `listen` started.
async fn turn_client(turn: &TurnServer, username: &str, password: &str) -> Client {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let server = format!("127.0.0.1:{}", turn.port);
    let client = Client::new(ClientConfig {
        stun_serv_addr: server.clone(),
        turn_serv_addr: server,
        username: username.to_owned(),
        password: password.to_owned(),
        realm: TurnServer::REALM.to_owned(),
        software: "mini-meeting-test".to_owned(),
        rto_in_ms: 0,
        conn: Arc::new(socket),
        vnet: None,
    })
    .await
    .unwrap();
    client.listen().await.unwrap();
    client
}

/// The TURN entry of a `joined` message: (urls, username, credential).
fn turn_entry(joined: &Value) -> (Vec<String>, String, String) {
    let servers = joined["ice_servers"].as_array().expect("ice_servers");
    let turn = servers
        .iter()
        .find(|s| {
            s["urls"][0]
                .as_str()
                .is_some_and(|u| u.starts_with("turn:"))
        })
        .expect("a TURN entry");
    let urls = turn["urls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().to_owned())
        .collect();
    (
        urls,
        turn["username"].as_str().unwrap().to_owned(),
        turn["credential"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn joined_carries_turn_credentials_that_coturn_accepts() {
    let turn = TurnServer::start("correct-horse-turn-secret").await;
    for backend in backends() {
        let timers = Timers {
            turn: Some((turn.url(), turn.secret.clone())),
            ..Timers::default()
        };
        let s = TestServer::start_with(backend, timers).await;
        let (token, user_id) = s.user("Tess").await;
        let code = s.create_meeting(&token, "Behind a firewall").await;
        let (_c, joined) = s.joined(&token, &code).await;
        let (urls, username, credential) = turn_entry(&joined);
        assert_eq!(urls, [turn.url()]);
        // `<expiry>:<user id>`, a day ahead (the default lifetime).
        let (expiry, who) = username.split_once(':').expect("expiry:user");
        assert_eq!(who, user_id.to_string());
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let expiry: u64 = expiry.parse().unwrap();
        assert!(
            (now + 86_400 - 60..=now + 86_400 + 60).contains(&expiry),
            "expiry {expiry}, now {now}"
        );

        // coturn takes the credential: a relay address, and data through it arrives.
        let client = turn_client(&turn, &username, &credential).await;
        let relay = client.allocate().await.expect("coturn allocates with it");
        let relayed: SocketAddr = relay.local_addr().unwrap();
        assert_eq!(relayed.ip().to_string(), "127.0.0.1");
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let peer_addr = peer.local_addr().unwrap();
        relay
            .send_to(b"through the relay", peer_addr)
            .await
            .unwrap();
        let mut buf = [0u8; 64];
        let (n, from) = tokio::time::timeout(Duration::from_secs(5), peer.recv_from(&mut buf))
            .await
            .expect("relayed data arrives")
            .unwrap();
        assert_eq!(&buf[..n], b"through the relay");
        assert_eq!(from, relayed, "it came from the relay address");
        relay.close().await.unwrap();
        client.close().await.unwrap();

        // The same username with a forged password is refused.
        let forged = turn_client(&turn, &username, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=").await;
        assert!(forged.allocate().await.is_err(), "a forged credential");
        forged.close().await.unwrap();
        s.stop().await;
    }
}

/// Polls until `p` has received `packets` audio packets and `frames` video frames from `from`.
async fn wait_media(p: &mm_bench::Participant, from: mm_bench::wire::ParticipantId) {
    use mm_bench::wire::MediaKind;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let tracks = p.stats().remove(&from).unwrap_or_default();
        let got = |kind: MediaKind, n: u64| {
            tracks.iter().any(|t| {
                t.label.kind == kind
                    && (if kind == MediaKind::Audio {
                        t.packets
                    } else {
                        t.frames
                    }) >= n
                    && t.corrupted == 0
            })
        };
        if got(MediaKind::Audio, 50) && got(MediaKind::Video, 20) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "media from {from:?} does not arrive: {tracks:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A client that may use nothing but its TURN relay (`iceTransportPolicy: "relay"`), with
/// the credential the server minted for it, sends and receives media through coturn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_only_client_exchanges_media_through_coturn() {
    use mm_bench::{JoinOptions, Participant};
    let turn = TurnServer::start("correct-horse-turn-secret").await;
    for backend in backends() {
        let timers = Timers {
            turn: Some((turn.url(), turn.secret.clone())),
            ..Timers::default()
        };
        let s = TestServer::start_with(backend, timers).await;
        let (ta, _) = s.user("Ada").await;
        let (tr, _) = s.user("Relay").await;
        let code = s.create_meeting(&ta, "Through TURN").await;
        let a = Participant::join(JoinOptions::new(&s.base, &ta, &code))
            .await
            .unwrap();

        // What a browser gets from `joined` before it makes its connections.
        let (mut probe, joined) = s.joined(&tr, &code).await;
        let servers: Vec<mm_bench::wire::IceServer> =
            serde_json::from_value(joined["ice_servers"].clone()).unwrap();
        probe.send(serde_json::json!({"type": "leave"})).await;
        assert_eq!(probe.expect_close().await, 1000);

        let mut opts = JoinOptions::new(&s.base, &tr, &code);
        opts.ice_servers = servers;
        opts.relay_only = true;
        let r = Participant::join(opts)
            .await
            .expect("joins through the relay");
        let (ida, idr) = (a.participant_id().unwrap(), r.participant_id().unwrap());
        wait_media(&r, ida).await;
        wait_media(&a, idr).await;
        let types = r.selected_candidate_types().await;
        assert_eq!(
            types,
            (Some("relay".into()), Some("relay".into())),
            "both connections run through the TURN relay"
        );
        a.close().await;
        r.close().await;
        s.stop().await;
    }
}
