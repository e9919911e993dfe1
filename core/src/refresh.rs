//! When keys move between the three tiers (isolate memory → KV → Entra): a pure policy over
//! timestamps, so the edge only asks and does what it is told.
//!
//! - A warm isolate uses its memory: no KV read, no fetch. After `memory_ttl` it reads KV once
//!   (the scheduled refresh may have rotated the keys there).
//! - The scheduled refresh fetches each set from Entra about every `refresh` seconds (spread by
//!   a per-set offset) and writes KV only when the content changed, or to confirm unchanged
//!   content every [`CONFIRM_AFTER_SECONDS`] (at most four writes a day per set).
//! - An isolate fetches from Entra itself only when KV has nothing usable, or when KV has not been
//!   confirmed for longer than the scheduled refresh should ever allow (the cron is not running).
//! - An unknown `kid` refreshes straight from Entra, at most once per `kid_miss_window` per set.
//! - Keys older than `max_staleness` (since Entra last confirmed them) are never used.

use super::time::UnixTime;
use std::collections::VecDeque;

/// Unchanged content is re-confirmed in KV this often, so readers can tell a live record
/// from one whose refresher died.
pub const CONFIRM_AFTER_SECONDS: i64 = 6 * 3600;

/// When key sets are read from memory, KV or Entra (the module docs tell the tiers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// Target age at which the scheduled refresh fetches a set again (Microsoft: about hourly).
    pub refresh_seconds: i64,
    /// An isolate re-reads KV after holding keys this long.
    pub memory_ttl_seconds: i64,
    /// An unknown `kid` triggers at most one fetch per set in this window.
    pub kid_miss_window_seconds: i64,
    /// Keys not confirmed by Entra for this long are not used (fail closed).
    pub max_staleness_seconds: i64,
    /// After a failed fetch, an isolate waits this long before fetching again.
    pub failure_backoff_seconds: i64,
    /// Unknown kids remembered per set (oldest forgotten first).
    pub unknown_kid_capacity: usize,
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy {
            refresh_seconds: 3600,
            memory_ttl_seconds: 300,
            // Entra publishes new keys well before signing with them, so a kid miss is rare
            // for honest traffic: it means an emergency rotation the scheduled refresh has not
            // seen yet, or an attacker. A minute bounds the first case's outage even under a
            // flood, while the flood costs one fetch a minute per isolate.
            kid_miss_window_seconds: 60,
            // Microsoft.IdentityModel keeps last-known-good keys for an hour; Entra keys live
            // for weeks and roll with overlap, so a day of Entra outage is survivable.
            max_staleness_seconds: 24 * 3600,
            failure_backoff_seconds: 30,
            unknown_kid_capacity: 1024,
        }
    }
}

/// What an isolate holds for one set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    /// When this isolate loaded the keys (from KV or Entra).
    pub loaded_at: UnixTime,
    /// When Entra last confirmed them (the record's `checked_at`).
    pub checked_at: UnixTime,
}

/// What a KV read found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvFound {
    /// Nothing, or nothing readable (corrupt records are treated as missing).
    Nothing,
    /// A record that was believed.
    Record {
        /// When Entra last confirmed its content.
        checked_at: UnixTime,
    },
}

/// The next step for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Use the keys in hand: those held in memory, or the record just read from KV.
    UseHeld,
    /// Read the set's record from KV.
    ReadKv,
    /// Fetch the set from Entra now, before answering.
    FetchEntra,
    /// Nothing fresh enough, and a fetch is not allowed yet (the failure backoff): no keys to
    /// verify with.
    FailClosed,
}

impl CachePolicy {
    fn fresh_enough(&self, checked_at: UnixTime, now: UnixTime) -> bool {
        now.seconds() - checked_at.seconds() <= self.max_staleness_seconds
    }

    fn may_fetch(&self, last_fetch_attempt: Option<UnixTime>, now: UnixTime) -> bool {
        last_fetch_attempt
            .is_none_or(|t| now.seconds() - t.seconds() >= self.failure_backoff_seconds)
    }

    /// The first instant at which [`Self::on_request`] no longer uses `held` as it is: until
    /// then a request is answered with these keys without looking anywhere else.
    pub fn held_until(&self, held: Held) -> UnixTime {
        UnixTime(
            (held.loaded_at.seconds() + self.memory_ttl_seconds)
                .min(held.checked_at.seconds() + self.max_staleness_seconds + 1),
        )
    }

    /// A request arrives; `held` is what memory has.
    pub fn on_request(&self, held: Option<Held>, now: UnixTime) -> Action {
        match held {
            Some(h) if now.seconds() - h.loaded_at.seconds() < self.memory_ttl_seconds => {
                if self.fresh_enough(h.checked_at, now) {
                    Action::UseHeld
                } else {
                    Action::ReadKv
                }
            }
            _ => Action::ReadKv,
        }
    }

    /// After reading KV: should the isolate go to Entra itself (before answering)?
    pub fn after_kv(
        &self,
        found: KvFound,
        last_fetch_attempt: Option<UnixTime>,
        now: UnixTime,
    ) -> Action {
        let abandoned_after = CONFIRM_AFTER_SECONDS + 2 * self.refresh_seconds;
        match found {
            KvFound::Record { checked_at } => {
                let age = now.seconds() - checked_at.seconds();
                if age > abandoned_after && self.may_fetch(last_fetch_attempt, now) {
                    Action::FetchEntra
                } else if self.fresh_enough(checked_at, now) {
                    Action::UseHeld
                } else if self.may_fetch(last_fetch_attempt, now) {
                    Action::FetchEntra
                } else {
                    Action::FailClosed
                }
            }
            KvFound::Nothing if self.may_fetch(last_fetch_attempt, now) => Action::FetchEntra,
            KvFound::Nothing => Action::FailClosed,
        }
    }

    /// After a fetch attempt, may what is held still serve (last known good)?
    pub fn usable(&self, held: Option<Held>, now: UnixTime) -> bool {
        held.is_some_and(|h| self.fresh_enough(h.checked_at, now))
    }

    /// An unknown `kid`: may this isolate fetch from Entra now?
    pub fn kid_miss_may_fetch(&self, last_fetch_attempt: Option<UnixTime>, now: UnixTime) -> bool {
        last_fetch_attempt
            .is_none_or(|t| now.seconds() - t.seconds() >= self.kid_miss_window_seconds)
    }

    /// The scheduled refresh: is this set due? Each set gets a stable offset of up to a quarter
    /// of the interval, so many sets (an allow-list of tenants) spread over several runs.
    pub fn scheduled_due(&self, set_id: &str, checked_at: Option<UnixTime>, now: UnixTime) -> bool {
        let spread = (self.refresh_seconds / 4).max(1);
        let offset = i64::from(fnv1a(set_id) % u32::try_from(spread).unwrap_or(u32::MAX));
        checked_at.is_none_or(|t| now.seconds() - t.seconds() >= self.refresh_seconds - offset)
    }

    /// After a scheduled (or isolate) fetch: write KV? Only when the content changed, or to
    /// re-confirm unchanged content now and then.
    pub fn kv_write_needed(
        &self,
        stored: Option<(&str, UnixTime)>,
        fresh_hash: &str,
        now: UnixTime,
    ) -> bool {
        match stored {
            None => true,
            Some((hash, checked_at)) => {
                hash != fresh_hash || now.seconds() - checked_at.seconds() >= CONFIRM_AFTER_SECONDS
            }
        }
    }
}

fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Recently seen unknown kids, so a repeated random `kid` is refused without any work. Entries
/// expire after the kid-miss window, so a real new key is still found within one window.
#[derive(Debug, Clone, Default)]
pub struct UnknownKids {
    entries: VecDeque<(String, UnixTime)>,
}

impl UnknownKids {
    /// Whether `kid` was found unknown and its entry has not expired at `now`.
    pub fn contains(&self, kid: &str, now: UnixTime) -> bool {
        self.entries
            .iter()
            .any(|(k, until)| k == kid && *until > now)
    }

    /// Notes `kid` as unknown until `until`, forgetting the oldest entries beyond `capacity`.
    pub fn remember(&mut self, kid: &str, until: UnixTime, capacity: usize) {
        self.entries.retain(|(k, _)| k != kid);
        while self.entries.len() >= capacity.max(1) {
            self.entries.pop_front();
        }
        self.entries.push_back((kid.to_owned(), until));
    }

    /// Forget everything (new keys arrived: old misses may now be hits).
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: CachePolicy = CachePolicy {
        refresh_seconds: 3600,
        memory_ttl_seconds: 300,
        kid_miss_window_seconds: 60,
        max_staleness_seconds: 86400,
        failure_backoff_seconds: 30,
        unknown_kid_capacity: 3,
    };

    #[test]
    fn held_until_is_the_first_second_a_request_stops_using_the_held_keys() {
        // Memory's TTL ends first, then staleness ends first.
        for (loaded, checked) in [
            (1_000, 900),
            (100_000, 13_800),
            (1_000, 1_000 - 86_400 + 200),
        ] {
            let keys = held(loaded, checked).expect("held");
            let until = P.held_until(keys).seconds();
            assert_eq!(
                P.on_request(Some(keys), UnixTime(until - 1)),
                Action::UseHeld
            );
            assert_ne!(P.on_request(Some(keys), UnixTime(until)), Action::UseHeld);
        }
    }

    fn held(loaded: i64, checked: i64) -> Option<Held> {
        Some(Held {
            loaded_at: UnixTime(loaded),
            checked_at: UnixTime(checked),
        })
    }

    #[test]
    fn warm_isolates_use_memory_until_the_ttl() {
        assert_eq!(P.on_request(None, UnixTime(0)), Action::ReadKv);
        assert_eq!(P.on_request(held(100, 50), UnixTime(399)), Action::UseHeld);
        assert_eq!(P.on_request(held(100, 50), UnixTime(400)), Action::ReadKv);
        // Too stale to use even inside the TTL.
        assert_eq!(
            P.on_request(held(100_000, 0), UnixTime(100_001)),
            Action::ReadKv
        );
    }

    #[test]
    fn kv_decides_whether_to_go_to_entra() {
        let now = UnixTime(100_000);
        let record = |age: i64| KvFound::Record {
            checked_at: UnixTime(now.0 - age),
        };
        assert_eq!(P.after_kv(record(10), None, now), Action::UseHeld);
        assert_eq!(
            P.after_kv(record(CONFIRM_AFTER_SECONDS), None, now),
            Action::UseHeld
        );
        // The refresher evidently died: fetch, but only outside the failure backoff.
        let abandoned = CONFIRM_AFTER_SECONDS + 2 * 3600 + 1;
        assert_eq!(P.after_kv(record(abandoned), None, now), Action::FetchEntra);
        assert_eq!(
            P.after_kv(record(abandoned), Some(UnixTime(now.0 - 5)), now),
            Action::UseHeld
        );
        assert_eq!(
            P.after_kv(record(86_401), Some(UnixTime(now.0 - 5)), now),
            Action::FailClosed
        );
        assert_eq!(P.after_kv(KvFound::Nothing, None, now), Action::FetchEntra);
        assert_eq!(
            P.after_kv(KvFound::Nothing, Some(UnixTime(now.0 - 5)), now),
            Action::FailClosed
        );
    }

    #[test]
    fn last_known_good_ends_at_max_staleness() {
        assert!(P.usable(held(0, 0), UnixTime(86_400)));
        assert!(!P.usable(held(0, 0), UnixTime(86_401)));
        assert!(!P.usable(None, UnixTime(1)));
    }

    #[test]
    fn kid_misses_fetch_once_per_window() {
        assert!(P.kid_miss_may_fetch(None, UnixTime(0)));
        assert!(!P.kid_miss_may_fetch(Some(UnixTime(100)), UnixTime(159)));
        assert!(P.kid_miss_may_fetch(Some(UnixTime(100)), UnixTime(160)));
    }

    #[test]
    fn scheduled_refresh_is_spread_and_writes_only_changes() {
        let now = UnixTime(1_000_000);
        assert!(P.scheduled_due("a", None, now));
        assert!(P.scheduled_due("a", Some(UnixTime(now.0 - 3600)), now));
        assert!(
            !P.scheduled_due("a", Some(UnixTime(now.0 - 2699)), now),
            "offset is under a quarter"
        );
        let offsets: std::collections::HashSet<bool> = (0..50)
            .map(|i| P.scheduled_due(&format!("tenant-{i}"), Some(UnixTime(now.0 - 3200)), now))
            .collect();
        assert_eq!(offsets.len(), 2, "some sets are due, some are not");
        assert!(P.kv_write_needed(None, "h", now));
        assert!(!P.kv_write_needed(Some(("h", UnixTime(now.0 - 60))), "h", now));
        assert!(P.kv_write_needed(Some(("h", UnixTime(now.0 - 60))), "g", now));
        assert!(P.kv_write_needed(
            Some(("h", UnixTime(now.0 - CONFIRM_AFTER_SECONDS))),
            "h",
            now
        ));
    }

    #[test]
    fn unknown_kids_are_bounded_and_expire() {
        let mut kids = UnknownKids::default();
        for i in 0..10 {
            kids.remember(&format!("k{i}"), UnixTime(100), P.unknown_kid_capacity);
        }
        assert_eq!(kids.entries.len(), 3);
        assert!(kids.contains("k9", UnixTime(99)));
        assert!(!kids.contains("k0", UnixTime(99)), "oldest forgotten");
        assert!(!kids.contains("k9", UnixTime(100)), "expired");
        kids.clear();
        assert!(kids.entries.is_empty());
    }
}
