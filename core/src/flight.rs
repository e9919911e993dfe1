//! One piece of shared work at a time (a key refresh, a revocation-list read), decided by time
//! alone so it can be tested without a runtime: the first request leads, later ones see the
//! flight busy and wait for it; a flight older than its limit counts as abandoned (its request
//! went away without ending it) and may be taken over. The edge adds the waiting.

use std::cell::Cell;
use std::rc::Rc;

#[derive(Debug, Default)]
struct Marker {
    /// When the flight under way began, in milliseconds.
    started_ms: Cell<Option<f64>>,
    /// Counts flights, so a lead only ever ends its own.
    generation: Cell<u64>,
}

/// The marker of one kind of shared work in an isolate.
#[derive(Debug, Default)]
pub struct Flight {
    marker: Rc<Marker>,
}

/// Held by whoever leads (a request, or the work it handed to `waitUntil`); dropping it ends
/// the flight, unless a newer one has taken over since (this one went stale).
#[derive(Debug)]
pub struct Lead {
    marker: Rc<Marker>,
    generation: u64,
}

impl Drop for Lead {
    fn drop(&mut self) {
        if self.marker.generation.get() == self.generation {
            self.marker.started_ms.set(None);
        }
    }
}

impl Flight {
    /// A flight younger than `stale_after_ms` is under way at `now_ms`.
    pub fn busy(&self, now_ms: f64, stale_after_ms: f64) -> bool {
        self.marker
            .started_ms
            .get()
            .is_some_and(|t| now_ms - t < stale_after_ms)
    }

    /// Leads a new flight at `now_ms`, unless one younger than `stale_after_ms` is under way.
    pub fn try_lead(&self, now_ms: f64, stale_after_ms: f64) -> Option<Lead> {
        if self.busy(now_ms, stale_after_ms) {
            return None;
        }
        let generation = self.marker.generation.get().wrapping_add(1);
        self.marker.generation.set(generation);
        self.marker.started_ms.set(Some(now_ms));
        Some(Lead {
            marker: Rc::clone(&self.marker),
            generation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: f64 = 1000.0;

    #[test]
    fn one_leads_the_others_find_it_busy() {
        let flight = Flight::default();
        assert!(!flight.busy(0.0, LIMIT));
        let lead = flight.try_lead(0.0, LIMIT).expect("first leads");
        assert!(flight.busy(10.0, LIMIT));
        assert!(
            flight.try_lead(10.0, LIMIT).is_none(),
            "a second request waits"
        );
        drop(lead);
        assert!(
            !flight.busy(20.0, LIMIT),
            "dropping the lead ends the flight"
        );
        assert!(flight.try_lead(20.0, LIMIT).is_some());
    }

    #[test]
    fn an_abandoned_flight_goes_stale_and_may_be_taken_over() {
        let flight = Flight::default();
        let abandoned = flight.try_lead(0.0, LIMIT).expect("lead");
        assert!(flight.busy(LIMIT - 1.0, LIMIT));
        assert!(
            !flight.busy(LIMIT, LIMIT),
            "at the limit it is over for waiters too"
        );
        let newer = flight.try_lead(LIMIT, LIMIT).expect("taken over");
        assert!(flight.busy(LIMIT + 1.0, LIMIT));
        // The old lead finally goes away: the newer flight must stay marked.
        drop(abandoned);
        assert!(
            flight.busy(LIMIT + 2.0, LIMIT),
            "an old lead never ends a newer flight"
        );
        drop(newer);
        assert!(!flight.busy(LIMIT + 3.0, LIMIT));
    }

    #[test]
    fn leads_of_separate_flights_are_independent() {
        let keys = Flight::default();
        let revocations = Flight::default();
        let _lead = keys.try_lead(0.0, LIMIT).expect("lead");
        assert!(!revocations.busy(1.0, LIMIT));
        assert!(revocations.try_lead(1.0, LIMIT).is_some());
    }
}
