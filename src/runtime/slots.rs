//! Promises awaited by number: a future registers a slot, the promise's callback (one
//! long-lived function for every promise, given only the number) fills it and wakes whoever
//! waits. This replaces a per-await pair of wasm-bindgen closures, each of which costs an
//! allocation, a finalizer registration and its own glue on every await (measured: the largest
//! part of what a new token's verification spends outside WebCrypto, BENCHMARKS.md).

use std::collections::HashMap;
use std::task::Waker;

enum Slot<T> {
    Waiting(Option<Waker>),
    Arrived(T),
}

/// The slots of one isolate's pending awaits.
pub struct Slots<T> {
    next: u32,
    slots: HashMap<u32, Slot<T>>,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Slots {
            next: 0,
            slots: HashMap::new(),
        }
    }
}

impl<T> Slots<T> {
    /// A new slot, waiting; its number is what the callback is given.
    pub fn open(&mut self) -> u32 {
        let id = self.next;
        self.next = self.next.wrapping_add(1);
        self.slots.insert(id, Slot::Waiting(None));
        id
    }

    /// The value if it has arrived (the slot is then closed); otherwise `waker` is kept to be
    /// woken when it does. `None` also for a slot that is not open (never, or closed already).
    pub fn take_or_wait(&mut self, id: u32, waker: &Waker) -> Option<T> {
        match self.slots.remove(&id) {
            Some(Slot::Arrived(value)) => Some(value),
            Some(Slot::Waiting(_)) => {
                self.slots.insert(id, Slot::Waiting(Some(waker.clone())));
                None
            }
            None => None,
        }
    }

    /// Stores what arrived for `id` and hands back the waker to wake (after the table is
    /// released: waking polls the waiting future, which reads the table). A value for a slot
    /// that is closed (its future was dropped) is dropped.
    pub fn arrive(&mut self, id: u32, value: T) -> Option<Waker> {
        match self.slots.get_mut(&id) {
            Some(slot @ Slot::Waiting(_)) => match std::mem::replace(slot, Slot::Arrived(value)) {
                Slot::Waiting(waker) => waker,
                Slot::Arrived(_) => None,
            },
            Some(Slot::Arrived(_)) | None => None,
        }
    }

    /// Forgets `id` (its future was dropped, or has its value).
    pub fn close(&mut self, id: u32) {
        self.slots.remove(&id);
    }

    /// Slots open.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no slot is open.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Counting(AtomicUsize);
    impl Wake for Counting {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Arc<Counting>, Waker) {
        let counter = Arc::new(Counting(AtomicUsize::new(0)));
        (Arc::clone(&counter), Waker::from(counter))
    }

    #[test]
    fn a_value_that_arrives_after_the_wait_wakes_the_waiter_once() {
        let mut slots = Slots::default();
        let id = slots.open();
        let (count, w) = waker();
        assert_eq!(slots.take_or_wait(id, &w), None);
        let to_wake = slots.arrive(id, "yes").expect("the waiter's waker");
        to_wake.wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(slots.take_or_wait(id, &w), Some("yes"));
        assert!(slots.is_empty(), "taking the value closes the slot");
        assert_eq!(slots.take_or_wait(id, &w), None, "and only once");
    }

    #[test]
    fn a_value_that_arrives_before_any_wait_is_kept_for_the_first_poll() {
        let mut slots = Slots::default();
        let id = slots.open();
        assert!(slots.arrive(id, 7).is_none(), "nobody waits yet");
        let (_, w) = waker();
        assert_eq!(slots.take_or_wait(id, &w), Some(7));
    }

    #[test]
    fn a_second_settlement_is_ignored() {
        let mut slots = Slots::default();
        let id = slots.open();
        let (_, w) = waker();
        assert_eq!(slots.take_or_wait(id, &w), None);
        assert!(slots.arrive(id, 1).is_some());
        assert!(slots.arrive(id, 2).is_none(), "no second wake");
        assert_eq!(
            slots.take_or_wait(id, &w),
            Some(1),
            "the first value stands"
        );
    }

    #[test]
    fn a_value_for_a_closed_slot_is_dropped() {
        let mut slots = Slots::default();
        let id = slots.open();
        slots.close(id);
        assert!(slots.arrive(id, "late").is_none());
        assert!(slots.is_empty(), "nothing is kept for a dropped future");
    }

    #[test]
    fn each_slot_has_its_own_number() {
        let mut slots: Slots<u8> = Slots::default();
        assert!(slots.is_empty());
        let a = slots.open();
        let b = slots.open();
        assert_ne!(a, b);
        assert!(!slots.is_empty());
        assert_eq!(slots.len(), 2);
        assert!(slots.arrive(b, 2).is_none());
        let (_, w) = waker();
        assert_eq!(slots.take_or_wait(a, &w), None, "a is still waiting");
        assert_eq!(slots.take_or_wait(b, &w), Some(2));
        assert_eq!(slots.len(), 1);
    }
}
