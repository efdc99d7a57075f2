//! The meeting lifecycle of the seed's state diagram, as pure logic over explicit instants.
//!
//! Created -> Active (first participant connects); Active -> Paused (everyone left is only
//! reconnecting); Paused -> Active (one reconnects); Active -> Ended (host ends it, or nobody
//! is left for `empty_grace`); Paused -> Ended (`paused_timeout`). The room feeds it events and
//! sleeps until [`Lifecycle::next_deadline`].

use std::time::{Duration, Instant};

use crate::directory::MeetingStatus;
use crate::protocol::EndReason;

#[derive(Clone, Copy, Debug)]
pub struct LifecycleTimeouts {
    /// How long an empty meeting stays open before it ends by itself.
    pub empty_grace: Duration,
    /// How long a meeting whose participants all lost their connection stays paused.
    pub paused_timeout: Duration,
}

#[derive(Debug)]
pub struct Lifecycle {
    status: MeetingStatus,
    connected: usize,
    reconnecting: usize,
    deadline: Option<Instant>,
    timeouts: LifecycleTimeouts,
}

/// What the room must do after an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    None,
    /// Persist the new status.
    To(MeetingStatus),
    /// Persist `Ended` and close the room.
    End(EndReason),
}

impl Lifecycle {
    pub fn new(status: MeetingStatus, timeouts: LifecycleTimeouts) -> Self {
        Self {
            status,
            connected: 0,
            reconnecting: 0,
            deadline: None,
            timeouts,
        }
    }

    pub fn status(&self) -> MeetingStatus {
        self.status
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// A participant (new or resumed) has a live session.
    pub fn connected(&mut self, resumed: bool) -> Transition {
        if resumed {
            self.reconnecting = self.reconnecting.saturating_sub(1);
        }
        self.connected += 1;
        self.deadline = None;
        self.set(MeetingStatus::Active)
    }

    /// A participant lost its connection but may come back.
    pub fn lost(&mut self, now: Instant) -> Transition {
        self.connected = self.connected.saturating_sub(1);
        self.reconnecting += 1;
        if self.connected == 0 {
            self.deadline = Some(now + self.timeouts.paused_timeout);
            return self.set(MeetingStatus::Paused);
        }
        Transition::None
    }

    /// A participant is gone for good; `was_connected` says which count it was in.
    pub fn left(&mut self, was_connected: bool, now: Instant) -> Transition {
        if was_connected {
            self.connected = self.connected.saturating_sub(1);
        } else {
            self.reconnecting = self.reconnecting.saturating_sub(1);
        }
        if self.connected == 0 && self.reconnecting == 0 {
            self.deadline = Some(now + self.timeouts.empty_grace);
        }
        Transition::None
    }

    /// Called when the deadline passed; ends the meeting if nothing changed meanwhile.
    pub fn tick(&mut self, now: Instant) -> Transition {
        match self.deadline {
            Some(d) if now >= d && self.connected == 0 => self.end(EndReason::Empty),
            _ => Transition::None,
        }
    }

    /// Ends the meeting (the host, or an operator); idempotent.
    pub fn end(&mut self, reason: EndReason) -> Transition {
        if self.status == MeetingStatus::Ended {
            return Transition::None;
        }
        self.status = MeetingStatus::Ended;
        self.deadline = None;
        Transition::End(reason)
    }

    fn set(&mut self, status: MeetingStatus) -> Transition {
        if self.status == status || self.status == MeetingStatus::Ended {
            return Transition::None;
        }
        self.status = status;
        Transition::To(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lc() -> Lifecycle {
        Lifecycle::new(
            MeetingStatus::Created,
            LifecycleTimeouts {
                empty_grace: Duration::from_secs(10),
                paused_timeout: Duration::from_secs(60),
            },
        )
    }

    #[test]
    fn first_participant_activates_and_second_changes_nothing() {
        let mut l = lc();
        assert_eq!(l.connected(false), Transition::To(MeetingStatus::Active));
        assert_eq!(l.connected(false), Transition::None);
        assert_eq!(l.status(), MeetingStatus::Active);
    }

    #[test]
    fn everyone_lost_pauses_and_a_resume_reactivates() {
        let now = Instant::now();
        let mut l = lc();
        l.connected(false);
        l.connected(false);
        assert_eq!(l.lost(now), Transition::None);
        assert_eq!(l.lost(now), Transition::To(MeetingStatus::Paused));
        assert_eq!(l.next_deadline(), Some(now + Duration::from_secs(60)));
        assert_eq!(l.connected(true), Transition::To(MeetingStatus::Active));
        assert_eq!(l.next_deadline(), None);
    }

    #[test]
    fn paused_meeting_ends_after_timeout() {
        let now = Instant::now();
        let mut l = lc();
        l.connected(false);
        l.lost(now);
        assert_eq!(l.tick(now + Duration::from_secs(59)), Transition::None);
        assert_eq!(
            l.tick(now + Duration::from_secs(60)),
            Transition::End(EndReason::Empty)
        );
        assert_eq!(l.status(), MeetingStatus::Ended);
    }

    #[test]
    fn empty_meeting_ends_after_grace_unless_someone_joins() {
        let now = Instant::now();
        let mut l = lc();
        l.connected(false);
        l.left(true, now);
        assert_eq!(l.next_deadline(), Some(now + Duration::from_secs(10)));
        l.connected(false);
        assert_eq!(l.tick(now + Duration::from_secs(11)), Transition::None);
        l.left(true, now + Duration::from_secs(20));
        assert_eq!(
            l.tick(now + Duration::from_secs(30)),
            Transition::End(EndReason::Empty)
        );
    }

    #[test]
    fn lost_participant_who_times_out_empties_the_meeting() {
        let now = Instant::now();
        let mut l = lc();
        l.connected(false);
        l.lost(now);
        l.left(false, now + Duration::from_secs(30));
        assert_eq!(
            l.next_deadline(),
            Some(now + Duration::from_secs(40)),
            "empty grace replaces the paused timeout once nobody can come back"
        );
    }

    #[test]
    fn host_end_is_final_and_idempotent() {
        let mut l = lc();
        l.connected(false);
        assert_eq!(
            l.end(EndReason::HostEnded),
            Transition::End(EndReason::HostEnded)
        );
        assert_eq!(l.end(EndReason::HostEnded), Transition::None);
        assert_eq!(l.connected(false), Transition::None);
        assert_eq!(l.status(), MeetingStatus::Ended);
    }
}
