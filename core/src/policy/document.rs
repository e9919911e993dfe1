//! The policy as written in `wrangler.toml` (`[vars.GATE_POLICY]`) or as a JSON string: strict
//! serde types, every unknown member refused so a typo never silently drops a rule.

use super::condition::RawCondition;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    /// What unmatched requests get: `deny` (the default) or `authenticated` (any valid token).
    #[serde(default)]
    pub default: Option<String>,
    /// Optional claims the API's app registration emits (`acrs`, `auth_time`, `ipaddr`, ...):
    /// rules that need one that is not listed can never hold, and are refused.
    #[serde(default)]
    pub optional_claims: Vec<String>,
    /// The API's client id, sent as `client_id` in claims challenges (default: the first GUID
    /// in `ENTRA_AUDIENCES`).
    #[serde(default)]
    pub api_client_id: Option<String>,
    #[serde(default)]
    pub cors: Option<RawCors>,
    /// Accept tokens with neither `scp` nor `roles` on every route that does not say otherwise
    /// (and on `default = "authenticated"`). Off: such tokens get `403 no_permissions`.
    #[serde(default)]
    pub allow_tokens_without_permissions: bool,
    /// Route paths match without regard to ASCII case, for origins that route that way
    /// (ASP.NET Core, IIS). Off: `/API/x` is not `/api/x`.
    #[serde(default)]
    pub case_insensitive_paths: bool,
    /// Absent: no routes (only `default` decides).
    #[serde(default)]
    pub routes: Vec<RawRoute>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    #[serde(default)]
    pub name: Option<String>,
    /// Absent: every method.
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    pub path: String,
    /// No token needed (health checks, public documents).
    #[serde(default)]
    pub public: bool,
    /// Evaluate and log "would deny", but let the request through.
    #[serde(default)]
    pub report_only: bool,
    #[serde(default)]
    pub require: Option<RawRequire>,
    #[serde(default)]
    pub step_up: Option<RawStepUp>,
    #[serde(default)]
    pub conditions: Option<RawCondition>,
    /// Overrides the policy's `allow_tokens_without_permissions` for this route.
    #[serde(default)]
    pub allow_tokens_without_permissions: Option<bool>,
    /// Also take the token from `?access_token=` (GET and HEAD only; the SignalR convention).
    #[serde(default)]
    pub query_token: bool,
    /// WebSocket upgrades pass (`Upgrade: websocket` is kept for the origin).
    #[serde(default)]
    pub websocket: bool,
    /// A per-caller limit through a Workers rate-limiting binding.
    #[serde(default)]
    pub rate_limit: Option<RawRateLimit>,
    /// A name from `GATE_ORIGINS` (absent: `ORIGIN_URL`).
    #[serde(default)]
    pub origin: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    /// The `[[ratelimits]]` binding.
    pub binding: String,
    /// `app`, `user`, `tenant` or `ip`.
    pub per: String,
    /// The binding's period: 10 or 60 (default), sent as `Retry-After`.
    #[serde(default)]
    pub period_seconds: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequire {
    #[serde(default)]
    pub scopes: Option<RawNeed>,
    #[serde(default)]
    pub roles: Option<RawNeed>,
    /// `user` (delegated) or `app` (app-only).
    #[serde(default)]
    pub token_kind: Option<String>,
    /// Calling applications (`azp`/`appid`) allowed.
    #[serde(default)]
    pub apps: Option<Vec<String>>,
    /// Minimum client authentication: `public`, `secret` or `certificate`.
    #[serde(default)]
    pub client_auth: Option<String>,
    #[serde(default)]
    pub tenants: Option<Vec<String>>,
    /// Group object ids (`groups`): any or all of them.
    #[serde(default)]
    pub groups: Option<RawNeed>,
    #[serde(default)]
    pub claims: Vec<RawClaimMatch>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNeed {
    #[serde(default)]
    pub any_of: Option<Vec<String>>,
    #[serde(default)]
    pub all_of: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClaimMatch {
    pub name: String,
    pub one_of: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStepUp {
    /// An Entra authentication context id, `c1` … `c99`.
    #[serde(default)]
    pub auth_context: Option<String>,
    /// `amr` must contain `mfa` (v1 tokens only).
    #[serde(default)]
    pub mfa: bool,
    /// The user must have signed in within this many seconds (`auth_time`).
    #[serde(default)]
    pub max_age_seconds: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCors {
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub allowed_methods: Option<Vec<String>>,
    #[serde(default)]
    pub allowed_headers: Option<Vec<String>>,
    #[serde(default)]
    pub max_age_seconds: Option<u32>,
}
