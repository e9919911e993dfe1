//! Key intake: a JWKS document in, vetted RSA signing keys out.
//!
//! One bad key never spoils the set: it is skipped with a reason the caller logs, and the other
//! keys stay usable. Only a document that is not a JWKS at all, or is over the caps, is refused
//! as a whole.

use super::b64;
use super::json::read::{self, Member};
use super::json::{self, JsonError, Value};
use super::roca::has_roca_fingerprint;
use super::token::MAX_KID_BYTES;
use crate::quoted::Quoted;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

/// Caps applied before and while parsing a JWKS document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksLimits {
    /// Entra's documents, certificates included, are 5–20 KiB.
    pub max_document_bytes: usize,
    /// Entra publishes a handful of keys per document.
    pub max_keys: usize,
}

impl Default for JwksLimits {
    fn default() -> Self {
        JwksLimits {
            max_document_bytes: 256 * 1024,
            max_keys: 64,
        }
    }
}

/// The smallest RSA key accepted, in modulus bits.
pub const MIN_MODULUS_BITS: usize = 2048;
/// The largest RSA key accepted, in modulus bits.
pub const MAX_MODULUS_BITS: usize = 4096;
/// 65537 as the big-endian bytes of a JWK `e` (`AQAB`).
const F4: [u8; 3] = [1, 0, 1];

/// An RSA public key that passed every intake rule; the only kind of key a token is checked with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VettedKey {
    /// Non-empty, at most `MAX_KID_BYTES`, and unique in its document.
    pub kid: String,
    /// Big-endian, minimal (no leading zero octet); the exponent is always 65537.
    pub modulus: Vec<u8>,
    /// The `n` member as published, for runtimes that import JWKs directly.
    pub modulus_b64: String,
    /// The `issuer` member Entra's v2 keys carry (an exact issuer or a `{tenantid}` template).
    pub issuer: Option<String>,
}

impl VettedKey {
    /// The key size, in bits.
    pub fn modulus_bits(&self) -> usize {
        modulus_bits(&self.modulus)
    }

    /// RS256 signatures are exactly as long as the modulus.
    pub fn signature_len(&self) -> usize {
        self.modulus.len()
    }
}

/// Why a whole JWKS document was refused (one bad key is a [`KeySkip`] instead).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwksError {
    /// Over `max_document_bytes`; not parsed at all.
    TooLarge {
        /// The document's length in bytes.
        length: usize,
        /// The cap it exceeds.
        cap: usize,
    },
    /// Not a JSON object with a `keys` array.
    NotJwks {
        /// The parser's complaint.
        detail: String,
    },
    /// More keys than `max_keys`.
    TooManyKeys {
        /// How many keys the document lists.
        count: usize,
        /// The cap it exceeds.
        cap: usize,
    },
}

impl fmt::Display for JwksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwksError::TooLarge { length, cap } => {
                write!(f, "document of {length} bytes exceeds the cap of {cap}")
            }
            JwksError::NotJwks { detail } => write!(f, "not a JWK set: {detail}"),
            JwksError::TooManyKeys { count, cap } => {
                write!(f, "{count} keys exceed the cap of {cap}")
            }
        }
    }
}

/// Why one key of a set was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySkip {
    /// Not a JSON object of the expected types, or `n`/`e` missing or not base64url.
    Malformed {
        /// What is wrong.
        detail: String,
    },
    /// `kty` is not `RSA` (or is missing).
    NotRsa {
        /// `kty` as given (empty when absent).
        kty: String,
    },
    /// `use` is present and not `sig`.
    NotForSignatures {
        /// `use` as given.
        use_: String,
    },
    /// `key_ops` is present and lacks `verify`.
    NoVerifyOperation,
    /// `alg` is present and not `RS256`.
    WrongAlgorithm {
        /// `alg` as given.
        alg: String,
    },
    /// No `kid`, an empty one, or one longer than `MAX_KID_BYTES`.
    KidMissing,
    /// Private or symmetric key members (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`), which a
    /// set of public keys never carries.
    PrivateMaterial,
    /// The modulus is outside `MIN_MODULUS_BITS..=MAX_MODULUS_BITS`.
    ModulusSize {
        /// The modulus size in bits.
        bits: usize,
    },
    /// The modulus has a leading zero octet, or is even (no RSA modulus is).
    ModulusNotCanonical,
    /// The public exponent is not 65537.
    Exponent,
    /// The modulus carries the ROCA fingerprint (CVE-2017-15361): made by a broken key
    /// generator.
    RocaFingerprint,
    /// Another entry of the document names the same `kid`: neither can be chosen.
    DuplicateKid,
}

impl KeySkip {
    /// Stable code for logs.
    pub fn code(&self) -> &'static str {
        match self {
            KeySkip::Malformed { .. } => "malformed",
            KeySkip::NotRsa { .. } => "not_rsa",
            KeySkip::NotForSignatures { .. } => "not_for_signatures",
            KeySkip::NoVerifyOperation => "no_verify_operation",
            KeySkip::WrongAlgorithm { .. } => "wrong_algorithm",
            KeySkip::KidMissing => "kid_missing",
            KeySkip::PrivateMaterial => "private_material",
            KeySkip::ModulusSize { .. } => "modulus_size",
            KeySkip::ModulusNotCanonical => "modulus_not_canonical",
            KeySkip::Exponent => "exponent_not_65537",
            KeySkip::RocaFingerprint => "roca_fingerprint",
            KeySkip::DuplicateKid => "duplicate_kid",
        }
    }
}

impl fmt::Display for KeySkip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySkip::Malformed { detail } => write!(f, "malformed key: {detail}"),
            KeySkip::NotRsa { kty } => write!(f, "kty {} is not RSA", Quoted(kty)),
            KeySkip::NotForSignatures { use_ } => write!(f, "use {} is not sig", Quoted(use_)),
            KeySkip::NoVerifyOperation => f.write_str("key_ops does not allow verify"),
            KeySkip::WrongAlgorithm { alg } => write!(f, "alg {} is not RS256", Quoted(alg)),
            KeySkip::KidMissing => f.write_str("no usable kid"),
            KeySkip::PrivateMaterial => f.write_str("key carries private members"),
            KeySkip::ModulusSize { bits } => {
                write!(
                    f,
                    "modulus of {bits} bits is outside {MIN_MODULUS_BITS}..={MAX_MODULUS_BITS}"
                )
            }
            KeySkip::ModulusNotCanonical => f.write_str("modulus has a leading zero or is even"),
            KeySkip::Exponent => f.write_str("public exponent is not 65537"),
            KeySkip::RocaFingerprint => f.write_str("modulus has the ROCA fingerprint"),
            KeySkip::DuplicateKid => f.write_str("kid appears more than once"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedKey {
    pub kid: Option<String>,
    pub why: KeySkip,
}

/// The result of intake: the usable keys and what was left out, with reasons.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyIntake {
    pub keys: Vec<VettedKey>,
    pub skipped: Vec<SkippedKey>,
}

/// The JWK members intake reads, borrowed from the document. A member given as `null` reads
/// as absent; one of another type makes the key malformed.
#[derive(Default)]
struct RawJwk<'a> {
    kty: Option<Cow<'a, str>>,
    use_: Option<Cow<'a, str>>,
    key_ops: Option<Vec<Cow<'a, str>>>,
    alg: Option<Cow<'a, str>>,
    kid: Option<Cow<'a, str>>,
    n: Option<Cow<'a, str>>,
    e: Option<Cow<'a, str>>,
    issuer: Option<Cow<'a, str>>,
    /// `d`, `p`, `q`, `dp`, `dq`, `qi`, `oth` or `k`, whatever its value (`null` included).
    private: bool,
}

impl<'a> RawJwk<'a> {
    fn read(entry: Value<'a>) -> Result<Self, JsonError> {
        let members = entry.into_object().ok_or_else(JsonError::not_object)?;
        let mut jwk = RawJwk::default();
        for (name, value) in members {
            let name = name.as_ref();
            let text = |value| read::optional_string(&Member(name), value);
            match name {
                "kty" => jwk.kty = text(value)?,
                "use" => jwk.use_ = text(value)?,
                "key_ops" => {
                    jwk.key_ops = match value {
                        Value::Null => None,
                        list @ (Value::Bool(_)
                        | Value::Number(_)
                        | Value::String(_)
                        | Value::Array(_)
                        | Value::Object(_)) => Some(read::strings(&Member(name), list)?),
                    }
                }
                "alg" => jwk.alg = text(value)?,
                "kid" => jwk.kid = text(value)?,
                "n" => jwk.n = text(value)?,
                "e" => jwk.e = text(value)?,
                "issuer" => jwk.issuer = text(value)?,
                "d" | "p" | "q" | "dp" | "dq" | "qi" | "oth" | "k" => jwk.private = true,
                _ => {}
            }
        }
        Ok(jwk)
    }
}

/// Vets every key of a JWKS document.
pub fn parse_jwks(document: &[u8], limits: &JwksLimits) -> Result<KeyIntake, JwksError> {
    if document.len() > limits.max_document_bytes {
        return Err(JwksError::TooLarge {
            length: document.len(),
            cap: limits.max_document_bytes,
        });
    }
    let not_jwks = |e: JsonError| JwksError::NotJwks {
        detail: e.to_string(),
    };
    let mut document = json::parse_object(document).map_err(not_jwks)?;
    let keys = document
        .take("keys")
        .ok_or_else(|| not_jwks(JsonError::missing("keys", "the key set")))?;
    let keys = read::array(&Member("keys"), keys).map_err(not_jwks)?;
    if keys.len() > limits.max_keys {
        return Err(JwksError::TooManyKeys {
            count: keys.len(),
            cap: limits.max_keys,
        });
    }

    let mut intake = KeyIntake::default();
    let mut kid_counts: HashMap<String, usize> = HashMap::new();
    for entry in keys {
        // The `kid` an entry names counts even when the entry is malformed: a broken second key
        // under a good key's `kid` still makes that `kid` ambiguous.
        if let Some(kid) = entry
            .as_object()
            .and_then(|o| o.get("kid"))
            .and_then(Value::as_str)
        {
            *kid_counts.entry(kid.to_owned()).or_default() += 1;
        }
        match RawJwk::read(entry).map_err(|e| KeySkip::Malformed {
            detail: e.to_string(),
        }) {
            Ok(jwk) => {
                let kid = jwk.kid.as_deref().map(str::to_owned);
                match vet(jwk) {
                    Ok(key) => intake.keys.push(key),
                    Err(why) => intake.skipped.push(SkippedKey { kid, why }),
                }
            }
            Err(why) => intake.skipped.push(SkippedKey { kid: None, why }),
        }
    }

    // A kid that names two keys (valid or not) is ambiguous: neither may be chosen.
    let (unique, ambiguous): (Vec<_>, Vec<_>) = intake
        .keys
        .into_iter()
        .partition(|key| kid_counts.get(&key.kid).copied().unwrap_or(0) <= 1);
    intake.keys = unique;
    intake
        .skipped
        .extend(ambiguous.into_iter().map(|key| SkippedKey {
            kid: Some(key.kid),
            why: KeySkip::DuplicateKid,
        }));
    Ok(intake)
}

/// Vets one JWK by the intake rules; also used for single keys such as test vectors.
pub fn vet_jwk(json: &str) -> Result<VettedKey, KeySkip> {
    let jwk = json::parse(json.as_bytes())
        .and_then(RawJwk::read)
        .map_err(|e| KeySkip::Malformed {
            detail: e.to_string(),
        })?;
    vet(jwk)
}

fn vet(jwk: RawJwk<'_>) -> Result<VettedKey, KeySkip> {
    if jwk.private {
        return Err(KeySkip::PrivateMaterial);
    }
    match jwk.kty.as_deref() {
        Some("RSA") => {}
        other => {
            return Err(KeySkip::NotRsa {
                kty: other.unwrap_or_default().to_owned(),
            })
        }
    }
    if let Some(use_) = jwk.use_.filter(|u| u != "sig") {
        return Err(KeySkip::NotForSignatures {
            use_: use_.into_owned(),
        });
    }
    if jwk
        .key_ops
        .is_some_and(|ops| !ops.iter().any(|op| op == "verify"))
    {
        return Err(KeySkip::NoVerifyOperation);
    }
    if let Some(alg) = jwk.alg.filter(|a| a != "RS256") {
        return Err(KeySkip::WrongAlgorithm {
            alg: alg.into_owned(),
        });
    }
    let kid = jwk
        .kid
        .filter(|k| !k.is_empty() && k.len() <= MAX_KID_BYTES)
        .ok_or(KeySkip::KidMissing)?
        .into_owned();
    let modulus_b64 = jwk.n.map(Cow::into_owned).ok_or(KeySkip::Malformed {
        detail: "no n".into(),
    })?;
    let modulus = b64::decode(&modulus_b64).ok_or(KeySkip::Malformed {
        detail: "n is not base64url".into(),
    })?;
    let exponent = jwk
        .e
        .as_deref()
        .and_then(b64::decode)
        .ok_or(KeySkip::Malformed {
            detail: "e is missing or not base64url".into(),
        })?;
    if exponent != F4 {
        return Err(KeySkip::Exponent);
    }
    if modulus.first().is_none_or(|&b| b == 0) || modulus.last().is_none_or(|&b| b % 2 == 0) {
        return Err(KeySkip::ModulusNotCanonical);
    }
    let bits = modulus_bits(&modulus);
    if !(MIN_MODULUS_BITS..=MAX_MODULUS_BITS).contains(&bits) {
        return Err(KeySkip::ModulusSize { bits });
    }
    if has_roca_fingerprint(&modulus) {
        return Err(KeySkip::RocaFingerprint);
    }
    Ok(VettedKey {
        kid,
        modulus,
        modulus_b64,
        issuer: jwk.issuer.map(Cow::into_owned),
    })
}

fn modulus_bits(modulus: &[u8]) -> usize {
    match modulus.first() {
        // A u8 has at most 8 leading zeros: the conversion cannot fail.
        Some(&top) => modulus.len() * 8 - usize::try_from(top.leading_zeros()).unwrap_or(8),
        None => 0,
    }
}

impl std::error::Error for JwksError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn modulus(bits: usize) -> String {
        let mut n = vec![0xffu8; bits / 8];
        n[0] = 0x80 | 0x35;
        b64::encode(&n)
    }

    fn jwk(extra: &str, bits: usize) -> String {
        format!(
            r#"{{"kty":"RSA","kid":"k1","n":"{}","e":"AQAB"{extra}}}"#,
            modulus(bits)
        )
    }

    #[test]
    fn accepts_a_plain_entra_style_key() {
        let key = vet_jwk(&jwk(r#","use":"sig","x5t":"abc","x5c":["MIIC"],"issuer":"https://login.microsoftonline.com/{tenantid}/v2.0""#, 2048)).expect("vetted");
        assert_eq!(key.kid, "k1");
        assert_eq!(key.modulus_bits(), 2048);
        assert_eq!(key.signature_len(), 256);
        assert_eq!(
            key.issuer.as_deref(),
            Some("https://login.microsoftonline.com/{tenantid}/v2.0")
        );
    }

    #[test]
    fn skips_keys_that_break_a_rule() {
        let skip = |json: &str| vet_jwk(json).unwrap_err().code();
        assert_eq!(skip(&jwk(r#","use":"enc""#, 2048)), "not_for_signatures");
        assert_eq!(skip(&jwk(r#","alg":"RS512""#, 2048)), "wrong_algorithm");
        assert_eq!(
            skip(&jwk(r#","key_ops":["encrypt"]"#, 2048)),
            "no_verify_operation"
        );
        assert_eq!(skip(&jwk(r#","d":"AQAB""#, 2048)), "private_material");
        assert_eq!(skip(&jwk(r#","qi":null"#, 2048)), "private_material");
        assert_eq!(skip(&jwk("", 1024)), "modulus_size");
        assert_eq!(skip(&jwk("", 8192)), "modulus_size");
        assert_eq!(
            skip(&jwk(r#","kid":"k2""#, 2048)),
            "malformed",
            "duplicate member"
        );
        assert_eq!(
            skip(r#"{"kty":"EC","kid":"k","x":"AA","y":"AA"}"#),
            "not_rsa"
        );
        assert_eq!(
            skip(&format!(
                r#"{{"kty":"RSA","n":"{}","e":"AQAB"}}"#,
                modulus(2048)
            )),
            "kid_missing"
        );
        assert_eq!(
            skip(&format!(
                r#"{{"kty":"RSA","kid":"k","n":"{}","e":"Aw"}}"#,
                modulus(2048)
            )),
            "exponent_not_65537"
        );
        assert_eq!(
            skip(&format!(
                r#"{{"kty":"RSA","kid":"k","n":"AA{}","e":"AQAB"}}"#,
                modulus(2048)
            )),
            "modulus_not_canonical"
        );
        assert_eq!(
            skip(r#"{"kty":"RSA","kid":"k","n":"a+b=","e":"AQAB"}"#),
            "malformed"
        );
    }

    #[test]
    fn one_bad_key_does_not_spoil_the_set() {
        let doc = format!(
            r#"{{"keys":[{},{{"kty":"RSA","kid":"weak","n":"{}","e":"AQAB"}},"nonsense"]}}"#,
            jwk("", 2048),
            modulus(1024)
        );
        let intake = parse_jwks(doc.as_bytes(), &JwksLimits::default()).expect("a jwks");
        assert_eq!(intake.keys.len(), 1);
        assert_eq!(intake.skipped.len(), 2);
        assert_eq!(intake.skipped[0].kid.as_deref(), Some("weak"));
    }

    #[test]
    fn duplicate_kids_remove_every_holder() {
        let doc = format!(
            r#"{{"keys":[{},{},{}]}}"#,
            jwk("", 2048),
            jwk("", 3072),
            jwk(r#","use":"enc""#, 2048).replace("k1", "k9")
        );
        let intake = parse_jwks(doc.as_bytes(), &JwksLimits::default()).expect("a jwks");
        assert!(intake.keys.is_empty());
        assert_eq!(
            intake
                .skipped
                .iter()
                .filter(|s| s.why == KeySkip::DuplicateKid)
                .count(),
            2
        );
    }

    #[test]
    fn a_malformed_copy_still_makes_the_kid_ambiguous() {
        let doc = format!(
            r#"{{"keys":[{},{{"kty":"RSA","kid":"k1","use":5}}]}}"#,
            jwk("", 2048)
        );
        let intake = parse_jwks(doc.as_bytes(), &JwksLimits::default()).expect("a jwks");
        assert!(intake.keys.is_empty(), "{:?}", intake.keys);
        assert_eq!(intake.skipped.len(), 2, "{:?}", intake.skipped);
        // A member repeated inside a key is no JSON we read at all: the whole document goes.
        let doc = format!(
            r#"{{"keys":[{},{{"kid":"k1","kid":"k1"}}]}}"#,
            jwk("", 2048)
        );
        assert!(matches!(
            parse_jwks(doc.as_bytes(), &JwksLimits::default()),
            Err(JwksError::NotJwks { .. })
        ));
    }

    #[test]
    fn document_caps() {
        let limits = JwksLimits {
            max_document_bytes: 100,
            max_keys: 1,
        };
        let big = format!(r#"{{"keys":[{}]}}"#, jwk("", 2048));
        assert!(matches!(
            parse_jwks(big.as_bytes(), &limits),
            Err(JwksError::TooLarge { .. })
        ));
        let limits = JwksLimits {
            max_document_bytes: 10_000,
            max_keys: 1,
        };
        let two = format!(r#"{{"keys":[{},{}]}}"#, jwk("", 2048), jwk("", 2048));
        assert!(matches!(
            parse_jwks(two.as_bytes(), &limits),
            Err(JwksError::TooManyKeys { .. })
        ));
        assert!(matches!(
            parse_jwks(b"[]", &limits),
            Err(JwksError::NotJwks { .. })
        ));
        assert!(matches!(
            parse_jwks(br#"{"keys":{}}"#, &limits),
            Err(JwksError::NotJwks { .. })
        ));
    }
}
