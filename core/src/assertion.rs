//! The signed identity assertion: a short-lived compact JWS the gateway adds to every forwarded
//! request, so an origin reachable by another path (a `*.workers.dev` name, a direct hostname)
//! can tell a request that came through the gateway from one that did not, with any JOSE library.
//!
//! EdDSA (Ed25519): the origin needs only the public key (published by the gateway as a JWKS),
//! signatures are 64 bytes, signing is fast in WebCrypto, and there is no algorithm to choose
//! wrongly. The private key is a wrangler secret holding an OKP JWK.

use super::b64;
use super::identity::VerifiedIdentity;
use serde::{Deserialize, Serialize};

/// Assertions live this long: enough for the origin to receive the request, too short to replay.
pub const LIFETIME_SECONDS: i64 = 60;
/// Where the gateway publishes the public key.
pub const JWKS_PATH: &str = "/.well-known/entra-gate/jwks.json";

/// The gateway's Ed25519 signing key for identity assertions, from `GATE_ASSERTION_KEY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionKey {
    /// The JWK's `kid`, or (without one) the first 16 characters of `x`.
    pub kid: String,
    /// Private scalar, base64url (for WebCrypto's JWK import).
    pub d: String,
    /// Public key, base64url.
    pub x: String,
    /// `iss` of every assertion.
    pub issuer: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOkpJwk {
    kty: String,
    crv: String,
    d: String,
    x: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    key_ops: Option<Vec<String>>,
    #[serde(default)]
    ext: Option<bool>,
}

/// Why `GATE_ASSERTION_KEY` was refused (never quoting the key).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssertionKeyError {
    /// Not a JWK of the expected members.
    NotAJwk(super::json::JsonError),
    /// Another key type or curve.
    NotEd25519,
    /// An `alg` other than EdDSA.
    Algorithm,
    /// `d` or `x` is not 32 bytes of base64url.
    KeySize,
}

impl std::fmt::Display for AssertionKeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AssertionKeyError::NotAJwk(e) => write!(f, "not an OKP JWK: {e}"),
            AssertionKeyError::NotEd25519 => {
                f.write_str("must be an Ed25519 key (kty OKP, crv Ed25519)")
            }
            AssertionKeyError::Algorithm => f.write_str("alg must be EdDSA"),
            AssertionKeyError::KeySize => f.write_str("d and x must be 32-byte base64url values"),
        }
    }
}

impl std::error::Error for AssertionKeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        if let AssertionKeyError::NotAJwk(e) = self {
            Some(e)
        } else {
            None
        }
    }
}

impl AssertionKey {
    /// Reads an Ed25519 private JWK (`{"kty":"OKP","crv":"Ed25519","d":…,"x":…,"kid":…}`).
    pub fn parse(jwk: &str, issuer: &str) -> Result<Self, AssertionKeyError> {
        let raw: RawOkpJwk =
            super::json::from_object(jwk.as_bytes()).map_err(AssertionKeyError::NotAJwk)?;
        if raw.kty != "OKP" || raw.crv != "Ed25519" {
            return Err(AssertionKeyError::NotEd25519);
        }
        if raw
            .alg
            .as_deref()
            .is_some_and(|a| a != "EdDSA" && a != "Ed25519")
        {
            return Err(AssertionKeyError::Algorithm);
        }
        let _ = (raw.use_, raw.key_ops, raw.ext);
        let sized = |v: &str| b64::decode(v).is_some_and(|b| b.len() == 32);
        if !sized(&raw.d) || !sized(&raw.x) {
            return Err(AssertionKeyError::KeySize);
        }
        let kid = raw
            .kid
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| raw.x.chars().take(16).collect());
        Ok(AssertionKey {
            kid,
            d: raw.d,
            x: raw.x,
            issuer: issuer.to_owned(),
        })
    }

    /// The public key set an origin verifies with.
    pub fn public_jwks(&self) -> String {
        serde_json::json!({
            "keys": [{ "kty": "OKP", "crv": "Ed25519", "x": self.x, "kid": self.kid, "use": "sig", "alg": "EdDSA" }]
        })
        .to_string()
    }

    /// The compact JWS: the signing input, then the platform's signature over it.
    pub fn compact(signing_input: &str, signature: &[u8]) -> String {
        format!("{signing_input}.{}", b64::encode(signature))
    }

    /// `base64url(header) "." base64url(claims)`: what gets signed.
    pub fn signing_input(&self, claims: &AssertionClaims<'_>) -> String {
        let header = serde_json::json!({ "alg": "EdDSA", "typ": "JWT", "kid": self.kid });
        let claims = serde_json::to_vec(claims).unwrap_or_default();
        format!(
            "{}.{}",
            b64::encode(header.to_string().as_bytes()),
            b64::encode(&claims)
        )
    }
}

/// What an assertion says: the verified caller plus the request it belongs to.
#[derive(Debug, Serialize)]
pub struct AssertionClaims<'a> {
    /// `GATE_ASSERTION_ISSUER`.
    pub iss: &'a str,
    /// The origin (`scheme://host[:port]`) the request is for.
    pub aud: &'a str,
    /// When it was made, in Unix seconds.
    pub iat: i64,
    /// `iat` plus `LIFETIME_SECONDS`.
    pub exp: i64,
    /// The request id, so the origin can reject a replay within the lifetime.
    pub jti: &'a str,
    /// HTTP method and path with query, so an assertion cannot be moved to another request.
    pub htm: &'a str,
    /// The path and query exactly as the origin receives them (`ORIGIN_URL`'s prefix included).
    pub htu: &'a str,
    /// The caller's tenant.
    pub tid: &'a str,
    /// The caller's object id (user or service principal).
    pub oid: &'a str,
    /// The token's `sub`.
    pub sub: &'a str,
    /// The calling application (`azp`, or `appid` of a v1 token).
    pub azp: &'a str,
    /// `user` (delegated) or `app` (app-only).
    pub idtyp: &'a str,
    /// The token's version, `1.0` or `2.0`.
    pub ver: &'a str,
    /// The token's scopes, as an array.
    pub scp: &'a [String],
    /// The token's app roles.
    pub roles: &'a [String],
    /// The authentication contexts the token satisfies.
    pub acrs: &'a [String],
    /// The token's `uti`, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uti: Option<&'a str>,
}

impl<'a> AssertionClaims<'a> {
    /// The claims for one forwarded request, made at `now` (Unix seconds): `aud` is the origin,
    /// `jti` the request id.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        key: &'a AssertionKey,
        id: &'a VerifiedIdentity,
        audience: &'a str,
        request_id: &'a str,
        method: &'a str,
        path_and_query: &'a str,
        now: i64,
    ) -> Self {
        AssertionClaims {
            iss: &key.issuer,
            aud: audience,
            iat: now,
            exp: now + LIFETIME_SECONDS,
            jti: request_id,
            htm: method,
            htu: path_and_query,
            tid: &id.tenant_id,
            oid: &id.object_id,
            sub: &id.subject,
            azp: &id.client_id,
            idtyp: id.kind.as_str(),
            ver: id.version.as_str(),
            scp: &id.scopes,
            roles: &id.roles,
            acrs: &id.acrs,
            uti: id.token_id.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";

    #[test]
    fn reads_ed25519_private_jwks_only() {
        let jwk = format!(r#"{{"kty":"OKP","crv":"Ed25519","d":"{D}","x":"{X}","kid":"gate-1"}}"#);
        let key = AssertionKey::parse(&jwk, "entra-gate").expect("valid");
        assert_eq!(key.kid, "gate-1");
        let jwks: serde_json::Value = serde_json::from_str(&key.public_jwks()).expect("json");
        assert_eq!(jwks["keys"][0]["x"], X);
        assert!(
            jwks["keys"][0].get("d").is_none(),
            "never publishes the private part"
        );
        for bad in [
            format!(r#"{{"kty":"OKP","crv":"X25519","d":"{D}","x":"{X}"}}"#),
            format!(r#"{{"kty":"EC","crv":"Ed25519","d":"{D}","x":"{X}"}}"#),
            format!(r#"{{"kty":"OKP","crv":"Ed25519","d":"AAAA","x":"{X}"}}"#),
            format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{X}"}}"#),
            "not json".to_owned(),
        ] {
            assert!(AssertionKey::parse(&bad, "i").is_err(), "{bad}");
        }
    }
}
