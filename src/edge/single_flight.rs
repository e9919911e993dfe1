//! One refresh at a time per isolate, without sharing a future between requests.
//!
//! workerd cancels a request that waits on nothing of its own (it looks hung), and I/O objects
//! belong to the request that made them, so a request cannot simply await another request's
//! fetch. The request that leads does the I/O; the others poll for its end with their own short
//! timers, then read the result from isolate memory. Who leads and when a flight is over is
//! `core::flight`'s (tested natively); this adds the clock and the timers.

use super::js;
use entra_gate_core::{Flight, Lead};
use std::time::Duration;

const POLL: Duration = Duration::from_millis(10);

#[derive(Default)]
pub struct SingleFlight {
    flight: Flight,
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

impl SingleFlight {
    /// Leads a new flight unless one younger than `stale_after` is under way.
    pub fn try_lead(&self, stale_after: Duration) -> Option<Lead> {
        self.flight.try_lead(js_sys::Date::now(), ms(stale_after))
    }

    /// Waits (polling) until the flight under way ends or goes stale (`limit` after it began);
    /// true if there was one.
    pub async fn wait(&self, limit: Duration) -> bool {
        let busy = || self.flight.busy(js_sys::Date::now(), ms(limit));
        if !busy() {
            return false;
        }
        while busy() {
            js::sleep(POLL).await;
        }
        true
    }
}
