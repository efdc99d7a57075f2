//! [`Target`]: the server one run drives (ours or Janus VideoRoom), and its [`TargetKind`].

use std::net::Ipv4Addr;
use std::sync::Arc;

use serde::Serialize;

use crate::lossy_link::LossyLink;

/// Which server a run drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    Ours,
    Janus,
}

impl std::fmt::Display for TargetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TargetKind::Ours => "ours",
            TargetKind::Janus => "janus",
        })
    }
}

/// A server to drive.
#[derive(Clone, Debug)]
pub struct Target {
    pub kind: TargetKind,
    /// Ours: `http://127.0.0.1:PORT`; Janus: `http://10.99.0.2:8088/janus`.
    pub base_url: String,
    /// For CPU and RSS; `None`: not measured (with a note in the report).
    pub server_pid: Option<u32>,
    /// Ours: the other nodes of a cluster `base_url` belongs to. Participants join through
    /// `base_url` and these in turn, and the server's CPU and RSS are the sum over all nodes.
    pub other_nodes: Vec<Node>,
    /// The only local address clients gather candidates on.
    pub client_ip: Ipv4Addr,
    /// Janus: the only remote candidate address accepted.
    pub janus_ip: Ipv4Addr,
    /// `--loss`: the relays every media datagram of this target goes through. For ours the
    /// server must have been spawned with the link's environment ([`LossyLink::for_ours`]).
    pub link: Option<Arc<LossyLink>>,
}

/// One more node of a cluster: its base URL, and its pid to read its CPU and RSS from `/proc`
/// (else from its `/metrics`).
#[derive(Clone, Debug)]
pub struct Node {
    pub base_url: String,
    pub pid: Option<u32>,
}

impl Target {
    /// Every node as (base URL, pid), `base_url` first.
    pub fn nodes(&self) -> Vec<(String, Option<u32>)> {
        std::iter::once((self.base_url.clone(), self.server_pid))
            .chain(self.other_nodes.iter().map(|n| (n.base_url.clone(), n.pid)))
            .collect()
    }

    /// The node the `i`-th participant joins through.
    pub fn join_url(&self, i: usize) -> &str {
        match i % (self.other_nodes.len() + 1) {
            0 => &self.base_url,
            n => &self.other_nodes[n - 1].base_url,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn participants_join_through_every_node_in_turn() {
        let mut t = Target {
            kind: TargetKind::Ours,
            base_url: "http://a".into(),
            server_pid: Some(1),
            other_nodes: vec![],
            client_ip: Ipv4Addr::LOCALHOST,
            janus_ip: Ipv4Addr::LOCALHOST,
            link: None,
        };
        assert_eq!(t.join_url(0), "http://a");
        assert_eq!(t.join_url(5), "http://a");
        t.other_nodes = ["http://b", "http://c"]
            .map(|u| Node {
                base_url: u.into(),
                pid: None,
            })
            .into();
        let urls: Vec<&str> = (0..5).map(|i| t.join_url(i)).collect();
        assert_eq!(
            urls,
            ["http://a", "http://b", "http://c", "http://a", "http://b"]
        );
        let nodes = t.nodes();
        assert_eq!(nodes[0], ("http://a".to_owned(), Some(1)));
        assert_eq!(nodes[2], ("http://c".to_owned(), None));
    }
}
