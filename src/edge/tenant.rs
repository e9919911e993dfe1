//! The tenant's keys and issuer rules as this isolate holds them, refreshed when the core's
//! [`RefreshPolicy`] says so. Keys live in isolate memory with their imported `CryptoKey`s.

use super::{fetch, log};
use crate::core::claims::ClaimRules;
use crate::core::config::GateConfig;
use crate::core::jwks::{parse_jwks, JwksLimits};
use crate::core::keyset::KeySet;
use crate::core::metadata::{metadata_url, parse_metadata, MetadataVersion, MAX_METADATA_BYTES};
use crate::core::refresh::{KeyFreshness, RefreshPolicy};
use crate::core::time::UnixTime;
use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;
use web_sys::CryptoKey;

/// Keys and the rules that go with them, fetched together so they always agree.
pub struct Snapshot {
    pub keys: KeySet<CryptoKey>,
    pub rules: ClaimRules,
}

pub struct TenantKeys {
    config: Rc<GateConfig>,
    policy: RefreshPolicy,
    current: RefCell<Option<Rc<Snapshot>>>,
    freshness: Cell<KeyFreshness>,
}

thread_local! {
    static TENANT: OnceCell<Rc<TenantKeys>> = const { OnceCell::new() };
}

impl TenantKeys {
    pub fn for_isolate(config: &Rc<GateConfig>) -> Rc<TenantKeys> {
        TENANT.with(|cell| {
            Rc::clone(cell.get_or_init(|| {
                Rc::new(TenantKeys {
                    config: Rc::clone(config),
                    policy: RefreshPolicy::default(),
                    current: RefCell::new(None),
                    freshness: Cell::new(KeyFreshness::default()),
                })
            }))
        })
    }

    /// The keys to verify with now, refreshing first if they are due; `None` fails closed.
    pub async fn current(&self, now: UnixTime) -> Option<Rc<Snapshot>> {
        if self.policy.refresh_due(&self.freshness.get(), now) {
            self.refresh(now).await;
        }
        if self.policy.usable(&self.freshness.get(), now) {
            self.current.borrow().clone()
        } else {
            log::keys_unavailable();
            None
        }
    }

    /// A fresh snapshot after an unknown `kid`, if the policy allows a fetch now.
    pub async fn refresh_for_unknown_kid(&self, now: UnixTime) -> Option<Rc<Snapshot>> {
        if !self
            .policy
            .refresh_on_unknown_kid(&self.freshness.get(), now)
        {
            return None;
        }
        self.refresh(now)
            .await
            .then(|| self.current.borrow().clone())
            .flatten()
    }

    async fn refresh(&self, now: UnixTime) -> bool {
        let mut freshness = self.freshness.get();
        freshness.last_attempt = Some(now);
        self.freshness.set(freshness);
        match load(&self.config).await {
            Ok(snapshot) => {
                *self.current.borrow_mut() = Some(Rc::new(snapshot));
                freshness.fetched_at = Some(now);
                self.freshness.set(freshness);
                true
            }
            Err(detail) => {
                log::keys_refresh_failed(&detail);
                false
            }
        }
    }
}

async fn load(config: &GateConfig) -> Result<Snapshot, String> {
    let mut intakes = Vec::new();
    let mut issuers = (None, None);
    let versions = [
        (config.accept_v1, MetadataVersion::V1),
        (config.accept_v2, MetadataVersion::V2),
    ];
    for version in versions
        .iter()
        .filter(|(accepted, _)| *accepted)
        .map(|(_, v)| *v)
    {
        let url = metadata_url(&config.authority, &config.tenant, version);
        let document = fetch::get_bounded(&url, MAX_METADATA_BYTES).await?;
        let metadata = parse_metadata(&document, &config.authority, &config.tenant)
            .map_err(|e| format!("{} metadata: {e}", version.as_str()))?;
        let limits = JwksLimits::default();
        let jwks =
            fetch::get_bounded(metadata.jwks_uri.as_str(), limits.max_document_bytes).await?;
        let intake =
            parse_jwks(&jwks, &limits).map_err(|e| format!("{} keys: {e}", version.as_str()))?;
        intakes.push(intake);
        match version {
            MetadataVersion::V1 => issuers.0 = Some(metadata.issuer),
            MetadataVersion::V2 => issuers.1 = Some(metadata.issuer),
        }
    }
    let merged = KeySet::merge(intakes);
    let mut notes: Vec<String> = merged
        .skipped
        .iter()
        .map(|s| format!("{}: {}", s.kid.as_deref().unwrap_or("?"), s.why))
        .collect();
    notes.extend(merged.conflicts.iter().map(ToString::to_string));
    if merged.keys.is_empty() {
        return Err(format!("no usable signing keys ({})", notes.join("; ")));
    }
    log::keys_refreshed(merged.keys.len(), &notes);
    Ok(Snapshot {
        keys: merged.keys,
        rules: ClaimRules::new(config, issuers.0, issuers.1),
    })
}
