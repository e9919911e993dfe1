//! The revocation list: tokens (`uti`), users (`oid` in a tenant) and calling applications
//! refused even with a valid token. Entries live in KV with an expiry of the longest token
//! lifetime they must outlast, so the list cleans itself.
//!
//! KV key names (written by `scripts/revoke.sh`):
//! `uti:<uti>`, `user:<tid>:<oid>`, `app:<client id>`.

use super::identity::VerifiedIdentity;
use std::collections::HashSet;

/// The longest an Entra access token lives (Continuous Access Evaluation: 28 h), the default
/// lifetime of an entry.
pub const DEFAULT_ENTRY_SECONDS: u64 = 28 * 3600;

pub fn token_key(uti: &str) -> String {
    format!("uti:{uti}")
}

pub fn user_key(tenant_id: &str, object_id: &str) -> String {
    format!("user:{tenant_id}:{object_id}")
}

pub fn app_key(client_id: &str) -> String {
    format!("app:{client_id}")
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationList {
    keys: HashSet<String>,
}

impl RevocationList {
    pub fn new(keys: impl IntoIterator<Item = String>) -> Self {
        RevocationList {
            keys: keys.into_iter().collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
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
