//! When to (re)fetch signing keys: a pure policy over timestamps, so the edge only asks.
//!
//! Defaults follow Microsoft's rollover guidance: refresh about hourly, on an unknown `kid`
//! refresh at most every 5 minutes (a flood of random kids costs one fetch per window), and on
//! failures keep serving the last known good keys for up to a day.

use super::time::UnixTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// Keys older than this are refreshed before use.
    pub refresh_after_seconds: i64,
    /// An unknown `kid` triggers a refresh at most this often.
    pub kid_miss_interval_seconds: i64,
    /// After a failed fetch, wait this long before trying again.
    pub failure_backoff_seconds: i64,
    /// Past this age, keys are no longer used at all: fail closed.
    pub max_staleness_seconds: i64,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        RefreshPolicy {
            refresh_after_seconds: 3600,
            kid_miss_interval_seconds: 300,
            failure_backoff_seconds: 30,
            max_staleness_seconds: 24 * 3600,
        }
    }
}

/// What the edge knows about its current keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyFreshness {
    /// When the keys in use were fetched (`None`: there are none).
    pub fetched_at: Option<UnixTime>,
    /// When a fetch was last attempted, successful or not.
    pub last_attempt: Option<UnixTime>,
}

impl KeyFreshness {
    fn since(at: Option<UnixTime>, now: UnixTime) -> Option<i64> {
        at.map(|t| now.seconds() - t.seconds())
    }
}

impl RefreshPolicy {
    /// Should keys be fetched before this request is answered?
    pub fn refresh_due(&self, keys: &KeyFreshness, now: UnixTime) -> bool {
        let stale = KeyFreshness::since(keys.fetched_at, now)
            .is_none_or(|age| age >= self.refresh_after_seconds);
        let backing_off = KeyFreshness::since(keys.last_attempt, now)
            .is_some_and(|ago| ago < self.failure_backoff_seconds);
        stale && !backing_off
    }

    /// May the keys still be used (last known good)?
    pub fn usable(&self, keys: &KeyFreshness, now: UnixTime) -> bool {
        KeyFreshness::since(keys.fetched_at, now)
            .is_some_and(|age| age <= self.max_staleness_seconds)
    }

    /// Should an unknown `kid` trigger a refresh now?
    pub fn refresh_on_unknown_kid(&self, keys: &KeyFreshness, now: UnixTime) -> bool {
        KeyFreshness::since(keys.last_attempt, now)
            .is_none_or(|ago| ago >= self.kid_miss_interval_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: RefreshPolicy = RefreshPolicy {
        refresh_after_seconds: 3600,
        kid_miss_interval_seconds: 300,
        failure_backoff_seconds: 30,
        max_staleness_seconds: 86400,
    };

    fn at(fetched: Option<i64>, attempt: Option<i64>) -> KeyFreshness {
        KeyFreshness {
            fetched_at: fetched.map(UnixTime),
            last_attempt: attempt.map(UnixTime),
        }
    }

    #[test]
    fn cold_isolate_fetches_unless_backing_off() {
        assert!(P.refresh_due(&at(None, None), UnixTime(1000)));
        assert!(!P.refresh_due(&at(None, Some(990)), UnixTime(1000)));
        assert!(P.refresh_due(&at(None, Some(970)), UnixTime(1000)));
    }

    #[test]
    fn keys_age_out_then_stay_usable_until_max_staleness() {
        assert!(!P.refresh_due(&at(Some(0), Some(0)), UnixTime(3599)));
        assert!(P.refresh_due(&at(Some(0), Some(0)), UnixTime(3600)));
        assert!(P.usable(&at(Some(0), Some(80000)), UnixTime(86400)));
        assert!(!P.usable(&at(Some(0), Some(80000)), UnixTime(86401)));
        assert!(!P.usable(&at(None, Some(1)), UnixTime(2)));
    }

    #[test]
    fn unknown_kids_refresh_once_per_window() {
        assert!(P.refresh_on_unknown_kid(&at(Some(0), Some(0)), UnixTime(300)));
        assert!(!P.refresh_on_unknown_kid(&at(Some(0), Some(100)), UnixTime(399)));
    }
}
