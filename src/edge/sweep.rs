//! Dropping entries older than a limit from a table of requests in flight. A request whose
//! client went away may never see its promise settle, so its entry would stay forever. The
//! table is scanned when it reaches twice its size after the last scan (and at least a floor),
//! so a busy table is not rescanned on every insert.

use std::collections::HashMap;

pub struct Sweeper {
    floor: usize,
    next_at: usize,
    max_age_ms: f64,
}

impl Sweeper {
    pub const fn new(floor: usize, max_age_ms: f64) -> Self {
        Sweeper {
            floor,
            next_at: floor,
            max_age_ms,
        }
    }

    /// Before an insert into `table`: drops entries whose `started_ms` is older than the limit,
    /// if a scan is due.
    pub fn before_insert<V>(
        &mut self,
        table: &mut HashMap<u32, V>,
        started_ms: impl Fn(&V) -> f64,
        now_ms: f64,
    ) {
        if table.len() < self.next_at {
            return;
        }
        table.retain(|_, entry| now_ms - started_ms(entry) < self.max_age_ms);
        self.next_at = (2 * table.len()).max(self.floor);
    }
}
