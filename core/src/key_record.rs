//! The KV record of one key set: Entra's documents exactly as fetched, sealed with an
//! HMAC-SHA-256 under `GATE_SECRET`.
//!
//! KV is a cache, never a trust root. Anyone holding an API token scoped to the namespace can
//! write it, so a record is believed only when all of this holds, in this order:
//! 1. it carries a tag under the gateway's secret over the KV key and the exact JSON text
//!    (a record cannot be forged, nor moved to another key);
//! 2. it is a record of the current format for this very set, and its content hash matches;
//! 3. it says it was fetched from exactly where this configuration would fetch (the metadata
//!    addresses of the accepted token versions, and nothing for other versions), and what it
//!    says the metadata contained passes the same checks a live fetch does (key document on the
//!    authority, issuer naming the configured tenant);
//! 4. its timestamps are ordered and not in the future;
//! 5. it is not older than the copy the isolate holds (adoption is monotonic).
//!
//! Even then every key is vetted again when the record is built into a key set.
//!
//! On the wire: one line `entra-gate-record/2 <base64url tag>`, a newline, then the JSON.

use super::b64;
use super::claims::ClaimRules;
use super::config::GateConfig;
use super::crypto::{CryptoFault, RecordAuthenticator};
use super::issuer::IssuerTemplate;
use super::json::read::{self, Member};
use super::json::write::ObjectWriter;
use super::json::{self, JsonError, Object, Value};
use super::jwks::{parse_jwks, JwksError, JwksLimits};
use super::keyset::KeySet;
use super::keystore::KeySetSource;
use super::metadata::{vet_documents, MetadataVersion};
use super::time::UnixTime;
use crate::quoted::Quoted;
use sha2::{Digest, Sha256};
use std::fmt;

/// The JSON carries this format number; any other is refused and refetched.
pub const RECORD_FORMAT: u32 = 2;
/// Two JWKS documents and their metadata fit in a few tens of KiB.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;
/// The first line of a record, before the tag.
const SEAL_PREFIX: &str = "entra-gate-record/2 ";
/// What the tag covers besides the JSON: the purpose (so a tag made for anything else under the
/// same secret never fits) and the KV key.
const MAC_CONTEXT: &[u8] = b"entra-gate kv record v2\0";
/// Isolates read one clock, but a record written just now by another machine may be a little
/// ahead of this one's.
pub const RECORD_CLOCK_SKEW_SECONDS: i64 = 60;

/// One version's documents as fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSource {
    /// Which token version's metadata this is.
    pub version: StoredVersion,
    /// Where the metadata was read (with `?appid=` when configured).
    pub metadata_url: String,
    /// The metadata's `jwks_uri`, in normal form: where `jwks` was read.
    pub jwks_uri: String,
    /// The metadata's `issuer`, exact or a `{tenantid}` template.
    pub issuer: String,
    /// The JWKS document text exactly as Entra served it.
    pub jwks: String,
}

/// The token version a stored source serves (`v1`/`v2` in the JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredVersion {
    /// The v1 metadata: keys and issuer for `ver` 1.0 tokens.
    V1,
    /// The v2 metadata: keys and issuer for `ver` 2.0 tokens.
    V2,
}

impl StoredVersion {
    /// As the record writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            StoredVersion::V1 => "v1",
            StoredVersion::V2 => "v2",
        }
    }
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKeySet {
    /// [`RECORD_FORMAT`] when written; a record of any other format is refused.
    pub format: u32,
    /// The id of the key set it belongs to (`KeySetSource::id`).
    pub set: String,
    /// When this content was first fetched.
    pub fetched_at: i64,
    /// When Entra last confirmed this content (a fetch returned the same documents).
    pub checked_at: i64,
    /// [`content_hash`] of `sources`.
    pub content_hash: String,
    /// One per accepted token version, in the configuration's order.
    pub sources: Vec<StoredSource>,
}

/// Why a record read from KV is not believed. Every one of these means "as if KV were empty":
/// the keys are fetched from Entra instead.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordError {
    /// Over [`MAX_RECORD_BYTES`].
    TooLarge {
        /// The record's length in bytes.
        length: usize,
    },
    /// No seal line, or a tag that is not 32 bytes of base64url.
    Unsealed,
    /// The tag is not the gateway's (another secret, or edited content).
    BadTag,
    /// Not the JSON of a record of the current format.
    Corrupt {
        /// What is wrong, for the log.
        detail: String,
    },
    /// A record of another key set.
    OtherSet {
        /// The set the record names.
        found: String,
    },
    /// The content does not match its hash.
    HashMismatch,
    /// Not fetched from where this configuration fetches, or saying what a live fetch would
    /// refuse (another tenant's issuer, a key document off the authority, another version).
    NotConfigured {
        /// What differs, for the log.
        detail: String,
    },
    /// Timestamps out of order, or in the future.
    BadTimestamps {
        /// The record's `fetched_at`.
        fetched_at: i64,
        /// The record's `checked_at`.
        checked_at: i64,
    },
    /// Older than the copy this isolate holds.
    Older {
        /// The record's `checked_at`.
        checked_at: i64,
        /// When Entra last confirmed the copy held.
        held_checked_at: i64,
    },
    /// The platform could not check the tag.
    Crypto(CryptoFault),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::TooLarge { length } => write!(f, "record of {length} bytes is too large"),
            RecordError::Unsealed => f.write_str("record has no seal"),
            RecordError::BadTag => f.write_str("record seal does not verify under GATE_SECRET"),
            RecordError::Corrupt { detail } => write!(f, "record is corrupt: {detail}"),
            RecordError::OtherSet { found } => write!(f, "record belongs to set {}", Quoted(found)),
            RecordError::HashMismatch => f.write_str("record content does not match its hash"),
            RecordError::NotConfigured { detail } => {
                write!(f, "record does not match the configuration: {detail}")
            }
            RecordError::BadTimestamps {
                fetched_at,
                checked_at,
            } => write!(
                f,
                "record timestamps fetched_at {fetched_at} / checked_at {checked_at} are out of order or in the future"
            ),
            RecordError::Older {
                checked_at,
                held_checked_at,
            } => write!(
                f,
                "record checked at {checked_at} is older than the copy held (checked at {held_checked_at})"
            ),
            RecordError::Crypto(fault) => fault.fmt(f),
        }
    }
}

impl std::error::Error for RecordError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        if let RecordError::Crypto(fault) = self {
            Some(fault)
        } else {
            None
        }
    }
}

/// SHA-256 over every source's version, issuer, key document address and text, in order.
pub fn content_hash(sources: &[StoredSource]) -> String {
    let mut hasher = Sha256::new();
    for source in sources {
        for part in [
            source.version.as_str(),
            &source.issuer,
            &source.jwks_uri,
            &source.jwks,
        ] {
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

/// The bytes the tag covers.
fn tagged_message(kv_key: &str, json: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(MAC_CONTEXT.len() + kv_key.len() + 1 + json.len());
    message.extend_from_slice(MAC_CONTEXT);
    message.extend_from_slice(kv_key.as_bytes());
    message.push(0);
    message.extend_from_slice(json);
    message
}

/// Splits a stored text into its tag and JSON.
fn unseal(text: &[u8]) -> Result<(Vec<u8>, &[u8]), RecordError> {
    let newline = text
        .iter()
        .position(|&b| b == b'\n')
        .ok_or(RecordError::Unsealed)?;
    let (line, rest) = text.split_at(newline);
    let json = rest.get(1..).unwrap_or_default();
    let tag = line
        .strip_prefix(SEAL_PREFIX.as_bytes())
        .and_then(|t| std::str::from_utf8(t).ok())
        .and_then(b64::decode)
        .filter(|t| t.len() == 32)
        .ok_or(RecordError::Unsealed)?;
    Ok((tag, json))
}

/// Seals JSON text as a record stored under `kv_key` (what [`StoredKeySet::seal`] does for a
/// record; tools and tests that write records of their own use this).
pub async fn seal_json<A: RecordAuthenticator>(
    kv_key: &str,
    json: &str,
    authenticator: &A,
) -> Result<String, CryptoFault> {
    let tag = authenticator
        .tag(&tagged_message(kv_key, json.as_bytes()))
        .await?;
    Ok(format!("{SEAL_PREFIX}{}\n{json}", b64::encode(&tag)))
}

/// What the isolate holds of a set, for the monotonic-adoption check.
#[derive(Debug, Clone, Copy)]
pub struct HeldCopy<'a> {
    /// [`content_hash`] of the held content: a record of the same content is never older.
    pub content_hash: &'a str,
    /// When Entra last confirmed the held copy.
    pub checked_at: UnixTime,
}

impl StoredKeySet {
    /// A record of documents fetched just now (`fetched_at` and `checked_at` both `now`).
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

    /// The record's JSON: members in declaration order, as serde wrote them (sealed records
    /// already in KV were written so; reading does not depend on the order).
    fn json(&self) -> String {
        let sources: Vec<String> = self
            .sources
            .iter()
            .map(|source| {
                ObjectWriter::new()
                    .str("version", source.version.as_str())
                    .str("metadata_url", &source.metadata_url)
                    .str("jwks_uri", &source.jwks_uri)
                    .str("issuer", &source.issuer)
                    .str("jwks", &source.jwks)
                    .finish()
            })
            .collect();
        ObjectWriter::new()
            .u64("format", u64::from(self.format))
            .str("set", &self.set)
            .i64("fetched_at", self.fetched_at)
            .i64("checked_at", self.checked_at)
            .str("content_hash", &self.content_hash)
            .objects("sources", &sources)
            .finish()
    }

    /// Reads a record's JSON (the text after the seal line): every member required, no other
    /// member allowed. Believing it is [`StoredKeySet::open`]'s business.
    pub fn from_json(json: &[u8]) -> Result<StoredKeySet, RecordError> {
        read_record(json).map_err(|e| RecordError::Corrupt {
            detail: e.to_string(),
        })
    }

    /// The text to store under `kv_key`: the seal line, then the JSON.
    pub async fn seal<A: RecordAuthenticator>(
        &self,
        kv_key: &str,
        authenticator: &A,
    ) -> Result<String, CryptoFault> {
        seal_json(kv_key, &self.json(), authenticator).await
    }

    /// Reads the record stored for `source`, believing it only as the module docs say.
    pub async fn open<A: RecordAuthenticator>(
        text: &[u8],
        source: &KeySetSource,
        config: &GateConfig,
        authenticator: &A,
        now: UnixTime,
        held: Option<HeldCopy<'_>>,
    ) -> Result<StoredKeySet, RecordError> {
        if text.len() > MAX_RECORD_BYTES {
            return Err(RecordError::TooLarge { length: text.len() });
        }
        let (tag, json) = unseal(text)?;
        let genuine = authenticator
            .verify_tag(&tagged_message(&source.kv_key(), json), &tag)
            .await
            .map_err(RecordError::Crypto)?;
        if !genuine {
            return Err(RecordError::BadTag);
        }
        let record = StoredKeySet::from_json(json)?;
        record.check(source, config, now, held)?;
        Ok(record)
    }

    /// Steps 2–5 of the module docs, for a record whose tag verified.
    fn check(
        &self,
        source: &KeySetSource,
        config: &GateConfig,
        now: UnixTime,
        held: Option<HeldCopy<'_>>,
    ) -> Result<(), RecordError> {
        if self.format != RECORD_FORMAT {
            return Err(RecordError::Corrupt {
                detail: format!("format {}", self.format),
            });
        }
        if self.set != source.id {
            return Err(RecordError::OtherSet {
                found: self.set.clone(),
            });
        }
        if self.content_hash != content_hash(&self.sources) {
            return Err(RecordError::HashMismatch);
        }
        self.check_sources(source, config)?;
        let latest = now.seconds().saturating_add(RECORD_CLOCK_SKEW_SECONDS);
        if self.fetched_at > self.checked_at || self.checked_at > latest || self.fetched_at < 0 {
            return Err(RecordError::BadTimestamps {
                fetched_at: self.fetched_at,
                checked_at: self.checked_at,
            });
        }
        if let Some(held) = held.filter(|h| self.is_older_than(*h)) {
            return Err(RecordError::Older {
                checked_at: self.checked_at,
                held_checked_at: held.checked_at.seconds(),
            });
        }
        Ok(())
    }

    /// Other content than the copy held, confirmed by Entra before that copy was: adopting it
    /// would step back in time (to keys Entra may have withdrawn since).
    pub fn is_older_than(&self, held: HeldCopy<'_>) -> bool {
        held.content_hash != self.content_hash && self.checked_at < held.checked_at.seconds()
    }

    /// One stored source per accepted version, each from this configuration's metadata address,
    /// each saying what a live fetch would accept.
    fn check_sources(&self, source: &KeySetSource, config: &GateConfig) -> Result<(), RecordError> {
        let not_configured = |detail: String| RecordError::NotConfigured { detail };
        if self.sources.len() != source.metadata.len() {
            return Err(not_configured(format!(
                "{} sources where the configuration reads {}",
                self.sources.len(),
                source.metadata.len()
            )));
        }
        for (stored, (version, url)) in self.sources.iter().zip(&source.metadata) {
            if stored.version != StoredVersion::from(*version) {
                return Err(not_configured(format!(
                    "a {} source where {} is expected",
                    stored.version.as_str(),
                    version.as_str()
                )));
            }
            if stored.metadata_url != *url {
                return Err(not_configured(format!(
                    "metadata from {} instead of {url}",
                    stored.metadata_url
                )));
            }
            let vetted = vet_documents(
                stored.issuer.clone(),
                &stored.jwks_uri,
                &config.authority,
                &source.tenant,
            )
            .map_err(|e| not_configured(e.to_string()))?;
            if vetted.jwks_uri.as_str() != stored.jwks_uri {
                return Err(not_configured(format!(
                    "jwks_uri {} is not in its normal form",
                    stored.jwks_uri
                )));
            }
        }
        Ok(())
    }

    /// Vets the stored documents and builds the keys and claim rules they imply.
    pub fn build<P>(&self, config: &GateConfig) -> Result<Built<P>, BuildError> {
        let limits = JwksLimits::default();
        let mut intakes = Vec::new();
        let (mut v1, mut v2) = (None, None);
        for source in &self.sources {
            let intake =
                parse_jwks(source.jwks.as_bytes(), &limits).map_err(|error| BuildError::Jwks {
                    jwks_uri: source.jwks_uri.clone(),
                    error,
                })?;
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
            return Err(BuildError::NoUsableKeys { notes });
        }
        Ok(Built {
            keys: merged.keys,
            rules: ClaimRules::new(config, v1, v2),
            notes,
        })
    }
}

/// Why a record's documents built no key set.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// A key document that is not a key set.
    Jwks {
        /// Where it came from.
        jwks_uri: String,
        /// What is wrong with it.
        error: JwksError,
    },
    /// Every key was left out (the notes say why, key by key).
    NoUsableKeys {
        /// One note per key left out or conflict found.
        notes: Vec<String>,
    },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Jwks { jwks_uri, error } => write!(f, "{jwks_uri}: {error}"),
            BuildError::NoUsableKeys { notes } => {
                write!(f, "no usable signing keys ({})", notes.join("; "))
            }
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        if let BuildError::Jwks { error, .. } = self {
            Some(error)
        } else {
            None
        }
    }
}

/// Keys and rules built from a record, plus what intake left out (for the log).
pub struct Built<P> {
    /// The vetted keys of every source, merged.
    pub keys: KeySet<P>,
    /// What tokens verified with these keys must claim (issuers from the stored metadata).
    pub rules: ClaimRules,
    /// One line per key left out or conflict found, for the log.
    pub notes: Vec<String>,
}

/// Takes a required member out of a record object.
fn required<'a>(object: &mut Object<'a>, name: &str, within: &str) -> Result<Value<'a>, JsonError> {
    object
        .take(name)
        .ok_or_else(|| JsonError::missing(name, within))
}

fn read_record(json: &[u8]) -> Result<StoredKeySet, JsonError> {
    const MEMBERS: [&str; 6] = [
        "format",
        "set",
        "fetched_at",
        "checked_at",
        "content_hash",
        "sources",
    ];
    const WITHIN: &str = "the key record";
    let mut record = json::parse_object(json)?;
    read::only(&record, &WITHIN, &MEMBERS)?;
    let mut take = |name: &str| required(&mut record, name, WITHIN);
    let integer = |name: &str, value: Value<'_>| {
        read::number(&Member(name), &value)?
            .as_i64()
            .ok_or_else(|| JsonError::out_of_range(Member(name), "a 64-bit integer"))
    };
    let format = read::u32(&Member("format"), &take("format")?)?;
    let set = read::string(&Member("set"), take("set")?)?.into_owned();
    let fetched_at = integer("fetched_at", take("fetched_at")?)?;
    let checked_at = integer("checked_at", take("checked_at")?)?;
    let content_hash = read::string(&Member("content_hash"), take("content_hash")?)?.into_owned();
    let sources = read::array(&Member("sources"), take("sources")?)?
        .into_iter()
        .map(read_source)
        .collect::<Result<_, _>>()?;
    Ok(StoredKeySet {
        format,
        set,
        fetched_at,
        checked_at,
        content_hash,
        sources,
    })
}

fn read_source(value: Value<'_>) -> Result<StoredSource, JsonError> {
    const MEMBERS: [&str; 5] = ["version", "metadata_url", "jwks_uri", "issuer", "jwks"];
    const WITHIN: &str = "a key record source";
    let mut source = read::object(&Member("sources"), value)?;
    read::only(&source, &WITHIN, &MEMBERS)?;
    let mut text = |name: &str| {
        required(&mut source, name, WITHIN)
            .and_then(|v| read::string(&Member(name), v))
            .map(std::borrow::Cow::into_owned)
    };
    let version = match text("version")?.as_str() {
        "v1" => StoredVersion::V1,
        "v2" => StoredVersion::V2,
        other => {
            return Err(JsonError::unknown_variant(
                other,
                Member("version"),
                &["v1", "v2"],
            ))
        }
    };
    Ok(StoredSource {
        version,
        metadata_url: text("metadata_url")?,
        jwks_uri: text("jwks_uri")?,
        issuer: text("issuer")?,
        jwks: text("jwks")?,
    })
}

// Native only: the HMAC and the executor these tests use are native test tools.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::config::binding;
    use crate::crypto::RustHmac;
    use crate::keystore::sources;
    use crate::secret::{GateSecret, TEST_SECRET};

    const TID: &str = crate::config::tests_support::TENANT;
    const OTHER: &str = "0b5a0c1d-2e3f-4a5b-8c7d-9e0f1a2b3c4d";
    const NOW: UnixTime = UnixTime(1_800_000_000);

    fn config(extra: &[(&str, &str)]) -> GateConfig {
        crate::config::tests_support::config_with(extra)
    }

    fn hmac() -> RustHmac {
        let secret = GateSecret::parse(TEST_SECRET).expect("test secret");
        RustHmac::new(secret.as_bytes())
    }

    fn source_for(config: &GateConfig) -> KeySetSource {
        sources(config).remove(0)
    }

    /// The record the gateway would write for `config` after fetching Entra's documents.
    fn record_for(config: &GateConfig) -> StoredKeySet {
        let source = source_for(config);
        let stored = source
            .metadata
            .iter()
            .map(|(version, url)| {
                let (issuer, keys) = match version {
                    MetadataVersion::V1 => (
                        format!("https://sts.windows.net/{TID}/"),
                        format!("https://login.microsoftonline.com/{TID}/discovery/keys"),
                    ),
                    MetadataVersion::V2 => (
                        format!("https://login.microsoftonline.com/{TID}/v2.0"),
                        format!("https://login.microsoftonline.com/{TID}/discovery/v2.0/keys"),
                    ),
                };
                StoredSource {
                    version: (*version).into(),
                    metadata_url: url.clone(),
                    jwks_uri: keys,
                    issuer,
                    jwks: r#"{"keys":[]}"#.into(),
                }
            })
            .collect();
        StoredKeySet::new(&source.id, stored, NOW)
    }

    fn open(
        text: &str,
        config: &GateConfig,
        held: Option<HeldCopy<'_>>,
    ) -> Result<StoredKeySet, RecordError> {
        pollster::block_on(StoredKeySet::open(
            text.as_bytes(),
            &source_for(config),
            config,
            &hmac(),
            NOW,
            held,
        ))
    }

    fn sealed(record: &StoredKeySet, kv_key: &str) -> String {
        pollster::block_on(record.seal(kv_key, &hmac())).expect("sealed")
    }

    /// Re-seals `record` after `edit`, as someone holding the secret would.
    fn resealed(config: &GateConfig, edit: impl FnOnce(&mut StoredKeySet)) -> String {
        let mut record = record_for(config);
        edit(&mut record);
        sealed(&record, &source_for(config).kv_key())
    }

    #[test]
    fn a_record_round_trips_through_its_seal() {
        let config = config(&[]);
        let record = record_for(&config);
        let text = sealed(&record, &source_for(&config).kv_key());
        assert!(text.starts_with("entra-gate-record/2 "));
        assert_eq!(open(&text, &config, None), Ok(record));
    }

    #[test]
    fn a_record_without_our_seal_is_refused() {
        let config = config(&[]);
        let record = record_for(&config);
        let key = source_for(&config).kv_key();
        let text = sealed(&record, &key);
        let json = text.split_once('\n').map(|(_, j)| j).unwrap_or_default();
        assert_eq!(open(json, &config, None), Err(RecordError::Unsealed));
        assert_eq!(open("garbage", &config, None), Err(RecordError::Unsealed));
        assert_eq!(
            open(&format!("entra-gate-record/2 AAAA\n{json}"), &config, None),
            Err(RecordError::Unsealed),
            "a tag of the wrong length"
        );
        // The content edited after sealing.
        let edited = text.replacen("\"fetched_at\":", "\"fetched_at\": ", 1);
        assert_ne!(edited, text);
        assert_eq!(open(&edited, &config, None), Err(RecordError::BadTag));
        // Sealed under another secret.
        let other = RustHmac::new(&[7u8; 32]);
        let foreign = pollster::block_on(record.seal(&key, &other)).expect("sealed");
        assert_eq!(open(&foreign, &config, None), Err(RecordError::BadTag));
        // Sealed for another KV key (moved from another set's slot).
        let moved = sealed(&record, "jwks:login.microsoftonline.com/another");
        assert_eq!(open(&moved, &config, None), Err(RecordError::BadTag));
        // Oversized; exactly the limit is still read.
        let huge = format!("{text}{}", " ".repeat(MAX_RECORD_BYTES));
        assert!(matches!(
            open(&huge, &config, None),
            Err(RecordError::TooLarge { .. })
        ));
        let padded = format!("{text}{}", " ".repeat(MAX_RECORD_BYTES - text.len()));
        assert_eq!(padded.len(), MAX_RECORD_BYTES);
        assert_eq!(
            open(&padded, &config, None),
            Err(RecordError::BadTag),
            "read, then refused for its seal"
        );
    }

    #[test]
    fn a_sealed_record_must_still_be_this_sets_in_this_format() {
        let config = config(&[]);
        let format = resealed(&config, |r| r.format = 1);
        assert!(matches!(
            open(&format, &config, None),
            Err(RecordError::Corrupt { .. })
        ));
        let other_set = resealed(&config, |r| {
            r.set = format!("login.microsoftonline.com/{OTHER}")
        });
        assert!(matches!(
            open(&other_set, &config, None),
            Err(RecordError::OtherSet { .. })
        ));
        let hash = resealed(&config, |r| r.sources[0].jwks = r#"{"keys":[{}]}"#.into());
        assert_eq!(open(&hash, &config, None), Err(RecordError::HashMismatch));
        let key = source_for(&config).kv_key();
        let not_json = pollster::block_on(seal_json(&key, "[1,2]", &hmac())).expect("sealed");
        assert!(matches!(
            open(&not_json, &config, None),
            Err(RecordError::Corrupt { .. })
        ));
    }

    /// What a KV writer with the secret could still try: documents this configuration would
    /// never have fetched.
    #[test]
    fn a_sealed_record_must_say_what_this_configuration_fetches() {
        let config = config(&[]);
        let rehash = |r: &mut StoredKeySet| r.content_hash = content_hash(&r.sources);
        let cases: Vec<(&str, String)> = vec![
            (
                "issuer swapped for the multi-tenant template",
                resealed(&config, |r| {
                    r.sources[1].issuer =
                        "https://login.microsoftonline.com/{tenantid}/v2.0".into();
                    rehash(r);
                }),
            ),
            (
                "another tenant's issuer",
                resealed(&config, |r| {
                    r.sources[1].issuer = format!("https://login.microsoftonline.com/{OTHER}/v2.0");
                    rehash(r);
                }),
            ),
            (
                "keys from another host",
                resealed(&config, |r| {
                    r.sources[0].jwks_uri = "https://evil.example/keys".into();
                    rehash(r);
                }),
            ),
            (
                "metadata from another address",
                resealed(&config, |r| {
                    r.sources[0].metadata_url =
                        format!("https://login.microsoftonline.com/{OTHER}/.well-known/openid-configuration");
                }),
            ),
            (
                "a version the configuration does not read",
                resealed(&config, |r| {
                    let extra = r.sources[1].clone();
                    r.sources.push(extra);
                    rehash(r);
                }),
            ),
            (
                "versions swapped",
                resealed(&config, |r| {
                    r.sources.swap(0, 1);
                    rehash(r);
                }),
            ),
        ];
        for (what, text) in cases {
            assert!(
                matches!(
                    open(&text, &config, None),
                    Err(RecordError::NotConfigured { .. })
                ),
                "{what}: {:?}",
                open(&text, &config, None)
            );
        }
        // A v2-only deployment refuses a record that also holds v1 documents.
        let v2_only = config_v2_only();
        let mut both_versions = record_for(&config);
        both_versions.set = source_for(&v2_only).id;
        let text_for_v2 = sealed(&both_versions, &source_for(&v2_only).kv_key());
        assert!(matches!(
            open(&text_for_v2, &v2_only, None),
            Err(RecordError::NotConfigured { .. })
        ));
    }

    fn config_v2_only() -> GateConfig {
        config(&[(binding::TOKEN_VERSIONS, "2.0")])
    }

    #[test]
    fn timestamps_must_be_ordered_and_not_in_the_future() {
        let config = config(&[]);
        let skew = RECORD_CLOCK_SKEW_SECONDS;
        let at = |fetched: i64, checked: i64| {
            resealed(&config, |r| {
                r.fetched_at = fetched;
                r.checked_at = checked;
            })
        };
        let now = NOW.seconds();
        assert!(open(&at(now - 10, now), &config, None).is_ok());
        assert!(
            open(&at(now, now + skew), &config, None).is_ok(),
            "within skew"
        );
        for (fetched, checked) in [
            (now, now + skew + 1),
            (now + 10, now),
            (now + 86_400 * 365, now + 86_400 * 365),
            (-5, now),
        ] {
            assert!(
                matches!(
                    open(&at(fetched, checked), &config, None),
                    Err(RecordError::BadTimestamps { .. })
                ),
                "{fetched} {checked}"
            );
        }
    }

    #[test]
    fn adoption_never_steps_back_in_time() {
        let config = config(&[]);
        let text = resealed(&config, |r| {
            r.fetched_at = NOW.seconds() - 200;
            r.checked_at = NOW.seconds() - 100;
        });
        let record = open(&text, &config, None).expect("fine alone");
        let newer = HeldCopy {
            content_hash: "other content",
            checked_at: UnixTime(NOW.seconds() - 50),
        };
        assert_eq!(
            open(&text, &config, Some(newer)),
            Err(RecordError::Older {
                checked_at: NOW.seconds() - 100,
                held_checked_at: NOW.seconds() - 50
            })
        );
        assert!(record.is_older_than(newer));
        let same_content = HeldCopy {
            content_hash: &record.content_hash,
            checked_at: UnixTime(NOW.seconds() - 50),
        };
        assert!(
            open(&text, &config, Some(same_content)).is_ok(),
            "the same content only moves timestamps"
        );
        let older_held = HeldCopy {
            content_hash: "other content",
            checked_at: UnixTime(NOW.seconds() - 100),
        };
        assert!(
            open(&text, &config, Some(older_held)).is_ok(),
            "equal time is not older"
        );
    }

    #[test]
    fn errors_say_why_and_keep_their_source() {
        use std::error::Error as _;
        let fault = RecordError::Crypto(CryptoFault {
            detail: "no subtle".into(),
        });
        assert!(fault.source().is_some());
        assert!(RecordError::BadTag.source().is_none());
        assert!(RecordError::BadTag.to_string().contains("GATE_SECRET"));
    }

    #[test]
    fn a_record_without_usable_keys_builds_nothing() {
        let config = config(&[]);
        let built = record_for(&config).build::<()>(&config);
        assert!(built.is_err_and(|e| e.to_string().contains("no usable signing keys")));
    }

    #[test]
    fn the_hash_covers_content_not_timestamps() {
        let config = config(&[]);
        let mut a = record_for(&config);
        let b = record_for(&config);
        a.checked_at += 500;
        assert_eq!(content_hash(&a.sources), content_hash(&b.sources));
        a.sources[0].issuer.push('x');
        assert_ne!(content_hash(&a.sources), content_hash(&b.sources));
    }
}
