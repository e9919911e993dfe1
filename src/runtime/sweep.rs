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

#[cfg(test)]
mod tests {
    use super::*;

    fn table(ages: &[f64]) -> HashMap<u32, f64> {
        ages.iter()
            .enumerate()
            .map(|(i, started)| (u32::try_from(i).unwrap_or(u32::MAX), *started))
            .collect()
    }

    #[test]
    fn nothing_is_scanned_below_the_floor() {
        let mut sweeper = Sweeper::new(4, 100.0);
        let mut entries = table(&[0.0, 0.0, 0.0]);
        sweeper.before_insert(&mut entries, |t| *t, 1_000.0);
        assert_eq!(entries.len(), 3, "abandoned, but the table is small");
    }

    #[test]
    fn a_scan_drops_what_is_older_than_the_limit_and_doubles_the_next_threshold() {
        let mut sweeper = Sweeper::new(4, 100.0);
        let mut entries = table(&[0.0, 950.0, 960.0, 10.0]);
        sweeper.before_insert(&mut entries, |t| *t, 1_000.0);
        assert_eq!(entries.len(), 2, "the two young ones stay");
        // Next scan at max(2 × 2, floor 4) = 4 entries: three do not trigger one.
        entries.insert(10, 0.0);
        sweeper.before_insert(&mut entries, |t| *t, 1_000.0);
        assert_eq!(entries.len(), 3);
        entries.insert(11, 0.0);
        sweeper.before_insert(&mut entries, |t| *t, 1_000.0);
        assert_eq!(entries.len(), 2, "four entries: scanned again");
    }

    #[test]
    fn the_limit_itself_is_old_enough() {
        let mut sweeper = Sweeper::new(1, 100.0);
        let mut entries = table(&[900.0, 901.0]);
        sweeper.before_insert(&mut entries, |t| *t, 1_000.0);
        assert_eq!(entries.values().copied().collect::<Vec<_>>(), [901.0]);
    }

    #[test]
    fn a_busy_table_grows_without_a_rescan_per_insert() {
        let mut sweeper = Sweeper::new(2, 100.0);
        let mut entries = HashMap::new();
        let mut scans = 0;
        for i in 0..1_000u32 {
            let before = sweeper.next_at;
            sweeper.before_insert(&mut entries, |t: &f64| *t, 0.0);
            if sweeper.next_at != before {
                scans += 1;
            }
            entries.insert(i, 0.0);
        }
        assert!(scans <= 10, "{scans} scans for 1,000 live inserts");
    }
}
