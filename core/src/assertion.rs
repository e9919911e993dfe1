//! The signed identity assertion: a short-lived compact JWS the gateway adds to every forwarded
//! request, so an origin reachable by another path (a `*.workers.dev` name, a direct hostname)
//! can tell a request that came through the gateway from one that did not, with any JOSE library.
//!
//! EdDSA (Ed25519): the origin needs only the public key (published by the gateway as a JWKS),
//! signatures are 64 bytes, signing is fast in WebCrypto, and there is no algorithm to choose
//! wrongly. The private key is a wrangler secret holding an OKP JWK.

use super::b64;
use super::identity::VerifiedIdentity;
use super::json::read::{self, Member};
use super::json::write::{self, ObjectWriter};
use super::json::{self, JsonError, Value};

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
    /// `GATE_ASSERTION_PREVIOUS_KEY`: published beside this key, never used to sign, so a
    /// rotation has an overlap in which assertions under either key verify.
    pub previous: Option<PublishedKey>,
}

/// A public key the gateway publishes without signing with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedKey {
    /// Its `kid` (or the first 16 characters of `x`).
    pub kid: String,
    /// Public key, base64url.
    pub x: String,
}

/// The members of an OKP JWK we take; any other member is refused.
struct RawOkpJwk {
    kty: String,
    crv: String,
    d: Option<String>,
    x: String,
    kid: Option<String>,
    alg: Option<String>,
}

/// The members an OKP JWK may have; `use`, `key_ops` and `ext` are checked for type only.
const OKP_MEMBERS: [&str; 9] = [
    "kty", "crv", "d", "x", "kid", "alg", "use", "key_ops", "ext",
];

impl RawOkpJwk {
    fn read(jwk: &[u8]) -> Result<Self, JsonError> {
        let mut object = json::parse_object(jwk)?;
        read::only(&object, &"the JWK", &OKP_MEMBERS)?;
        let mut required = |name: &str| {
            object
                .take(name)
                .ok_or_else(|| JsonError::missing(name, "the JWK"))
                .and_then(|v| read::string(&Member(name), v))
                .map(std::borrow::Cow::into_owned)
        };
        let (kty, crv, x) = (required("kty")?, required("crv")?, required("x")?);
        let mut optional = |name: &str| match object.take(name) {
            None => Ok(None),
            Some(v) => {
                read::optional_string(&Member(name), v).map(|s| s.map(std::borrow::Cow::into_owned))
            }
        };
        let (d, kid, alg) = (optional("d")?, optional("kid")?, optional("alg")?);
        optional("use")?;
        match object.take("key_ops") {
            None | Some(Value::Null) => {}
            Some(list) => {
                read::strings(&Member("key_ops"), list)?;
            }
        }
        match object.take("ext") {
            None | Some(Value::Null) => {}
            Some(flag) => {
                read::boolean(&Member("ext"), &flag)?;
            }
        }
        Ok(RawOkpJwk {
            kty,
            crv,
            d,
            x,
            kid,
            alg,
        })
    }
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
    /// The previous key has the current key's `kid`: origins could not tell them apart.
    SameKid,
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
            AssertionKeyError::SameKid => {
                f.write_str("has the kid of GATE_ASSERTION_KEY; give each key its own kid")
            }
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

/// Checks an Ed25519 JWK (private or public) and gives its `kid` (or the first 16 characters
/// of `x`) with the raw members.
fn read_okp(jwk: &str) -> Result<(String, RawOkpJwk), AssertionKeyError> {
    let raw = RawOkpJwk::read(jwk.as_bytes()).map_err(AssertionKeyError::NotAJwk)?;
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
    let sized = |v: &str| b64::decode(v).is_some_and(|b| b.len() == 32);
    if !sized(&raw.x) || raw.d.as_deref().is_some_and(|d| !sized(d)) {
        return Err(AssertionKeyError::KeySize);
    }
    let kid = raw
        .kid
        .clone()
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| raw.x.chars().take(16).collect());
    Ok((kid, raw))
}

impl AssertionKey {
    /// Reads an Ed25519 private JWK (`{"kty":"OKP","crv":"Ed25519","d":…,"x":…,"kid":…}`).
    pub fn parse(jwk: &str, issuer: &str) -> Result<Self, AssertionKeyError> {
        let (kid, raw) = read_okp(jwk)?;
        let d = raw.d.ok_or(AssertionKeyError::KeySize)?;
        Ok(AssertionKey {
            kid,
            d,
            x: raw.x,
            issuer: issuer.to_owned(),
            previous: None,
        })
    }

    /// Adds the key published beside this one: an Ed25519 JWK, private or public (only its
    /// public part is kept), with a `kid` of its own.
    pub fn with_previous(mut self, jwk: &str) -> Result<Self, AssertionKeyError> {
        let (kid, raw) = read_okp(jwk)?;
        if kid == self.kid {
            return Err(AssertionKeyError::SameKid);
        }
        self.previous = Some(PublishedKey { kid, x: raw.x });
        Ok(self)
    }

    /// The public key set an origin verifies with: this key, then the previous one.
    pub fn public_jwks(&self) -> String {
        // Members in serde_json's `json!` order (sorted), which origins have been served.
        let jwk = |kid: &str, x: &str| {
            ObjectWriter::new()
                .str("alg", "EdDSA")
                .str("crv", "Ed25519")
                .str("kid", kid)
                .str("kty", "OKP")
                .str("use", "sig")
                .str("x", x)
                .finish()
        };
        let mut keys = vec![jwk(&self.kid, &self.x)];
        if let Some(previous) = &self.previous {
            keys.push(jwk(&previous.kid, &previous.x));
        }
        let mut list = String::new();
        write::raw_array(&mut list, &keys);
        ObjectWriter::new().raw("keys", &list).finish()
    }

    /// The compact JWS: the signing input, then the platform's signature over it.
    pub fn compact(signing_input: &str, signature: &[u8]) -> String {
        format!("{signing_input}.{}", b64::encode(signature))
    }

    /// `base64url(header) "." base64url(claims)`: what gets signed.
    pub fn signing_input(&self, claims: &AssertionClaims<'_>) -> String {
        let header = ObjectWriter::new()
            .str("alg", "EdDSA")
            .str("kid", &self.kid)
            .str("typ", "JWT")
            .finish();
        format!(
            "{}.{}",
            b64::encode(header.as_bytes()),
            b64::encode(claims.json().as_bytes())
        )
    }
}

/// What an assertion says: the verified caller plus the request it belongs to.
#[derive(Debug)]
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
    pub uti: Option<&'a str>,
}

impl<'a> AssertionClaims<'a> {
    /// The claims set's JSON, members in declaration order; `uti` left out when absent.
    pub fn json(&self) -> String {
        ObjectWriter::new()
            .str("iss", self.iss)
            .str("aud", self.aud)
            .i64("iat", self.iat)
            .i64("exp", self.exp)
            .str("jti", self.jti)
            .str("htm", self.htm)
            .str("htu", self.htu)
            .str("tid", self.tid)
            .str("oid", self.oid)
            .str("sub", self.sub)
            .str("azp", self.azp)
            .str("idtyp", self.idtyp)
            .str("ver", self.ver)
            .strs("scp", self.scp.iter().map(String::as_str))
            .strs("roles", self.roles.iter().map(String::as_str))
            .strs("acrs", self.acrs.iter().map(String::as_str))
            .opt_str("uti", self.uti)
            .finish()
    }

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

    const X2: &str = "fVQuYFLFNCIyDbyr3L8AGjTaYNtG63vUaCiiQv0h6kE";

    #[test]
    fn the_previous_key_is_published_after_the_current_one_and_never_its_private_part() {
        let current =
            format!(r#"{{"kty":"OKP","crv":"Ed25519","d":"{D}","x":"{X}","kid":"gate-2"}}"#);
        let key = AssertionKey::parse(&current, "entra-gate").expect("valid");
        for previous in [
            format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{X2}","kid":"gate-1"}}"#),
            format!(r#"{{"kty":"OKP","crv":"Ed25519","d":"{D}","x":"{X2}","kid":"gate-1"}}"#),
        ] {
            let rotated = key.clone().with_previous(&previous).expect("valid");
            let jwks: serde_json::Value =
                serde_json::from_str(&rotated.public_jwks()).expect("json");
            let kids: Vec<&str> = jwks["keys"]
                .as_array()
                .expect("keys")
                .iter()
                .filter_map(|k| k["kid"].as_str())
                .collect();
            assert_eq!(kids, ["gate-2", "gate-1"]);
            assert_eq!(jwks["keys"][1]["x"], X2);
            assert!(jwks["keys"][1].get("d").is_none());
            assert_eq!(rotated.kid, "gate-2", "the current key still signs");
        }
        let same = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{X2}","kid":"gate-2"}}"#);
        assert_eq!(
            key.clone().with_previous(&same),
            Err(AssertionKeyError::SameKid)
        );
        let short = r#"{"kty":"OKP","crv":"Ed25519","x":"AAAA","kid":"gate-1"}"#;
        assert_eq!(key.with_previous(short), Err(AssertionKeyError::KeySize));
        let public_only = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{X}","kid":"k"}}"#);
        assert_eq!(
            AssertionKey::parse(&public_only, "i"),
            Err(AssertionKeyError::KeySize),
            "the signing key needs its private part"
        );
    }
}
