//! [`IpNet`]: a tiny CIDR type (`"127.0.0.0/8"`, `"::1/128"`) for `allowed_networks`.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An IP network in CIDR notation. A bare address means a single host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

/// Why a CIDR string did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid network {0:?}: expected CIDR such as 10.0.0.0/8 or ::1/128")]
pub struct IpNetParseError(pub String);

impl IpNet {
    /// Builds a network; the host bits of `addr` are cleared. `None` when `prefix` is too long.
    pub fn new(addr: IpAddr, prefix: u8) -> Option<IpNet> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return None;
        }
        let addr = match addr {
            IpAddr::V4(a) => IpAddr::V4((u32::from(a) & mask32(prefix)).into()),
            IpAddr::V6(a) => IpAddr::V6((u128::from(a) & mask128(prefix)).into()),
        };
        Some(IpNet { addr, prefix })
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` is inside this network. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`)
    /// are matched as the IPv4 address they carry.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(a)) => u32::from(a) & mask32(self.prefix) == u32::from(n),
            (IpAddr::V6(n), IpAddr::V6(a)) => u128::from(a) & mask128(self.prefix) == u128::from(n),
            _ => false,
        }
    }
}

/// `true` when `nets` is empty (allow all) or one of them contains `ip`.
pub(crate) fn allowed(nets: &[IpNet], ip: IpAddr) -> bool {
    nets.is_empty() || nets.iter().any(|n| n.contains(ip))
}

fn mask32(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

fn mask128(prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix))
    }
}

impl FromStr for IpNet {
    type Err = IpNetParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || IpNetParseError(s.to_owned());
        let t = s.trim();
        let (ip, prefix) = match t.split_once('/') {
            Some((ip, p)) => {
                let ip: IpAddr = ip.parse().map_err(|_| err())?;
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err());
                }
                (ip, p.parse::<u8>().map_err(|_| err())?)
            }
            None => {
                let ip: IpAddr = t.parse().map_err(|_| err())?;
                (ip, if ip.is_ipv4() { 32 } else { 128 })
            }
        };
        IpNet::new(ip, prefix).ok_or_else(err)
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_v4_and_v6() {
        let n: IpNet = "127.0.0.0/8".parse().unwrap();
        assert_eq!(n.prefix(), 8);
        assert_eq!(n.to_string(), "127.0.0.0/8");
        let n: IpNet = "::1/128".parse().unwrap();
        assert_eq!(n.addr(), ip("::1"));
        let n: IpNet = "10.1.2.3/16".parse().unwrap();
        assert_eq!(n.to_string(), "10.1.0.0/16", "host bits cleared");
        let n: IpNet = "192.0.2.7".parse().unwrap();
        assert_eq!(n.prefix(), 32);
        let n: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(n.contains(ip("8.8.8.8")));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "127.0.0.0/33",
            "::/129",
            "1.2.3/8",
            "1.2.3.4/",
            "1.2.3.4/-1",
            "x/8",
        ] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
    }

    #[test]
    fn matches() {
        let lo: IpNet = "127.0.0.0/8".parse().unwrap();
        assert!(lo.contains(ip("127.0.0.1")));
        assert!(lo.contains(ip("127.255.1.2")));
        assert!(!lo.contains(ip("128.0.0.1")));
        assert!(!lo.contains(ip("192.0.2.2")));
        assert!(!lo.contains(ip("::1")));
        assert!(lo.contains(ip("::ffff:127.0.0.1")), "v4-mapped matches v4");
        let v6: IpNet = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd00::2")));
        assert!(!v6.contains(ip("fe80::1")));
        let one: IpNet = "::1/128".parse().unwrap();
        assert!(one.contains(ip("::1")));
        assert!(!one.contains(ip("::2")));
    }

    #[test]
    fn allow_list() {
        assert!(allowed(&[], ip("192.0.2.2")), "empty allows all");
        let nets = ["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
        assert!(allowed(&nets, ip("::1")));
        assert!(allowed(&nets, ip("127.0.0.2")));
        assert!(!allowed(&nets, ip("192.0.2.2")));
        assert!(!allowed(&nets, ip("fd00::2")));
    }
}
