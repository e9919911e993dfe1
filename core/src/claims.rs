//! The claims stage: a [`SignedPayload`] becomes a [`VerifiedIdentity`] only if every Entra
//! rule holds. Claims are typed; a checked claim of the wrong JSON type, `null`, or a repeated
//! member makes the whole token malformed.

use super::guid::{is_guid, normalize_guid};
use super::identity::{TokenKind, TokenVersion, VerifiedIdentity};
use super::issuer::{tenant_segment, IssuerRules, IssuerTemplate};
use super::json::read::{self, Member};
use super::json::{self, Instant, JsonError, Object, Value};
use super::jws::SignedPayload;
use super::reason::Reason;
use super::time::UnixTime;
use crate::quoted::Quoted;
use std::borrow::Cow;
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
        /// `exp` in whole seconds (rounded down).
        exp: i64,
        /// The time of the check, in whole seconds.
        now: i64,
    },
    /// `nbf` is in the future, with skew.
    NotYetValid {
        /// `nbf` in whole seconds (rounded down).
        nbf: i64,
        /// The time of the check, in whole seconds.
        now: i64,
    },
    /// `iat` is negative, in the future (with skew) or after `exp`.
    IssuedAt {
        /// `iat` in whole seconds (rounded down).
        iat: i64,
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
                write!(f, "expired at {exp}, now {now}")
            }
            ClaimsError::NotYetValid { nbf, now } => {
                write!(f, "not before {nbf}, now {now}")
            }
            ClaimsError::IssuedAt { iat, now } => {
                write!(f, "issued at {iat}, now {now}")
            }
            ClaimsError::VersionNotAccepted { ver } => {
                write!(f, "token version {} refused", Quoted(ver))
            }
            ClaimsError::TenantId => f.write_str("tid is not a GUID"),
            ClaimsError::ConsumerAccount => f.write_str("personal account tenant"),
            ClaimsError::TenantNotAllowed => f.write_str("tenant is not on the allow-list"),
            ClaimsError::Issuer { iss } => write!(f, "issuer {} not accepted", Quoted(iss)),
            ClaimsError::TenantMismatch => f.write_str("tid differs from the issuer's tenant"),
            ClaimsError::KeyIssuer { key_issuer } => {
                write!(
                    f,
                    "key issuer {} does not match the token issuer",
                    Quoted(key_issuer)
                )
            }
            ClaimsError::Audience => f.write_str("no accepted audience"),
        }
    }
}

/// A JSON NumericDate (RFC 7519 §2): a number, possibly fractional or with an exponent;
/// nothing else. Read exactly (to 10^-18 s), never through a float: no float parser in the
/// worker, and comparisons with the clock are exact.
fn numeric_date(name: &str, value: &Value<'_>) -> Result<Instant, JsonError> {
    let at = &Member(name);
    value
        .as_number()
        .ok_or_else(|| read::wrong(at, "a NumericDate (a JSON number)", value))?
        .as_instant()
        .ok_or_else(|| JsonError::out_of_range(at, "a NumericDate within the range of a double"))
}

/// `aud`: one string or an array of strings (RFC 7519 §4.1.3); anything else is malformed.
fn audiences<'a>(value: Value<'a>) -> Result<Vec<Cow<'a, str>>, JsonError> {
    let at = &Member("aud");
    match value {
        Value::String(one) => Ok(vec![one]),
        Value::Array(_) => read::strings(at, value),
        other @ (Value::Null | Value::Bool(_) | Value::Number(_) | Value::Object(_)) => {
            Err(read::wrong(at, "a string or an array of strings", &other))
        }
    }
}

/// Every claim the gateway checks or passes on, borrowed from the payload where it has no
/// escapes. A present claim must hold a value of its type: `null` is refused, not read as
/// absent. Other claims are skipped unread.
#[derive(Debug, Default)]
struct RawClaims<'a> {
    iss: Option<Cow<'a, str>>,
    aud: Option<Vec<Cow<'a, str>>>,
    exp: Option<Instant>,
    nbf: Option<Instant>,
    iat: Option<Instant>,
    ver: Option<Cow<'a, str>>,
    tid: Option<Cow<'a, str>>,
    oid: Option<Cow<'a, str>>,
    sub: Option<Cow<'a, str>>,
    azp: Option<Cow<'a, str>>,
    appid: Option<Cow<'a, str>>,
    azpacr: Option<Cow<'a, str>>,
    appidacr: Option<Cow<'a, str>>,
    idtyp: Option<Cow<'a, str>>,
    scp: Option<Cow<'a, str>>,
    roles: Option<Vec<Cow<'a, str>>>,
    acrs: Option<Vec<Cow<'a, str>>>,
    amr: Option<Vec<Cow<'a, str>>>,
    auth_time: Option<Instant>,
    xms_cc: Option<Vec<Cow<'a, str>>>,
    uti: Option<Cow<'a, str>>,
    ipaddr: Option<Cow<'a, str>>,
    groups: Option<Vec<Cow<'a, str>>>,
    /// Overage: `_claim_names` (an object) names `groups`, left out of the token and a Graph
    /// source named instead (JWT).
    groups_named_elsewhere: bool,
    /// Overage in implicit-flow tokens: `hasgroups`, whatever its value.
    hasgroups: bool,
    // Marks of an ID token, whatever their value: access tokens never carry these.
    nonce: bool,
    at_hash: bool,
    c_hash: bool,
}

impl<'a> RawClaims<'a> {
    /// The claims [`RawClaims::read`] reads; the others are checked and skipped unbuilt.
    const NAMES: [&'static str; 28] = [
        "iss",
        "aud",
        "exp",
        "nbf",
        "iat",
        "ver",
        "tid",
        "oid",
        "sub",
        "azp",
        "appid",
        "azpacr",
        "appidacr",
        "idtyp",
        "scp",
        "roles",
        "acrs",
        "amr",
        "auth_time",
        "xms_cc",
        "uti",
        "ipaddr",
        "groups",
        "_claim_names",
        "hasgroups",
        "nonce",
        "at_hash",
        "c_hash",
    ];

    /// One pass over the claims object, taking each value it keeps without copying.
    fn read(claims: Object<'a>) -> Result<Self, JsonError> {
        let mut raw = RawClaims::default();
        for (name, value) in claims {
            let name = name.as_ref();
            let text = |value| read::string(&Member(name), value).map(Some);
            let list = |value| read::strings(&Member(name), value).map(Some);
            match name {
                "iss" => raw.iss = text(value)?,
                "aud" => raw.aud = Some(audiences(value)?),
                "exp" => raw.exp = Some(numeric_date(name, &value)?),
                "nbf" => raw.nbf = Some(numeric_date(name, &value)?),
                "iat" => raw.iat = Some(numeric_date(name, &value)?),
                "ver" => raw.ver = text(value)?,
                "tid" => raw.tid = text(value)?,
                "oid" => raw.oid = text(value)?,
                "sub" => raw.sub = text(value)?,
                "azp" => raw.azp = text(value)?,
                "appid" => raw.appid = text(value)?,
                "azpacr" => raw.azpacr = text(value)?,
                "appidacr" => raw.appidacr = text(value)?,
                "idtyp" => raw.idtyp = text(value)?,
                "scp" => raw.scp = text(value)?,
                "roles" => raw.roles = list(value)?,
                "acrs" => raw.acrs = list(value)?,
                "amr" => raw.amr = list(value)?,
                "auth_time" => raw.auth_time = Some(numeric_date(name, &value)?),
                "xms_cc" => raw.xms_cc = list(value)?,
                "uti" => raw.uti = text(value)?,
                "ipaddr" => raw.ipaddr = text(value)?,
                "groups" => raw.groups = list(value)?,
                "_claim_names" => {
                    raw.groups_named_elsewhere =
                        read::object(&Member(name), value)?.get("groups").is_some();
                }
                "hasgroups" => raw.hasgroups = true,
                "nonce" => raw.nonce = true,
                "at_hash" => raw.at_hash = true,
                "c_hash" => raw.c_hash = true,
                _ => {}
            }
        }
        Ok(raw)
    }
}

fn owned(list: Option<Vec<Cow<'_, str>>>) -> Vec<String> {
    list.unwrap_or_default()
        .into_iter()
        .map(Cow::into_owned)
        .collect()
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
    let wanted = |name: &str| {
        RawClaims::NAMES.contains(&name) || rules.extra_claims.iter().any(|n| n == name)
    };
    let object = json::parse_object_keeping(signed.payload(), &wanted)
        .map_err(|e| malformed(e.to_string()))?;
    let extra_claims = extra_claims(&object, &rules.extra_claims);
    let claims = RawClaims::read(object).map_err(|e| malformed(e.to_string()))?;
    let audiences = claims.aud.as_deref().ok_or_else(|| malformed("no aud"))?;

    if audiences.iter().any(|a| is_graph_audience(a)) {
        return Err(ClaimsError::GraphAudience);
    }
    let client_id = claims.azp.as_deref().or(claims.appid.as_deref());
    if claims.nonce || claims.at_hash || claims.c_hash || client_id.is_none() {
        return Err(ClaimsError::IdToken);
    }

    let exp = check_times(&claims, rules.clock_skew_seconds, now)?;

    let (version, issuer_rule) = match claims.ver.as_deref() {
        Some("1.0") if rules.issuers.v1.is_some() => (TokenVersion::V1, &rules.issuers.v1),
        Some("2.0") if rules.issuers.v2.is_some() => (TokenVersion::V2, &rules.issuers.v2),
        other => {
            return Err(ClaimsError::VersionNotAccepted {
                ver: other.unwrap_or_default().into(),
            })
        }
    };

    let tid = claims.tid.as_deref().ok_or_else(|| malformed("no tid"))?;
    if !is_guid(tid) {
        return Err(ClaimsError::TenantId);
    }
    if tid == CONSUMER_TENANT && !rules.allow_consumer_accounts {
        return Err(ClaimsError::ConsumerAccount);
    }
    if rules
        .allowed_tenants
        .as_ref()
        .is_some_and(|allowed| !allowed.iter().any(|t| t == tid))
    {
        return Err(ClaimsError::TenantNotAllowed);
    }
    let iss = claims.iss.as_deref().ok_or_else(|| malformed("no iss"))?;
    let expected_issuer = issuer_rule.as_ref().map(|rule| rule.resolve(tid));
    if expected_issuer.as_deref() != Some(iss) {
        return Err(ClaimsError::Issuer {
            iss: iss.to_owned(),
        });
    }
    if tenant_segment(iss) != Some(tid) {
        return Err(ClaimsError::TenantMismatch);
    }
    if let Some(key_issuer) = signed.key_issuer() {
        let key_issuer = IssuerTemplate::new(key_issuer).resolve(tid);
        // v1 tokens are signed by keys whose published issuer is the v2 form of the same
        // tenant's issuer (v1 key documents carry no issuer); Microsoft.IdentityModel accepts
        // that pairing, and so do we, but only for the same tenant.
        let v2_form = match version {
            TokenVersion::V1 => rules.issuers.v2.as_ref().map(|v2| v2.resolve(tid)),
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

    let oid = claims.oid.as_deref().ok_or_else(|| malformed("no oid"))?;
    if !is_guid(oid) {
        return Err(malformed("oid is not a GUID"));
    }
    let sub = claims
        .sub
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed("no sub"))?;
    let kind = match (claims.idtyp.as_deref(), &claims.scp) {
        (Some("app"), _) => TokenKind::App,
        (Some("user"), _) | (None, Some(_)) => TokenKind::Delegated,
        (None, None) => TokenKind::App,
        (Some(other), _) => return Err(malformed(format!("unknown idtyp {}", Quoted(other)))),
    };

    let groups_overage = claims.hasgroups || claims.groups_named_elsewhere;
    let groups = claims
        .groups
        .unwrap_or_default()
        .into_iter()
        .map(|g| normalize_guid(&g).unwrap_or_else(|| g.into_owned()))
        .collect();

    Ok(VerifiedIdentity {
        tenant_id: tid.to_owned(),
        object_id: oid.to_owned(),
        subject: sub.to_owned(),
        client_id: client_id.unwrap_or_default().to_owned(),
        client_auth: claims.azpacr.or(claims.appidacr).map(Cow::into_owned),
        kind,
        version,
        audience,
        issuer: iss.to_owned(),
        kid: signed.kid().to_owned(),
        scopes: claims
            .scp
            .as_deref()
            .map(|s| {
                s.split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        roles: owned(claims.roles),
        acrs: owned(claims.acrs),
        amr: owned(claims.amr),
        auth_time: claims.auth_time.map(|t| t.floor),
        xms_cc: owned(claims.xms_cc),
        token_id: claims.uti.map(Cow::into_owned),
        ip_address: claims.ipaddr.map(Cow::into_owned),
        groups,
        groups_overage,
        expires_at: exp.floor,
        extra_claims,
    })
}

/// Reads the named claims as strings: a string is one value, an array of scalars several,
/// numbers and booleans their JSON text (a number as written: `1.50` stays `1.50`); objects
/// and `null` are never matched. In the order of `names`, whatever the token's.
fn extra_claims(claims: &Object<'_>, names: &[String]) -> Vec<(String, Vec<String>)> {
    let scalar = |value: &Value<'_>| match value {
        Value::String(s) => Some(s.to_string()),
        Value::Number(n) => Some(n.text().to_owned()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    };
    names
        .iter()
        .enumerate()
        .filter(|(i, name)| !names.get(..*i).unwrap_or_default().contains(name))
        .filter_map(|(_, name)| {
            let values = match claims.get(name)? {
                Value::Array(items) => items.iter().filter_map(scalar).collect(),
                one @ (Value::Null
                | Value::Bool(_)
                | Value::Number(_)
                | Value::String(_)
                | Value::Object(_)) => scalar(one).into_iter().collect(),
            };
            Some((name.clone(), values))
        })
        .collect()
}

/// Checks `exp`, `nbf`, `iat` and `auth_time` against the clock, exactly (fractions
/// included); answers `exp`.
fn check_times(claims: &RawClaims<'_>, skew: i64, now: UnixTime) -> Result<Instant, ClaimsError> {
    let now_s = now.seconds();
    let latest = Instant::seconds(now_s.saturating_add(skew));
    let exp = claims.exp.ok_or_else(|| malformed("no exp"))?;
    // Valid while now < exp + skew; at exactly exp + skew the token has expired.
    if exp <= Instant::seconds(now_s.saturating_sub(skew)) {
        return Err(ClaimsError::Expired {
            exp: exp.floor,
            now: now_s,
        });
    }
    if let Some(nbf) = claims.nbf {
        if nbf > latest {
            return Err(ClaimsError::NotYetValid {
                nbf: nbf.floor,
                now: now_s,
            });
        }
    }
    let epoch = Instant::seconds(0);
    if let Some(iat) = claims.iat {
        if iat < epoch || iat > latest || iat > exp {
            return Err(ClaimsError::IssuedAt {
                iat: iat.floor,
                now: now_s,
            });
        }
    }
    if let Some(auth_time) = claims.auth_time {
        if auth_time < epoch {
            return Err(malformed("auth_time is before 1970"));
        }
        if auth_time > latest {
            return Err(malformed("auth_time is in the future"));
        }
    }
    Ok(exp)
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
    use crate::config::binding;

    /// Whatever issuers the key record names, a version the configuration does not accept gets
    /// no issuer rule, so its tokens are `wrong_token_version`.
    #[test]
    fn only_configured_versions_get_an_issuer_rule() {
        let config = |versions: &str| {
            crate::config::tests_support::config_with(&[(binding::TOKEN_VERSIONS, versions)])
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
