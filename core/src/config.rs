//! Gateway configuration from wrangler bindings (plain strings), validated all at once so that
//! one log line can list every problem.

use super::assertion::AssertionKey;
use super::claims::is_graph_audience;
use super::endpoint::Endpoint;
use super::forward::{IdentityHeaders, DEFAULT_PREFIX};
use super::guid::normalize_guid;
use super::keystore::{sources, KeySetSource};
use super::logging::{AllowedLines, LogSettings};
use super::origins::Origins;
use super::policy::{ChallengeContext, Deployment, Policy};
use super::refresh::CachePolicy;
use super::resource_metadata::ResourceMetadata;
use super::revocation::RevocationPolicy;
use super::secret::GateSecret;
use crate::quoted::Quoted;
use std::fmt::{self, Display};
use std::ops::RangeInclusive;
use std::str::FromStr;

/// The binding names, in one place for the edge, the README table and the tests.
pub mod binding {
    /// Whose tokens are accepted: a tenant GUID, `organizations` or `common` (required).
    pub const TENANT_ID: &str = "ENTRA_TENANT_ID";
    /// Accepted `aud` values, comma-separated (required).
    pub const AUDIENCES: &str = "ENTRA_AUDIENCES";
    /// Where allowed requests go (required).
    pub const ORIGIN_URL: &str = "ORIGIN_URL";
    /// Named origins routes choose (`origin = "name"`): JSON of name → URL or
    /// `{"service": "BINDING"}`.
    pub const ORIGINS: &str = "GATE_ORIGINS";
    /// The Entra cloud whose metadata and keys are read.
    pub const AUTHORITY: &str = "ENTRA_AUTHORITY";
    /// Tolerance for the token's times.
    pub const CLOCK_SKEW_SECONDS: &str = "ENTRA_CLOCK_SKEW_SECONDS";
    /// Which `ver` are accepted (`1.0`, `2.0`, comma-separated).
    pub const TOKEN_VERSIONS: &str = "ENTRA_TOKEN_VERSIONS";
    /// With `common`: accept personal Microsoft account tokens.
    pub const ALLOW_CONSUMER_ACCOUNTS: &str = "ENTRA_ALLOW_CONSUMER_ACCOUNTS";
    /// Tokens longer than this are refused before any parsing.
    pub const MAX_TOKEN_BYTES: &str = "GATE_MAX_TOKEN_BYTES";
    /// The `realm` of `WWW-Authenticate`.
    pub const REALM: &str = "GATE_REALM";
    /// Pass the caller's `Authorization` header on to the origin.
    pub const FORWARD_AUTHORIZATION: &str = "GATE_FORWARD_AUTHORIZATION";
    /// With `organizations`/`common`: the only tenants that may call.
    pub const ALLOWED_TENANTS: &str = "ENTRA_ALLOWED_TENANTS";
    /// Apps with custom signing keys: adds `?appid=` to the metadata URLs.
    pub const METADATA_APPID: &str = "ENTRA_METADATA_APPID";
    /// An unknown `kid` refreshes a key set from Entra at most once per this window.
    pub const KID_MISS_WINDOW_SECONDS: &str = "ENTRA_KID_MISS_WINDOW_SECONDS";
    /// The scheduled refresh fetches a key set again once its copy is this old.
    pub const KEYS_REFRESH_SECONDS: &str = "ENTRA_KEYS_REFRESH_SECONDS";
    /// Keys Entra has not confirmed for this long are not used (fail closed).
    pub const KEYS_MAX_STALENESS_SECONDS: &str = "ENTRA_KEYS_MAX_STALENESS_SECONDS";
    /// An isolate re-reads KV after holding keys this long.
    pub const KEYS_MEMORY_TTL_SECONDS: &str = "ENTRA_KEYS_MEMORY_TTL_SECONDS";
    /// The KV namespace binding that holds key sets (checked by the edge, named here).
    pub const JWKS_KV: &str = "JWKS";
    /// Per-route rules (JSON, or a `[vars]` table); overrides the bundled policy file.
    pub const POLICY: &str = "GATE_POLICY";
    /// `false` turns off the Protected Resource Metadata document (RFC 9728) and the
    /// `resource_metadata` parameter of challenges.
    pub const RESOURCE_METADATA: &str = "GATE_RESOURCE_METADATA";
    /// Not a binding: names problems in the policy file bundled at build time.
    pub const POLICY_FILE: &str = "policy file";
    /// Development only: honour X-Dev-Client-IP / X-Dev-Country / X-Dev-ASN request headers.
    pub const DEV_CLIENT_HEADERS: &str = "GATE_DEV_CLIENT_HEADERS";
    /// Optional KV namespace with revoked tokens, users and applications.
    pub const REVOCATIONS_KV: &str = "REVOCATIONS";
    /// How long an isolate trusts its copy of the revocation list.
    pub const REVOCATION_REFRESH_SECONDS: &str = "GATE_REVOCATION_REFRESH_SECONDS";
    /// Prefix of every identity header (and of what is stripped from requests).
    pub const IDENTITY_HEADER_PREFIX: &str = "GATE_IDENTITY_HEADER_PREFIX";
    /// Extra claims sent to the origin as headers (`claim=Name`, comma-separated).
    pub const CLAIM_HEADERS: &str = "GATE_CLAIM_HEADERS";
    /// The origin's time to answer before `origin_timeout`.
    pub const ORIGIN_TIMEOUT_SECONDS: &str = "GATE_ORIGIN_TIMEOUT_SECONDS";
    /// A wrangler secret: the Ed25519 private JWK that signs identity assertions.
    pub const ASSERTION_KEY: &str = "GATE_ASSERTION_KEY";
    /// `iss` of identity assertions.
    pub const ASSERTION_ISSUER: &str = "GATE_ASSERTION_ISSUER";
    /// An Ed25519 JWK (private or public) published beside `GATE_ASSERTION_KEY`, never used to
    /// sign: the previous key while a rotation overlaps, or the next one published ahead.
    pub const ASSERTION_PREVIOUS_KEY: &str = "GATE_ASSERTION_PREVIOUS_KEY";
    /// A wrangler secret: base64 of at least 32 random bytes; seals the key records in KV.
    pub const SECRET: &str = "GATE_SECRET";
    /// With `organizations`/`common` and no allow-list: the explicit "any tenant may call".
    pub const ALLOW_ANY_TENANT: &str = "ENTRA_ALLOW_ANY_TENANT";
    /// How old the revocation list may grow while reads fail before requests are refused.
    pub const REVOCATION_MAX_STALENESS_SECONDS: &str = "GATE_REVOCATION_MAX_STALENESS_SECONDS";
    /// Further request headers never passed to the origin (besides the built-in list).
    pub const STRIP_HEADERS: &str = "GATE_STRIP_HEADERS";
    /// Allowed-request decision lines: `all`, `none` or a sampling rate.
    pub const LOG_ALLOWED: &str = "GATE_LOG_ALLOWED";
    /// Decision lines carry the caller's `oid` and the token's `uti` too.
    pub const LOG_IDENTIFIERS: &str = "GATE_LOG_IDENTIFIERS";
    /// Verify, authorize and log every request, but forward it whatever the verdict.
    pub const SHADOW_MODE: &str = "GATE_SHADOW_MODE";
}

/// Entra's global cloud, when `ENTRA_AUTHORITY` is unset.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
/// Tolerance for the token's times when `ENTRA_CLOCK_SKEW_SECONDS` is unset.
pub const DEFAULT_CLOCK_SKEW_SECONDS: i64 = 60;
/// Entra tokens are 1–4 KiB; 16 KiB leaves room for large `groups`/`roles` claims.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;
/// The `realm` of `WWW-Authenticate` when `GATE_REALM` is unset.
pub const DEFAULT_REALM: &str = "entra-gate";

/// Which tenants' tokens the deployment accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantSelector {
    /// One tenant, by GUID.
    Tenant(String),
    /// Any work or school tenant (`{tenantid}` issuer template).
    Organizations,
    /// Work, school and (only if allowed) personal accounts.
    Common,
}

impl TenantSelector {
    /// The `{tenant}` path segment of the authority's endpoints.
    pub fn path_segment(&self) -> &str {
        match self {
            TenantSelector::Tenant(guid) => guid,
            TenantSelector::Organizations => "organizations",
            TenantSelector::Common => "common",
        }
    }
}

/// The validated configuration of a deployment; only [`from_bindings`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateConfig {
    /// `ENTRA_TENANT_ID`: whose tokens are accepted.
    pub tenant: TenantSelector,
    /// `ENTRA_AUDIENCES`: accepted `aud` values, in the configured spelling.
    pub audiences: Vec<String>,
    /// `ORIGIN_URL` (the default) and `GATE_ORIGINS`: where allowed requests go.
    pub origins: Origins,
    /// `ENTRA_AUTHORITY`: the Entra cloud metadata and keys are read from.
    pub authority: Endpoint,
    /// `ENTRA_CLOCK_SKEW_SECONDS`: tolerance for the token's times.
    pub clock_skew_seconds: i64,
    /// v1 tokens are accepted (`ENTRA_TOKEN_VERSIONS` unset, or naming `1.0`).
    pub accept_v1: bool,
    /// v2 tokens are accepted (`ENTRA_TOKEN_VERSIONS` unset, or naming `2.0`).
    pub accept_v2: bool,
    /// `ENTRA_ALLOW_CONSUMER_ACCOUNTS`: personal Microsoft accounts too (only with `common`).
    pub allow_consumer_accounts: bool,
    /// `GATE_MAX_TOKEN_BYTES`: larger tokens are refused before any parsing.
    pub max_token_bytes: usize,
    /// `GATE_REALM`: the `realm` of `WWW-Authenticate` (safe inside a quoted string).
    pub realm: String,
    /// `GATE_FORWARD_AUTHORIZATION`: pass the caller's `Authorization` on to the origin.
    pub forward_authorization: bool,
    /// With `organizations`/`common`: the only tenants that may call (one key set each).
    pub allowed_tenants: Option<Vec<String>>,
    /// Apps with custom signing keys: `?appid=` on the metadata URLs.
    pub metadata_appid: Option<String>,
    /// When key sets are read from memory, KV or Entra.
    pub cache: CachePolicy,
    /// Per-route rules; without `GATE_POLICY` or a policy file, [`Policy::without_routes`].
    pub policy: Policy,
    /// Where [`GateConfig::policy`] came from.
    pub policy_source: PolicySource,
    /// `GATE_RESOURCE_METADATA`: what `/.well-known/oauth-protected-resource` says (`None`:
    /// turned off, no document and no `resource_metadata` in challenges).
    pub resource_metadata: Option<ResourceMetadata>,
    /// `GATE_DEV_CLIENT_HEADERS`: take client IP, country and ASN from `X-Dev-*` headers
    /// (development only).
    pub dev_client_headers: bool,
    /// When the revocation list is re-read, and how long a copy may serve while reads fail.
    pub revocation: RevocationPolicy,
    /// Request headers never forwarded besides the built-in ones (lower case).
    pub strip_headers: Vec<String>,
    /// Seals the key records kept in KV.
    pub secret: GateSecret,
    /// The key sets this configuration reads (see `keystore::sources`), in a fixed order: steps
    /// of the request walk name a set by its index here.
    pub key_sets: Vec<KeySetSource>,
    /// Where a claims challenge sends the client, and which API asks.
    pub challenge: ChallengeContext,
    /// The identity headers sent to the origin: prefix and claim mappings.
    pub identity_headers: IdentityHeaders,
    /// `GATE_ORIGIN_TIMEOUT_SECONDS`: the origin's time to answer (its response headers) before
    /// `504 origin_timeout`. `None` (unset): the gateway sets no timer of its own and the
    /// runtime's limits apply (Cloudflare's proxy gives an origin about 100 s); the per-request
    /// timer costs about a tenth of a cached request's CPU (BENCHMARKS.md), so it is opt-in.
    pub origin_timeout_seconds: Option<u32>,
    /// `None`: no assertion header (no key configured).
    pub assertion_key: Option<AssertionKey>,
    /// What the decision lines hold and which are written.
    pub log: LogSettings,
    /// `GATE_SHADOW_MODE`: a refusal is logged as `would_deny` and the request forwarded anyway
    /// (without identity headers or assertion, and with the caller's `Authorization`, so the
    /// origin keeps authenticating on its own). For migrations in front of live traffic.
    pub shadow: bool,
}

/// The policy bundled into the Worker at build time (`scripts/build.sh --policy FILE`), as
/// JSON; the `GATE_POLICY` binding, when set, overrides it.
#[derive(Debug, Clone, Copy)]
pub struct PolicyFile<'a> {
    /// The file's path as the build was given it, to name it in problems.
    pub path: &'a str,
    /// The document, converted from TOML at build time.
    pub json: &'a str,
}

/// Which document the policy was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    /// The `GATE_POLICY` binding (over any bundled file).
    Binding,
    /// The policy file bundled at build time, by its path.
    File(String),
    /// Neither: [`Policy::without_routes`].
    Absent,
}

/// One thing wrong with one binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The binding's name.
    pub binding: &'static str,
    /// What is wrong with it, for the log.
    pub problem: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.binding, self.problem)
    }
}

/// Reads bindings and collects every problem instead of stopping at the first.
struct Reader<F> {
    lookup: F,
    problems: Vec<ConfigProblem>,
}

impl<F: Fn(&str) -> Option<String>> Reader<F> {
    /// A binding's trimmed text; empty counts as unset.
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn problem(&mut self, binding: &'static str, problem: impl Into<String>) {
        self.problems.push(ConfigProblem {
            binding,
            problem: problem.into(),
        });
    }

    fn flag(&mut self, name: &'static str) -> bool {
        match self.get(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                self.problem(name, format!("{} is not true or false", Quoted(other)));
                false
            }
        }
    }

    /// A number within `range` (inclusive), or the default when unset.
    fn number<T>(
        &mut self,
        name: &'static str,
        default: T,
        range: RangeInclusive<T>,
        unit: &str,
    ) -> T
    where
        T: FromStr + PartialOrd + Display + Copy,
    {
        self.optional_number(name, range, unit)
            .flatten()
            .unwrap_or(default)
    }

    /// `None`: unset; `Some(None)`: set but not a number in `range` (a problem is recorded).
    fn optional_number<T>(
        &mut self,
        name: &'static str,
        range: RangeInclusive<T>,
        unit: &str,
    ) -> Option<Option<T>>
    where
        T: FromStr + PartialOrd + Display + Copy,
    {
        let text = self.get(name)?;
        match text.parse::<T>() {
            Ok(n) if range.contains(&n) => Some(Some(n)),
            _ => {
                self.problem(
                    name,
                    format!(
                        "{} is not {}..={}{unit}",
                        Quoted(&text),
                        range.start(),
                        range.end()
                    ),
                );
                Some(None)
            }
        }
    }

    /// An `https://` (or loopback `http://`) URL without a query.
    fn endpoint(&mut self, name: &'static str, text: &str) -> Option<Endpoint> {
        match Endpoint::parse(text) {
            Ok(url) if url.query().is_some() => {
                self.problem(name, "must not have a query");
                None
            }
            Ok(url) => Some(url),
            Err(e) => {
                self.problem(name, e.to_string());
                None
            }
        }
    }

    fn guid(&mut self, name: &'static str, text: &str, what: &str) -> Option<String> {
        let guid = normalize_guid(text);
        if guid.is_none() {
            self.problem(name, format!("{} is not {what}", Quoted(text)));
        }
        guid
    }

    fn list(&self, name: &str) -> Option<Vec<String>> {
        self.get(name).map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect()
        })
    }
}

/// Reads and validates every binding; `lookup` returns a binding's text if it is set.
pub fn from_bindings(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<GateConfig, Vec<ConfigProblem>> {
    from_bindings_and_policy_file(lookup, None)
}

/// [`from_bindings`] for a Worker built with a policy file: `GATE_POLICY`, when set, wins.
pub fn from_bindings_and_policy_file(
    lookup: impl Fn(&str) -> Option<String>,
    policy_file: Option<PolicyFile<'_>>,
) -> Result<GateConfig, Vec<ConfigProblem>> {
    let mut r = Reader {
        lookup,
        problems: Vec::new(),
    };

    let tenant = match r.get(binding::TENANT_ID) {
        None => {
            r.problem(
                binding::TENANT_ID,
                "required (a tenant GUID, organizations or common)",
            );
            None
        }
        Some(t) if t.eq_ignore_ascii_case("organizations") => Some(TenantSelector::Organizations),
        Some(t) if t.eq_ignore_ascii_case("common") => Some(TenantSelector::Common),
        Some(t) => r
            .guid(binding::TENANT_ID, &t, "a GUID, organizations or common")
            .map(TenantSelector::Tenant),
    };

    let audiences = r.list(binding::AUDIENCES).unwrap_or_default();
    if audiences.is_empty() {
        r.problem(
            binding::AUDIENCES,
            "required (comma-separated accepted aud values)",
        );
    }
    for aud in audiences.iter().filter(|a| is_graph_audience(a)) {
        r.problem(
            binding::AUDIENCES,
            format!(
                "{} is Microsoft Graph, never this API's audience",
                Quoted(aud)
            ),
        );
    }

    let named_origins = r.get(binding::ORIGINS);
    // Required unless named origins are given (then routes that name none are checked below).
    let default_origin = match r.get(binding::ORIGIN_URL) {
        None if named_origins.is_none() => {
            r.problem(binding::ORIGIN_URL, "required (the origin API's base URL)");
            None
        }
        None => None,
        Some(text) => r.endpoint(binding::ORIGIN_URL, &text),
    };
    // Reported above when missing or broken; no second problem about routes then.
    let origin_url_ok = match r.get(binding::ORIGIN_URL) {
        None => named_origins.is_some(),
        Some(_) => default_origin.is_some(),
    };
    let origins =
        Origins::parse(
            default_origin,
            named_origins.as_deref(),
            |text| match Endpoint::parse(text) {
                Ok(url) if url.query().is_some() => Err("must not have a query".into()),
                Ok(url) => Ok(url),
                Err(e) => Err(e.to_string()),
            },
        )
        .map_err(|found| {
            for problem in found {
                r.problem(binding::ORIGINS, problem);
            }
        })
        .ok()
        .filter(|_| origin_url_ok);
    let authority_text = r
        .get(binding::AUTHORITY)
        .unwrap_or_else(|| DEFAULT_AUTHORITY.into());
    let authority = r.endpoint(binding::AUTHORITY, &authority_text);

    let clock_skew_seconds = r.number(
        binding::CLOCK_SKEW_SECONDS,
        DEFAULT_CLOCK_SKEW_SECONDS,
        0..=300,
        " seconds",
    );

    let (mut accept_v1, mut accept_v2) = (true, true);
    if let Some(versions) = r.list(binding::TOKEN_VERSIONS) {
        (accept_v1, accept_v2) = (false, false);
        for version in versions {
            match version.as_str() {
                "1.0" => accept_v1 = true,
                "2.0" => accept_v2 = true,
                other => r.problem(
                    binding::TOKEN_VERSIONS,
                    format!("{} is not 1.0 or 2.0", Quoted(other)),
                ),
            }
        }
        if !accept_v1 && !accept_v2 {
            r.problem(binding::TOKEN_VERSIONS, "names no version");
        }
    }

    let allow_consumer_accounts = r.flag(binding::ALLOW_CONSUMER_ACCOUNTS);
    if allow_consumer_accounts
        && tenant
            .as_ref()
            .is_some_and(|t| *t != TenantSelector::Common)
    {
        r.problem(
            binding::ALLOW_CONSUMER_ACCOUNTS,
            "only meaningful with ENTRA_TENANT_ID=common",
        );
    }

    let max_token_bytes = r.number(
        binding::MAX_TOKEN_BYTES,
        DEFAULT_MAX_TOKEN_BYTES,
        1024..=65536,
        " bytes",
    );

    let realm = r
        .get(binding::REALM)
        .unwrap_or_else(|| DEFAULT_REALM.into());
    if !realm
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        r.problem(
            binding::REALM,
            "must be printable ASCII without quotes or backslashes",
        );
    }

    let shadow = r.flag(binding::SHADOW_MODE);
    // On unless turned off: clients that discover how to authenticate need nothing else.
    let publish_resource_metadata =
        r.get(binding::RESOURCE_METADATA).is_none() || r.flag(binding::RESOURCE_METADATA);
    // In shadow mode the origin still authenticates every request itself, so it needs the token.
    let forward_authorization = r.flag(binding::FORWARD_AUTHORIZATION) || shadow;

    let allowed_tenants = r.list(binding::ALLOWED_TENANTS).map(|list| {
        list.iter()
            .filter_map(|t| r.guid(binding::ALLOWED_TENANTS, t, "a tenant GUID"))
            .collect::<Vec<_>>()
    });
    match (&allowed_tenants, &tenant) {
        (Some(list), _) if list.is_empty() => {
            r.problem(binding::ALLOWED_TENANTS, "names no tenant")
        }
        (Some(_), Some(TenantSelector::Tenant(_))) => r.problem(
            binding::ALLOWED_TENANTS,
            "only with ENTRA_TENANT_ID=organizations or common",
        ),
        _ => {}
    }

    let allow_any_tenant = r.flag(binding::ALLOW_ANY_TENANT);
    let multi_tenant = matches!(
        tenant,
        Some(TenantSelector::Organizations | TenantSelector::Common)
    );
    match (multi_tenant, allowed_tenants.is_some(), allow_any_tenant) {
        (true, false, false) => r.problem(
            binding::ALLOWED_TENANTS,
            "required with ENTRA_TENANT_ID=organizations or common: list the tenants that may \
             call, or set ENTRA_ALLOW_ANY_TENANT=true to accept every tenant's tokens",
        ),
        (true, true, true) => r.problem(
            binding::ALLOW_ANY_TENANT,
            "contradicts ENTRA_ALLOWED_TENANTS (remove one)",
        ),
        (false, _, true) => r.problem(
            binding::ALLOW_ANY_TENANT,
            "only meaningful with ENTRA_TENANT_ID=organizations or common",
        ),
        _ => {}
    }

    let metadata_appid = r.get(binding::METADATA_APPID).and_then(|appid| {
        r.guid(
            binding::METADATA_APPID,
            &appid,
            "an application (client) id",
        )
    });

    let defaults = CachePolicy::default();
    let cache = CachePolicy {
        kid_miss_window_seconds: r.number(
            binding::KID_MISS_WINDOW_SECONDS,
            defaults.kid_miss_window_seconds,
            1..=3600,
            " seconds",
        ),
        refresh_seconds: r.number(
            binding::KEYS_REFRESH_SECONDS,
            defaults.refresh_seconds,
            60..=86400,
            " seconds",
        ),
        max_staleness_seconds: r.number(
            binding::KEYS_MAX_STALENESS_SECONDS,
            defaults.max_staleness_seconds,
            1..=7 * 86400,
            " seconds",
        ),
        memory_ttl_seconds: r.number(
            binding::KEYS_MEMORY_TTL_SECONDS,
            defaults.memory_ttl_seconds,
            0..=3600,
            " seconds",
        ),
        ..defaults
    };

    let dev_client_headers = r.flag(binding::DEV_CLIENT_HEADERS);
    let revocation_defaults = RevocationPolicy::default();
    let revocation = RevocationPolicy {
        refresh_seconds: r.number(
            binding::REVOCATION_REFRESH_SECONDS,
            revocation_defaults.refresh_seconds,
            0..=3600,
            " seconds",
        ),
        max_staleness_seconds: r.number(
            binding::REVOCATION_MAX_STALENESS_SECONDS,
            revocation_defaults.max_staleness_seconds,
            0..=86400,
            " seconds",
        ),
        ..revocation_defaults
    };
    if revocation.max_staleness_seconds < revocation.refresh_seconds {
        r.problem(
            binding::REVOCATION_MAX_STALENESS_SECONDS,
            format!(
                "{} s is shorter than GATE_REVOCATION_REFRESH_SECONDS ({} s)",
                revocation.max_staleness_seconds, revocation.refresh_seconds
            ),
        );
    }
    let strip_headers: Vec<String> = r
        .list(binding::STRIP_HEADERS)
        .unwrap_or_default()
        .into_iter()
        .map(|name| name.to_ascii_lowercase())
        .collect();
    for name in &strip_headers {
        if name.is_empty() || !name.bytes().all(super::forward::is_token_char) {
            r.problem(
                binding::STRIP_HEADERS,
                format!("{} is not a header name", Quoted(name)),
            );
        }
    }
    const MAKE_SECRET: &str = "openssl rand -base64 32 | npx wrangler secret put GATE_SECRET";
    let secret = match r.get(binding::SECRET).map(|text| GateSecret::parse(&text)) {
        Some(Ok(secret)) => Some(secret),
        Some(Err(e)) => {
            r.problem(
                binding::SECRET,
                format!("{e} (make one with {MAKE_SECRET})"),
            );
            None
        }
        None => {
            r.problem(
                binding::SECRET,
                format!(
                    "required: a Worker secret of at least 32 random bytes in base64 ({MAKE_SECRET})"
                ),
            );
            None
        }
    };

    let prefix = r
        .get(binding::IDENTITY_HEADER_PREFIX)
        .unwrap_or_else(|| DEFAULT_PREFIX.into());
    let mappings = r.get(binding::CLAIM_HEADERS).unwrap_or_default();
    let identity_headers = IdentityHeaders::new(&prefix, &mappings).unwrap_or_else(|found| {
        for problem in found {
            r.problem(problem.binding(), problem.to_string());
        }
        IdentityHeaders::default()
    });
    // A bad value is a problem (the configuration is refused), so the `None` it reads as never
    // runs.
    let origin_timeout_seconds = r
        .optional_number(binding::ORIGIN_TIMEOUT_SECONDS, 1..=300, " seconds")
        .flatten();
    let assertion_issuer = r
        .get(binding::ASSERTION_ISSUER)
        .unwrap_or_else(|| "entra-gate".into());
    let assertion_key = r.get(binding::ASSERTION_KEY).and_then(|jwk| {
        AssertionKey::parse(&jwk, &assertion_issuer)
            .map_err(|e| r.problem(binding::ASSERTION_KEY, e.to_string()))
            .ok()
    });
    let assertion_key = match (assertion_key, r.get(binding::ASSERTION_PREVIOUS_KEY)) {
        (Some(key), Some(previous)) => key
            .with_previous(&previous)
            .map_err(|e| r.problem(binding::ASSERTION_PREVIOUS_KEY, e.to_string()))
            .ok(),
        (None, Some(_)) if r.get(binding::ASSERTION_KEY).is_none() => {
            r.problem(
                binding::ASSERTION_PREVIOUS_KEY,
                "set without GATE_ASSERTION_KEY: there is no current key to publish it beside",
            );
            None
        }
        (key, _) => key,
    };

    let log = LogSettings {
        allowed: r
            .get(binding::LOG_ALLOWED)
            .and_then(|text| {
                AllowedLines::parse(&text)
                    .map_err(|e| r.problem(binding::LOG_ALLOWED, e))
                    .ok()
            })
            .unwrap_or_default(),
        identifiers: r.flag(binding::LOG_IDENTIFIERS),
    };

    let deployment = Deployment {
        accept_v1,
        accept_v2,
        audiences: &audiences,
    };
    let binding_json = r.get(binding::POLICY);
    let (json, policy_source) = match (binding_json.as_deref(), policy_file) {
        (Some(json), _) => (Some(json), PolicySource::Binding),
        (None, Some(file)) => (Some(file.json), PolicySource::File(file.path.to_owned())),
        (None, None) => (None, PolicySource::Absent),
    };
    let policy = json.map_or_else(Policy::without_routes, |json| {
        Policy::parse(json, deployment).unwrap_or_else(|found| {
            let (label, prefix) = policy_label(&policy_source);
            for problem in found {
                r.problem(label, format!("{prefix}{problem}"));
            }
            Policy::without_routes()
        })
    });
    if let Some(origins) = &origins {
        for problem in route_origin_problems(&policy, &policy_source, origins) {
            r.problems.push(problem);
        }
    }

    match (tenant, origins, authority, secret) {
        (Some(tenant), Some(origins), Some(authority), Some(secret)) if r.problems.is_empty() => {
            let challenge = ChallengeContext {
                authorization_uri: format!(
                    "{}/{}/oauth2/v2.0/authorize",
                    authority.as_str().trim_end_matches('/'),
                    tenant.path_segment()
                ),
                client_id: policy.api_client_id.clone(),
            };
            let resource_metadata = publish_resource_metadata.then(|| {
                let issuer = format!(
                    "{}/{}{}",
                    authority.as_str().trim_end_matches('/'),
                    tenant.path_segment(),
                    if accept_v2 { "/v2.0" } else { "" }
                );
                let query_tokens = policy.routes.iter().any(|r| r.query_token);
                ResourceMetadata::new(issuer, &audiences, &policy, query_tokens)
            });
            let mut config = GateConfig {
                tenant,
                audiences,
                origins,
                authority,
                clock_skew_seconds,
                accept_v1,
                accept_v2,
                allow_consumer_accounts,
                max_token_bytes,
                realm,
                forward_authorization,
                allowed_tenants,
                metadata_appid,
                cache,
                policy,
                policy_source,
                resource_metadata,
                dev_client_headers,
                revocation,
                strip_headers,
                secret,
                key_sets: Vec::new(),
                challenge,
                identity_headers,
                origin_timeout_seconds,
                assertion_key,
                log,
                shadow,
            };
            config.key_sets = sources(&config);
            Ok(config)
        }
        _ => Err(r.problems),
    }
}

/// What a KV namespace binding's name is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvBinding {
    /// A KV namespace.
    Namespace,
    /// Something else (a text variable of that name, say).
    Other,
    /// Nothing.
    Absent,
}

/// The problems with the KV bindings, as the Worker and `scripts/check.sh` both report them.
pub fn kv_binding_problems(jwks: KvBinding, revocations: KvBinding) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    if jwks != KvBinding::Namespace {
        problems.push(ConfigProblem {
            binding: binding::JWKS_KV,
            problem: "the KV namespace binding for key sets is missing".into(),
        });
    }
    // Bound but not a KV namespace would otherwise switch revocation off without a word.
    if revocations == KvBinding::Other {
        problems.push(ConfigProblem {
            binding: binding::REVOCATIONS_KV,
            problem: "is bound but is not a KV namespace".into(),
        });
    }
    problems
}

/// Where the policy's problems are reported: the binding or the file (named in the message).
fn policy_label(source: &PolicySource) -> (&'static str, String) {
    match source {
        PolicySource::File(path) => (binding::POLICY_FILE, format!("{path}: ")),
        PolicySource::Binding | PolicySource::Absent => (binding::POLICY, String::new()),
    }
}

/// Every route's origin must exist: a name from `GATE_ORIGINS`, or `ORIGIN_URL` for routes that
/// name none (and for `default = "authenticated"`).
fn route_origin_problems(
    policy: &Policy,
    source: &PolicySource,
    origins: &Origins,
) -> Vec<ConfigProblem> {
    let (label, prefix) = policy_label(source);
    let mut problems = Vec::new();
    for (i, route) in policy.routes.iter().enumerate() {
        if origins.for_route(route.origin.as_deref()).is_some() {
            continue;
        }
        let problem = match &route.origin {
            Some(name) => format!(
                "{prefix}routes[{i}].origin: {} is not in GATE_ORIGINS",
                Quoted(name)
            ),
            None => format!(
                "{prefix}routes[{i}]: names no origin and ORIGIN_URL is not set (give it \
                 origin = \"<a GATE_ORIGINS name>\")"
            ),
        };
        problems.push(ConfigProblem {
            binding: label,
            problem,
        });
    }
    if policy.default_authenticated && origins.default.is_none() {
        problems.push(ConfigProblem {
            binding: label,
            problem: format!(
                "{prefix}default: \"authenticated\" sends unmatched requests to ORIGIN_URL, \
                 which is not set"
            ),
        });
    }
    problems
}

/// The problems with the rate-limiting bindings a loaded policy names (`bound` says whether a
/// binding of that name is there and can limit), as the Worker and `scripts/check.sh` both
/// report them: a limit that cannot be applied must not start unnoticed.
pub fn rate_limit_binding_problems(
    config: &GateConfig,
    bound: impl Fn(&str) -> bool,
) -> Vec<ConfigProblem> {
    let (label, prefix) = policy_label(&config.policy_source);
    let mut problems = Vec::new();
    for (i, route) in config.policy.routes.iter().enumerate() {
        if let Some(limit) = route.rate_limit.as_ref().filter(|l| !bound(&l.binding)) {
            problems.push(ConfigProblem {
                binding: label,
                problem: format!(
                    "{prefix}routes[{i}].rate_limit.binding: no rate-limiting binding {} \
                     ([[ratelimits]] in wrangler.toml)",
                    Quoted(&limit.binding)
                ),
            });
        }
    }
    problems
}

/// The problems with the service bindings `GATE_ORIGINS` names (`bound` says whether a binding
/// of that name is there and can fetch), as the Worker and `scripts/check.sh` both report them.
pub fn service_binding_problems(
    config: &GateConfig,
    bound: impl Fn(&str) -> bool,
) -> Vec<ConfigProblem> {
    config
        .origins
        .named
        .iter()
        .filter_map(|(name, origin)| Some((name, origin.service()?)))
        .filter(|(_, service)| !bound(service))
        .map(|(name, service)| ConfigProblem {
            binding: binding::ORIGINS,
            problem: format!(
                "{name}: no service binding {} ([[services]] in wrangler.toml)",
                Quoted(service)
            ),
        })
        .collect()
}

impl std::error::Error for ConfigProblem {}

/// A valid configuration for unit tests elsewhere in the core: one tenant, one audience, an
/// origin, the test secret, then `extra` bindings (which win).
#[cfg(test)]
pub(crate) mod tests_support {
    use super::{binding, from_bindings, GateConfig};

    pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    pub fn config_with(extra: &[(&str, &str)]) -> GateConfig {
        let defaults = [
            (binding::TENANT_ID, TENANT),
            (binding::AUDIENCES, "api://x"),
            (binding::ORIGIN_URL, "https://origin.example"),
            (binding::SECRET, crate::secret::TEST_SECRET),
        ];
        from_bindings(|name| {
            extra
                .iter()
                .chain(defaults.iter())
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
        .expect("valid config")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Loads `pairs` plus a valid `GATE_SECRET` unless `pairs` sets one.
    fn load(pairs: &[(&str, &str)]) -> Result<GateConfig, Vec<ConfigProblem>> {
        let mut map: HashMap<String, String> = HashMap::from([(
            binding::SECRET.to_string(),
            crate::secret::TEST_SECRET.to_string(),
        )]);
        map.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        from_bindings(|name| map.get(name).cloned())
    }

    const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    #[test]
    fn minimal_configuration_gets_defaults() {
        let config = load(&[
            (binding::TENANT_ID, &TID.to_uppercase()),
            (
                binding::AUDIENCES,
                "api://contoso, 11111111-2222-3333-4444-555555555555",
            ),
            (binding::ORIGIN_URL, "https://origin.example/base"),
        ])
        .expect("valid");
        assert_eq!(config.tenant, TenantSelector::Tenant(TID.into()));
        assert_eq!(
            config.audiences,
            ["api://contoso", "11111111-2222-3333-4444-555555555555"]
        );
        assert_eq!(
            config.authority.as_str(),
            "https://login.microsoftonline.com/"
        );
        assert_eq!(config.clock_skew_seconds, 60);
        assert!(config.accept_v1 && config.accept_v2);
        assert_eq!(config.max_token_bytes, 16384);
        assert!(!config.forward_authorization);
    }

    #[test]
    fn the_origin_timeout_is_the_runtimes_unless_set() {
        let base = [
            (binding::TENANT_ID, TID),
            (binding::AUDIENCES, "api://contoso"),
            (binding::ORIGIN_URL, "https://origin.example"),
        ];
        let unset = load(&base).expect("valid");
        assert_eq!(unset.origin_timeout_seconds, None, "no timer of ours");
        let set = load(&[base.as_slice(), &[(binding::ORIGIN_TIMEOUT_SECONDS, "10")]].concat())
            .expect("valid");
        assert_eq!(set.origin_timeout_seconds, Some(10));
        let empty = load(&[base.as_slice(), &[(binding::ORIGIN_TIMEOUT_SECONDS, " ")]].concat())
            .expect("valid");
        assert_eq!(empty.origin_timeout_seconds, None, "empty counts as unset");
        for bad in ["0", "301", "ten"] {
            let problems =
                load(&[base.as_slice(), &[(binding::ORIGIN_TIMEOUT_SECONDS, bad)]].concat())
                    .unwrap_err();
            assert!(
                problems
                    .iter()
                    .any(|p| p.binding == binding::ORIGIN_TIMEOUT_SECONDS),
                "{bad:?}: {problems:?}"
            );
        }
    }

    #[test]
    fn every_problem_is_listed() {
        let problems = load(&[
            (binding::TENANT_ID, "contoso.onmicrosoft.com"),
            (binding::AUDIENCES, "https://graph.microsoft.com"),
            (binding::ORIGIN_URL, "http://origin.example"),
            (binding::AUTHORITY, "http://login.microsoftonline.com"),
            (binding::CLOCK_SKEW_SECONDS, "-5"),
            (binding::TOKEN_VERSIONS, "3.0"),
            (binding::MAX_TOKEN_BYTES, "10"),
            (binding::FORWARD_AUTHORIZATION, "yes"),
            (binding::REALM, "a\"b"),
        ])
        .unwrap_err();
        let bindings: Vec<_> = problems.iter().map(|p| p.binding).collect();
        for expected in [
            binding::TENANT_ID,
            binding::AUDIENCES,
            binding::ORIGIN_URL,
            binding::AUTHORITY,
            binding::CLOCK_SKEW_SECONDS,
            binding::TOKEN_VERSIONS,
            binding::MAX_TOKEN_BYTES,
            binding::FORWARD_AUTHORIZATION,
            binding::REALM,
        ] {
            assert!(
                bindings.contains(&expected),
                "{expected} missing from {problems:?}"
            );
        }
    }

    #[test]
    fn missing_required_bindings_are_named() {
        let problems = load(&[(binding::SECRET, "")]).unwrap_err();
        let bindings: Vec<_> = problems.iter().map(|p| p.binding).collect();
        assert_eq!(
            bindings,
            [
                binding::TENANT_ID,
                binding::AUDIENCES,
                binding::ORIGIN_URL,
                binding::SECRET
            ]
        );
        let secret = problems.iter().find(|p| p.binding == binding::SECRET);
        assert!(
            secret.is_some_and(|p| p.problem.contains("wrangler secret put GATE_SECRET")),
            "the problem names the fix: {problems:?}"
        );
    }

    const REQUIRED: [(&str, &str); 3] = [
        (binding::TENANT_ID, TID),
        (binding::AUDIENCES, "api://x"),
        (binding::ORIGIN_URL, "https://origin.example"),
    ];

    fn problems_with(extra: &[(&str, &str)]) -> Vec<ConfigProblem> {
        let mut pairs = REQUIRED.to_vec();
        pairs.extend_from_slice(extra);
        load(&pairs).err().unwrap_or_default()
    }

    #[test]
    fn kv_bindings_must_be_namespaces() {
        use KvBinding::{Absent, Namespace, Other};
        assert_eq!(kv_binding_problems(Namespace, Absent), []);
        assert_eq!(kv_binding_problems(Namespace, Namespace), []);
        for jwks in [Absent, Other] {
            let problems = kv_binding_problems(jwks, Namespace);
            assert_eq!(problems.len(), 1);
            assert_eq!(problems[0].binding, binding::JWKS_KV);
        }
        let problems = kv_binding_problems(Namespace, Other);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].binding, binding::REVOCATIONS_KV);
    }

    #[test]
    fn log_settings_and_shadow_mode() {
        let mut pairs = REQUIRED.to_vec();
        let config = load(&pairs).expect("valid");
        assert_eq!(config.log, LogSettings::default());
        assert!(!config.shadow && !config.forward_authorization);
        pairs.extend_from_slice(&[
            (binding::LOG_ALLOWED, "2%"),
            (binding::LOG_IDENTIFIERS, "true"),
            (binding::SHADOW_MODE, "true"),
        ]);
        let config = load(&pairs).expect("valid");
        assert_eq!(config.log.allowed, AllowedLines::PerMillion(20_000));
        assert!(config.log.identifiers);
        assert!(config.shadow && config.forward_authorization);

        let problems = problems_with(&[(binding::LOG_ALLOWED, "sometimes")]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].binding, binding::LOG_ALLOWED);
        let problems = problems_with(&[(binding::SHADOW_MODE, "yes")]);
        assert_eq!(problems[0].binding, binding::SHADOW_MODE);
    }

    #[test]
    fn a_short_or_garbled_secret_is_refused_without_quoting_it() {
        for bad in ["c2hvcnQ=", "not base64 at all!"] {
            let problems = problems_with(&[(binding::SECRET, bad)]);
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(problems[0].binding, binding::SECRET);
            assert!(!problems[0].problem.contains(bad), "never quote the secret");
        }
    }

    #[test]
    fn any_tenant_must_be_chosen_explicitly() {
        for selector in ["organizations", "common"] {
            let problems = problems_with(&[(binding::TENANT_ID, selector)]);
            assert_eq!(
                problems.iter().map(|p| p.binding).collect::<Vec<_>>(),
                [binding::ALLOWED_TENANTS],
                "{selector}"
            );
            assert!(problems_with(&[
                (binding::TENANT_ID, selector),
                (binding::ALLOW_ANY_TENANT, "true")
            ])
            .is_empty());
            assert!(problems_with(&[
                (binding::TENANT_ID, selector),
                (binding::ALLOWED_TENANTS, TID)
            ])
            .is_empty());
            assert_eq!(
                problems_with(&[
                    (binding::TENANT_ID, selector),
                    (binding::ALLOWED_TENANTS, TID),
                    (binding::ALLOW_ANY_TENANT, "true"),
                ])
                .iter()
                .map(|p| p.binding)
                .collect::<Vec<_>>(),
                [binding::ALLOW_ANY_TENANT],
                "both at once contradict"
            );
        }
        assert_eq!(
            problems_with(&[(binding::ALLOW_ANY_TENANT, "true")])
                .iter()
                .map(|p| p.binding)
                .collect::<Vec<_>>(),
            [binding::ALLOW_ANY_TENANT],
            "meaningless for one tenant"
        );
        assert!(problems_with(&[(binding::ALLOW_ANY_TENANT, "false")]).is_empty());
    }

    #[test]
    fn revocation_staleness_and_stripped_headers_are_checked() {
        let config = load(&REQUIRED).expect("valid");
        assert_eq!(config.revocation.refresh_seconds, 30);
        assert_eq!(config.revocation.max_staleness_seconds, 300);
        assert!(config.strip_headers.is_empty());
        assert_eq!(
            problems_with(&[(binding::REVOCATION_MAX_STALENESS_SECONDS, "10")])[0].binding,
            binding::REVOCATION_MAX_STALENESS_SECONDS,
            "shorter than the refresh interval"
        );
        assert_eq!(
            problems_with(&[(binding::STRIP_HEADERS, "X-Ok, bad header")])[0].binding,
            binding::STRIP_HEADERS
        );
        let mut pairs = REQUIRED.to_vec();
        pairs.push((binding::STRIP_HEADERS, "X-Api-Debug, X-Internal-Route"));
        let config = load(&pairs).expect("valid");
        assert_eq!(config.strip_headers, ["x-api-debug", "x-internal-route"]);
    }

    #[test]
    fn no_policy_means_any_token_with_permissions() {
        let config = load(&REQUIRED).expect("valid");
        assert!(config.policy.default_authenticated);
        assert!(config.policy.routes.is_empty());
        assert!(!config.policy.default_require.allow_without_permissions);
    }

    fn load_with_file(
        pairs: &[(&str, &str)],
        file: PolicyFile<'_>,
    ) -> Result<GateConfig, Vec<ConfigProblem>> {
        let mut map: HashMap<String, String> = HashMap::from([(
            binding::SECRET.to_string(),
            crate::secret::TEST_SECRET.to_string(),
        )]);
        map.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        from_bindings_and_policy_file(|name| map.get(name).cloned(), Some(file))
    }

    const DENY_FILE: PolicyFile<'static> = PolicyFile {
        path: "policy/production.toml",
        json: r#"{"default":"deny"}"#,
    };

    #[test]
    fn a_policy_file_is_the_policy_without_the_binding() {
        let config = load_with_file(&REQUIRED, DENY_FILE).expect("valid");
        assert!(!config.policy.default_authenticated);
        assert_eq!(
            config.policy_source,
            PolicySource::File("policy/production.toml".into())
        );
        assert_eq!(
            load(&REQUIRED).expect("valid").policy_source,
            PolicySource::Absent
        );
    }

    #[test]
    fn the_binding_overrides_the_policy_file() {
        let mut pairs = REQUIRED.to_vec();
        pairs.push((binding::POLICY, r#"{"default":"authenticated"}"#));
        let config = load_with_file(&pairs, DENY_FILE).expect("valid");
        assert!(config.policy.default_authenticated);
        assert_eq!(config.policy_source, PolicySource::Binding);
        // The file is not read at all: its problems do not count.
        let broken = PolicyFile {
            path: "p.toml",
            json: "{",
        };
        assert!(load_with_file(&pairs, broken).is_ok());
    }

    #[test]
    fn problems_in_a_policy_file_name_the_file() {
        let broken = PolicyFile {
            path: "policy/production.toml",
            json: r#"{"default":"allow"}"#,
        };
        let problems = load_with_file(&REQUIRED, broken).expect_err("refused");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].binding, binding::POLICY_FILE);
        assert!(
            problems[0]
                .to_string()
                .starts_with("policy file: policy/production.toml: default: "),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn a_previous_assertion_key_needs_a_current_one_and_its_own_kid() {
        const X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        const D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
        let current =
            format!(r#"{{"kty":"OKP","crv":"Ed25519","d":"{D}","x":"{X}","kid":"gate-2"}}"#);
        let previous = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{X}","kid":"gate-1"}}"#);
        let reused = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{X}","kid":"gate-2"}}"#);
        let both = problems_with(&[
            (binding::ASSERTION_KEY, &current),
            (binding::ASSERTION_PREVIOUS_KEY, &previous),
        ]);
        assert_eq!(both, []);
        let alone = problems_with(&[(binding::ASSERTION_PREVIOUS_KEY, &previous)]);
        assert_eq!(alone.len(), 1, "{alone:?}");
        assert_eq!(alone[0].binding, binding::ASSERTION_PREVIOUS_KEY);
        let same_kid = problems_with(&[
            (binding::ASSERTION_KEY, &current),
            (binding::ASSERTION_PREVIOUS_KEY, &reused),
        ]);
        assert_eq!(same_kid.len(), 1, "{same_kid:?}");
        assert!(same_kid[0].problem.contains("kid"), "{}", same_kid[0]);
        // A broken current key is its own problem, not also one of the previous key.
        let broken_current = problems_with(&[
            (binding::ASSERTION_KEY, "{}"),
            (binding::ASSERTION_PREVIOUS_KEY, &previous),
        ]);
        assert_eq!(broken_current.len(), 1, "{broken_current:?}");
        assert_eq!(broken_current[0].binding, binding::ASSERTION_KEY);
    }

    #[test]
    fn every_rate_limiting_binding_the_policy_names_must_be_bound() {
        let policy = r#"{"routes":[{"path":"/a","rate_limit":{"binding":"A","per":"app"}},
            {"path":"/b"},{"path":"/c","rate_limit":{"binding":"C","per":"ip"}}]}"#;
        let mut pairs = REQUIRED.to_vec();
        pairs.push((binding::POLICY, policy));
        let config = load(&pairs).expect("valid");
        assert_eq!(rate_limit_binding_problems(&config, |_| true), []);
        let missing = rate_limit_binding_problems(&config, |name| name == "A");
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert_eq!(
            missing[0].to_string(),
            "GATE_POLICY: routes[2].rate_limit.binding: no rate-limiting binding \"C\" \
             ([[ratelimits]] in wrangler.toml)"
        );
        let from_file = load_with_file(
            &REQUIRED,
            PolicyFile {
                path: "policy.toml",
                json: policy,
            },
        )
        .expect("valid");
        let missing = rate_limit_binding_problems(&from_file, |_| false);
        assert_eq!(missing.len(), 2);
        assert!(missing[0]
            .to_string()
            .starts_with("policy file: policy.toml: routes[0].rate_limit.binding"));
    }

    #[test]
    fn named_origins_route_by_name_and_every_route_has_one() {
        let named = r#"{"orders":"https://orders.example","billing":{"service":"BILLING"}}"#;
        let policy = r#"{"routes":[{"path":"/o/**","origin":"orders"},{"path":"/b/**","origin":"billing"}]}"#;
        let only_named = [
            (binding::TENANT_ID, "72f988bf-86f1-41af-91ab-2d7cd011db47"),
            (binding::AUDIENCES, "api://x"),
            (binding::ORIGINS, named),
            (binding::POLICY, policy),
        ];
        let config = load(&only_named).expect("ORIGIN_URL is optional when every route names one");
        assert_eq!(config.origins.default, None);
        assert_eq!(config.origins.named.len(), 2);
        assert_eq!(service_binding_problems(&config, |b| b == "BILLING"), []);
        let unbound = service_binding_problems(&config, |_| false);
        assert_eq!(
            unbound.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                r#"GATE_ORIGINS: billing: no service binding "BILLING" ([[services]] in wrangler.toml)"#
            ]
        );

        let texts = |pairs: &[(&str, &str)]| -> Vec<String> {
            load(pairs)
                .err()
                .unwrap_or_default()
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        let mut unknown = only_named.to_vec();
        unknown[3] = (
            binding::POLICY,
            r#"{"routes":[{"path":"/o/**","origin":"ordres"},{"path":"/x"}]}"#,
        );
        assert_eq!(
            texts(&unknown),
            [
                r#"GATE_POLICY: routes[0].origin: "ordres" is not in GATE_ORIGINS"#,
                r#"GATE_POLICY: routes[1]: names no origin and ORIGIN_URL is not set (give it origin = "<a GATE_ORIGINS name>")"#,
            ]
        );
        let mut defaulted = only_named.to_vec();
        defaulted[3] = (binding::POLICY, r#"{"default":"authenticated"}"#);
        assert_eq!(texts(&defaulted).len(), 1, "{:?}", texts(&defaulted));
        // With ORIGIN_URL too, routes without a name go there.
        let mut both = unknown.clone();
        both[3] = (
            binding::POLICY,
            r#"{"default":"authenticated","routes":[{"path":"/o/**","origin":"orders"},{"path":"/x"}]}"#,
        );
        both.push((binding::ORIGIN_URL, "https://default.example"));
        assert!(load(&both).is_ok());
        let mut broken = both.clone();
        broken[2] = (binding::ORIGINS, r#"{"orders":"ftp://x"}"#);
        let problems = texts(&broken);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("GATE_ORIGINS: orders: "),
            "{problems:?}"
        );
    }

    #[test]
    fn resource_metadata_is_on_unless_turned_off() {
        assert!(load(&REQUIRED).expect("valid").resource_metadata.is_some());
        for (text, on) in [("true", true), ("TRUE", true), ("false", false)] {
            let mut pairs = REQUIRED.to_vec();
            pairs.push((binding::RESOURCE_METADATA, text));
            let config = load(&pairs).expect("valid");
            assert_eq!(config.resource_metadata.is_some(), on, "{text}");
        }
        let mut pairs = REQUIRED.to_vec();
        pairs.push((binding::RESOURCE_METADATA, "sometimes"));
        assert!(load(&pairs).is_err());
    }

    #[test]
    fn a_named_origin_has_no_query() {
        let mut pairs = REQUIRED.to_vec();
        pairs.push((
            binding::ORIGINS,
            r#"{"orders":"https://orders.example/?x=1"}"#,
        ));
        let problems = problems_with(&pairs[3..]);
        assert_eq!(
            problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["GATE_ORIGINS: orders: must not have a query"]
        );
    }

    #[test]
    fn loopback_http_is_allowed_for_local_runs() {
        let config = load(&[
            (binding::TENANT_ID, "organizations"),
            (binding::AUDIENCES, "api://x"),
            (binding::ORIGIN_URL, "http://127.0.0.1:9001"),
            (binding::AUTHORITY, "http://127.0.0.1:9000/"),
            (binding::TOKEN_VERSIONS, "2.0"),
            (binding::ALLOW_ANY_TENANT, "true"),
        ])
        .expect("valid");
        assert_eq!(config.tenant, TenantSelector::Organizations);
        assert!(!config.accept_v1 && config.accept_v2);
    }
}
