//! The keys a gateway verifies with: vetted keys from one or more JWKS documents, merged by
//! `kid`, each with a slot for the runtime's prepared form (a WebCrypto `CryptoKey`, a parsed
//! RSA key) so that preparation happens once per key per isolate, not once per token.

use super::jwks::{KeyIntake, SkippedKey, VettedKey};
use crate::quoted::Quoted;
use std::cell::OnceCell;
use std::fmt;

/// Why a key published by more than one document was dropped when merging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeConflict {
    pub kid: String,
}

impl fmt::Display for MergeConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "kid {} names different keys or issuers in different documents",
            Quoted(&self.kid)
        )
    }
}

pub struct KeyEntry<P> {
    key: VettedKey,
    prepared: OnceCell<P>,
}

impl<P> KeyEntry<P> {
    pub fn key(&self) -> &VettedKey {
        &self.key
    }

    pub fn prepared(&self) -> Option<&P> {
        self.prepared.get()
    }

    /// Keeps the first prepared form if two requests raced to prepare the same key.
    pub fn store_prepared(&self, prepared: P) -> &P {
        self.prepared.get_or_init(|| prepared)
    }
}

/// A key set ready for lookups by `kid`.
pub struct KeySet<P> {
    entries: Vec<KeyEntry<P>>,
}

impl<P> Default for KeySet<P> {
    fn default() -> Self {
        KeySet {
            entries: Vec::new(),
        }
    }
}

impl<P> fmt::Debug for KeySet<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|e| &e.key.kid))
            .finish()
    }
}

/// A merged set plus everything left out on the way, for the caller to log.
pub struct MergedKeys<P> {
    pub keys: KeySet<P>,
    pub skipped: Vec<SkippedKey>,
    pub conflicts: Vec<MergeConflict>,
}

impl<P> KeySet<P> {
    /// Merges the intakes of several documents (Entra's v1 and v2 key documents publish the
    /// same keys, the v2 copies with an `issuer`). The same `kid` with the same modulus is one
    /// key that keeps the issuer any copy names; the same `kid` naming different moduli or
    /// different issuers is ambiguous, and every copy is dropped.
    pub fn merge(intakes: Vec<KeyIntake>) -> MergedKeys<P> {
        let mut merged: Vec<VettedKey> = Vec::new();
        let mut conflicted: Vec<String> = Vec::new();
        let mut skipped = Vec::new();
        for intake in intakes {
            skipped.extend(intake.skipped);
            for key in intake.keys {
                if conflicted.contains(&key.kid) {
                    continue;
                }
                match merged.iter().position(|k| k.kid == key.kid) {
                    None => merged.push(key),
                    Some(at) => {
                        let existing = &mut merged[at];
                        let same_issuer = existing.issuer.is_none()
                            || key.issuer.is_none()
                            || existing.issuer == key.issuer;
                        if existing.modulus == key.modulus && same_issuer {
                            if existing.issuer.is_none() {
                                existing.issuer = key.issuer;
                            }
                        } else {
                            conflicted.push(merged.remove(at).kid);
                        }
                    }
                }
            }
        }
        MergedKeys {
            keys: KeySet::from_keys(merged),
            skipped,
            conflicts: conflicted
                .into_iter()
                .map(|kid| MergeConflict { kid })
                .collect(),
        }
    }

    /// A set of exactly these keys, none prepared yet (merging and conflicts are
    /// [`KeySet::merge`]'s business).
    pub fn from_keys(keys: Vec<VettedKey>) -> Self {
        KeySet {
            entries: keys
                .into_iter()
                .map(|key| KeyEntry {
                    key,
                    prepared: OnceCell::new(),
                })
                .collect(),
        }
    }

    /// Exact, case-sensitive match on `kid`.
    pub fn get(&self, kid: &str) -> Option<&KeyEntry<P>> {
        self.entries.iter().find(|e| e.key.kid == kid)
    }

    /// Every `kid`, in the set's order.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.key.kid.as_str())
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the set holds no key.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kid: &str, modulus: u8, issuer: Option<&str>) -> VettedKey {
        VettedKey {
            kid: kid.into(),
            modulus: vec![modulus; 256],
            modulus_b64: String::new(),
            issuer: issuer.map(Into::into),
        }
    }

    fn intake(keys: Vec<VettedKey>) -> KeyIntake {
        KeyIntake {
            keys,
            skipped: vec![],
        }
    }

    #[test]
    fn same_key_in_both_documents_keeps_the_issuer() {
        let v1 = intake(vec![key("a", 1, None), key("b", 2, None)]);
        let v2 = intake(vec![key("a", 1, Some("iss")), key("c", 3, Some("iss"))]);
        let merged = KeySet::<()>::merge(vec![v1, v2]);
        assert!(merged.conflicts.is_empty());
        assert_eq!(merged.keys.kids().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(
            merged.keys.get("a").map(|e| e.key().issuer.as_deref()),
            Some(Some("iss"))
        );
        assert!(merged.keys.get("A").is_none(), "kid match is exact");
    }

    #[test]
    fn conflicting_copies_are_all_dropped() {
        let v1 = intake(vec![key("a", 1, None), key("b", 2, Some("x"))]);
        let v2 = intake(vec![
            key("a", 9, None),
            key("b", 2, Some("y")),
            key("a", 1, None),
        ]);
        let merged = KeySet::<()>::merge(vec![v1, v2]);
        assert!(merged.keys.is_empty());
        assert_eq!(merged.conflicts.len(), 2);
    }

    #[test]
    fn prepared_form_is_kept_once() {
        let set = KeySet::<u32>::from_keys(vec![key("a", 1, None)]);
        let entry = set.get("a").expect("present");
        assert_eq!(entry.prepared(), None);
        assert_eq!(*entry.store_prepared(7), 7);
        assert_eq!(*entry.store_prepared(8), 7);
    }
}
