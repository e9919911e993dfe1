//! Requests waiting on the origin, by number: the origin's answer arrives through a long-lived
//! callback that carries only the number, and finds its request's state here. Entries whose
//! promise never settles (the client went away) are swept once older than the longest wait.

use super::sweep::Sweeper;
use std::collections::HashMap;

/// A table of `T` by number, swept of entries older than a limit.
pub struct Waiting<T> {
    next: u32,
    entries: HashMap<u32, (f64, T)>,
    sweeper: Sweeper,
}

impl<T> Waiting<T> {
    /// Scanned from `floor` entries on; entries older than `max_age_ms` are dropped.
    pub fn new(floor: usize, max_age_ms: f64) -> Self {
        Waiting {
            next: 0,
            entries: HashMap::new(),
            sweeper: Sweeper::new(floor, max_age_ms),
        }
    }

    /// Keeps `entry`, started at `now_ms`; its number finds it again.
    pub fn insert(&mut self, entry: T, now_ms: f64) -> u32 {
        self.sweeper
            .before_insert(&mut self.entries, |(since, _)| *since, now_ms);
        let id = self.next;
        self.next = self.next.wrapping_add(1);
        self.entries.insert(id, (now_ms, entry));
        id
    }

    /// The entry numbered `id`, once (`None`: swept, or taken already).
    pub fn take(&mut self, id: u32) -> Option<T> {
        self.entries.remove(&id).map(|(_, entry)| entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_found_by_its_number_once() {
        let mut waiting = Waiting::new(8, 1_000.0);
        let a = waiting.insert("a", 0.0);
        let b = waiting.insert("b", 1.0);
        assert_ne!(a, b);
        assert_eq!(waiting.take(b), Some("b"));
        assert_eq!(
            waiting.take(b),
            None,
            "settled twice: the second finds nothing"
        );
        assert_eq!(waiting.take(a), Some("a"));
        assert!(waiting.entries.is_empty());
    }

    #[test]
    fn abandoned_entries_are_swept_and_their_answer_goes_nowhere() {
        let mut waiting = Waiting::new(2, 100.0);
        let old = waiting.insert("client gone", 0.0);
        let _ = waiting.insert("also gone", 0.0);
        let young = waiting.insert("waiting", 500.0);
        assert_eq!(
            waiting.entries.len(),
            1,
            "the two old ones swept on the third insert"
        );
        assert_eq!(waiting.take(old), None);
        assert_eq!(waiting.take(young), Some("waiting"));
    }

    #[test]
    fn numbers_wrap_without_colliding_with_live_entries_in_practice() {
        let mut waiting = Waiting::new(4, 1_000.0);
        waiting.next = u32::MAX;
        let last = waiting.insert(1, 0.0);
        let first = waiting.insert(2, 0.0);
        assert_eq!((last, first), (u32::MAX, 0));
        assert_eq!(waiting.take(u32::MAX), Some(1));
        assert_eq!(waiting.take(0), Some(2));
    }
}
