//! [`SubscriberNegotiation`]: the renegotiation queue of one subscribe connection.
//!
//! Only one SFU offer is outstanding at a time. Changes (DownTracks to add or remove, an ICE
//! restart) queued while waiting for the answer are batched into the next offer. Pure state
//! machine, generic over the item so it is tested with integers.

/// The contents of one offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch<T> {
    /// Items to add.
    pub adds: Vec<T>,
    /// Items to remove.
    pub removes: Vec<T>,
    /// Whether the offer restarts ICE.
    pub ice_restart: bool,
}

impl<T> Batch<T> {
    fn is_empty(&self) -> bool {
        self.adds.is_empty() && self.removes.is_empty() && !self.ice_restart
    }
}

impl<T> Default for Batch<T> {
    fn default() -> Self {
        Batch {
            adds: Vec::new(),
            removes: Vec::new(),
            ice_restart: false,
        }
    }
}

/// What [`SubscriberNegotiation::remove`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveOutcome {
    /// The item was only queued for adding: dropped without any negotiation.
    Cancelled,
    /// The removal is queued for the next offer.
    Queued,
}

/// Renegotiation queue of one subscribe connection.
#[derive(Debug, Clone)]
pub struct SubscriberNegotiation<T> {
    queued: Batch<T>,
    in_flight: Option<Batch<T>>,
}

impl<T> Default for SubscriberNegotiation<T> {
    fn default() -> Self {
        SubscriberNegotiation {
            queued: Batch::default(),
            in_flight: None,
        }
    }
}

impl<T: PartialEq + Clone> SubscriberNegotiation<T> {
    /// Queue an item to add.
    pub fn add(&mut self, item: T) {
        self.queued.removes.retain(|x| *x != item);
        if !self.queued.adds.contains(&item) {
            self.queued.adds.push(item);
        }
    }

    /// Queue an item to remove.
    pub fn remove(&mut self, item: T) -> RemoveOutcome {
        if let Some(i) = self.queued.adds.iter().position(|x| *x == item) {
            self.queued.adds.remove(i);
            // Possibly also in flight (added by the outstanding offer): then it must still be
            // removed after that answer.
            if !self
                .in_flight
                .as_ref()
                .is_some_and(|b| b.adds.contains(&item))
            {
                return RemoveOutcome::Cancelled;
            }
        }
        if !self.queued.removes.contains(&item) {
            self.queued.removes.push(item);
        }
        RemoveOutcome::Queued
    }

    /// Ask for an ICE restart in the next offer.
    pub fn request_ice_restart(&mut self) {
        self.queued.ice_restart = true;
    }

    /// `true` while an offer waits for its answer.
    pub fn is_waiting(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Whether anything is queued for a future offer.
    pub fn has_queued(&self) -> bool {
        !self.queued.is_empty()
    }

    /// If no offer is outstanding and something is queued: the batch for the next offer
    /// (which becomes the outstanding one).
    pub fn next_offer(&mut self) -> Option<Batch<T>> {
        if self.in_flight.is_some() || self.queued.is_empty() {
            return None;
        }
        let b = std::mem::take(&mut self.queued);
        self.in_flight = Some(b.clone());
        Some(b)
    }

    /// The outstanding offer was answered: its batch is done.
    pub fn answered(&mut self) -> Option<Batch<T>> {
        self.in_flight.take()
    }

    /// The outstanding offer failed (its answer was refused): put its changes back in front
    /// of the queue so the next offer carries them again.
    pub fn rollback(&mut self) {
        if let Some(mut b) = self.in_flight.take() {
            let q = std::mem::take(&mut self.queued);
            for x in q.adds {
                if !b.adds.contains(&x) {
                    b.adds.push(x);
                }
            }
            for x in q.removes {
                if let Some(i) = b.adds.iter().position(|a| *a == x) {
                    b.adds.remove(i);
                } else if !b.removes.contains(&x) {
                    b.removes.push(x);
                }
            }
            b.ice_restart |= q.ice_restart;
            self.queued = b;
        }
    }

    /// Supersede the outstanding offer (a reconnecting client lost it): everything in flight
    /// and queued goes into one new outstanding offer with an ICE restart. The caller offers
    /// the in-flight changes again (str0m discards an unanswered offer).
    pub fn supersede_with_restart(&mut self) -> Batch<T> {
        let mut b = self.in_flight.take().unwrap_or_default();
        let q = std::mem::take(&mut self.queued);
        for x in q.adds {
            if !b.adds.contains(&x) {
                b.adds.push(x);
            }
        }
        for x in q.removes {
            if !b.removes.contains(&x) {
                b.removes.push(x);
            }
        }
        b.ice_restart = true;
        self.in_flight = Some(b.clone());
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_offer_at_a_time_and_batching() {
        let mut n = SubscriberNegotiation::default();
        assert_eq!(n.next_offer(), None, "nothing queued");
        n.add(1);
        n.add(2);
        let b = n.next_offer().unwrap();
        assert_eq!(b.adds, vec![1, 2]);
        assert!(n.is_waiting());
        n.add(3);
        n.add(4);
        assert_eq!(n.remove(1), RemoveOutcome::Queued);
        assert_eq!(n.next_offer(), None, "waiting for the answer");
        assert_eq!(n.answered().unwrap().adds, vec![1, 2]);
        let b = n.next_offer().unwrap();
        assert_eq!(b.adds, vec![3, 4]);
        assert_eq!(b.removes, vec![1]);
        assert!(!b.ice_restart);
        n.answered();
        assert!(!n.is_waiting());
        assert!(!n.has_queued());
    }

    #[test]
    fn remove_of_queued_add_cancels() {
        let mut n = SubscriberNegotiation::default();
        n.add(7);
        assert_eq!(n.remove(7), RemoveOutcome::Cancelled);
        assert_eq!(n.next_offer(), None);
    }

    #[test]
    fn remove_of_in_flight_add_waits_for_answer() {
        let mut n = SubscriberNegotiation::default();
        n.add(7);
        n.next_offer().unwrap();
        assert_eq!(n.remove(7), RemoveOutcome::Queued);
        assert_eq!(n.next_offer(), None);
        n.answered();
        assert_eq!(n.next_offer().unwrap().removes, vec![7]);
    }

    #[test]
    fn ice_restart_is_queued_like_a_change() {
        let mut n: SubscriberNegotiation<u32> = SubscriberNegotiation::default();
        n.request_ice_restart();
        let b = n.next_offer().unwrap();
        assert!(b.ice_restart && b.adds.is_empty());
        n.request_ice_restart();
        assert_eq!(n.next_offer(), None);
        n.answered();
        assert!(n.next_offer().unwrap().ice_restart);
    }

    #[test]
    fn supersede_merges_in_flight_and_queued() {
        let mut n = SubscriberNegotiation::default();
        n.add(1);
        n.next_offer().unwrap();
        n.add(2);
        n.remove(9);
        let b = n.supersede_with_restart();
        assert_eq!(b.adds, vec![1, 2]);
        assert_eq!(b.removes, vec![9]);
        assert!(b.ice_restart);
        assert!(n.is_waiting());
        assert!(!n.has_queued());
        assert_eq!(n.answered(), Some(b));
    }

    #[test]
    fn rollback_requeues() {
        let mut n = SubscriberNegotiation::default();
        n.add(1);
        n.add(2);
        n.next_offer().unwrap();
        n.add(3);
        n.remove(2);
        n.rollback();
        assert!(!n.is_waiting());
        let b = n.next_offer().unwrap();
        assert_eq!(b.adds, vec![1, 3], "2 added then removed before any answer");
        assert!(b.removes.is_empty());
    }
}
