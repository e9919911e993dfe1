//! One refresh at a time per isolate, without sharing a future between requests.
//!
//! workerd cancels a request that waits on nothing of its own (it looks hung), and I/O objects
//! belong to the request that made them, so a request cannot simply await another request's
//! fetch. The request that leads does the I/O; the others poll for its end with their own short
//! timers, then read the result from isolate memory.

use super::js;
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

const POLL: Duration = Duration::from_millis(10);

#[derive(Default)]
struct Marker {
    /// When the flight under way began.
    started_ms: Cell<Option<f64>>,
    /// Counts flights, so a lead only ever ends its own.
    generation: Cell<u64>,
}

#[derive(Default)]
pub struct SingleFlight {
    marker: Rc<Marker>,
}

/// Held by the leading request (or the work it handed to `waitUntil`); dropping it ends the
/// flight, unless a newer flight has replaced it since (this one went stale and was taken over).
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

impl SingleFlight {
    /// A flight younger than `stale_after` is under way. An older one is taken as abandoned (its
    /// request went away without dropping its lead).
    fn busy(&self, stale_after: Duration) -> bool {
        let now = js_sys::Date::now();
        self.marker
            .started_ms
            .get()
            .is_some_and(|t| now - t < stale_after.as_millis() as f64)
    }

    /// Leads a new flight unless one younger than `stale_after` is under way.
    pub fn try_lead(&self, stale_after: Duration) -> Option<Lead> {
        if self.busy(stale_after) {
            return None;
        }
        let generation = self.marker.generation.get().wrapping_add(1);
        self.marker.generation.set(generation);
        self.marker.started_ms.set(Some(js_sys::Date::now()));
        Some(Lead {
            marker: Rc::clone(&self.marker),
            generation,
        })
    }

    /// Waits (polling) until the flight under way ends or goes stale (`limit` after it began);
    /// true if there was one.
    pub async fn wait(&self, limit: Duration) -> bool {
        if !self.busy(limit) {
            return false;
        }
        while self.busy(limit) {
            js::sleep(POLL).await;
        }
        true
    }
}
