//! What the origin receives: the request on a fixed origin, minus anything a client could use to
//! impersonate the gateway or steer the connection, plus identity headers derived only from the
//! verified token.

use super::endpoint::Endpoint;
use super::identity::VerifiedIdentity;
use crate::quoted::Quoted;
use std::borrow::Cow;
use std::fmt;

/// The identity headers' prefix when `GATE_IDENTITY_HEADER_PREFIX` is unset.
pub const DEFAULT_PREFIX: &str = "X-Entra-";

/// Connection-level headers (RFC 9110 §7.6.1) are never forwarded, nor any header the
/// `Connection` header names.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Why an identity-header setting was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderSettingError {
    /// `GATE_IDENTITY_HEADER_PREFIX` is not 3–32 header-name characters ending in `-`.
    Prefix {
        /// As configured.
        prefix: String,
    },
    /// The prefix would claim headers the platform or browsers own.
    PrefixOverlaps {
        /// As configured.
        prefix: String,
    },
    /// A `GATE_CLAIM_HEADERS` entry that is not `claim=Header-Suffix`.
    Mapping {
        /// The entry.
        pair: String,
    },
    /// A mapping onto one of the fixed identity headers.
    FixedHeader {
        /// The entry.
        pair: String,
        /// The header it would set.
        name: String,
    },
}

impl HeaderSettingError {
    /// The binding the problem is in.
    pub fn binding(&self) -> &'static str {
        match self {
            HeaderSettingError::Prefix { .. } | HeaderSettingError::PrefixOverlaps { .. } => {
                super::config::binding::IDENTITY_HEADER_PREFIX
            }
            HeaderSettingError::Mapping { .. } | HeaderSettingError::FixedHeader { .. } => {
                super::config::binding::CLAIM_HEADERS
            }
        }
    }
}

impl fmt::Display for HeaderSettingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderSettingError::Prefix { prefix } => write!(
                f,
                "prefix {} must be 3-32 header-name characters ending in '-'",
                Quoted(prefix)
            ),
            HeaderSettingError::PrefixOverlaps { prefix } => write!(
                f,
                "prefix {} overlaps headers the platform or browsers own",
                Quoted(prefix)
            ),
            HeaderSettingError::Mapping { pair } => {
                write!(f, "{} is not claim=Header-Suffix", Quoted(pair))
            }
            HeaderSettingError::FixedHeader { pair, name } => {
                write!(
                    f,
                    "{}: {name} is one of the fixed identity headers",
                    Quoted(pair)
                )
            }
        }
    }
}

impl std::error::Error for HeaderSettingError {}

/// The identity header names and the claims mapped onto extra headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityHeaders {
    /// As configured, e.g. `X-Entra-`; matched case-insensitively.
    prefix: String,
    /// `(claim, header name)` pairs from `GATE_CLAIM_HEADERS`.
    claim_headers: Vec<(String, String)>,
    /// The prefix plus each of [`FIXED`], in that order: built once, used on every request.
    fixed_names: Vec<String>,
}

impl Default for IdentityHeaders {
    fn default() -> Self {
        Self::with(DEFAULT_PREFIX, Vec::new())
    }
}

pub fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

impl IdentityHeaders {
    /// Validates a prefix (`X-Entra-`) and `claim=Header-Suffix` mappings.
    pub fn new(prefix: &str, mappings: &str) -> Result<Self, Vec<HeaderSettingError>> {
        let mut problems = Vec::new();
        if !(3..=32).contains(&prefix.len())
            || !prefix.ends_with('-')
            || !prefix.bytes().all(is_token_char)
        {
            problems.push(HeaderSettingError::Prefix {
                prefix: prefix.to_owned(),
            });
        }
        let lower = prefix.to_ascii_lowercase();
        if [
            "x-forwarded-",
            "cf-",
            "sec-",
            "access-control-",
            "proxy-",
            "content-",
        ]
        .iter()
        .any(|p| lower.starts_with(p) || p.starts_with(&lower))
        {
            problems.push(HeaderSettingError::PrefixOverlaps {
                prefix: prefix.to_owned(),
            });
        }
        let mut claim_headers = Vec::new();
        for pair in mappings.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some((claim, suffix))
                    if !claim.trim().is_empty()
                        && !suffix.trim().is_empty()
                        && suffix.trim().bytes().all(is_token_char) =>
                {
                    let name = format!("{prefix}{}", suffix.trim());
                    if FIXED.iter().any(|f| f.eq_ignore_ascii_case(suffix.trim())) {
                        problems.push(HeaderSettingError::FixedHeader {
                            pair: pair.to_owned(),
                            name: name.clone(),
                        });
                    }
                    claim_headers.push((claim.trim().to_owned(), name));
                }
                _ => problems.push(HeaderSettingError::Mapping {
                    pair: pair.to_owned(),
                }),
            }
        }
        if problems.is_empty() {
            Ok(Self::with(prefix, claim_headers))
        } else {
            Err(problems)
        }
    }

    /// Claims the mappings need kept (see `ClaimRules::extra_claims`).
    pub fn mapped_claims(&self) -> impl Iterator<Item = &str> {
        self.claim_headers.iter().map(|(c, _)| c.as_str())
    }

    fn with(prefix: &str, claim_headers: Vec<(String, String)>) -> Self {
        IdentityHeaders {
            prefix: prefix.to_owned(),
            claim_headers,
            fixed_names: FIXED.iter().map(|s| format!("{prefix}{s}")).collect(),
        }
    }

    /// The prefix plus `suffix`; the fixed names come ready-made.
    pub fn name(&self, suffix: &str) -> Cow<'_, str> {
        let ready = FIXED
            .iter()
            .position(|fixed| *fixed == suffix)
            .and_then(|at| self.fixed_names.get(at));
        match ready {
            Some(name) => Cow::Borrowed(name.as_str()),
            None => Cow::Owned(format!("{}{suffix}", self.prefix)),
        }
    }

    /// True for any header with the prefix, whatever its case: such headers only ever come from
    /// the gateway.
    pub fn is_reserved(&self, name: &str) -> bool {
        // Some servers read `_` as `-` in header names (CGI, some frameworks), so
        // `X-Entra_Tenant-Id` and `X_Entra_Roles` are reserved too.
        name.as_bytes()
            .get(..self.prefix.len())
            .is_some_and(|start| {
                start.iter().zip(self.prefix.as_bytes()).all(|(&a, &b)| {
                    let fold = |c: u8| {
                        if c == b'_' {
                            b'-'
                        } else {
                            c.to_ascii_lowercase()
                        }
                    };
                    fold(a) == fold(b)
                })
            })
    }

    /// The identity headers for a verified caller. Absent optional claims send no header; empty
    /// lists send an empty one. Lists are encoded as described at [`list_value`].
    pub fn for_identity(&self, id: &VerifiedIdentity) -> Vec<(Cow<'_, str>, String)> {
        let mut out = vec![
            (self.name("Tenant-Id"), header_safe(&id.tenant_id)),
            (self.name("Object-Id"), header_safe(&id.object_id)),
            (self.name("Subject"), header_safe(&id.subject)),
            (self.name("Client-Id"), header_safe(&id.client_id)),
            (self.name("Token-Kind"), id.kind.as_str().to_owned()),
            (self.name("Token-Version"), id.version.as_str().to_owned()),
            (self.name("Scopes"), list_value(&id.scopes)),
            (self.name("Roles"), list_value(&id.roles)),
            (self.name("Acrs"), list_value(&id.acrs)),
        ];
        if let Some(t) = id.auth_time {
            out.push((self.name("Auth-Time"), t.to_string()));
        }
        if let Some(uti) = &id.token_id {
            out.push((self.name("Token-Id"), header_safe(uti)));
        }
        for (claim, header) in &self.claim_headers {
            let values = id.extra_claim(claim);
            if !values.is_empty() {
                out.push((Cow::Borrowed(header.as_str()), list_value(values)));
            }
        }
        out
    }
}

/// Header suffixes the gateway always owns.
pub const FIXED: [&str; 13] = [
    "Tenant-Id",
    "Object-Id",
    "Subject",
    "Client-Id",
    "Token-Kind",
    "Token-Version",
    "Scopes",
    "Roles",
    "Acrs",
    "Auth-Time",
    "Token-Id",
    "Request-Id",
    "Assertion",
];

/// Request headers that make an origin (or a framework in front of it) serve another method or
/// path than the one the policy decided on: IIS and Symfony's `X-Original-URL` /
/// `X-Rewrite-URL`, method overrides (ASP.NET Core, OData, Express, Rails), Spring's and
/// Traefik's forwarded prefix and URI, and a client's claim about the host. Always stripped;
/// `GATE_STRIP_HEADERS` adds more.
pub const OVERRIDE_HEADERS: [&str; 11] = [
    "x-original-url",
    "x-rewrite-url",
    "x-original-uri",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "x-forwarded-prefix",
    "x-forwarded-uri",
    "x-forwarded-path",
    "x-forwarded-host",
    "forwarded",
];

/// Headers Cloudflare sets about the client, which a `Connection` header must not be able to
/// remove (origins rely on them for the client's address and scheme).
const PLATFORM_PREFIXES: [&str; 2] = ["cf-", "x-forwarded-"];
const PLATFORM_HEADERS: [&str; 4] = ["true-client-ip", "x-real-ip", "cdn-loop", "x-request-id"];

/// True for connection-level headers, including those the request's `Connection` names, except
/// that `Connection` cannot name a header the platform or the gateway sets.
pub fn is_hop_by_hop(name: &str, connection: Option<&str>, ids: &IdentityHeaders) -> bool {
    HOP_BY_HOP.iter().any(|h| h.eq_ignore_ascii_case(name))
        || connection.is_some_and(|c| {
            c.split(',')
                .any(|listed| listed.trim().eq_ignore_ascii_case(name))
        }) && !is_protected(name, ids)
}

fn is_protected(name: &str, ids: &IdentityHeaders) -> bool {
    let lower = name.to_ascii_lowercase();
    PLATFORM_PREFIXES.iter().any(|p| lower.starts_with(p))
        || PLATFORM_HEADERS.contains(&lower.as_str())
        || ids.is_reserved(name)
}

/// Every request header the origin never receives from the client: connection-level ones, the
/// reserved identity prefix (only the gateway sets those), the client's `Host`, the override
/// headers, and the configured extra names (lower case).
pub fn is_stripped(
    name: &str,
    connection: Option<&str>,
    ids: &IdentityHeaders,
    extra: &[String],
) -> bool {
    ids.is_reserved(name)
        || name.eq_ignore_ascii_case("host")
        || OVERRIDE_HEADERS
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name))
        || extra.iter().any(|h| h.eq_ignore_ascii_case(name))
        || is_hop_by_hop(name, connection, ids)
}

/// Percent-encodes everything outside printable ASCII, and `%` itself, so a claim can never
/// split a header (CR/LF) or smuggle bytes an origin might decode differently.
pub fn header_safe(value: &str) -> String {
    encode(value, b"%")
}

/// Lists (scopes, roles, acrs, mapped array claims): values separated by single spaces, with a
/// space, `%` or any byte outside printable ASCII inside a value percent-encoded. Entra forbids
/// spaces in scope and role values, so those read exactly as in the token.
pub fn list_value(values: &[String]) -> String {
    values
        .iter()
        .map(|v| encode(v, b"% "))
        .collect::<Vec<_>>()
        .join(" ")
}

fn encode(value: &str, also: &[u8]) -> String {
    let plain = |byte: u8| (0x20..0x7f).contains(&byte) && !also.contains(&byte);
    // Almost every claim is plain already.
    if value.bytes().all(plain) {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if plain(byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The origin URL for a request: the configured origin (with its path prefix) plus the request's
/// path and query. Only path and query come from the request, so the destination host can never
/// be chosen by a client.
pub fn origin_url(origin: &Endpoint, path: &str, query: Option<&str>) -> String {
    join_url(origin.as_str(), path, query)
}

/// `base` (a URL's `scheme://host[/prefix]`) followed by the request's path and query.
pub(crate) fn join_url(base: &str, path: &str, query: Option<&str>) -> String {
    let base = base.trim_end_matches('/');
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    match query {
        Some(q) => format!("{base}{path}?{q}"),
        None => format!("{base}{path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_prefix_in_any_case() {
        let h = IdentityHeaders::default();
        assert!(h.is_reserved("X-Entra-Tenant-Id"));
        assert!(h.is_reserved("x-entra-anything"));
        assert!(h.is_reserved("X-ENTRA-"));
        assert!(!h.is_reserved("x-entr"));
        assert!(!h.is_reserved("authorization"));
        assert!(h.is_reserved("X-Entra_Tenant-Id"), "underscore look-alike");
        assert!(h.is_reserved("X_ENTRA_ROLES"));
        let custom = IdentityHeaders::new("X-Caller-", "").expect("valid");
        assert!(custom.is_reserved("x-caller-tenant-id"));
        assert!(!custom.is_reserved("x-entra-tenant-id"));
    }

    #[test]
    fn prefixes_and_mappings_are_checked() {
        assert!(
            IdentityHeaders::new("X-Entra", "").is_err(),
            "must end in -"
        );
        assert!(IdentityHeaders::new("X-Forwarded-", "").is_err());
        assert!(IdentityHeaders::new("CF-", "").is_err());
        assert!(IdentityHeaders::new("X Bad-", "").is_err());
        assert!(IdentityHeaders::new("X-Entra-", "upn").is_err());
        assert!(IdentityHeaders::new("X-Entra-", "upn=Sub ject").is_err());
        assert!(
            IdentityHeaders::new("X-Entra-", "sub=Subject").is_err(),
            "fixed header"
        );
        let ok = IdentityHeaders::new("X-Entra-", "preferred_username=Username, groups=Groups")
            .expect("valid");
        assert_eq!(
            ok.mapped_claims().collect::<Vec<_>>(),
            ["preferred_username", "groups"]
        );
    }

    #[test]
    fn values_cannot_break_headers() {
        assert_eq!(header_safe("a b"), "a b");
        assert_eq!(header_safe("a\r\nX-Evil: 1"), "a%0D%0AX-Evil: 1");
        assert_eq!(header_safe("100%"), "100%25");
        assert_eq!(header_safe("é"), "%C3%A9");
        let list = [
            "items.read".to_owned(),
            "a b".into(),
            "50%".into(),
            "é".into(),
        ];
        assert_eq!(list_value(&list), "items.read a%20b 50%25 %C3%A9");
        assert_eq!(list_value(&[]), "");
    }

    #[test]
    fn hop_by_hop_headers_including_those_connection_names() {
        let ids = IdentityHeaders::default();
        assert!(is_hop_by_hop("Transfer-Encoding", None, &ids));
        assert!(is_hop_by_hop("upgrade", None, &ids));
        assert!(is_hop_by_hop(
            "X-Secret",
            Some("keep-alive, X-Secret"),
            &ids
        ));
        assert!(!is_hop_by_hop("content-type", Some("close"), &ids));
        assert!(is_hop_by_hop("connection", Some("close"), &ids));
    }

    #[test]
    fn connection_cannot_remove_platform_or_gateway_headers() {
        let ids = IdentityHeaders::default();
        let connection = Some("CF-Connecting-IP, X-Forwarded-For, x-forwarded-proto, True-Client-IP, X-Real-IP, CDN-Loop, X-Request-Id, cookie");
        for protected in [
            "CF-Connecting-IP",
            "cf-ipcountry",
            "X-Forwarded-For",
            "X-Forwarded-Proto",
            "True-Client-IP",
            "X-Real-IP",
            "CDN-Loop",
            "X-Request-Id",
        ] {
            assert!(
                !is_stripped(protected, connection, &ids, &[]),
                "{protected} must survive Connection"
            );
        }
        assert!(
            is_stripped("cookie", connection, &ids, &[]),
            "an ordinary header Connection names is still hop-by-hop"
        );
    }

    #[test]
    fn override_host_reserved_and_configured_headers_are_stripped() {
        let ids = IdentityHeaders::default();
        for name in OVERRIDE_HEADERS {
            assert!(is_stripped(name, None, &ids, &[]), "{name}");
            assert!(
                is_stripped(&name.to_ascii_uppercase(), None, &ids, &[]),
                "{name}"
            );
        }
        assert!(is_stripped("X-HTTP-Method-Override", None, &ids, &[]));
        assert!(is_stripped("Host", None, &ids, &[]));
        assert!(is_stripped("X-Entra-Roles", None, &ids, &[]));
        assert!(!is_stripped("X-Api-Version", None, &ids, &[]));
        assert!(is_stripped(
            "X-Api-Version",
            None,
            &ids,
            &["x-api-version".to_owned()]
        ));
        assert!(!is_stripped("content-type", None, &ids, &[]));
        assert!(!is_stripped("x-forwarded-for", None, &ids, &[]));
    }

    #[test]
    fn joins_origin_prefix_and_request_path() {
        let origin = Endpoint::parse("https://api.internal/base/").expect("origin");
        assert_eq!(
            origin_url(&origin, "/v1/items", Some("a=1")),
            "https://api.internal/base/v1/items?a=1"
        );
        let bare = Endpoint::parse("http://127.0.0.1:9001").expect("origin");
        assert_eq!(origin_url(&bare, "/", None), "http://127.0.0.1:9001/");
    }
}
