//! The claims stage: a [`SignedPayload`] becomes a [`VerifiedIdentity`] only if every Entra
//! rule holds. Claims are typed; a checked claim of the wrong JSON type, `null`, or a repeated
//! member makes the whole token malformed.

use super::guid::{is_guid, normalize_guid};
use super::identity::{TokenKind, TokenVersion, VerifiedIdentity};
use super::issuer::{tenant_segment, IssuerRules, IssuerTemplate};
use super::json::MemberName;
use super::jws::SignedPayload;
use super::reason::Reason;
// Log details print NumericDates in whole seconds: a float formatter in the worker for a detail
// nobody reads to the fraction would cost size.
use super::time::{seconds_as_f64, whole_seconds, UnixTime};
use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;

/// The tenant id of personal Microsoft accounts.
pub const CONSUMER_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// Audiences of Microsoft Graph in every cloud: tokens for them are not ours to accept.
const GRAPH_AUDIENCES: &[&str] = &[
    "00000003-0000-0000-c000-000000000000",
    "https://graph.microsoft.com",
    "https://graph.microsoft.us",
    "https://dod-graph.microsoft.us",
    "https://microsoftgraph.chinacloudapi.cn",
    "https://canary.graph.microsoft.com",
    // Azure AD Graph (retired, first-party): its tokens are as much Microsoft's own.
    "00000002-0000-0000-c000-000000000000",
    "https://graph.windows.net",
    "https://graph.microsoftazure.de",
    "https://graph.chinacloudapi.cn",
];

pub fn is_graph_audience(aud: &str) -> bool {
    let aud = aud.trim_end_matches('/');
    GRAPH_AUDIENCES.iter().any(|g| g.eq_ignore_ascii_case(aud))
}

/// Which tokens a deployment accepts; built once from configuration and metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRules {
    /// Accepted `aud` values, as configured; the one a token matches is what the origin sees.
    pub audiences: Vec<String>,
    /// A version is accepted exactly when its issuer is known.
    pub issuers: IssuerRules,
    /// Leeway for `exp`, `nbf`, `iat` and `auth_time` against the clock.
    pub clock_skew_seconds: i64,
    /// Whether tokens of personal Microsoft accounts (the consumer tenant) are accepted.
    pub allow_consumer_accounts: bool,
    /// When set, only these tenants may call (multi-tenant deployments with an allow-list).
    pub allowed_tenants: Option<Vec<String>>,
    /// Claims kept as strings for the policy's generic matchers.
    pub extra_claims: Vec<String>,
}

/// Why the claims stage refused a token; each maps to one [`Reason`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ClaimsError {
    /// Not a JSON object of the expected types, a repeated member, or a required claim missing.
    Malformed {
        /// What is wrong, for the log.
        detail: String,
    },
    /// `aud` names Microsoft Graph (or Azure AD Graph): not ours to accept.
    GraphAudience,
    /// An ID token (`nonce`, `at_hash`, `c_hash`, or no `azp`/`appid`), not an access token.
    IdToken,
    /// `exp` is past, with skew.
    Expired {
        /// `exp` as the token has it.
        exp: f64,
        /// The time of the check, in whole seconds.
        now: i64,
    },
    /// `nbf` is in the future, with skew.
    NotYetValid {
        /// `nbf` as the token has it.
        nbf: f64,
        /// The time of the check, in whole seconds.
        now: i64,
    },
    /// `iat` is negative, in the future (with skew) or after `exp`.
    IssuedAt {
        /// `iat` as the token has it.
        iat: f64,
        /// The time of the check, in whole seconds.
        now: i64,
    },
    /// `ver` is missing or a version this configuration does not accept.
    VersionNotAccepted {
        /// `ver` as given (empty when absent).
        ver: String,
    },
    /// `tid` is not a GUID.
    TenantId,
    /// The consumer tenant, where personal accounts are not accepted.
    ConsumerAccount,
    /// A tenant outside `ENTRA_ALLOWED_TENANTS`.
    TenantNotAllowed,
    /// `iss` is not the accepted issuer for this version and tenant.
    Issuer {
        /// `iss` as given.
        iss: String,
    },
    /// `tid` differs from the tenant segment of `iss`.
    TenantMismatch,
    /// The signing key's issuer is not the token's issuer (nor, for v1, its v2 form).
    KeyIssuer {
        /// The key's issuer, resolved for the token's tenant.
        key_issuer: String,
    },
    /// `aud` names none of the accepted audiences.
    Audience,
}

impl ClaimsError {
    /// The reason a refusal for this error carries.
    pub fn reason(&self) -> Reason {
        match self {
            ClaimsError::Malformed { .. } => Reason::MalformedClaims,
            ClaimsError::GraphAudience => Reason::GraphToken,
            ClaimsError::IdToken => Reason::IdToken,
            ClaimsError::Expired { .. } => Reason::TokenExpired,
            ClaimsError::NotYetValid { .. } => Reason::TokenNotYetValid,
            ClaimsError::IssuedAt { .. } => Reason::InvalidIssuedAt,
            ClaimsError::VersionNotAccepted { .. } => Reason::WrongTokenVersion,
            ClaimsError::TenantId | ClaimsError::TenantMismatch => Reason::TenantMismatch,
            ClaimsError::ConsumerAccount => Reason::ConsumerTenant,
            ClaimsError::TenantNotAllowed => Reason::TenantNotAllowed,
            ClaimsError::Issuer { .. } => Reason::InvalidIssuer,
            ClaimsError::KeyIssuer { .. } => Reason::KeyIssuerMismatch,
            ClaimsError::Audience => Reason::InvalidAudience,
        }
    }
}

impl fmt::Display for ClaimsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClaimsError::Malformed { detail } => write!(f, "claims are malformed: {detail}"),
            ClaimsError::GraphAudience => f.write_str("audience is Microsoft Graph"),
            ClaimsError::IdToken => f.write_str("an ID token, not an access token"),
            ClaimsError::Expired { exp, now } => {
                write!(f, "expired at {}, now {now}", whole_seconds(*exp))
            }
            ClaimsError::NotYetValid { nbf, now } => {
                write!(f, "not before {}, now {now}", whole_seconds(*nbf))
            }
            ClaimsError::IssuedAt { iat, now } => {
                write!(f, "issued at {}, now {now}", whole_seconds(*iat))
            }
            ClaimsError::VersionNotAccepted { ver } => write!(f, "token version {ver:?} refused"),
            ClaimsError::TenantId => f.write_str("tid is not a GUID"),
            ClaimsError::ConsumerAccount => f.write_str("personal account tenant"),
            ClaimsError::TenantNotAllowed => f.write_str("tenant is not on the allow-list"),
            ClaimsError::Issuer { iss } => write!(f, "issuer {iss:?} not accepted"),
            ClaimsError::TenantMismatch => f.write_str("tid differs from the issuer's tenant"),
            ClaimsError::KeyIssuer { key_issuer } => {
                write!(
                    f,
                    "key issuer {key_issuer:?} does not match the token issuer"
                )
            }
            ClaimsError::Audience => f.write_str("no accepted audience"),
        }
    }
}

/// A JSON NumericDate (RFC 7519 §2): a number, possibly fractional; nothing else.
#[derive(Debug, Clone, Copy, PartialEq)]
struct NumericDate(f64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumberOnly;
        impl Visitor<'_> for NumberOnly {
            type Value = NumericDate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a NumericDate (a JSON number)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumericDate, E> {
                // Beyond i64 is beyond any date: saturate, then compare as a float.
                Ok(NumericDate(seconds_as_f64(
                    i64::try_from(v).unwrap_or(i64::MAX),
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NumericDate, E> {
                Ok(NumericDate(seconds_as_f64(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NumericDate, E> {
                if v.is_finite() {
                    Ok(NumericDate(v))
                } else {
                    Err(E::custom("a NumericDate must be finite"))
                }
            }
        }
        deserializer.deserialize_any(NumberOnly)
    }
}

/// `aud`: one string or an array of strings (RFC 7519 §4.1.3); anything else is malformed.
#[derive(Debug, Clone, PartialEq)]
struct Audiences(Vec<String>);

impl<'de> Deserialize<'de> for Audiences {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StringOrStrings;
        impl<'de> Visitor<'de> for StringOrStrings {
            type Value = Audiences;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Audiences, E> {
                Ok(Audiences(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Audiences, A::Error> {
                let mut all = Vec::new();
                while let Some(aud) = seq.next_element::<String>()? {
                    all.push(aud);
                }
                Ok(Audiences(all))
            }
        }
        deserializer.deserialize_any(StringOrStrings)
    }
}

/// Present members must hold a value of the declared type: `null` is refused, not read as absent.
fn some<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(deserializer)?;
    Ok(true)
}

/// Every claim the gateway checks or passes on. Other claims are skipped unread.
#[derive(Debug, Deserialize)]
struct RawClaims {
    #[serde(default, deserialize_with = "some")]
    iss: Option<String>,
    #[serde(default, deserialize_with = "some")]
    aud: Option<Audiences>,
    #[serde(default, deserialize_with = "some")]
    exp: Option<NumericDate>,
    #[serde(default, deserialize_with = "some")]
    nbf: Option<NumericDate>,
    #[serde(default, deserialize_with = "some")]
    iat: Option<NumericDate>,
    #[serde(default, deserialize_with = "some")]
    ver: Option<String>,
    #[serde(default, deserialize_with = "some")]
    tid: Option<String>,
    #[serde(default, deserialize_with = "some")]
    oid: Option<String>,
    #[serde(default, deserialize_with = "some")]
    sub: Option<String>,
    #[serde(default, deserialize_with = "some")]
    azp: Option<String>,
    #[serde(default, deserialize_with = "some")]
    appid: Option<String>,
    #[serde(default, deserialize_with = "some")]
    azpacr: Option<String>,
    #[serde(default, deserialize_with = "some")]
    appidacr: Option<String>,
    #[serde(default, deserialize_with = "some")]
    idtyp: Option<String>,
    #[serde(default, deserialize_with = "some")]
    scp: Option<String>,
    #[serde(default, deserialize_with = "some")]
    roles: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some")]
    acrs: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some")]
    amr: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some")]
    auth_time: Option<NumericDate>,
    #[serde(default, deserialize_with = "some")]
    xms_cc: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some")]
    uti: Option<String>,
    #[serde(default, deserialize_with = "some")]
    ipaddr: Option<String>,
    #[serde(default, deserialize_with = "some")]
    groups: Option<Vec<String>>,
    /// Overage: the groups were left out and a Graph source named instead (JWT).
    #[serde(default, rename = "_claim_names", deserialize_with = "some")]
    claim_names: Option<ClaimNames>,
    /// Overage in implicit-flow tokens.
    #[serde(default, deserialize_with = "flag")]
    hasgroups: bool,
    // Marks of an ID token: access tokens never carry these.
    #[serde(default, deserialize_with = "flag")]
    nonce: bool,
    #[serde(default, deserialize_with = "flag")]
    at_hash: bool,
    #[serde(default, deserialize_with = "flag")]
    c_hash: bool,
}

/// `_claim_names`: which claims were left out of the token (distributed claims).
#[derive(Debug, Deserialize)]
struct ClaimNames {
    #[serde(default, deserialize_with = "flag")]
    groups: bool,
}

fn malformed(detail: impl Into<String>) -> ClaimsError {
    ClaimsError::Malformed {
        detail: detail.into(),
    }
}

/// Validates the claims of a signed payload at time `now`.
///
/// The order makes the answer as specific as possible: first what kind of token this is
/// (Graph, ID token), then time, version, tenant and issuer, the key's issuer, and the audience.
pub fn validate(
    signed: SignedPayload,
    rules: &ClaimRules,
    now: UnixTime,
) -> Result<VerifiedIdentity, ClaimsError> {
    let mut claims: RawClaims =
        super::json::from_object(signed.payload()).map_err(|e| malformed(e.to_string()))?;
    let extra_claims = extra_claims(signed.payload(), &rules.extra_claims)?;
    let audiences = claims.aud.take().ok_or_else(|| malformed("no aud"))?.0;

    if audiences.iter().any(|a| is_graph_audience(a)) {
        return Err(ClaimsError::GraphAudience);
    }
    let client_id = claims.azp.clone().or_else(|| claims.appid.clone());
    if claims.nonce || claims.at_hash || claims.c_hash || client_id.is_none() {
        return Err(ClaimsError::IdToken);
    }

    check_times(&claims, rules.clock_skew_seconds, now)?;

    let (version, issuer_rule) = match claims.ver.as_deref() {
        Some("1.0") if rules.issuers.v1.is_some() => (TokenVersion::V1, &rules.issuers.v1),
        Some("2.0") if rules.issuers.v2.is_some() => (TokenVersion::V2, &rules.issuers.v2),
        other => {
            return Err(ClaimsError::VersionNotAccepted {
                ver: other.unwrap_or_default().into(),
            })
        }
    };

    let tid = claims.tid.ok_or_else(|| malformed("no tid"))?;
    if !is_guid(&tid) {
        return Err(ClaimsError::TenantId);
    }
    if tid == CONSUMER_TENANT && !rules.allow_consumer_accounts {
        return Err(ClaimsError::ConsumerAccount);
    }
    if rules
        .allowed_tenants
        .as_ref()
        .is_some_and(|allowed| !allowed.contains(&tid))
    {
        return Err(ClaimsError::TenantNotAllowed);
    }
    let iss = claims.iss.ok_or_else(|| malformed("no iss"))?;
    let expected_issuer = issuer_rule.as_ref().map(|rule| rule.resolve(&tid));
    if expected_issuer.as_deref() != Some(iss.as_str()) {
        return Err(ClaimsError::Issuer { iss });
    }
    if tenant_segment(&iss) != Some(tid.as_str()) {
        return Err(ClaimsError::TenantMismatch);
    }
    if let Some(key_issuer) = signed.key_issuer() {
        let key_issuer = IssuerTemplate::new(key_issuer).resolve(&tid);
        // v1 tokens are signed by keys whose published issuer is the v2 form of the same
        // tenant's issuer (v1 key documents carry no issuer); Microsoft.IdentityModel accepts
        // that pairing, and so do we, but only for the same tenant.
        let v2_form = match version {
            TokenVersion::V1 => rules.issuers.v2.as_ref().map(|v2| v2.resolve(&tid)),
            TokenVersion::V2 => None,
        };
        if key_issuer != iss && Some(&key_issuer) != v2_form.as_ref() {
            return Err(ClaimsError::KeyIssuer { key_issuer });
        }
    }

    // The configured spelling is what the origin sees, whichever form the token used.
    let audience = rules
        .audiences
        .iter()
        .find(|accepted| audiences.iter().any(|aud| audience_matches(accepted, aud)))
        .cloned()
        .ok_or(ClaimsError::Audience)?;

    let oid = claims.oid.ok_or_else(|| malformed("no oid"))?;
    if !is_guid(&oid) {
        return Err(malformed("oid is not a GUID"));
    }
    let sub = claims
        .sub
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed("no sub"))?;
    let kind = match (claims.idtyp.as_deref(), &claims.scp) {
        (Some("app"), _) => TokenKind::App,
        (Some("user"), _) | (None, Some(_)) => TokenKind::Delegated,
        (None, None) => TokenKind::App,
        (Some(other), _) => return Err(malformed(format!("unknown idtyp {other:?}"))),
    };

    let groups_overage = claims.hasgroups || claims.claim_names.is_some_and(|names| names.groups);
    let groups = claims
        .groups
        .unwrap_or_default()
        .into_iter()
        .map(|g| normalize_guid(&g).unwrap_or(g))
        .collect();

    Ok(VerifiedIdentity {
        tenant_id: tid,
        object_id: oid,
        subject: sub,
        client_id: client_id.unwrap_or_default(),
        client_auth: claims.azpacr.or(claims.appidacr),
        kind,
        version,
        audience,
        issuer: iss,
        kid: signed.kid().to_owned(),
        scopes: claims
            .scp
            .map(|s| {
                s.split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        roles: claims.roles.unwrap_or_default(),
        acrs: claims.acrs.unwrap_or_default(),
        amr: claims.amr.unwrap_or_default(),
        auth_time: claims.auth_time.map(|t| whole_seconds(t.0.floor())),
        xms_cc: claims.xms_cc.unwrap_or_default(),
        token_id: claims.uti,
        ip_address: claims.ipaddr,
        groups,
        groups_overage,
        expires_at: claims
            .exp
            .map(|t| whole_seconds(t.0.floor()))
            .unwrap_or_default(),
        extra_claims,
    })
}

/// Reads the named claims as strings: a string is one value, an array of scalars several,
/// numbers and booleans their JSON text; objects are never matched. A payload these names
/// cannot be read from (a lone surrogate escape, say) is malformed, never silently empty.
/// (A payload that repeats a member never gets here: `json::from_object` refused it.)
fn extra_claims(
    payload: &[u8],
    names: &[String],
) -> Result<Vec<(String, Vec<String>)>, ClaimsError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut reader = serde_json::Deserializer::from_slice(payload);
    let found = serde::de::DeserializeSeed::deserialize(NamedClaims { names }, &mut reader)
        .map_err(|e| malformed(super::json::json_error(&e)))?;
    reader
        .end()
        .map_err(|e| malformed(super::json::json_error(&e)))?;
    Ok(found)
}

/// One pass over the claims object: keeps the named members, skips the rest unread.
struct NamedClaims<'n> {
    names: &'n [String],
}

impl<'de> serde::de::DeserializeSeed<'de> for NamedClaims<'_> {
    type Value = Vec<(String, Vec<String>)>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

/// A claim's value as the generic matchers read it.
enum ClaimValue {
    Scalar(Option<String>),
    List(Vec<String>),
}

impl<'de> Deserialize<'de> for ClaimValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let scalar = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::Bool(b) => Some(b.to_string()),
            serde_json::Value::Null
            | serde_json::Value::Array(_)
            | serde_json::Value::Object(_) => None,
        };
        Ok(match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Array(items) => {
                ClaimValue::List(items.iter().filter_map(scalar).collect())
            }
            scalar_or_object @ (serde_json::Value::Null
            | serde_json::Value::Bool(_)
            | serde_json::Value::Number(_)
            | serde_json::Value::String(_)
            | serde_json::Value::Object(_)) => ClaimValue::Scalar(scalar(&scalar_or_object)),
        })
    }
}

impl<'de> serde::de::Visitor<'de> for NamedClaims<'_> {
    type Value = Vec<(String, Vec<String>)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = Vec::new();
        while let Some(MemberName(name)) = map.next_key::<MemberName<'de>>()? {
            if self.names.iter().any(|n| *n == name) {
                let values = match map.next_value::<ClaimValue>()? {
                    ClaimValue::Scalar(one) => one.into_iter().collect(),
                    ClaimValue::List(many) => many,
                };
                found.push((name.to_string(), values));
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        // The policy's order, whatever the token's.
        found.sort_by_key(|(name, _)| self.names.iter().position(|n| n == name));
        Ok(found)
    }
}

fn check_times(claims: &RawClaims, skew: i64, now: UnixTime) -> Result<(), ClaimsError> {
    let now_s = now.seconds();
    let now_f = seconds_as_f64(now_s);
    let skew_f = seconds_as_f64(skew);
    let exp = claims.exp.ok_or_else(|| malformed("no exp"))?.0;
    // Valid while now < exp + skew; at exactly exp + skew the token has expired.
    if now_f >= exp + skew_f {
        return Err(ClaimsError::Expired { exp, now: now_s });
    }
    if let Some(NumericDate(nbf)) = claims.nbf {
        if nbf > now_f + skew_f {
            return Err(ClaimsError::NotYetValid { nbf, now: now_s });
        }
    }
    if let Some(NumericDate(iat)) = claims.iat {
        if iat < 0.0 || iat > now_f + skew_f || iat > exp {
            return Err(ClaimsError::IssuedAt { iat, now: now_s });
        }
    }
    if let Some(NumericDate(auth_time)) = claims.auth_time {
        if auth_time < 0.0 || auth_time > now_f + skew_f {
            return Err(malformed("auth_time is in the future"));
        }
    }
    Ok(())
}

/// v1 tokens name App ID URIs with or without a trailing slash depending on how the client
/// asked; a URI audience therefore matches with one slash more or less. GUID audiences match
/// exactly.
fn audience_matches(accepted: &str, aud: &str) -> bool {
    if accepted == aud {
        return true;
    }
    if !aud.contains("://") {
        return false;
    }
    aud.strip_suffix('/') == Some(accepted) || accepted.strip_suffix('/') == Some(aud)
}

impl ClaimRules {
    /// The rules for a deployment: audiences and skew from configuration, issuers from the
    /// tenant's metadata (one per accepted token version).
    pub fn new(
        config: &super::config::GateConfig,
        v1_issuer: Option<IssuerTemplate>,
        v2_issuer: Option<IssuerTemplate>,
    ) -> Self {
        ClaimRules {
            audiences: config.audiences.clone(),
            // A version the configuration does not accept gets no issuer rule, whatever the key
            // record holds: `ver` is always checked against ENTRA_TOKEN_VERSIONS.
            issuers: IssuerRules {
                v1: v1_issuer.filter(|_| config.accept_v1),
                v2: v2_issuer.filter(|_| config.accept_v2),
            },
            clock_skew_seconds: config.clock_skew_seconds,
            allow_consumer_accounts: config.allow_consumer_accounts,
            allowed_tenants: config.allowed_tenants.clone(),
            extra_claims: {
                // Claims the policy's matchers read, then those GATE_CLAIM_HEADERS forwards.
                let mut names: Vec<String> = config.policy.extra_claims.clone();
                for claim in config.identity_headers.mapped_claims() {
                    if !names.iter().any(|n| n == claim) {
                        names.push(claim.to_owned());
                    }
                }
                names
            },
        }
    }
}

impl std::error::Error for ClaimsError {}

#[cfg(test)]
mod tests {
    use super::{audience_matches, ClaimRules, IssuerTemplate};
    use crate::config::{binding, from_bindings};

    /// Whatever issuers the key record names, a version the configuration does not accept gets
    /// no issuer rule, so its tokens are `wrong_token_version`.
    #[test]
    fn only_configured_versions_get_an_issuer_rule() {
        let config = |versions: &str| {
            let pairs = [
                (binding::TENANT_ID, "72f988bf-86f1-41af-91ab-2d7cd011db47"),
                (binding::AUDIENCES, "api://x"),
                (binding::ORIGIN_URL, "https://origin.example"),
                (binding::SECRET, crate::secret::TEST_SECRET),
                (binding::TOKEN_VERSIONS, versions),
            ];
            from_bindings(|name| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            })
            .expect("valid")
        };
        let v1 = || {
            Some(IssuerTemplate::new(
                "https://sts.windows.net/{tenantid}/".to_owned(),
            ))
        };
        let v2 = || {
            Some(IssuerTemplate::new(
                "https://login.microsoftonline.com/{tenantid}/v2.0".to_owned(),
            ))
        };
        let only_v2 = ClaimRules::new(&config("2.0"), v1(), v2());
        assert!(only_v2.issuers.v1.is_none() && only_v2.issuers.v2.is_some());
        let only_v1 = ClaimRules::new(&config("1.0"), v1(), v2());
        assert!(only_v1.issuers.v1.is_some() && only_v1.issuers.v2.is_none());
        let both = ClaimRules::new(&config("1.0,2.0"), v1(), v2());
        assert!(both.issuers.v1.is_some() && both.issuers.v2.is_some());
    }

    #[test]
    fn uri_audiences_match_with_one_slash_more_or_less() {
        assert!(audience_matches("api://contoso", "api://contoso"));
        assert!(audience_matches("api://contoso", "api://contoso/"));
        assert!(audience_matches("api://contoso/", "api://contoso"));
        assert!(!audience_matches("api://contoso", "api://contoso//"));
        assert!(!audience_matches("api://contoso", "api://contoso/x"));
        assert!(!audience_matches(
            "11111111-2222-3333-4444-555555555555",
            "11111111-2222-3333-4444-555555555555/"
        ));
    }
}
