//! The policy as written in `wrangler.toml` (`[vars.GATE_POLICY]`) or as a JSON string: strict
//! raw types, read by `read.rs` with every unknown member refused so a typo never silently
//! drops a rule.

use super::condition::RawCondition;

#[derive(Debug)]
pub struct RawPolicy {
    /// What unmatched requests get: `deny` (the default) or `authenticated` (any valid token).
    pub default: Option<String>,
    /// Optional claims the API's app registration emits (`acrs`, `auth_time`, `ipaddr`, ...):
    /// rules that need one that is not listed can never hold, and are refused.
    pub optional_claims: Vec<String>,
    /// The API's client id, sent as `client_id` in claims challenges (default: the first GUID
    /// in `ENTRA_AUDIENCES`).
    pub api_client_id: Option<String>,
    pub cors: Option<RawCors>,
    /// Accept tokens with neither `scp` nor `roles` on every route that does not say otherwise
    /// (and on `default = "authenticated"`). Off: such tokens get `403 no_permissions`.
    pub allow_tokens_without_permissions: bool,
    /// Route paths match without regard to ASCII case, for origins that route that way
    /// (ASP.NET Core, IIS). Off: `/API/x` is not `/api/x`.
    pub case_insensitive_paths: bool,
    /// Absent: no routes (only `default` decides).
    pub routes: Vec<RawRoute>,
}

#[derive(Debug)]
pub struct RawRoute {
    pub name: Option<String>,
    /// Absent: every method.
    pub methods: Option<Vec<String>>,
    pub path: String,
    /// No token needed (health checks, public documents).
    pub public: bool,
    /// Evaluate and log "would deny", but let the request through.
    pub report_only: bool,
    pub require: Option<RawRequire>,
    pub step_up: Option<RawStepUp>,
    pub conditions: Option<RawCondition>,
    /// Overrides the policy's `allow_tokens_without_permissions` for this route.
    pub allow_tokens_without_permissions: Option<bool>,
    /// Also take the token from `?access_token=` (GET and HEAD only; the SignalR convention).
    pub query_token: bool,
    /// WebSocket upgrades pass (`Upgrade: websocket` is kept for the origin).
    pub websocket: bool,
    /// A per-caller limit through a Workers rate-limiting binding.
    pub rate_limit: Option<RawRateLimit>,
    /// A name from `GATE_ORIGINS` (absent: `ORIGIN_URL`).
    pub origin: Option<String>,
}

#[derive(Debug)]
pub struct RawRateLimit {
    /// The `[[ratelimits]]` binding.
    pub binding: String,
    /// `app`, `user`, `tenant` or `ip`.
    pub per: String,
    /// The binding's period: 10 or 60 (default), sent as `Retry-After`.
    pub period_seconds: Option<u32>,
}

#[derive(Debug)]
pub struct RawRequire {
    pub scopes: Option<RawNeed>,
    pub roles: Option<RawNeed>,
    /// `user` (delegated) or `app` (app-only).
    pub token_kind: Option<String>,
    /// Calling applications (`azp`/`appid`) allowed.
    pub apps: Option<Vec<String>>,
    /// Minimum client authentication: `public`, `secret` or `certificate`.
    pub client_auth: Option<String>,
    pub tenants: Option<Vec<String>>,
    /// Group object ids (`groups`): any or all of them.
    pub groups: Option<RawNeed>,
    pub claims: Vec<RawClaimMatch>,
}

#[derive(Debug)]
pub struct RawNeed {
    pub any_of: Option<Vec<String>>,
    pub all_of: Option<Vec<String>>,
}

#[derive(Debug)]
pub struct RawClaimMatch {
    pub name: String,
    pub one_of: Vec<String>,
}

#[derive(Debug)]
pub struct RawStepUp {
    /// An Entra authentication context id, `c1` … `c99`.
    pub auth_context: Option<String>,
    /// `amr` must contain `mfa` (v1 tokens only).
    pub mfa: bool,
    /// The user must have signed in within this many seconds (`auth_time`).
    pub max_age_seconds: Option<u32>,
}

#[derive(Debug)]
pub struct RawCors {
    pub allowed_origins: Vec<String>,
    pub allowed_methods: Option<Vec<String>>,
    pub allowed_headers: Option<Vec<String>>,
    pub max_age_seconds: Option<u32>,
}
