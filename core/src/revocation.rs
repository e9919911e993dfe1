//! The revocation list: tokens (`uti`), users (`oid` in a tenant) and calling applications
//! refused even with a valid token. Entries live in KV with an expiry of the longest token
//! lifetime they must outlast, so the list cleans itself.
//!
//! The list fails closed in time, not just at start: a copy serves while it is younger than
//! `max_staleness` (reads failing since), after which requests are refused
//! `503 revocation_unavailable` until a read succeeds. Failed reads back off exponentially
//! instead of being retried by every request.
//!
//! KV key names (written by `scripts/revoke.sh`):
//! `uti:<uti>`, `user:<tid>:<oid>`, `app:<client id>`.

use super::identity::VerifiedIdentity;
use super::time::UnixTime;
use std::collections::HashSet;

/// The KV key that revokes one token, by its `uti`.
pub fn token_key(uti: &str) -> String {
    format!("uti:{uti}")
}

/// The KV key that revokes a user or service principal: its `oid` in its tenant (`tid`).
pub fn user_key(tenant_id: &str, object_id: &str) -> String {
    format!("user:{tenant_id}:{object_id}")
}

/// The KV key that revokes a calling application (`azp`/`appid`).
pub fn app_key(client_id: &str) -> String {
    format!("app:{client_id}")
}

/// When an isolate re-reads the list, and how long a copy may serve while reads fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevocationPolicy {
    /// A copy younger than this is used without reading KV.
    pub refresh_seconds: i64,
    /// A copy older than this (reads failing since) is not used: requests are refused.
    pub max_staleness_seconds: i64,
    /// The longest wait between attempts after failed reads (the first wait is one second,
    /// doubling per failure).
    pub max_backoff_seconds: i64,
}

impl Default for RevocationPolicy {
    fn default() -> Self {
        RevocationPolicy {
            refresh_seconds: 30,
            // A revocation must not stay unenforced for long because KV reads fail; five
            // minutes rides out a blip without refusing traffic for it.
            max_staleness_seconds: 300,
            max_backoff_seconds: 30,
        }
    }
}

/// What the isolate knows about its copy and its reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadState {
    /// When the copy held was read (none held: `None`).
    pub loaded_at: Option<UnixTime>,
    /// Failed reads since the last success.
    pub failures: u32,
    /// When the latest failed read happened.
    pub failed_at: Option<UnixTime>,
}

/// What a request does about the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationStep {
    /// Check against the copy held.
    UseHeld,
    /// Read KV first (one read shared by concurrent requests).
    Read,
    /// No copy fresh enough, and no read due yet: refuse.
    Refuse,
}

impl RevocationPolicy {
    /// Seconds to wait after `failures` failed reads in a row.
    pub fn backoff_seconds(&self, failures: u32) -> i64 {
        let doubling = 1i64 << failures.saturating_sub(1).min(20);
        doubling.min(self.max_backoff_seconds.max(1))
    }

    /// Whether the copy read at `loaded_at` may still be checked against.
    pub fn usable(&self, state: &ReadState, now: UnixTime) -> bool {
        state
            .loaded_at
            .is_some_and(|t| now.seconds() - t.seconds() <= self.max_staleness_seconds)
    }

    /// The next step for a request at `now`.
    pub fn on_request(&self, state: &ReadState, now: UnixTime) -> RevocationStep {
        let fresh = state
            .loaded_at
            .is_some_and(|t| now.seconds() - t.seconds() < self.refresh_seconds);
        if fresh {
            return RevocationStep::UseHeld;
        }
        let backing_off = state
            .failed_at
            .is_some_and(|t| now.seconds() - t.seconds() < self.backoff_seconds(state.failures));
        match (backing_off, self.usable(state, now)) {
            (false, _) => RevocationStep::Read,
            (true, true) => RevocationStep::UseHeld,
            (true, false) => RevocationStep::Refuse,
        }
    }

    /// After a read: the step the waiting request takes.
    pub fn after_read(&self, state: &ReadState, now: UnixTime) -> RevocationStep {
        if self.usable(state, now) {
            RevocationStep::UseHeld
        } else {
            RevocationStep::Refuse
        }
    }
}

impl ReadState {
    /// A read succeeded at `now`: the copy is new and the failures are forgotten.
    pub fn succeeded(&mut self, now: UnixTime) {
        *self = ReadState {
            loaded_at: Some(now),
            failures: 0,
            failed_at: None,
        };
    }

    /// A read failed at `now`: the copy held (if any) stays, and the backoff grows.
    pub fn failed(&mut self, now: UnixTime) {
        self.failures = self.failures.saturating_add(1);
        self.failed_at = Some(now);
    }
}

/// A copy of the revocation list: the KV key names present when it was read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationList {
    keys: HashSet<String>,
}

impl RevocationList {
    /// A list of these KV key names (`uti:…`, `user:…:…`, `app:…`).
    pub fn new(keys: impl IntoIterator<Item = String>) -> Self {
        RevocationList {
            keys: keys.into_iter().collect(),
        }
    }

    /// Which entry revokes this caller, if any (`uti`, `user` or `app`).
    pub fn revoked(&self, id: &VerifiedIdentity) -> Option<&'static str> {
        if id
            .token_id
            .as_deref()
            .is_some_and(|uti| self.keys.contains(&token_key(uti)))
        {
            return Some("uti");
        }
        if self.keys.contains(&user_key(&id.tenant_id, &id.object_id)) {
            return Some("user");
        }
        if self.keys.contains(&app_key(&id.client_id)) {
            return Some("app");
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: RevocationPolicy = RevocationPolicy {
        refresh_seconds: 30,
        max_staleness_seconds: 300,
        max_backoff_seconds: 30,
    };

    fn at(s: i64) -> UnixTime {
        UnixTime(s)
    }

    #[test]
    fn a_fresh_copy_is_used_and_an_old_one_re_read() {
        let mut state = ReadState::default();
        assert_eq!(
            P.on_request(&state, at(0)),
            RevocationStep::Read,
            "nothing held"
        );
        state.succeeded(at(1000));
        assert_eq!(P.on_request(&state, at(1029)), RevocationStep::UseHeld);
        assert_eq!(P.on_request(&state, at(1030)), RevocationStep::Read);
    }

    #[test]
    fn failed_reads_back_off_exponentially_up_to_the_cap() {
        assert_eq!(
            (1..=8).map(|n| P.backoff_seconds(n)).collect::<Vec<_>>(),
            [1, 2, 4, 8, 16, 30, 30, 30]
        );
        assert_eq!(P.backoff_seconds(u32::MAX), 30);
        let mut state = ReadState::default();
        state.succeeded(at(1000));
        state.failed(at(1040));
        state.failed(at(1041));
        assert_eq!(state.failures, 2);
        assert_eq!(
            P.on_request(&state, at(1042)),
            RevocationStep::UseHeld,
            "backing off (2 s), the copy still usable"
        );
        assert_eq!(P.on_request(&state, at(1043)), RevocationStep::Read);
    }

    #[test]
    fn a_copy_past_max_staleness_refuses_until_a_read_succeeds() {
        let mut state = ReadState::default();
        state.succeeded(at(1000));
        assert!(P.usable(&state, at(1300)));
        assert!(!P.usable(&state, at(1301)));
        state.failed(at(1301));
        assert_eq!(P.after_read(&state, at(1301)), RevocationStep::Refuse);
        assert_eq!(
            P.on_request(&state, at(1301)),
            RevocationStep::Refuse,
            "backing off, and the copy is too old"
        );
        assert_eq!(P.on_request(&state, at(1302)), RevocationStep::Read);
        state.succeeded(at(1302));
        assert_eq!(P.after_read(&state, at(1302)), RevocationStep::UseHeld);
        assert_eq!(state.failures, 0);
    }

    #[test]
    fn never_read_means_refuse_after_a_failure() {
        let mut state = ReadState::default();
        state.failed(at(5));
        assert_eq!(P.after_read(&state, at(5)), RevocationStep::Refuse);
        assert_eq!(P.on_request(&state, at(5)), RevocationStep::Refuse);
        assert_eq!(P.on_request(&state, at(6)), RevocationStep::Read);
    }
}
