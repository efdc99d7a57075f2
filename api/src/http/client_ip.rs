//! The client's IP address, for per-IP throttling.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
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
        if let Some(ip) = forwarded_for(parts).filter(|_| state.config().trust_proxy) {
            return Ok(Self(ip));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        if peer.is_none() {
            tracing::warn!("no ConnectInfo: serve with into_make_service_with_connect_info");
        }
        Ok(Self(peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))))
    }
}

fn forwarded_for(parts: &Parts) -> Option<IpAddr> {
    parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .and_then(|entry| entry.trim().parse().ok())
}
