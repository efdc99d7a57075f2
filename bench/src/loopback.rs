//! WebRTC endpoints that only ever touch loopback (see
//! `/work/shared/notes/webrtc-testing-on-this-machine.md`): host candidates on `lo` only, UDP4,
//! no mDNS, no STUN/TURN, and remote candidates outside 127.0.0.0/8 stripped from remote SDP.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use webrtc::api::interceptor_registry::register_default_interceptors;
use webrtc::api::media_engine::MediaEngine;
use webrtc::api::setting_engine::SettingEngine;
use webrtc::api::{API, APIBuilder};
use webrtc::dtls_transport::dtls_role::DTLSRole;
use webrtc::ice::mdns::MulticastDnsMode;
use webrtc::ice::network_type::NetworkType;
use webrtc::ice_transport::ice_server::RTCIceServer;
use webrtc::interceptor::registry::Registry;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;
use webrtc::peer_connection::policy::ice_transport_policy::RTCIceTransportPolicy;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::rtp_transceiver::rtp_codec::{RTCRtpHeaderExtensionCapability, RTPCodecType};

use crate::error::{BenchError, Result};

/// A webrtc-rs API (default codecs and interceptors: NACK, RTCP reports, TWCC) that gathers only
/// loopback UDP4 host candidates. Cheap to share across many peer connections.
pub fn loopback_api() -> Result<API> {
    build_api(
        Box::new(|name: &str| name == "lo"),
        |ip| ip.is_loopback() && ip.is_ipv4(),
        None,
    )
}

/// Like [`loopback_api`], for a publish connection: it negotiates the audio-level header
/// extension (RFC 6464, as browsers send it), and with `simulcast` the mid and RID extensions
/// its layers' packets carry (RFC 8852). Only for sending: with mid and RID on a receiving
/// connection, webrtc-rs ended subscribed tracks under renegotiation.
pub fn loopback_publish_api(simulcast: bool) -> Result<API> {
    build_api(
        Box::new(|name: &str| name == "lo"),
        |ip| ip.is_loopback() && ip.is_ipv4(),
        Some(simulcast),
    )
}

/// Like [`loopback_api`], but gathering only on the interface that holds `ip` (e.g. the
/// `10.99.0.1` end of a veth pair to a network namespace; see `docs/benchmarks.md`).
pub fn api_on_ip(ip: Ipv4Addr) -> Result<API> {
    if ip.is_loopback() {
        return loopback_api();
    }
    build_api(Box::new(|_: &str| true), move |a| a == IpAddr::V4(ip), None)
}

fn build_api(
    interfaces: Box<dyn Fn(&str) -> bool + Send + Sync>,
    ips: impl Fn(IpAddr) -> bool + Send + Sync + 'static,
    // `Some(simulcast)`: a publish connection's header extensions (see `loopback_publish_api`).
    publish: Option<bool>,
) -> Result<API> {
    let mut media = MediaEngine::default();
    media.register_default_codecs()?;
    let simulcast_extensions = [
        "urn:ietf:params:rtp-hdrext:sdes:mid",
        "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
        "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
    ];
    if publish.is_some() {
        media.register_header_extension(
            RTCRtpHeaderExtensionCapability {
                uri: "urn:ietf:params:rtp-hdrext:ssrc-audio-level".to_owned(),
            },
            RTPCodecType::Audio,
            None,
        )?;
    }
    for uri in simulcast_extensions
        .iter()
        .filter(|_| publish == Some(true))
    {
        media.register_header_extension(
            RTCRtpHeaderExtensionCapability {
                uri: (*uri).to_owned(),
            },
            RTPCodecType::Video,
            None,
        )?;
    }
    let registry = register_default_interceptors(Registry::new(), &mut media)?;
    let mut settings = SettingEngine::default();
    settings.set_include_loopback_candidate(true);
    settings.set_interface_filter(interfaces);
    settings.set_ip_filter(Box::new(ips));
    settings.set_network_types(vec![NetworkType::Udp4]);
    settings.set_ice_multicast_dns_mode(MulticastDnsMode::Disabled);
    // Answering an ICE-lite offer (ours), webrtc-rs would take the DTLS server role, and its
    // DTLS server never resends its last flight when the client repeats its own (RFC 6347
    // 4.2.4): one lost ChangeCipherSpec/Finished then leaves the connection without media
    // for good. As the client, like a browser answering, it retransmits until it completes.
    settings.set_answering_dtls_role(DTLSRole::Client)?;
    Ok(APIBuilder::new()
        .with_media_engine(media)
        .with_interceptor_registry(registry)
        .with_setting_engine(settings)
        .build())
}

/// A peer connection without ICE servers: loopback host candidates are all we use.
pub async fn new_peer_connection(api: &API) -> Result<Arc<RTCPeerConnection>> {
    Ok(Arc::new(
        api.new_peer_connection(RTCConfiguration::default()).await?,
    ))
}

/// A peer connection with these ICE servers; with `relay_only`, it gathers and uses nothing
/// but TURN relay candidates (`iceTransportPolicy: "relay"`), as a client behind a network
/// that lets only its TURN server through.
pub async fn new_peer_connection_via(
    api: &API,
    servers: &[crate::wire::IceServer],
    relay_only: bool,
) -> Result<Arc<RTCPeerConnection>> {
    let config = RTCConfiguration {
        ice_servers: (servers.iter())
            .map(|s| RTCIceServer {
                urls: s.urls.clone(),
                username: s.username.clone().unwrap_or_default(),
                credential: s.credential.clone().unwrap_or_default(),
            })
            .collect(),
        ice_transport_policy: if relay_only {
            RTCIceTransportPolicy::Relay
        } else {
            RTCIceTransportPolicy::All
        },
        ..RTCConfiguration::default()
    };
    Ok(Arc::new(api.new_peer_connection(config).await?))
}

/// Sets the local description, waits until ICE gathering is complete (instant on loopback) and
/// returns the local SDP with every candidate in it, so nothing needs to trickle. Call it right
/// after `create_offer`/`create_answer` (an ICE restart starts gathering in `create_offer`).
pub async fn set_local_and_gather(
    pc: &RTCPeerConnection,
    desc: RTCSessionDescription,
    timeout: Duration,
) -> Result<String> {
    let mut done = pc.gathering_complete_promise().await;
    pc.set_local_description(desc).await?;
    tokio::time::timeout(timeout, done.recv())
        .await
        .map_err(|_| BenchError::Timeout("ICE gathering".into()))?;
    pc.local_description()
        .await
        .map(|d| d.sdp)
        .ok_or_else(|| BenchError::Protocol("no local description".into()))
}

/// Polls until the connection is `Connected` (ICE and DTLS done); fails if it fails or closes.
/// Polling leaves the state-change handler free for the caller.
pub async fn wait_connected(pc: &RTCPeerConnection, timeout: Duration) -> Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match pc.connection_state() {
            RTCPeerConnectionState::Connected => return Ok(()),
            RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
                return Err(BenchError::Protocol(format!(
                    "peer connection {}",
                    pc.connection_state()
                )));
            }
            _ if tokio::time::Instant::now() >= deadline => {
                return Err(BenchError::Timeout("peer connection to connect".into()));
            }
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// Removes `a=candidate` lines whose address is not loopback, so the ICE agent never sends a
/// connectivity check anywhere else, whatever the remote side announces.
pub fn keep_loopback_candidates(sdp: &str) -> String {
    keep_candidates(sdp, |ip| ip.is_loopback())
}

/// Removes `a=candidate` lines whose address does not satisfy `allowed` (or is not an IP).
pub fn keep_candidates(sdp: &str, allowed: impl Fn(IpAddr) -> bool) -> String {
    let mut out = String::with_capacity(sdp.len());
    for line in sdp.split_inclusive('\n') {
        if let Some(rest) = line.trim_end().strip_prefix("a=candidate:") {
            // foundation component transport priority address port typ ...
            let addr = rest.split_whitespace().nth(4);
            let keep = addr
                .and_then(|a| a.parse::<IpAddr>().ok())
                .is_some_and(&allowed);
            if !keep {
                continue;
            }
        }
        out.push_str(line);
    }
    out
}

/// Keeps the UDP `a=candidate` lines whose address satisfies `allowed` and points each of them
/// at `to` instead (address and port), for a relay in the middle; returns the SDP and the
/// distinct addresses the kept candidates had.
pub fn redirect_candidates(
    sdp: &str,
    allowed: impl Fn(IpAddr) -> bool,
    to: SocketAddr,
) -> (String, Vec<SocketAddr>) {
    let mut out = String::with_capacity(sdp.len());
    let mut originals = vec![];
    for line in sdp.split_inclusive('\n') {
        let body = line.trim_end();
        let Some(rest) = body.strip_prefix("a=candidate:") else {
            out.push_str(line);
            continue;
        };
        // foundation component transport priority address port typ ...
        let mut f: Vec<&str> = rest.split_whitespace().collect();
        let addr = f
            .get(4)
            .and_then(|a| a.parse::<IpAddr>().ok())
            .filter(|a| allowed(*a));
        let port = f.get(5).and_then(|p| p.parse::<u16>().ok());
        let udp = f.get(2).is_some_and(|t| t.eq_ignore_ascii_case("udp"));
        let (Some(addr), Some(port), true) = (addr, port, udp) else {
            continue;
        };
        let original = SocketAddr::new(addr, port);
        if !originals.contains(&original) {
            originals.push(original);
        }
        let (ip, port) = (to.ip().to_string(), to.port().to_string());
        f[4] = &ip;
        f[5] = &port;
        out.push_str("a=candidate:");
        out.push_str(&f.join(" "));
        out.push_str(&line[body.len()..]);
    }
    (out, originals)
}

/// Whether a trickled remote candidate (`candidate:...`) points at loopback.
pub fn is_loopback_candidate(candidate: &str) -> bool {
    let rest = candidate
        .trim()
        .trim_start_matches("a=")
        .trim_start_matches("candidate:");
    rest.split_whitespace()
        .nth(4)
        .and_then(|a| a.parse::<IpAddr>().ok())
        .is_some_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_non_loopback_candidates_only() {
        let sdp = "v=0\r\n\
            a=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\n\
            a=candidate:2 1 udp 2130706431 192.0.2.2 5000 typ host\r\n\
            a=candidate:3 1 udp 2130706431 fd00::2 5000 typ host\r\n\
            a=candidate:4 1 udp 2130706431 ::1 5000 typ host\r\n\
            a=candidate:5 1 udp 2130706431 abc.local 5000 typ host\r\n\
            a=end-of-candidates\r\n";
        let kept = keep_loopback_candidates(sdp);
        assert_eq!(
            kept,
            "v=0\r\n\
            a=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\n\
            a=candidate:4 1 udp 2130706431 ::1 5000 typ host\r\n\
            a=end-of-candidates\r\n"
        );
        assert!(is_loopback_candidate(
            "candidate:1 1 udp 1 127.0.0.1 9 typ host"
        ));
        assert!(!is_loopback_candidate(
            "candidate:1 1 udp 1 192.0.2.2 9 typ host"
        ));
    }

    #[test]
    fn redirects_the_kept_udp_candidates_to_the_relay() {
        let sdp = "v=0\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96\r\n\
            a=candidate:1 1 udp 2015363327 10.99.0.2 20123 typ host\r\n\
            a=candidate:2 1 udp 2015363327 fe80::1 20123 typ host\r\n\
            a=candidate:3 1 tcp 1015363327 10.99.0.2 9 typ host tcptype active\r\n\
            a=candidate:4 2 udp 2015363326 10.99.0.2 20123 typ host generation 0\r\n\
            a=end-of-candidates\r\n";
        let janus: IpAddr = "10.99.0.2".parse().unwrap();
        let relay: SocketAddr = "10.99.0.1:40001".parse().unwrap();
        let (out, originals) = redirect_candidates(sdp, |a| a == janus, relay);
        assert_eq!(
            out,
            "v=0\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96\r\n\
            a=candidate:1 1 udp 2015363327 10.99.0.1 40001 typ host\r\n\
            a=candidate:4 2 udp 2015363326 10.99.0.1 40001 typ host generation 0\r\n\
            a=end-of-candidates\r\n"
        );
        assert_eq!(
            originals,
            vec!["10.99.0.2:20123".parse::<SocketAddr>().unwrap()]
        );
        let (_, none) = redirect_candidates("v=0\r\n", |_| true, relay);
        assert!(none.is_empty());
    }
}
