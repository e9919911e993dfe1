//! Key sets as the gateway stores them: where each set comes from (one per tenant, or one for a
//! multi-tenant authority), and the record kept in Workers KV. The record holds Entra's documents
//! exactly as fetched; whoever reads it vets every key again, so KV is a cache, never a source of
//! trust.

use super::claims::ClaimRules;
use super::config::{GateConfig, TenantSelector};
use super::issuer::IssuerTemplate;
use super::jwks::{parse_jwks, JwksLimits};
use super::keyset::KeySet;
use super::metadata::{metadata_url, MetadataVersion};
use super::time::UnixTime;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// KV records carry this format number; any other is treated as corrupt and refetched.
pub const RECORD_FORMAT: u32 = 1;
/// Two JWKS documents and their metadata fit in a few tens of KiB.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;
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
    pub tenant: TenantSelector,
}

impl KeySetSource {
    pub fn kv_key(&self) -> String {
        format!("{KV_KEY_PREFIX}{}", self.id)
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

/// One version's documents as fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSource {
    pub version: StoredVersion,
    pub metadata_url: String,
    pub jwks_uri: String,
    pub issuer: String,
    /// The JWKS document text exactly as Entra served it.
    pub jwks: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoredVersion {
    #[serde(rename = "v1")]
    V1,
    #[serde(rename = "v2")]
    V2,
}

impl From<MetadataVersion> for StoredVersion {
    fn from(v: MetadataVersion) -> Self {
        match v {
            MetadataVersion::V1 => StoredVersion::V1,
            MetadataVersion::V2 => StoredVersion::V2,
        }
    }
}

/// The KV record of one key set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredKeySet {
    pub format: u32,
    pub set: String,
    /// When this content was first fetched.
    pub fetched_at: i64,
    /// When Entra last confirmed this content (a fetch returned the same documents).
    pub checked_at: i64,
    /// [`content_hash`] of `sources`.
    pub content_hash: String,
    pub sources: Vec<StoredSource>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordError {
    TooLarge { length: usize },
    Corrupt { detail: String },
    OtherSet { found: String },
    HashMismatch,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::TooLarge { length } => write!(f, "record of {length} bytes is too large"),
            RecordError::Corrupt { detail } => write!(f, "record is corrupt: {detail}"),
            RecordError::OtherSet { found } => write!(f, "record belongs to set {found:?}"),
            RecordError::HashMismatch => f.write_str("record content does not match its hash"),
        }
    }
}

/// SHA-256 over every source's version, issuer, key document address and text, in order.
pub fn content_hash(sources: &[StoredSource]) -> String {
    let mut hasher = Sha256::new();
    for source in sources {
        let version = match source.version {
            StoredVersion::V1 => "v1",
            StoredVersion::V2 => "v2",
        };
        for part in [version, &source.issuer, &source.jwks_uri, &source.jwks] {
            hasher.update(part.as_bytes());
            hasher.update([0u8]);
        }
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl StoredKeySet {
    pub fn new(set: &str, sources: Vec<StoredSource>, now: UnixTime) -> Self {
        StoredKeySet {
            format: RECORD_FORMAT,
            set: set.to_owned(),
            fetched_at: now.seconds(),
            checked_at: now.seconds(),
            content_hash: content_hash(&sources),
            sources,
        }
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a record for `set`, refusing anything that is not exactly what we wrote.
    pub fn decode(bytes: &[u8], set: &str) -> Result<Self, RecordError> {
        if bytes.len() > MAX_RECORD_BYTES {
            return Err(RecordError::TooLarge {
                length: bytes.len(),
            });
        }
        let record: StoredKeySet =
            super::json::from_object(bytes).map_err(|detail| RecordError::Corrupt { detail })?;
        if record.format != RECORD_FORMAT {
            return Err(RecordError::Corrupt {
                detail: format!("format {}", record.format),
            });
        }
        if record.set != set {
            return Err(RecordError::OtherSet { found: record.set });
        }
        if record.content_hash != content_hash(&record.sources) {
            return Err(RecordError::HashMismatch);
        }
        Ok(record)
    }

    /// Vets the stored documents and builds the keys and claim rules they imply.
    pub fn build<P>(&self, config: &GateConfig) -> Result<Built<P>, String> {
        let limits = JwksLimits::default();
        let mut intakes = Vec::new();
        let (mut v1, mut v2) = (None, None);
        for source in &self.sources {
            let intake = parse_jwks(source.jwks.as_bytes(), &limits)
                .map_err(|e| format!("{}: {e}", source.jwks_uri))?;
            intakes.push(intake);
            let issuer = Some(IssuerTemplate::new(source.issuer.clone()));
            match source.version {
                StoredVersion::V1 => v1 = issuer,
                StoredVersion::V2 => v2 = issuer,
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
        Ok(Built {
            keys: merged.keys,
            rules: ClaimRules::new(config, v1, v2),
            notes,
        })
    }
}

/// Keys and rules built from a record, plus what intake left out (for the log).
pub struct Built<P> {
    pub keys: KeySet<P>,
    pub rules: ClaimRules,
    pub notes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::{binding, from_bindings};
    use std::collections::HashMap;

    const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const OTHER: &str = "0b5a0c1d-2e3f-4a5b-8c7d-9e0f1a2b3c4d";

    fn config(extra: &[(&str, &str)]) -> GateConfig {
        let mut map: HashMap<&str, &str> = HashMap::from([
            (binding::TENANT_ID, TID),
            (binding::AUDIENCES, "api://x"),
            (binding::ORIGIN_URL, "https://origin.example"),
        ]);
        map.extend(extra.iter().copied());
        from_bindings(|name| map.get(name).map(|v| v.to_string())).expect("valid config")
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

    fn record() -> StoredKeySet {
        let source = StoredSource {
            version: StoredVersion::V2,
            metadata_url:
                "https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration".into(),
            jwks_uri: "https://login.microsoftonline.com/t/discovery/v2.0/keys".into(),
            issuer: "https://login.microsoftonline.com/t/v2.0".into(),
            jwks: r#"{"keys":[]}"#.into(),
        };
        StoredKeySet::new("login.microsoftonline.com/t", vec![source], UnixTime(1000))
    }

    #[test]
    fn records_round_trip_and_refuse_tampering() {
        let r = record();
        let text = r.encode();
        assert_eq!(StoredKeySet::decode(text.as_bytes(), &r.set), Ok(r.clone()));
        assert!(matches!(
            StoredKeySet::decode(text.as_bytes(), "another/set"),
            Err(RecordError::OtherSet { .. })
        ));
        let tampered = text.replace(r#"{\"keys\":[]}"#, r#"{\"keys\":[{}]}"#);
        assert_ne!(tampered, text);
        assert_eq!(
            StoredKeySet::decode(tampered.as_bytes(), &r.set),
            Err(RecordError::HashMismatch)
        );
        let future = text.replace("\"format\":1", "\"format\":2");
        assert!(matches!(
            StoredKeySet::decode(future.as_bytes(), &r.set),
            Err(RecordError::Corrupt { .. })
        ));
        assert!(matches!(
            StoredKeySet::decode(b"garbage", &r.set),
            Err(RecordError::Corrupt { .. })
        ));
        assert!(matches!(
            StoredKeySet::decode(b"[]", &r.set),
            Err(RecordError::Corrupt { .. })
        ));
    }

    #[test]
    fn the_hash_covers_content_not_timestamps() {
        let mut a = record();
        let b = record();
        a.checked_at += 500;
        assert_eq!(content_hash(&a.sources), content_hash(&b.sources));
        a.sources[0].issuer.push('x');
        assert_ne!(content_hash(&a.sources), content_hash(&b.sources));
    }

    #[test]
    fn a_record_without_usable_keys_builds_nothing() {
        let built = record().build::<()>(&config(&[]));
        assert!(built.is_err_and(|e| e.contains("no usable signing keys")));
    }
}
