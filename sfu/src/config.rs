//! [`SfuConfig`]: sockets, announced addresses, allowed networks, workers and limits.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::error::SfuError;
use crate::ip_net::IpNet;

/// Configuration of the media engine.
#[derive(Debug, Clone)]
pub struct SfuConfig {
    /// UDP bind address of worker 0; worker `i` binds `port + i` (port 0: each gets an
    /// ephemeral port).
    pub bind: SocketAddr,
    /// Addresses announced as host candidates, with each worker's port (NAT 1:1). Empty: the
    /// bind IP, which must then not be unspecified.
    pub public_ips: Vec<IpAddr>,
    /// Traffic from addresses outside these networks is dropped before WebRTC sees it, and
    /// client candidates outside them are ignored. Empty: allow all.
    pub allowed_networks: Vec<IpNet>,
    /// Number of media workers; each owns one socket and the peers placed on it.
    pub workers: usize,
    /// `SO_RCVBUF` / `SO_SNDBUF` of each worker socket.
    pub socket_buffer_bytes: usize,
    /// At most one keyframe request per UpTrack in this interval.
    pub keyframe_min_interval: Duration,
    /// Most tracks one peer may publish at once.
    pub max_tracks_per_peer: usize,
    /// How old a video UpTrack's cached keyframe may be and still start a new DownTrack
    /// (instead of a keyframe request to the publisher). Zero: no cache.
    pub keyframe_cache_max_age: Duration,
    /// Estimate each subscriber's bandwidth (TWCC) and share it among the videos it shows;
    /// off: every subscriber gets what it asks for, whatever its link. Off by default: str0m
    /// paces what it sends at 1.1 times its estimate, which follows what is sent, so every
    /// keyframe burst queues (`docs/media.md`, "Bandwidth allocation").
    pub bandwidth_estimation: bool,
    /// ICE over TCP (RFC 6544): each worker also listens on TCP, on its UDP socket's IP, and
    /// announces a passive TCP host candidate (ranked below UDP by its type preference), so a
    /// client whose UDP is blocked can connect without a TURN server.
    pub ice_tcp: bool,
    /// TCP port of worker 0; worker `i` listens on `port + i` (0: ephemeral ports). `None`:
    /// each worker's UDP port number (TCP and UDP ports are separate spaces).
    pub ice_tcp_port: Option<u16>,
}

impl Default for SfuConfig {
    fn default() -> Self {
        SfuConfig {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 50000),
            public_ips: Vec::new(),
            allowed_networks: Vec::new(),
            workers: 1,
            socket_buffer_bytes: 4 * 1024 * 1024,
            keyframe_min_interval: Duration::from_millis(500),
            max_tracks_per_peer: 8,
            keyframe_cache_max_age: Duration::from_secs(3),
            bandwidth_estimation: false,
            ice_tcp: true,
            ice_tcp_port: None,
        }
    }
}

impl SfuConfig {
    /// The addresses announced in candidates (before adding each worker's port).
    pub(crate) fn announced_ips(&self) -> Result<Vec<IpAddr>, SfuError> {
        if self.workers == 0 {
            return Err(SfuError::Config("workers must be at least 1".into()));
        }
        if !self.public_ips.is_empty() {
            if let Some(ip) = self.public_ips.iter().find(|ip| ip.is_unspecified()) {
                return Err(SfuError::Config(format!("public ip {ip} is unspecified")));
            }
            return Ok(self.public_ips.clone());
        }
        if self.bind.ip().is_unspecified() {
            return Err(SfuError::Config(
                "bind address is unspecified: set public_ips".into(),
            ));
        }
        Ok(vec![self.bind.ip()])
    }

    /// Bind address of worker `i`.
    pub(crate) fn worker_bind(&self, i: usize) -> Result<SocketAddr, SfuError> {
        let mut a = self.bind;
        if a.port() != 0 {
            let port = usize::from(a.port()) + i;
            let port = u16::try_from(port)
                .map_err(|_| SfuError::Config(format!("worker {i} port out of range")))?;
            a.set_port(port);
        }
        Ok(a)
    }

    /// ICE-TCP listen address of worker `i` (`None`: ICE-TCP is off).
    pub(crate) fn worker_tcp_bind(&self, i: usize) -> Result<Option<SocketAddr>, SfuError> {
        if !self.ice_tcp {
            return Ok(None);
        }
        let mut a = self.worker_bind(i)?;
        if let Some(p) = self.ice_tcp_port {
            let port = if p == 0 { 0 } else { usize::from(p) + i };
            let port = u16::try_from(port)
                .map_err(|_| SfuError::Config(format!("worker {i} TCP port out of range")))?;
            a.set_port(port);
        }
        Ok(Some(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announced_ips_rules() {
        let cfg = SfuConfig::default();
        assert!(
            cfg.announced_ips().is_err(),
            "unspecified bind, no public ip"
        );
        let cfg = SfuConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            ..Default::default()
        };
        assert_eq!(
            cfg.announced_ips().unwrap(),
            vec!["127.0.0.1".parse::<IpAddr>().unwrap()]
        );
        let cfg = SfuConfig {
            public_ips: vec!["203.0.113.9".parse().unwrap()],
            ..Default::default()
        };
        assert_eq!(cfg.announced_ips().unwrap().len(), 1);
        let cfg = SfuConfig {
            workers: 0,
            bind: "127.0.0.1:0".parse().unwrap(),
            ..Default::default()
        };
        assert!(cfg.announced_ips().is_err());
    }

    #[test]
    fn worker_ports() {
        let cfg = SfuConfig {
            bind: "127.0.0.1:5000".parse().unwrap(),
            ..Default::default()
        };
        assert_eq!(cfg.worker_bind(2).unwrap().port(), 5002);
        let cfg = SfuConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            ..Default::default()
        };
        assert_eq!(cfg.worker_bind(3).unwrap().port(), 0);
        let cfg = SfuConfig {
            bind: "127.0.0.1:65535".parse().unwrap(),
            ..Default::default()
        };
        assert!(cfg.worker_bind(1).is_err());
    }

    #[test]
    fn worker_tcp_ports() {
        let mut cfg = SfuConfig {
            bind: "127.0.0.1:5000".parse().unwrap(),
            ..Default::default()
        };
        assert!(cfg.ice_tcp, "on by default");
        let a = cfg.worker_tcp_bind(2).unwrap().unwrap();
        assert_eq!(
            a,
            "127.0.0.1:5002".parse().unwrap(),
            "the UDP port by default"
        );
        cfg.ice_tcp_port = Some(6000);
        assert_eq!(cfg.worker_tcp_bind(1).unwrap().unwrap().port(), 6001);
        cfg.ice_tcp_port = Some(0);
        assert_eq!(cfg.worker_tcp_bind(1).unwrap().unwrap().port(), 0);
        cfg.ice_tcp_port = Some(65535);
        assert!(cfg.worker_tcp_bind(1).is_err());
        cfg.ice_tcp = false;
        assert_eq!(cfg.worker_tcp_bind(0).unwrap(), None);
    }
}
