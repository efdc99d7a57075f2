//! [`Routes`]: a relay's routing table between participants and server addresses.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4};

/// The relay's routing table, shared by its two tasks (locked once per batch).
#[derive(Default)]
pub(super) struct Routes {
    /// Participant -> (server, source address on the back socket; `None`: the bound one).
    pub(super) up: HashMap<SocketAddrV4, (SocketAddrV4, Option<Ipv4Addr>)>,
    /// (server, address the server sent to) -> participant.
    pub(super) down: HashMap<(SocketAddrV4, Ipv4Addr), SocketAddrV4>,
    pub(super) allotted: u32,
}

impl Routes {
    /// A fresh `127.<net>.x.y` for `client`; `None` once the 65,534 addresses are used up.
    pub(super) fn allot(
        &mut self,
        client: SocketAddrV4,
        server: SocketAddrV4,
        net: u8,
    ) -> Option<(SocketAddrV4, Option<Ipv4Addr>)> {
        if self.allotted >= 0xfffe {
            return None;
        }
        self.allotted += 1;
        let n = self.allotted;
        let ip = Ipv4Addr::new(127, net, (n >> 8) as u8, n as u8);
        self.up.insert(client, (server, Some(ip)));
        self.down.insert((server, ip), client);
        Some((server, Some(ip)))
    }
}
