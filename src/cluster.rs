//! Several nodes on one Redis and one database, sharing meetings.
//!
//! - [`NodeRegistry`]: each node's entry in Redis (id, URL, media addresses, load), refreshed
//!   under a TTL, so the live nodes are the entries that exist.
//! - [`LeasePlacement`]: a live meeting's owner, by a fenced lease in Redis. A session that
//!   lands on another node is forwarded to the owner (signaling's `forward.rs`).
//! - [`ParticipationReaper`]: participations a dead node left open get `left_at`.
//!
//! With the in-process cache the same code runs with one node, which owns everything.

mod lease_placement;
pub mod node_registry;
mod participation_reaper;

use std::net::SocketAddr;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use lease_placement::LeasePlacement;
pub use node_registry::{NodeInfo, NodeRegistry};
pub use participation_reaper::ParticipationReaper;

/// The cluster settings (see `--help`: NODE_ID, NODE_URL, REDIS_KEY_PREFIX, MEETING_LEASE_SECS,
/// ADMIN_TOKEN, DRAIN_TIMEOUT_SECS).
#[derive(Clone)]
pub struct ClusterConfig {
    pub node_id: Option<String>,
    pub node_url: Option<String>,
    pub redis_key_prefix: String,
    pub meeting_lease: Duration,
    pub admin_token: Option<String>,
    pub drain_timeout: Duration,
}

/// The secret nodes show each other when forwarding a session, derived from the JWT secret
/// every node of a cluster shares, so it needs no setting of its own.
pub fn node_token(jwt_secret: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(jwt_secret).expect("HMAC takes any key");
    mac.update(b"mini-meeting node forwarding v1");
    hex(&mac.finalize().into_bytes())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `<hostname>-<port>-<random>`: unique per start, so a restarted node is a new node and its
/// predecessor's leases simply expire.
pub fn derive_node_id(http: SocketAddr) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into());
    let host: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    format!(
        "{host}-{}-{:06x}",
        http.port(),
        rand::random::<u32>() & 0xff_ffff
    )
}

/// `http://<addr>` as bound, or with the first announced media IP when the HTTP address binds
/// every interface (other nodes cannot dial 0.0.0.0).
pub fn derive_node_url(http: SocketAddr, public_ips: &[std::net::IpAddr]) -> String {
    let ip = match (http.ip().is_unspecified(), public_ips.first()) {
        (true, Some(ip)) => *ip,
        _ => http.ip(),
    };
    format!("http://{}", SocketAddr::new(ip, http.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_tokens_follow_the_secret() {
        let a = node_token(b"secret-a-secret-a-secret-a-secret-a");
        assert_eq!(a, node_token(b"secret-a-secret-a-secret-a-secret-a"));
        assert_ne!(a, node_token(b"secret-b-secret-b-secret-b-secret-b"));
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn node_urls_are_dialable() {
        let public = ["203.0.113.7".parse().unwrap()];
        assert_eq!(
            derive_node_url("127.0.0.1:8080".parse().unwrap(), &public),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            derive_node_url("0.0.0.0:8080".parse().unwrap(), &public),
            "http://203.0.113.7:8080"
        );
    }

    #[test]
    fn node_ids_are_unique_per_start_and_plain() {
        let addr = "127.0.0.1:8080".parse().unwrap();
        let (a, b) = (derive_node_id(addr), derive_node_id(addr));
        assert_ne!(a, b);
        assert!(a.contains("-8080-"), "{a}");
        assert!(
            a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{a}"
        );
    }
}
