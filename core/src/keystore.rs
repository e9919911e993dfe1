//! Where each key set comes from: one per tenant (an allow-list), or one for the configured
//! tenant selector. What is kept of a set in Workers KV is `key_record`'s business.

use super::config::{GateConfig, TenantSelector};
use super::metadata::{metadata_url, MetadataVersion};

/// Starts the KV key of every key set's record; the set's id follows.
pub const KV_KEY_PREFIX: &str = "jwks:";

/// Where one key set comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySetSource {
    /// Stable name, also the KV key (after [`KV_KEY_PREFIX`]).
    pub id: String,
    /// For per-tenant sets (an allow-list): the tenant whose tokens this set verifies.
    pub tenant_id: Option<String>,
    /// The metadata documents to read, one per accepted token version.
    pub metadata: Vec<(MetadataVersion, String)>,
    /// The tenant the metadata addresses name: the configured selector, or the allowed tenant.
    pub tenant: TenantSelector,
}

impl KeySetSource {
    /// Where the set's record is kept in KV.
    pub fn kv_key(&self) -> String {
        format!("{KV_KEY_PREFIX}{}", self.id)
    }
}

/// The set that verifies tokens of `tenant` (an unverified hint, read from the token only to
/// choose; the chosen set's keys and issuer rules then decide). With a single set, that set.
pub fn set_for(sets: &[KeySetSource], tenant: impl FnOnce() -> Option<String>) -> Option<usize> {
    match sets {
        [_] => Some(0),
        many => {
            let tid = tenant()?;
            many.iter()
                .position(|s| s.tenant_id.as_deref() == Some(tid.as_str()))
        }
    }
}

/// The key sets a configuration needs. With an allow-list of tenants, one set per tenant (as
/// Microsoft advises: `cache[tid][kid]`); otherwise one set for the configured tenant selector.
pub fn sources(config: &GateConfig) -> Vec<KeySetSource> {
    let selectors: Vec<(TenantSelector, Option<String>)> = match &config.allowed_tenants {
        Some(tenants) => tenants
            .iter()
            .map(|tid| (TenantSelector::Tenant(tid.clone()), Some(tid.clone())))
            .collect(),
        None => vec![(config.tenant.clone(), None)],
    };
    let host = config.authority.host();
    let port = config
        .authority
        .port()
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    selectors
        .into_iter()
        .map(|(tenant, tenant_id)| {
            let versions = [
                (config.accept_v1, MetadataVersion::V1),
                (config.accept_v2, MetadataVersion::V2),
            ];
            let metadata = versions
                .iter()
                .filter(|(accepted, _)| *accepted)
                .map(|(_, version)| {
                    let mut url = metadata_url(&config.authority, &tenant, *version);
                    if let Some(appid) = &config.metadata_appid {
                        url.push_str("?appid=");
                        url.push_str(appid);
                    }
                    (*version, url)
                })
                .collect();
            let mut id = format!("{host}{port}/{}", tenant.path_segment());
            if let Some(appid) = &config.metadata_appid {
                id.push_str("/appid=");
                id.push_str(appid);
            }
            KeySetSource {
                id,
                tenant_id,
                metadata,
                tenant,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::binding;

    const TID: &str = crate::config::tests_support::TENANT;
    const OTHER: &str = "0b5a0c1d-2e3f-4a5b-8c7d-9e0f1a2b3c4d";

    fn config(extra: &[(&str, &str)]) -> GateConfig {
        crate::config::tests_support::config_with(extra)
    }

    #[test]
    fn one_set_per_tenant_selector_or_allowed_tenant() {
        let single = sources(&config(&[]));
        assert_eq!(single.len(), 1);
        assert_eq!(
            single[0].kv_key(),
            format!("jwks:login.microsoftonline.com/{TID}")
        );
        assert_eq!(single[0].metadata.len(), 2, "v1 and v2 metadata");

        let allow = format!("{TID},{OTHER}");
        let multi = sources(&config(&[
            (binding::TENANT_ID, "organizations"),
            (binding::ALLOWED_TENANTS, &allow),
            (binding::TOKEN_VERSIONS, "2.0"),
            (binding::AUTHORITY, "http://127.0.0.1:9780"),
        ]));
        assert_eq!(multi.len(), 2);
        assert_eq!(multi[1].tenant_id.as_deref(), Some(OTHER));
        assert_eq!(multi[1].id, format!("127.0.0.1:9780/{OTHER}"));
        assert_eq!(
            multi[1].metadata,
            [(
                MetadataVersion::V2,
                format!("http://127.0.0.1:9780/{OTHER}/v2.0/.well-known/openid-configuration")
            )]
        );
    }

    #[test]
    fn custom_signing_keys_ask_with_the_appid() {
        let appid = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
        let set = &sources(&config(&[(binding::METADATA_APPID, appid)]))[0];
        assert!(set
            .metadata
            .iter()
            .all(|(_, url)| url.ends_with(&format!("?appid={appid}"))));
        assert!(
            set.id.ends_with(&format!("/appid={appid}")),
            "its own KV record"
        );
    }
}
