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
    /// The only local address clients gather candidates on.
    pub client_ip: Ipv4Addr,
    /// Janus: the only remote candidate address accepted.
    pub janus_ip: Ipv4Addr,
    /// `--loss`: the relays every media datagram of this target goes through. For ours the
    /// server must have been spawned with the link's environment ([`LossyLink::for_ours`]).
    pub link: Option<Arc<LossyLink>>,
}
