//! Token minting: Entra-shaped claims for v1/v2, delegated/app-only, with overrides.

use crate::keys::SigningKey;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum Version {
    #[serde(rename = "1.0", alias = "1")]
    V1,
    #[default]
    #[serde(rename = "2.0", alias = "2")]
    V2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    #[default]
    #[serde(alias = "delegated")]
    User,
    App,
}

/// What to mint. Every field has an Entra-like default.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct MintRequest {
    pub ver: Version,
    pub kind: Kind,
    pub tid: Option<String>,
    pub aud: Option<String>,
    /// Which of the tenant's keys signs (default: the first published one).
    pub key: Option<String>,
    /// Seconds of lifetime from now (default 3600); negative mints an expired token.
    pub lifetime: Option<i64>,
    /// Claims to set; `null` removes a claim.
    pub claims: Map<String, Value>,
    /// Header members to set; `null` removes a member.
    pub header: Map<String, Value>,
    /// Exact header JSON text to sign instead of the built one (duplicates, odd types, ...).
    pub raw_header: Option<String>,
    /// Exact claims JSON text to sign instead of the built claims.
    pub raw_claims: Option<String>,
}

pub const DEFAULT_CLIENT_ID: &str = "0f6e1f5b-0c6f-4a55-9d1e-5c1f3f2f0a11";
pub const DEFAULT_OBJECT_ID: &str = "5a1d5c3e-6a4b-4f1e-8a2d-0c9e8f7b6a51";

/// The claims Entra puts in an access token of this version and kind.
pub fn standard_claims(
    ver: Version,
    kind: Kind,
    tid: &str,
    v2_issuer: &str,
    aud: &str,
    now: i64,
    lifetime: i64,
) -> Map<String, Value> {
    let mut claims = Map::new();
    let issuer = match ver {
        Version::V1 => format!("https://sts.windows.net/{tid}/"),
        Version::V2 => v2_issuer.to_owned(),
    };
    let mut put = |k: &str, v: Value| {
        claims.insert(k.to_owned(), v);
    };
    put("aud", json!(aud));
    put("iss", json!(issuer));
    put("iat", json!(now - 5));
    put("nbf", json!(now - 5));
    put("exp", json!(now + lifetime));
    put("tid", json!(tid));
    put("oid", json!(DEFAULT_OBJECT_ID));
    put("sub", json!("mF_9.B5f-4.1JqM-mock-subject"));
    put("uti", json!("AbCdEfGhIjKlMnOpQrStUv"));
    put("rh", json!("0.mock."));
    match ver {
        Version::V1 => {
            put("ver", json!("1.0"));
            put("appid", json!(DEFAULT_CLIENT_ID));
            put("appidacr", json!("1"));
            put("ipaddr", json!("203.0.113.7"));
        }
        Version::V2 => {
            put("ver", json!("2.0"));
            put("azp", json!(DEFAULT_CLIENT_ID));
            put("azpacr", json!("1"));
        }
    }
    match kind {
        Kind::User => {
            put("scp", json!("items.read items.write"));
            put("name", json!("Mock User"));
            put("preferred_username", json!("user@mock.example"));
            if ver == Version::V1 {
                put("amr", json!(["pwd", "mfa"]));
                put("acr", json!("1"));
            }
        }
        Kind::App => {
            put("idtyp", json!("app"));
            put("roles", json!(["Items.Ingest"]));
        }
    }
    claims
}

/// Signs the exact header and claims JSON given (no re-serialisation), so tests can mint
/// duplicate members, odd types or any other shape.
pub fn compact(header_json: &str, claims_json: &str, key: &SigningKey) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header_json),
        URL_SAFE_NO_PAD.encode(claims_json)
    );
    let signature = key.sign_rs256(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Entra's header for an access token signed by `key`.
pub fn standard_header(ver: Version, key: &SigningKey) -> Map<String, Value> {
    let mut header = Map::new();
    header.insert("typ".into(), json!("JWT"));
    header.insert("alg".into(), json!("RS256"));
    if ver == Version::V1 {
        header.insert("x5t".into(), json!(key.kid));
    }
    header.insert("kid".into(), json!(key.kid));
    header
}

/// Applies overrides: a `null` value removes the member.
pub fn apply(base: &mut Map<String, Value>, overrides: &Map<String, Value>) {
    for (name, value) in overrides {
        if value.is_null() {
            base.remove(name);
        } else {
            base.insert(name.clone(), value.clone());
        }
    }
}
