//! Verified tokens remembered per isolate, so a token presented again skips the signature check
//! and claims parsing. Keyed by SHA-256 of the whole token (a collision would be a forgery, so
//! nothing weaker). An entry lives until the token's `exp`, and only while the key that signed
//! it is still in the key set: a set without that `kid` drops the entry. Rules that depend on
//! the request (route, IP, time, revocation) are evaluated on every request regardless.

use super::identity::VerifiedIdentity;
use super::time::UnixTime;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

/// Tokens larger than this are not cached (Entra tokens are 1–4 KiB; a bigger one is unusual
/// enough not to deserve memory).
pub const MAX_CACHED_TOKEN_BYTES: usize = 8 * 1024;

pub type TokenHash = [u8; 32];

/// However long a token claims to live, an entry is kept at most this long: a token with an
/// absurd `exp` (RFC 7519 allows any) cannot pin itself in memory.
pub const MAX_ENTRY_SECONDS: i64 = 3600;

pub fn hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

pub struct TokenCache {
    capacity: usize,
    entries: HashMap<TokenHash, (Rc<VerifiedIdentity>, UnixTime)>,
    order: VecDeque<TokenHash>,
    /// The key set (its content hash) the entries were checked against last.
    key_set: Option<String>,
}

impl TokenCache {
    pub fn new(capacity: usize) -> Self {
        TokenCache {
            capacity: capacity.max(1),
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
            self.entries.retain(|_, (id, _)| kid_present(&id.kid));
            self.key_set = Some(key_set.to_owned());
        }
    }

    /// A cached identity, if the token is unexpired at `now`. Call [`Self::use_key_set`] first.
    pub fn get(&mut self, token_hash: &TokenHash, now: UnixTime) -> Option<Rc<VerifiedIdentity>> {
        let (identity, inserted) = self.entries.get(token_hash)?;
        if now.seconds() < identity.expires_at
            && now.seconds() < inserted.seconds() + MAX_ENTRY_SECONDS
        {
            Some(Rc::clone(identity))
        } else {
            self.entries.remove(token_hash);
            None
        }
    }

    pub fn insert(&mut self, token_hash: TokenHash, identity: Rc<VerifiedIdentity>, now: UnixTime) {
        if self.entries.len() >= self.capacity {
            // Oldest first; positions of entries already gone are skipped.
            while let Some(old) = self.order.pop_front() {
                if self.entries.remove(&old).is_some() {
                    break;
                }
            }
        }
        if self.entries.insert(token_hash, (identity, now)).is_none() {
            self.order.push_back(token_hash);
        }
        // Keep the order queue from growing without bound through removals.
        if self.order.len() > 2 * self.capacity {
            self.order.retain(|h| self.entries.contains_key(h));
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

    #[test]
    fn hit_until_exp() {
        let mut cache = TokenCache::new(10);
        let h = hash("token-a");
        cache.use_key_set("set1", |_| true);
        cache.insert(h, identity("k1", 100), UnixTime(0));
        assert!(cache.get(&h, UnixTime(99)).is_some());
        assert!(cache.get(&h, UnixTime(100)).is_none(), "exp is exclusive");
        assert!(cache.is_empty(), "expired entries are dropped");
    }

    #[test]
    fn a_new_key_set_keeps_entries_only_while_their_kid_remains() {
        let mut cache = TokenCache::new(10);
        let (a, b) = (hash("a"), hash("b"));
        cache.use_key_set("set1", |_| true);
        cache.insert(a, identity("k1", 100), UnixTime(0));
        cache.insert(b, identity("k2", 100), UnixTime(0));
        cache.use_key_set("set2", |kid| kid == "k2");
        assert!(cache.get(&a, UnixTime(1)).is_none(), "k1 withdrawn");
        assert!(cache.get(&b, UnixTime(1)).is_some());
        // The same set again changes nothing.
        cache.insert(a, identity("k1", 100), UnixTime(0));
        cache.use_key_set("set2", |kid| kid == "k2");
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn entries_live_at_most_an_hour_whatever_exp_says() {
        let mut cache = TokenCache::new(10);
        let h = hash("long-lived");
        cache.insert(h, identity("k", i64::MAX), UnixTime(1000));
        assert!(cache
            .get(&h, UnixTime(1000 + MAX_ENTRY_SECONDS - 1))
            .is_some());
        assert!(cache.get(&h, UnixTime(1000 + MAX_ENTRY_SECONDS)).is_none());
    }

    #[test]
    fn bounded_oldest_out() {
        let mut cache = TokenCache::new(3);
        for i in 0..10 {
            cache.insert(hash(&format!("t{i}")), identity("k", 100), UnixTime(0));
        }
        assert_eq!(cache.len(), 3);
        assert!(cache.get(&hash("t9"), UnixTime(0)).is_some());
        assert!(cache.get(&hash("t0"), UnixTime(0)).is_none());
    }

    #[test]
    fn different_tokens_different_keys() {
        assert_ne!(hash("a.b.c"), hash("a.b.d"));
    }
}
