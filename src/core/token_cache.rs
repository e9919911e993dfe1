//! Verified tokens remembered per isolate, so a token presented again skips the signature check
//! and claims parsing. Keyed by the whole token: a lookup matches only the very same token,
//! byte for byte, so no hash collision can ever stand in for a verification (and the map's
//! own SipHash costs about a microsecond where SHA-256 in wasm cost eight). An entry lives until
//! the token's `exp`, and only while the key that signed it is still in the key set: a set
//! without that `kid` drops the entry. Rules that depend on the request (route, IP, time,
//! revocation) are evaluated on every request regardless.
//!
//! Only verified tokens are inserted, so a caller cannot fill the map with keys of its choosing.

use super::identity::VerifiedIdentity;
use super::time::UnixTime;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

/// Tokens larger than this are not cached (Entra tokens are 1–4 KiB; a bigger one is unusual
/// enough not to deserve memory).
pub const MAX_CACHED_TOKEN_BYTES: usize = 8 * 1024;

/// However long a token claims to live, an entry is kept at most this long: a token with an
/// absurd `exp` (RFC 7519 allows any) cannot pin itself in memory.
pub const MAX_ENTRY_SECONDS: i64 = 3600;

pub struct TokenCache {
    capacity: usize,
    /// Token bytes held at most (the tokens themselves are the keys).
    max_bytes: usize,
    bytes: usize,
    entries: HashMap<Rc<str>, (Rc<VerifiedIdentity>, UnixTime)>,
    order: VecDeque<Rc<str>>,
    /// The key set (its content hash) the entries were checked against last.
    key_set: Option<String>,
}

impl TokenCache {
    /// At most `capacity` tokens and `max_bytes` of token text.
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        TokenCache {
            capacity: capacity.max(1),
            max_bytes: max_bytes.max(MAX_CACHED_TOKEN_BYTES),
            bytes: 0,
            entries: HashMap::new(),
            order: VecDeque::new(),
            key_set: None,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Follows the key set in use: when it changed, entries whose `kid` it no longer holds are
    /// dropped (once per change, not per lookup).
    pub fn use_key_set(&mut self, key_set: &str, kid_present: impl Fn(&str) -> bool) {
        if self.key_set.as_deref() != Some(key_set) {
            let mut freed = 0;
            self.entries.retain(|token, (id, _)| {
                let keep = kid_present(&id.kid);
                if !keep {
                    freed += token.len();
                }
                keep
            });
            self.bytes -= freed;
            self.key_set = Some(key_set.to_owned());
        }
    }

    /// A cached identity, if `token` is unexpired at `now`. Call [`Self::use_key_set`] first.
    pub fn get(&mut self, token: &str, now: UnixTime) -> Option<Rc<VerifiedIdentity>> {
        let (identity, inserted) = self.entries.get(token)?;
        if now.seconds() < identity.expires_at
            && now.seconds() < inserted.seconds() + MAX_ENTRY_SECONDS
        {
            Some(Rc::clone(identity))
        } else {
            self.remove(token);
            None
        }
    }

    fn remove(&mut self, token: &str) -> bool {
        let removed = self.entries.remove(token).is_some();
        if removed {
            self.bytes -= token.len();
        }
        removed
    }

    /// Remembers a verified token; oversized tokens are not kept.
    pub fn insert(&mut self, token: &str, identity: Rc<VerifiedIdentity>, now: UnixTime) {
        if token.len() > MAX_CACHED_TOKEN_BYTES {
            return;
        }
        if self.remove(token) {
            self.entries.insert(token.into(), (identity, now));
            self.bytes += token.len();
            return;
        }
        while self.entries.len() >= self.capacity || self.bytes + token.len() > self.max_bytes {
            // Oldest first; positions of entries already gone are skipped.
            let Some(old) = self.order.pop_front() else {
                break;
            };
            self.remove(&old);
        }
        let token: Rc<str> = token.into();
        self.bytes += token.len();
        self.order.push_back(Rc::clone(&token));
        self.entries.insert(token, (identity, now));
        // Keep the order queue from growing without bound through removals.
        if self.order.len() > 2 * self.capacity {
            let entries = &self.entries;
            self.order.retain(|t| entries.contains_key(t));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::identity::{TokenKind, TokenVersion};

    fn identity(kid: &str, exp: i64) -> Rc<VerifiedIdentity> {
        Rc::new(VerifiedIdentity {
            tenant_id: "t".into(),
            object_id: "o".into(),
            subject: "s".into(),
            client_id: "c".into(),
            client_auth: None,
            kind: TokenKind::Delegated,
            version: TokenVersion::V2,
            audience: "a".into(),
            issuer: "i".into(),
            kid: kid.into(),
            scopes: vec![],
            roles: vec![],
            acrs: vec![],
            amr: vec![],
            auth_time: None,
            xms_cc: vec![],
            token_id: None,
            ip_address: None,
            expires_at: exp,
            extra_claims: vec![],
        })
    }

    fn cache(capacity: usize) -> TokenCache {
        TokenCache::new(capacity, 1 << 20)
    }

    #[test]
    fn hit_until_exp() {
        let mut cache = cache(10);
        cache.use_key_set("set1", |_| true);
        cache.insert("token-a", identity("k1", 100), UnixTime(0));
        assert!(cache.get("token-a", UnixTime(99)).is_some());
        assert!(
            cache.get("token-a", UnixTime(100)).is_none(),
            "exp is exclusive"
        );
        assert!(cache.is_empty(), "expired entries are dropped");
    }

    #[test]
    fn a_new_key_set_keeps_entries_only_while_their_kid_remains() {
        let mut cache = cache(10);
        let (a, b) = ("a", "b");
        cache.use_key_set("set1", |_| true);
        cache.insert(a, identity("k1", 100), UnixTime(0));
        cache.insert(b, identity("k2", 100), UnixTime(0));
        cache.use_key_set("set2", |kid| kid == "k2");
        assert!(cache.get(a, UnixTime(1)).is_none(), "k1 withdrawn");
        assert!(cache.get(b, UnixTime(1)).is_some());
        // The same set again changes nothing.
        cache.insert(a, identity("k1", 100), UnixTime(0));
        cache.use_key_set("set2", |kid| kid == "k2");
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn entries_live_at_most_an_hour_whatever_exp_says() {
        let mut cache = cache(10);
        let h = "long-lived";
        cache.insert(h, identity("k", i64::MAX), UnixTime(1000));
        assert!(cache
            .get(h, UnixTime(1000 + MAX_ENTRY_SECONDS - 1))
            .is_some());
        assert!(cache.get(h, UnixTime(1000 + MAX_ENTRY_SECONDS)).is_none());
    }

    #[test]
    fn bounded_oldest_out() {
        let mut cache = cache(3);
        for i in 0..10 {
            cache.insert(&format!("t{i}"), identity("k", 100), UnixTime(0));
        }
        assert_eq!(cache.len(), 3);
        assert!(cache.get("t9", UnixTime(0)).is_some());
        assert!(cache.get("t0", UnixTime(0)).is_none());
    }

    #[test]
    fn only_the_very_same_token_hits() {
        let mut cache = cache(10);
        cache.insert("a.b.c", identity("k", 100), UnixTime(0));
        assert!(cache.get("a.b.d", UnixTime(0)).is_none());
        assert!(cache.get("a.b.c ", UnixTime(0)).is_none());
        assert!(cache.get("A.b.c", UnixTime(0)).is_none());
        assert!(cache.get("a.b.c", UnixTime(0)).is_some());
    }

    #[test]
    fn bounded_by_bytes_too() {
        let mut cache = TokenCache::new(100, MAX_CACHED_TOKEN_BYTES);
        let big = |c: char| c.to_string().repeat(MAX_CACHED_TOKEN_BYTES / 2);
        cache.insert(&big('a'), identity("k", 100), UnixTime(0));
        cache.insert(&big('b'), identity("k", 100), UnixTime(0));
        cache.insert(&big('c'), identity("k", 100), UnixTime(0));
        assert_eq!(cache.len(), 2, "the oldest went to make room");
        assert!(cache.get(&big('a'), UnixTime(0)).is_none());
        assert!(cache.get(&big('c'), UnixTime(0)).is_some());
    }

    #[test]
    fn oversized_tokens_are_not_kept() {
        let mut cache = cache(10);
        let huge = "x".repeat(MAX_CACHED_TOKEN_BYTES + 1);
        cache.insert(&huge, identity("k", 100), UnixTime(0));
        assert!(cache.is_empty());
    }

    #[test]
    fn reinserting_does_not_grow() {
        let mut cache = cache(2);
        for _ in 0..5 {
            cache.insert("same", identity("k", 100), UnixTime(0));
        }
        cache.insert("other", identity("k", 100), UnixTime(0));
        assert_eq!(cache.len(), 2);
        assert!(cache.get("same", UnixTime(0)).is_some());
    }
}
