//! The client's IP address, for per-IP throttling.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use super::AppState;
use crate::error::Error;

/// The peer address of the socket, or with `trust_proxy` the rightmost `X-Forwarded-For`
/// entry: the one appended by our own proxy, which a client cannot forge. If that entry is
/// not an IP address, the socket address is used rather than an earlier (forgeable) entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        if peer.is_none() {
            tracing::warn!("no ConnectInfo: serve with into_make_service_with_connect_info");
        }
        let peer = peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(Self::resolve(
            &parts.headers,
            peer,
            state.config().trust_proxy,
        ))
    }
}

impl ClientIp {
    /// The rule above, for any request (the signaling upgrade uses it too).
    pub fn resolve(headers: &HeaderMap, peer: IpAddr, trust_proxy: bool) -> Self {
        match forwarded_for(headers).filter(|_| trust_proxy) {
            Some(ip) => Self(ip),
            None => Self(peer),
        }
    }
}

fn forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .and_then(|entry| entry.trim().parse().ok())
}
