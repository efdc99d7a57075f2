//! Every live signaling session of this node. Rooms know only the sessions that joined them;
//! the registry also reaches the others (server shutdown, a user signing out) and caps what one
//! address may hold open before authenticating and what one user may hold open at all.
//!
//! Touched when a socket opens, authenticates and closes: never per message.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::outbox::Abort;

/// Caps on open sessions.
#[derive(Clone, Copy, Debug)]
pub struct SessionLimits {
    /// Sockets one address may hold open before they authenticate.
    pub max_unauthenticated_per_ip: usize,
    /// Authenticated sockets one user may hold open (tabs, devices, reconnects in flight).
    pub max_sessions_per_user: usize,
}

/// Why a session was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    TooManyFromAddress,
    TooManyForUser,
}

#[derive(Debug, Default)]
struct Entries {
    sessions: HashMap<u64, Entry>,
    unauthenticated_by_ip: HashMap<IpAddr, usize>,
    by_user: HashMap<i64, usize>,
}

#[derive(Debug)]
struct Entry {
    ip: IpAddr,
    user: Option<i64>,
    abort: mpsc::Sender<Abort>,
}

/// The registry; cheap to clone.
#[derive(Clone, Debug)]
pub struct SessionRegistry {
    limits: SessionLimits,
    entries: Arc<Mutex<Entries>>,
}

/// A session's place in the registry; dropping it (the session ends) frees the place.
#[derive(Debug)]
pub struct SessionTicket {
    id: u64,
    registry: SessionRegistry,
}

impl SessionRegistry {
    pub fn new(limits: SessionLimits) -> Self {
        Self {
            limits,
            entries: Arc::default(),
        }
    }

    /// Registers a new, unauthenticated socket from `ip`.
    pub fn admit(
        &self,
        id: u64,
        ip: IpAddr,
        abort: mpsc::Sender<Abort>,
    ) -> Result<SessionTicket, Refusal> {
        let mut e = self.lock();
        let count = e.unauthenticated_by_ip.entry(ip).or_default();
        if *count >= self.limits.max_unauthenticated_per_ip {
            return Err(Refusal::TooManyFromAddress);
        }
        *count += 1;
        e.sessions.insert(
            id,
            Entry {
                ip,
                user: None,
                abort,
            },
        );
        Ok(SessionTicket {
            id,
            registry: self.clone(),
        })
    }

    /// The session's user is known: it stops counting against its address and starts counting
    /// against its user.
    pub fn authenticated(&self, ticket: &SessionTicket, user_id: i64) -> Result<(), Refusal> {
        let mut e = self.lock();
        let Some(ip) = e.sessions.get(&ticket.id).map(|s| s.ip) else {
            return Ok(());
        };
        let count = e.by_user.entry(user_id).or_default();
        if *count >= self.limits.max_sessions_per_user {
            return Err(Refusal::TooManyForUser);
        }
        *count += 1;
        e.sessions.get_mut(&ticket.id).expect("present").user = Some(user_id);
        decrement(&mut e.unauthenticated_by_ip, ip);
        Ok(())
    }

    /// Ends every session of `user_id` (it signed out); returns how many.
    pub fn abort_user(&self, user_id: i64, order: &Abort) -> usize {
        let e = self.lock();
        let mut n = 0;
        for s in e.sessions.values().filter(|s| s.user == Some(user_id)) {
            let _ = s.abort.try_send(order.clone());
            n += 1;
        }
        n
    }

    /// Ends every session (the server shuts down).
    pub fn abort_all(&self, order: &Abort) {
        for s in self.lock().sessions.values() {
            let _ = s.abort.try_send(order.clone());
        }
    }

    /// Open sessions.
    pub fn len(&self) -> usize {
        self.lock().sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn remove(&self, id: u64) {
        let mut e = self.lock();
        let Some(s) = e.sessions.remove(&id) else {
            return;
        };
        match s.user {
            Some(user) => decrement(&mut e.by_user, user),
            None => decrement(&mut e.unauthenticated_by_ip, s.ip),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().expect("session registry lock")
    }
}

impl Drop for SessionTicket {
    fn drop(&mut self) {
        self.registry.remove(self.id);
    }
}

fn decrement<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: K) {
    if let Some(n) = map.get_mut(&key) {
        *n -= 1;
        if *n == 0 {
            map.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::abort_channel;

    fn registry() -> SessionRegistry {
        SessionRegistry::new(SessionLimits {
            max_unauthenticated_per_ip: 2,
            max_sessions_per_user: 2,
        })
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn one_address_holds_a_bounded_number_of_unauthenticated_sockets() {
        let r = registry();
        let a = r.admit(1, ip(1), abort_channel().0).unwrap();
        let _b = r.admit(2, ip(1), abort_channel().0).unwrap();
        assert_eq!(
            r.admit(3, ip(1), abort_channel().0).unwrap_err(),
            Refusal::TooManyFromAddress
        );
        // Another address is not affected.
        let _c = r.admit(4, ip(2), abort_channel().0).unwrap();
        // Authenticating frees the address's place, and so does closing.
        r.authenticated(&a, 10).unwrap();
        let d = r.admit(5, ip(1), abort_channel().0).unwrap();
        drop(d);
        let _e = r.admit(6, ip(1), abort_channel().0).unwrap();
        assert_eq!(r.len(), 4);
    }

    #[test]
    fn one_user_holds_a_bounded_number_of_sessions() {
        let r = registry();
        let tickets: Vec<_> = (1..=3)
            .map(|i| r.admit(i, ip(i as u8), abort_channel().0).unwrap())
            .collect();
        r.authenticated(&tickets[0], 10).unwrap();
        r.authenticated(&tickets[1], 10).unwrap();
        assert_eq!(
            r.authenticated(&tickets[2], 10).unwrap_err(),
            Refusal::TooManyForUser
        );
        drop(tickets);
        assert!(r.is_empty());
        let t = r.admit(9, ip(9), abort_channel().0).unwrap();
        r.authenticated(&t, 10).unwrap();
    }

    #[test]
    fn signing_out_reaches_every_session_of_that_user_only() {
        let r = registry();
        let (a_tx, mut a_rx) = abort_channel();
        let (b_tx, mut b_rx) = abort_channel();
        let a = r.admit(1, ip(1), a_tx).unwrap();
        let b = r.admit(2, ip(1), b_tx).unwrap();
        r.authenticated(&a, 10).unwrap();
        r.authenticated(&b, 11).unwrap();
        let order = Abort {
            last_words: None,
            code: 4001,
            reason: "signed out".into(),
        };
        assert_eq!(r.abort_user(10, &order), 1);
        assert_eq!(a_rx.try_recv().unwrap().code, 4001);
        assert!(b_rx.try_recv().is_err());
    }
}
