//! Verified tokens remembered per isolate, so a token presented again skips the signature check
//! and claims parsing. Keyed by the whole token: a lookup matches only the very same token,
//! byte for byte, so no hash collision can ever stand in for a verification (the map places
//! entries by a keyed SipHash of the token's end, see [`TailHash`]). An entry lives until
//! the token's `exp`, and only while the key that signed it is still in the key set: a set
//! without that `kid` drops the entry. Rules that depend on the request (route, IP, time,
//! revocation) are evaluated on every request regardless.
//!
//! Only verified tokens are inserted, so a caller cannot fill the map with keys of its choosing.
//! Each entry belongs to the key set that verified it (one per tenant with an allow-list), and a
//! set's change touches only its own entries.

use super::identity::VerifiedIdentity;
use super::time::UnixTime;
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::rc::Rc;

/// Tokens larger than this are not cached (Entra tokens are 1–4 KiB; a bigger one is unusual
/// enough not to deserve memory).
pub const MAX_CACHED_TOKEN_BYTES: usize = 8 * 1024;

/// However long a token claims to live, an entry is kept at most this long: a token with an
/// absurd `exp` (RFC 7519 allows any) cannot pin itself in memory.
pub const MAX_ENTRY_SECONDS: i64 = 3600;

/// An isolate's verified tokens, bounded by count and by bytes (the module docs tell the rules).
pub struct TokenCache {
    capacity: usize,
    /// Token bytes held at most (the tokens themselves are the keys).
    max_bytes: usize,
    bytes: usize,
    entries: HashMap<Rc<str>, Entry, TailHash>,
    order: VecDeque<Rc<str>>,
    /// Per key set (by id): the content hash its entries were checked against last.
    key_sets: HashMap<Rc<str>, String>,
}

/// The map's hasher: SipHash (randomly keyed, as `HashMap`'s own) over a token's length and its
/// last [`HASHED_TAIL_BYTES`] bytes only. A JWS ends with its signature, so two different tokens
/// differ there; equality still compares every byte, so this only places entries. A new token
/// is hashed four times (look-up, re-insert check, eviction, insert): the whole 1 KB token cost
/// about 4 µs per request in the worker's wasm, 1,024 bytes of SipHash each time.
#[derive(Default)]
struct TailHash(RandomState);

/// Enough of a signature (RS256's is 342 characters) to place tokens evenly.
const HASHED_TAIL_BYTES: usize = 32;

impl BuildHasher for TailHash {
    type Hasher = TailHasher;

    fn build_hasher(&self) -> TailHasher {
        TailHasher(self.0.build_hasher())
    }
}

struct TailHasher(std::collections::hash_map::DefaultHasher);

impl Hasher for TailHasher {
    fn write(&mut self, bytes: &[u8]) {
        let tail = bytes
            .get(bytes.len().saturating_sub(HASHED_TAIL_BYTES)..)
            .unwrap_or(bytes);
        self.0.write_usize(bytes.len());
        self.0.write(tail);
    }

    fn finish(&self) -> u64 {
        self.0.finish()
    }
}

struct Entry {
    identity: Rc<VerifiedIdentity>,
    inserted: UnixTime,
    key_set: Rc<str>,
}

impl TokenCache {
    /// At most `capacity` tokens and `max_bytes` of token text.
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        TokenCache {
            capacity: capacity.max(1),
            max_bytes: max_bytes.max(MAX_CACHED_TOKEN_BYTES),
            bytes: 0,
            entries: HashMap::with_hasher(TailHash::default()),
            order: VecDeque::new(),
            key_sets: HashMap::new(),
        }
    }

    /// How many tokens are held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no token is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Positions in the eviction order, stale ones included (what compaction bounds).
    #[cfg(test)]
    fn positions(&self) -> usize {
        self.order.len()
    }

    /// Follows key set `set_id` as it is now: when its content changed, its entries whose `kid`
    /// it no longer holds are dropped (once per change, not per lookup).
    pub fn use_key_set(
        &mut self,
        set_id: &str,
        content_hash: &str,
        kid_present: impl Fn(&str) -> bool,
    ) {
        if self.key_sets.get(set_id).map(String::as_str) == Some(content_hash) {
            return;
        }
        let mut freed = 0;
        self.entries.retain(|token, entry| {
            let keep = &*entry.key_set != set_id || kid_present(&entry.identity.kid);
            if !keep {
                freed += token.len();
            }
            keep
        });
        self.bytes -= freed;
        self.key_sets.insert(set_id.into(), content_hash.to_owned());
    }

    /// A cached identity, if `token` is unexpired at `now`. Call [`Self::use_key_set`] first.
    pub fn get(&mut self, token: &str, now: UnixTime) -> Option<Rc<VerifiedIdentity>> {
        let entry = self.entries.get(token)?;
        if now.seconds() < entry.identity.expires_at
            && now.seconds() < entry.inserted.seconds() + MAX_ENTRY_SECONDS
        {
            Some(Rc::clone(&entry.identity))
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

    /// Remembers a token verified with key set `set_id`; oversized tokens are not kept.
    pub fn insert(
        &mut self,
        set_id: &str,
        token: &str,
        identity: Rc<VerifiedIdentity>,
        now: UnixTime,
    ) {
        if token.len() > MAX_CACHED_TOKEN_BYTES {
            return;
        }
        let key_set: Rc<str> = match self.key_sets.get_key_value(set_id) {
            Some((id, _)) => Rc::clone(id),
            None => set_id.into(),
        };
        let entry = Entry {
            identity,
            inserted: now,
            key_set,
        };
        if self.remove(token) {
            self.entries.insert(token.into(), entry);
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
        self.entries.insert(token, entry);
        // Positions of removed entries still hold their token's text: compact before they
        // outweigh the entries themselves.
        if self.order.len() > 2 * self.entries.len() + 64 {
            let entries = &self.entries;
            self.order.retain(|t| entries.contains_key(t));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{TokenKind, TokenVersion};

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
            groups: vec![],
            groups_overage: false,
            extra_claims: vec![],
        })
    }

    fn cache(capacity: usize) -> TokenCache {
        TokenCache::new(capacity, 1 << 20)
    }

    #[test]
    fn tokens_that_end_alike_are_still_different_tokens() {
        let mut cache = cache(10);
        cache.use_key_set("s", "set1", |_| true);
        let tail = "-the-same-signature-at-the-end-of-both-tokens";
        let first = format!("first{tail}");
        let other = format!("other{tail}");
        cache.insert("s", &first, identity("k1", 100), UnixTime(0));
        assert!(cache.get(&first, UnixTime(1)).is_some());
        assert!(
            cache.get(&other, UnixTime(1)).is_none(),
            "the whole token is compared"
        );
        cache.insert("s", &other, identity("k2", 100), UnixTime(0));
        assert_eq!(cache.len(), 2);
        assert_eq!(&*cache.get(&first, UnixTime(1)).unwrap().kid, "k1");
        assert_eq!(&*cache.get(&other, UnixTime(1)).unwrap().kid, "k2");
    }

    #[test]
    fn hit_until_exp() {
        let mut cache = cache(10);
        cache.use_key_set("s", "set1", |_| true);
        cache.insert("s", "token-a", identity("k1", 100), UnixTime(0));
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
        cache.use_key_set("s", "set1", |_| true);
        cache.insert("s", a, identity("k1", 100), UnixTime(0));
        cache.insert("s", b, identity("k2", 100), UnixTime(0));
        cache.use_key_set("s", "set2", |kid| kid == "k2");
        assert!(cache.get(a, UnixTime(1)).is_none(), "k1 withdrawn");
        assert!(cache.get(b, UnixTime(1)).is_some());
        // The same set again changes nothing.
        cache.insert("s", a, identity("k1", 100), UnixTime(0));
        cache.use_key_set("s", "set2", |kid| kid == "k2");
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn entries_live_at_most_an_hour_whatever_exp_says() {
        let mut cache = cache(10);
        let h = "long-lived";
        cache.insert("s", h, identity("k", i64::MAX), UnixTime(1000));
        assert!(cache
            .get(h, UnixTime(1000 + MAX_ENTRY_SECONDS - 1))
            .is_some());
        assert!(cache.get(h, UnixTime(1000 + MAX_ENTRY_SECONDS)).is_none());
    }

    #[test]
    fn bounded_oldest_out() {
        let mut cache = cache(3);
        for i in 0..10 {
            cache.insert("s", &format!("t{i}"), identity("k", 100), UnixTime(0));
        }
        assert_eq!(cache.len(), 3);
        assert!(cache.get("t9", UnixTime(0)).is_some());
        assert!(cache.get("t0", UnixTime(0)).is_none());
    }

    #[test]
    fn one_key_set_changing_leaves_the_others_alone() {
        let mut cache = cache(10);
        cache.use_key_set("tenant-a", "a1", |_| true);
        cache.use_key_set("tenant-b", "b1", |_| true);
        cache.insert("tenant-a", "ta", identity("ka", 100), UnixTime(0));
        cache.insert("tenant-b", "tb", identity("kb", 100), UnixTime(0));
        // Tenant a's keys changed and no longer hold anything; b's entry has a kid a lacks.
        cache.use_key_set("tenant-a", "a2", |_| false);
        assert!(cache.get("ta", UnixTime(1)).is_none(), "a's kid withdrawn");
        assert!(cache.get("tb", UnixTime(1)).is_some(), "b untouched");
        // Alternating between unchanged sets drops nothing.
        cache.use_key_set("tenant-b", "b1", |_| false);
        cache.use_key_set("tenant-a", "a2", |_| false);
        assert!(cache.get("tb", UnixTime(1)).is_some());
    }

    #[test]
    fn only_the_very_same_token_hits() {
        let mut cache = cache(10);
        cache.insert("s", "a.b.c", identity("k", 100), UnixTime(0));
        assert!(cache.get("a.b.d", UnixTime(0)).is_none());
        assert!(cache.get("a.b.c ", UnixTime(0)).is_none());
        assert!(cache.get("A.b.c", UnixTime(0)).is_none());
        assert!(cache.get("a.b.c", UnixTime(0)).is_some());
    }

    #[test]
    fn bounded_by_bytes_too() {
        let mut cache = TokenCache::new(100, MAX_CACHED_TOKEN_BYTES);
        let big = |c: char| c.to_string().repeat(MAX_CACHED_TOKEN_BYTES / 2);
        cache.insert("s", &big('a'), identity("k", 100), UnixTime(0));
        cache.insert("s", &big('b'), identity("k", 100), UnixTime(0));
        cache.insert("s", &big('c'), identity("k", 100), UnixTime(0));
        assert_eq!(cache.len(), 2, "the oldest went to make room");
        assert!(cache.get(&big('a'), UnixTime(0)).is_none());
        assert!(cache.get(&big('c'), UnixTime(0)).is_some());
    }

    #[test]
    fn oversized_tokens_are_not_kept() {
        let mut cache = cache(10);
        let huge = "x".repeat(MAX_CACHED_TOKEN_BYTES + 1);
        cache.insert("s", &huge, identity("k", 100), UnixTime(0));
        assert!(cache.is_empty());
    }

    #[test]
    fn a_token_of_exactly_the_cap_is_kept() {
        let mut cache = cache(10);
        assert!(cache.is_empty());
        let largest = "x".repeat(MAX_CACHED_TOKEN_BYTES);
        cache.insert("s", &largest, identity("k", 100), UnixTime(0));
        assert!(!cache.is_empty());
        assert!(cache.get(&largest, UnixTime(0)).is_some());
        assert_eq!(MAX_CACHED_TOKEN_BYTES, 8192);
    }

    #[test]
    fn the_hasher_places_by_length_and_tail() {
        let hash = |build: &TailHash, text: &str| build.hash_one(text);
        let build = TailHash::default();
        let base = format!("{}{}", "h".repeat(100), "t".repeat(HASHED_TAIL_BYTES));
        let same_tail = format!("{}{}", "H".repeat(100), "t".repeat(HASHED_TAIL_BYTES));
        let other_tail = format!("{}{}u", "h".repeat(100), "t".repeat(HASHED_TAIL_BYTES - 1));
        let longer = format!("h{base}");
        assert_eq!(
            hash(&build, &base),
            hash(&build, &same_tail),
            "only the tail"
        );
        assert_ne!(hash(&build, &base), hash(&build, &other_tail));
        assert_ne!(
            hash(&build, &base),
            hash(&build, &longer),
            "the length counts"
        );
        assert_ne!(
            hash(&build, "short"),
            hash(&build, "shore"),
            "shorter than the tail"
        );
    }

    #[test]
    fn entries_dropped_with_their_kid_free_their_bytes() {
        let mut cache = TokenCache::new(100, MAX_CACHED_TOKEN_BYTES);
        let (gone, kept, next) = ("a".repeat(4000), "b".repeat(2000), "c".repeat(5000));
        cache.use_key_set("s", "set1", |_| true);
        cache.insert("s", &gone, identity("k1", 100), UnixTime(0));
        cache.insert("s", &kept, identity("k2", 100), UnixTime(0));
        cache.use_key_set("s", "set2", |kid| kid == "k2");
        // 2,000 + 5,000 bytes fit in 8,192: nothing is evicted for the new token.
        cache.insert("s", &next, identity("k2", 100), UnixTime(0));
        assert!(cache.get(&kept, UnixTime(0)).is_some());
        assert!(cache.get(&next, UnixTime(0)).is_some());
    }

    #[test]
    fn reinserting_counts_a_token_once() {
        let mut cache = TokenCache::new(100, MAX_CACHED_TOKEN_BYTES);
        let (first, second) = ("a".repeat(4000), "b".repeat(4192));
        cache.insert("s", &first, identity("k", 100), UnixTime(0));
        cache.insert("s", &first, identity("k", 100), UnixTime(0));
        // Exactly the byte bound: both stay.
        cache.insert("s", &second, identity("k", 100), UnixTime(0));
        assert!(cache.get(&first, UnixTime(0)).is_some());
        assert!(cache.get(&second, UnixTime(0)).is_some());
    }

    /// `keep` tokens then `stale` more under a kid that the key set then withdraws.
    fn with_stale_positions(keep: usize, stale: usize) -> TokenCache {
        let mut cache = cache(1000);
        cache.use_key_set("s", "set1", |_| true);
        for i in 0..keep {
            cache.insert("s", &format!("keep{i}"), identity("k", 100), UnixTime(0));
        }
        for i in 0..stale {
            cache.insert("s", &format!("stale{i}"), identity("old", 100), UnixTime(0));
        }
        cache.use_key_set("s", "set2", |kid| kid == "k");
        cache
    }

    #[test]
    fn stale_positions_are_compacted_past_twice_the_entries_and_64() {
        // After the insert: 3 entries, 70 positions, which is not more than 2 × 3 + 64.
        let mut cache = with_stale_positions(2, 67);
        cache.insert("s", "new", identity("k", 100), UnixTime(0));
        assert_eq!(cache.positions(), 70);
        // One position more than that: compacted to the entries.
        let mut cache = with_stale_positions(2, 68);
        cache.insert("s", "new", identity("k", 100), UnixTime(0));
        assert_eq!(cache.positions(), 3);
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn reinserting_does_not_grow() {
        let mut cache = cache(2);
        for _ in 0..5 {
            cache.insert("s", "same", identity("k", 100), UnixTime(0));
        }
        cache.insert("s", "other", identity("k", 100), UnixTime(0));
        assert_eq!(cache.len(), 2);
        assert!(cache.get("same", UnixTime(0)).is_some());
    }
}
