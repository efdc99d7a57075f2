//! [`Connection`]: one str0m `Rtc` (a Peer's publish or subscribe PeerConnection) behind a
//! panic fence.
//!
//! Every call into the `Rtc` goes through [`Connection::call`] or [`Connection::drain`], both
//! under `catch_unwind`: a broken invariant inside str0m panics, and that must close this peer
//! only. `drain` implements str0m's run-loop contract: after each mutation, poll output until
//! `Output::Timeout`, sending transmits to the [`Outbox`] and handing events to the caller.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use str0m::{Event, IceConnectionState, Output, Rtc, RtcError};

use crate::event::ConnState;
use crate::ids::PcKind;
use crate::outbox::Outbox;

/// A fatal failure of a connection.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnError {
    #[error("panic in str0m: {0}")]
    Panic(String),
    #[error("str0m error: {0}")]
    Rtc(#[from] RtcError),
}

/// One `Rtc` with its run-loop state.
pub(crate) struct Connection {
    rtc: Rtc,
    pub kind: PcKind,
    /// When str0m next wants `Input::Timeout`.
    pub timeout: Instant,
    /// DTLS is up (str0m's `Event::Connected`) and ICE is not disconnected: media can flow.
    pub connected: bool,
    dtls_up: bool,
    reported: Option<ConnState>,
}

impl Connection {
    pub fn new(rtc: Rtc, kind: PcKind, now: Instant) -> Self {
        Connection {
            rtc,
            kind,
            timeout: now,
            connected: false,
            dtls_up: false,
            reported: None,
        }
    }

    /// Read-only access (no mutation, no drain needed).
    pub fn rtc(&self) -> &Rtc {
        &self.rtc
    }

    /// Runs one mutation of the `Rtc` under `catch_unwind`. The caller must [`Self::drain`]
    /// afterwards.
    pub fn call<R>(&mut self, f: impl FnOnce(&mut Rtc) -> R) -> Result<R, ConnError> {
        let rtc = &mut self.rtc;
        catch_unwind(AssertUnwindSafe(|| f(rtc))).map_err(|p| ConnError::Panic(panic_message(&*p)))
    }

    /// Polls output until `Output::Timeout`: transmits go to `outbox`, events to `on_event`.
    /// Returns the next timeout.
    pub fn drain(
        &mut self,
        outbox: &mut Outbox,
        mut on_event: impl FnMut(Event),
    ) -> Result<Instant, ConnError> {
        let rtc = &mut self.rtc;
        let r = catch_unwind(AssertUnwindSafe(|| {
            loop {
                match rtc.poll_output()? {
                    Output::Timeout(t) => return Ok::<_, RtcError>(t),
                    Output::Transmit(t) => outbox.push(t),
                    Output::Event(e) => on_event(e),
                }
            }
        }));
        let t = r.map_err(|p| ConnError::Panic(panic_message(&*p)))??;
        self.timeout = t;
        Ok(t)
    }

    /// Graceful end: RTCP BYE, SCTP shutdown and DTLS close_notify go to `outbox`; events
    /// are discarded. The connection is dropped afterwards.
    pub fn shutdown(&mut self, outbox: &mut Outbox, now: Instant) {
        if self.call(|rtc| rtc.close()).is_err() {
            return;
        }
        for _ in 0..2 {
            if self.drain(outbox, |_| {}).is_err() {
                return;
            }
            if !self.rtc.is_alive()
                || self
                    .call(|rtc| rtc.handle_input(str0m::Input::Timeout(now)))
                    .is_err()
            {
                return;
            }
        }
    }

    /// Tracks connection-state events; returns a state to report when it changed.
    pub fn state_change(&mut self, ev: &Event) -> Option<ConnState> {
        let new = match ev {
            Event::Connected => {
                self.dtls_up = true;
                ConnState::Connected
            }
            Event::IceConnectionStateChange(s) => match s {
                IceConnectionState::New => return None,
                IceConnectionState::Checking => ConnState::Connecting,
                IceConnectionState::Connected | IceConnectionState::Completed => {
                    if !self.dtls_up {
                        return None;
                    }
                    ConnState::Connected
                }
                IceConnectionState::Disconnected => ConnState::Disconnected,
            },
            _ => return None,
        };
        self.connected = new == ConnState::Connected;
        if self.reported == Some(new) {
            return None;
        }
        self.reported = Some(new);
        Some(new)
    }
}

fn panic_message(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn panic_inside_call_is_contained() {
        let now = Instant::now();
        let rtc = Rtc::builder()
            .set_crypto_provider(Arc::new(str0m::crypto::from_feature_flags()))
            .build(now);
        let mut c = Connection::new(rtc, PcKind::Publish, now);
        let r: Result<(), _> = c.call(|_| panic!("boom"));
        match r {
            Err(ConnError::Panic(m)) => assert_eq!(m, "boom"),
            other => panic!("unexpected {other:?}"),
        }
        // The connection is still usable afterwards.
        let mut out = Outbox::new(Arc::from(Vec::new()));
        assert!(c.drain(&mut out, |_| {}).is_ok());
    }

    #[test]
    fn state_changes_are_deduplicated() {
        let now = Instant::now();
        let rtc = Rtc::builder()
            .set_crypto_provider(Arc::new(str0m::crypto::from_feature_flags()))
            .build(now);
        let mut c = Connection::new(rtc, PcKind::Subscribe, now);
        let ice = |s| Event::IceConnectionStateChange(s);
        assert_eq!(
            c.state_change(&ice(IceConnectionState::Checking)),
            Some(ConnState::Connecting)
        );
        assert_eq!(
            c.state_change(&ice(IceConnectionState::Connected)),
            None,
            "DTLS not up"
        );
        assert_eq!(
            c.state_change(&Event::Connected),
            Some(ConnState::Connected)
        );
        assert!(c.connected);
        assert_eq!(c.state_change(&ice(IceConnectionState::Completed)), None);
        assert_eq!(
            c.state_change(&ice(IceConnectionState::Disconnected)),
            Some(ConnState::Disconnected)
        );
        assert!(!c.connected);
        assert_eq!(
            c.state_change(&ice(IceConnectionState::Connected)),
            Some(ConnState::Connected)
        );
    }
}
