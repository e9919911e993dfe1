//! Per-route authorization: which routes exist, what each requires of a verified token, which
//! step-up it needs, under which conditions, and what CORS preflights get.
//!
//! Routes are tried **in order; the first whose methods and path match wins** (predictable, and
//! the loader refuses a route that an earlier one shadows completely). Unmatched requests are
//! denied (`no_route`) unless `default` is `authenticated`. Within a route the order is:
//! requirements (token kind, tenant, calling app, client authentication, scopes/roles, claims),
//! then conditions (IP, country, ASN, time), then step-up — the one a user can fix comes last.

#[cfg(test)]
mod cases;
mod condition;
mod document;
mod facts;
mod path;
mod rate_limit;
mod read;
mod rules;

pub use condition::{Condition, ConditionKind, TimeWindow, Unmet};
pub use facts::RequestFacts;
pub use path::{PathPattern, PatternError};
pub use rate_limit::{RateKey, RateLimit};
pub use rules::{ChallengeContext, ClaimMatch, Need, Requirements, StepUp};

use crate::endpoint::is_origin;
use crate::guid::normalize_guid;
use crate::identity::{TokenKind, VerifiedIdentity};
use crate::quoted::Quoted;
use crate::reason::Reason;
use document::{RawCors, RawNeed, RawPolicy, RawRoute};

/// Limits that keep loading and evaluation cheap and bounded.
pub const MAX_POLICY_BYTES: usize = 256 * 1024;
/// Routes in one policy.
pub const MAX_ROUTES: usize = 256;
/// Condition nodes across all routes.
pub const MAX_CONDITION_NODES: usize = 4096;
/// Entries in any one list (scopes, apps, tenants, IP ranges, ...).
pub const MAX_LIST_ENTRIES: usize = 1024;

/// One thing wrong with a policy document: where (`routes[3].step_up.auth_context`), what kind
/// of problem, and in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyProblem {
    /// The member's path in the document.
    pub path: String,
    /// What kind of problem.
    pub kind: ProblemKind,
    /// What is wrong, in words (never more of the document than the member's own value).
    pub detail: String,
}

/// The kinds of policy problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// Not the policy's JSON shape (syntax, an unknown member, a wrong type).
    Syntax,
    /// A value that is not of its form.
    Invalid,
    /// A rule that can never hold (an empty list, a claim the tokens never carry).
    NeverHolds,
    /// A rule needs a setting or optional claim the document does not give.
    Missing,
    /// Members that contradict each other.
    Conflict,
    /// A route an earlier one shadows completely.
    Shadowed,
    /// Over one of the size limits.
    Limit,
}

impl PolicyProblem {
    fn new(path: impl Into<String>, kind: ProblemKind, detail: impl Into<String>) -> Self {
        PolicyProblem {
            path: path.into(),
            kind,
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for PolicyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.detail)
    }
}

impl std::error::Error for PolicyProblem {}

/// A refusal from the policy, with the challenge parameters its answer needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Why: decides status, challenge and description.
    pub reason: Reason,
    /// Extra `WWW-Authenticate` parameters (`scope`, `claims`, `max_age`, ...), made by the
    /// gateway, never copied from the request.
    pub params: Vec<(&'static str, String)>,
    /// For the log only, never sent to the client.
    pub detail: String,
    /// `Retry-After` where the wait depends on the rule (a rate limit's period); otherwise the
    /// reason's own (see `Reason::retry_after_seconds`).
    pub retry_after_seconds: Option<u32>,
}

impl Refusal {
    /// A refusal with no challenge parameters and the reason's own `Retry-After`.
    pub fn new(reason: Reason, detail: impl Into<String>) -> Self {
        Refusal {
            reason,
            params: Vec::new(),
            detail: detail.into(),
            retry_after_seconds: None,
        }
    }
}

/// One route of the policy, compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// For logs: the route's `name`, or its path as written.
    pub name: String,
    /// Methods, upper case; `None`: every method.
    pub methods: Option<Vec<String>>,
    /// The paths it matches.
    pub path: PathPattern,
    /// No token needed; only the conditions apply.
    pub public: bool,
    /// Refusals are logged as "would deny", and the request goes through.
    pub report_only: bool,
    /// What the verified token must carry.
    pub require: Requirements,
    /// Checked last: what a user can fix by signing in again.
    pub step_up: Option<StepUp>,
    /// IP, country, ASN, time and `ipaddr` rules on the request.
    pub conditions: Option<Condition>,
    /// `?access_token=` is read on GET and HEAD (besides `Authorization`, never both at once).
    pub query_token: bool,
    /// WebSocket upgrades pass; on other routes `Upgrade` never reaches the origin.
    pub websocket: bool,
    /// Checked last, once everything else allows the request.
    pub rate_limit: Option<RateLimit>,
    /// Where it goes: a name from `GATE_ORIGINS` (checked when the configuration loads);
    /// `None`: `ORIGIN_URL`.
    pub origin: Option<String>,
}

/// What CORS preflights are answered with; without it, every preflight is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    /// Origins (`scheme://host[:port]`), or `*`.
    pub allowed_origins: Vec<String>,
    /// `Access-Control-Allow-Methods` (default: GET, POST, PUT, PATCH, DELETE).
    pub allowed_methods: Vec<String>,
    /// `Access-Control-Allow-Headers` (default: authorization, content-type).
    pub allowed_headers: Vec<String>,
    /// `Access-Control-Max-Age` (default 600).
    pub max_age_seconds: u32,
}

/// The route policy (`GATE_POLICY`), compiled and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// In order: the first whose methods and path match wins.
    pub routes: Vec<Route>,
    /// `default = "authenticated"`: unmatched requests need a valid token that meets
    /// `default_require`; otherwise they are refused (`no_route`).
    pub default_authenticated: bool,
    /// What `default = "authenticated"` asks of a token.
    pub default_require: Requirements,
    /// `None`: every preflight is refused.
    pub cors: Option<Cors>,
    /// The API's client id, `client_id` in claims challenges (default: the first GUID in
    /// `ENTRA_AUDIENCES`).
    pub api_client_id: Option<String>,
    /// Claim names generic matchers read (so claims validation keeps exactly these).
    pub extra_claims: Vec<String>,
    /// The request facts some route's conditions read, worked out once at load.
    facts_read: Vec<ConditionKind>,
    /// Some route lets WebSocket handshakes through (so the edge reads `Upgrade` at all).
    websocket_routes: bool,
}

/// What the loader needs to know about the deployment to lint rules that could never hold.
#[derive(Debug, Clone, Copy)]
pub struct Deployment<'a> {
    /// v1 tokens are accepted: `amr` (step-up `mfa`) and `ipaddr` can be there without
    /// optional claims.
    pub accept_v1: bool,
    /// v2 tokens are accepted.
    pub accept_v2: bool,
    /// `ENTRA_AUDIENCES`: where `api_client_id` defaults from.
    pub audiences: &'a [String],
}

/// Which route a request falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteChoice<'p> {
    /// The first route whose methods and path match.
    Route(&'p Route),
    /// No route matched and `default` is `authenticated`: any valid token will do.
    DefaultAuthenticated,
    /// No route matched and `default` is `deny`.
    Unmatched,
}

/// The policy's verdict on a verified request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verdict {
    /// Enforced: the request is refused with this.
    pub refusal: Option<Refusal>,
    /// Report-only findings: logged as "would deny", not enforced.
    pub would_deny: Vec<Refusal>,
}

/// The answer to a CORS preflight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preflight {
    /// The origin and method are allowed.
    Allow {
        /// `Access-Control-*` and `Vary`.
        headers: Vec<(&'static str, String)>,
    },
    /// No CORS in the policy, or an origin or method it does not allow.
    Refuse,
}

const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT",
];

impl Policy {
    /// Whether any route's conditions read the fact `kind` is about.
    pub fn uses(&self, kind: ConditionKind) -> bool {
        self.facts_read.contains(&kind)
    }

    /// Whether any route lets WebSocket handshakes through.
    pub fn has_websocket_routes(&self) -> bool {
        self.websocket_routes
    }

    /// The policy of a gateway configured without one: no routes, every path open to any valid
    /// token that carries a scope or an app role.
    pub fn without_routes() -> Policy {
        Policy {
            routes: Vec::new(),
            default_authenticated: true,
            default_require: Requirements::default(),
            cors: None,
            api_client_id: None,
            extra_claims: Vec::new(),
            facts_read: Vec::new(),
            websocket_routes: false,
        }
    }

    /// Parses and validates a policy document; every problem is listed with its path.
    pub fn parse(json: &str, deployment: Deployment<'_>) -> Result<Policy, Vec<PolicyProblem>> {
        if json.len() > MAX_POLICY_BYTES {
            return Err(vec![PolicyProblem::new(
                "policy",
                ProblemKind::Limit,
                format!("{} bytes exceed {MAX_POLICY_BYTES}", json.len()),
            )]);
        }
        let raw = crate::json::parse(json.as_bytes())
            .and_then(read::policy)
            .map_err(|e| {
                vec![PolicyProblem::new(
                    "policy",
                    ProblemKind::Syntax,
                    e.to_string(),
                )]
            })?;
        let mut problems = Vec::new();
        let policy = compile(raw, deployment, &mut problems);
        if problems.is_empty() {
            Ok(policy)
        } else {
            Err(problems)
        }
    }

    /// The route a request falls under: the first whose methods and path match, else the
    /// default.
    pub fn route_for(&self, facts: &RequestFacts) -> RouteChoice<'_> {
        let found = self.routes.iter().find(|r| {
            r.methods
                .as_ref()
                .is_none_or(|m| m.iter().any(|m| m == &facts.method))
                && r.path.matches(facts.path())
        });
        match found {
            Some(route) => RouteChoice::Route(route),
            None if self.default_authenticated => RouteChoice::DefaultAuthenticated,
            None => RouteChoice::Unmatched,
        }
    }

    /// Evaluates a route for a verified caller.
    pub fn authorize(
        &self,
        route: &Route,
        id: &VerifiedIdentity,
        facts: &RequestFacts,
        ctx: &ChallengeContext,
    ) -> Verdict {
        let outcome = route
            .require
            .check(id)
            .and_then(|()| match &route.conditions {
                Some(c) => c.check(facts, Some(id)).map_err(Unmet::refusal),
                None => Ok(()),
            })
            .and_then(|()| match &route.step_up {
                Some(s) => s.check(id, facts.now.seconds(), ctx),
                None => Ok(()),
            });
        match outcome {
            Ok(()) => Verdict::default(),
            Err(refusal) if route.report_only => Verdict {
                refusal: None,
                would_deny: vec![refusal],
            },
            Err(refusal) => Verdict {
                refusal: Some(refusal),
                would_deny: Vec::new(),
            },
        }
    }

    /// `default = "authenticated"`: any valid token that meets the default requirements.
    pub fn authorize_default(&self, id: &VerifiedIdentity) -> Verdict {
        Verdict {
            refusal: self.default_require.check(id).err(),
            would_deny: Vec::new(),
        }
    }

    /// Conditions of a public route (no token to check, but the context still counts).
    pub fn public_conditions(&self, route: &Route, facts: &RequestFacts) -> Verdict {
        match route.conditions.as_ref().map(|c| c.check(facts, None)) {
            Some(Err(kind)) if route.report_only => Verdict {
                refusal: None,
                would_deny: vec![kind.refusal()],
            },
            Some(Err(kind)) => Verdict {
                refusal: Some(kind.refusal()),
                would_deny: Vec::new(),
            },
            _ => Verdict::default(),
        }
    }

    /// A CORS preflight: answered by the gateway, never forwarded, never authenticated.
    pub fn preflight(&self, facts: &RequestFacts) -> Option<Preflight> {
        let method = facts.preflight_method.as_ref()?;
        let origin = facts.origin.as_ref()?;
        let Some(cors) = &self.cors else {
            return Some(Preflight::Refuse);
        };
        let allowed = cors.allowed_origins.iter().any(|o| o == origin || o == "*")
            && cors
                .allowed_methods
                .iter()
                .any(|m| m.eq_ignore_ascii_case(method));
        if !allowed {
            return Some(Preflight::Refuse);
        }
        Some(Preflight::Allow {
            headers: vec![
                ("access-control-allow-origin", origin.clone()),
                (
                    "access-control-allow-methods",
                    cors.allowed_methods.join(", "),
                ),
                (
                    "access-control-allow-headers",
                    cors.allowed_headers.join(", "),
                ),
                ("access-control-max-age", cors.max_age_seconds.to_string()),
                ("vary", "Origin".into()),
            ],
        })
    }

    /// `Access-Control-Allow-Origin` for the gateway's own answers to an allowed origin, so a
    /// browser can read why it was refused.
    pub fn cors_origin(&self, facts: &RequestFacts) -> Option<String> {
        let origin = facts.origin.as_ref()?;
        let cors = self.cors.as_ref()?;
        cors.allowed_origins
            .iter()
            .any(|o| o == origin || o == "*")
            .then(|| origin.clone())
    }
}

fn compile(
    raw: RawPolicy,
    deployment: Deployment<'_>,
    problems: &mut Vec<PolicyProblem>,
) -> Policy {
    let default_authenticated = match raw.default.as_deref() {
        None | Some("deny") => false,
        Some("authenticated") => true,
        Some(other) => {
            problems.push(PolicyProblem::new(
                "default",
                ProblemKind::Invalid,
                format!("{} is not deny or authenticated", Quoted(other)),
            ));
            false
        }
    };
    if raw.routes.len() > MAX_ROUTES {
        problems.push(PolicyProblem::new(
            "routes",
            ProblemKind::Limit,
            format!("{} routes exceed {MAX_ROUTES}", raw.routes.len()),
        ));
    }
    let api_client_id = match raw.api_client_id {
        Some(id) => normalize_guid(&id).or_else(|| {
            problems.push(PolicyProblem::new(
                "api_client_id",
                ProblemKind::Invalid,
                format!("{} is not a GUID", Quoted(&id)),
            ));
            None
        }),
        None => deployment.audiences.iter().find_map(|a| normalize_guid(a)),
    };
    let optional: Vec<String> = raw.optional_claims;
    let defaults = RouteDefaults {
        allow_without_permissions: raw.allow_tokens_without_permissions,
        fold_case: raw.case_insensitive_paths,
    };
    let mut extra_claims = Vec::new();
    let mut routes = Vec::new();
    let mut nodes = 0;
    let mut valid_paths: Vec<bool> = Vec::new();
    for (i, raw_route) in raw.routes.into_iter().enumerate() {
        let at = format!("routes[{i}]");
        let route_path_text = raw_route.path.clone();
        let route = compile_route(
            raw_route,
            &at,
            deployment,
            &optional,
            api_client_id.is_some(),
            defaults,
            problems,
        );
        nodes += route.conditions.as_ref().map_or(0, Condition::size);
        for m in &route.require.claims {
            if !extra_claims.contains(&m.name) {
                extra_claims.push(m.name.clone());
            }
        }
        // A route whose path did not parse stands in as "/" only so loading can go on; it
        // neither shadows nor is shadowed.
        let path_ok = PathPattern::parse(&route_path_text).is_ok();
        let shadowing = routes
            .iter()
            .zip(&valid_paths)
            .position(|(earlier, ok): (&Route, &bool)| path_ok && *ok && shadows(earlier, &route));
        if let Some(earlier) = shadowing {
            problems.push(PolicyProblem::new(
                at,
                ProblemKind::Shadowed,
                format!(
                    "never reached, routes[{earlier}] ({}) matches first",
                    routes[earlier].path
                ),
            ));
        }
        valid_paths.push(path_ok);
        routes.push(route);
    }
    if nodes > MAX_CONDITION_NODES {
        problems.push(PolicyProblem::new(
            "routes",
            ProblemKind::Limit,
            format!("{nodes} condition nodes exceed {MAX_CONDITION_NODES}"),
        ));
    }
    let cors = raw.cors.map(|c| compile_cors(c, problems));
    let mut facts_read = Vec::new();
    for condition in routes.iter().filter_map(|route| route.conditions.as_ref()) {
        condition.facts_read(&mut facts_read);
    }
    let limits_per_ip = routes
        .iter()
        .filter_map(|route| route.rate_limit.as_ref())
        .any(|limit| limit.per == RateKey::Ip);
    if limits_per_ip && !facts_read.contains(&ConditionKind::Ip) {
        facts_read.push(ConditionKind::Ip);
    }
    let websocket_routes = routes.iter().any(|route| route.websocket);
    Policy {
        routes,
        default_authenticated,
        default_require: Requirements {
            allow_without_permissions: defaults.allow_without_permissions,
            ..Requirements::default()
        },
        cors,
        api_client_id,
        extra_claims,
        facts_read,
        websocket_routes,
    }
}

fn shadows(earlier: &Route, later: &Route) -> bool {
    let methods_cover = match (&earlier.methods, &later.methods) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(e), Some(l)) => l.iter().all(|m| e.contains(m)),
    };
    methods_cover && earlier.path.covers(&later.path)
}

fn list(values: Vec<String>, at: &str, problems: &mut Vec<PolicyProblem>) -> Vec<String> {
    if values.len() > MAX_LIST_ENTRIES {
        problems.push(PolicyProblem::new(
            at,
            ProblemKind::Limit,
            format!("{} entries exceed {MAX_LIST_ENTRIES}", values.len()),
        ));
    }
    if values.is_empty() {
        problems.push(PolicyProblem::new(
            at,
            ProblemKind::NeverHolds,
            "empty (can never hold)",
        ));
    }
    values
}

fn need(raw: RawNeed, at: &str, problems: &mut Vec<PolicyProblem>) -> Option<Need> {
    match (raw.any_of, raw.all_of) {
        (Some(v), None) => Some(Need::AnyOf(list(v, &format!("{at}.any_of"), problems))),
        (None, Some(v)) => Some(Need::AllOf(list(v, &format!("{at}.all_of"), problems))),
        _ => {
            problems.push(PolicyProblem::new(
                at,
                ProblemKind::Invalid,
                "give exactly one of any_of / all_of",
            ));
            None
        }
    }
}

fn guids(values: Vec<String>, at: &str, problems: &mut Vec<PolicyProblem>) -> Vec<String> {
    let values = list(values, at, problems);
    normalized_guids(values, at, problems)
}

/// GUIDs in lower case, each value that is not one a problem (the list is checked already).
fn normalized_guids(
    values: Vec<String>,
    at: &str,
    problems: &mut Vec<PolicyProblem>,
) -> Vec<String> {
    values
        .into_iter()
        .filter_map(|v| {
            normalize_guid(&v).or_else(|| {
                problems.push(PolicyProblem::new(
                    at,
                    ProblemKind::Invalid,
                    format!("{} is not a GUID", Quoted(&v)),
                ));
                None
            })
        })
        .collect()
}

/// Policy-wide settings every route starts from.
#[derive(Debug, Clone, Copy)]
struct RouteDefaults {
    allow_without_permissions: bool,
    fold_case: bool,
}

fn compile_route(
    raw: RawRoute,
    at: &str,
    deployment: Deployment<'_>,
    optional: &[String],
    has_client_id: bool,
    defaults: RouteDefaults,
    problems: &mut Vec<PolicyProblem>,
) -> Route {
    let path = PathPattern::parse(&raw.path).unwrap_or_else(|e| {
        problems.push(PolicyProblem::new(
            format!("{at}.path"),
            ProblemKind::Invalid,
            format!("{e}"),
        ));
        PathPattern::root()
    });
    let path = if defaults.fold_case {
        path.ignoring_case()
    } else {
        path
    };
    let methods = raw.methods.map(|ms| {
        list(ms, &format!("{at}.methods"), problems)
            .into_iter()
            .map(|m| {
                let upper = m.to_ascii_uppercase();
                if !METHODS.contains(&upper.as_str()) {
                    problems.push(PolicyProblem::new(
                        format!("{at}.methods"),
                        ProblemKind::Invalid,
                        format!("{} is not an HTTP method", Quoted(&m)),
                    ));
                }
                upper
            })
            .collect()
    });
    if raw.public && (raw.require.is_some() || raw.step_up.is_some()) {
        problems.push(PolicyProblem::new(
            at,
            ProblemKind::Conflict,
            "a public route cannot require anything of a token",
        ));
    }
    if raw.public && raw.allow_tokens_without_permissions.is_some() {
        problems.push(PolicyProblem::new(
            format!("{at}.allow_tokens_without_permissions"),
            ProblemKind::Conflict,
            "a public route reads no token",
        ));
    }
    let mut require = Requirements {
        allow_without_permissions: raw
            .allow_tokens_without_permissions
            .unwrap_or(defaults.allow_without_permissions),
        ..Requirements::default()
    };
    if let Some(r) = raw.require {
        require.scopes = r
            .scopes
            .and_then(|n| need(n, &format!("{at}.require.scopes"), problems));
        require.roles = r
            .roles
            .and_then(|n| need(n, &format!("{at}.require.roles"), problems));
        require.kind = match r.token_kind.as_deref() {
            None => None,
            Some("user") => Some(TokenKind::Delegated),
            Some("app") => Some(TokenKind::App),
            Some(other) => {
                problems.push(PolicyProblem::new(
                    format!("{at}.require.token_kind"),
                    ProblemKind::Invalid,
                    format!("{} is not user or app", Quoted(other)),
                ));
                None
            }
        };
        if require.kind == Some(TokenKind::App)
            && require.scopes.is_some()
            && require.roles.is_none()
        {
            problems.push(PolicyProblem::new(
                format!("{at}.require"),
                ProblemKind::NeverHolds,
                "app-only tokens carry no scopes (can never hold)",
            ));
        }
        require.apps = r
            .apps
            .map(|a| guids(a, &format!("{at}.require.apps"), problems));
        require.client_auth_min = match r.client_auth.as_deref() {
            None => None,
            Some("public") => Some(0),
            Some("secret") => Some(1),
            Some("certificate") => Some(2),
            Some(other) => {
                problems.push(PolicyProblem::new(
                    format!("{at}.require.client_auth"),
                    ProblemKind::Invalid,
                    format!("{} is not public, secret or certificate", Quoted(other)),
                ));
                None
            }
        };
        require.tenants = r
            .tenants
            .map(|t| guids(t, &format!("{at}.require.tenants"), problems));
        require.groups = r.groups.and_then(|n| {
            let gat = format!("{at}.require.groups");
            if !optional.iter().any(|c| c == "groups") {
                problems.push(PolicyProblem::new(
                    gat.as_str(),
                    ProblemKind::Missing,
                    "needs the groups claim (set groupMembershipClaims in the app registration \
                     and list groups in optional_claims)",
                ));
            }
            Some(match need(n, &gat, problems)? {
                Need::AnyOf(v) => {
                    Need::AnyOf(normalized_guids(v, &format!("{gat}.any_of"), problems))
                }
                Need::AllOf(v) => {
                    Need::AllOf(normalized_guids(v, &format!("{gat}.all_of"), problems))
                }
            })
        });
        require.claims = r
            .claims
            .into_iter()
            .enumerate()
            .map(|(i, m)| ClaimMatch {
                one_of: list(
                    m.one_of,
                    &format!("{at}.require.claims[{i}].one_of"),
                    problems,
                ),
                name: m.name,
            })
            .collect();
    }
    let step_up = raw.step_up.map(|s| {
        let sat = format!("{at}.step_up");
        if require.kind == Some(TokenKind::App) {
            problems.push(PolicyProblem::new(
                sat.as_str(),
                ProblemKind::Invalid,
                "app-only route, and step-up never applies to app-only tokens",
            ));
        }
        if let Some(ctx) = &s.auth_context {
            let valid = ctx
                .strip_prefix('c')
                .and_then(|n| n.parse::<u8>().ok())
                .is_some_and(|n| (1..=99).contains(&n));
            if !valid {
                problems.push(PolicyProblem::new(
                    format!("{sat}.auth_context"),
                    ProblemKind::Invalid,
                    format!("{} is not c1..c99", Quoted(ctx)),
                ));
            }
            if !optional.iter().any(|c| c == "acrs") {
                problems.push(PolicyProblem::new(
                    format!("{sat}.auth_context"),
                    ProblemKind::Missing,
                    "needs the optional claim acrs (list it in optional_claims)",
                ));
            }
            if !has_client_id {
                problems.push(PolicyProblem::new(
                    format!("{sat}.auth_context"),
                    ProblemKind::Missing,
                    "the claims challenge needs api_client_id (or a GUID in ENTRA_AUDIENCES)",
                ));
            }
        }
        if s.mfa && !deployment.accept_v1 {
            problems.push(PolicyProblem::new(
                format!("{sat}.mfa"),
                ProblemKind::NeverHolds,
                "amr is only in v1 tokens and this API accepts v2 only (can never hold)",
            ));
        }
        if s.max_age_seconds.is_some() && !optional.iter().any(|c| c == "auth_time") {
            problems.push(PolicyProblem::new(
                format!("{sat}.max_age_seconds"),
                ProblemKind::Missing,
                "needs the optional claim auth_time (list it in optional_claims)",
            ));
        }
        if s.auth_context.is_none() && !s.mfa && s.max_age_seconds.is_none() {
            problems.push(PolicyProblem::new(
                sat.as_str(),
                ProblemKind::Invalid,
                "asks for nothing",
            ));
        }
        StepUp {
            auth_context: s.auth_context,
            mfa: s.mfa,
            max_age_seconds: s.max_age_seconds.map(i64::from),
        }
    });
    let conditions = raw
        .conditions
        .map(|c| c.compile(&format!("{at}.conditions"), problems));
    if conditions.as_ref().is_some_and(Condition::uses_ipaddr) {
        if raw.public {
            problems.push(PolicyProblem::new(
                format!("{at}.conditions"),
                ProblemKind::Missing,
                "ipaddr_matches_client needs a token, and the route is public",
            ));
        }
        if !deployment.accept_v1 && !optional.iter().any(|c| c == "ipaddr") {
            problems.push(PolicyProblem::new(
                format!("{at}.conditions"),
                ProblemKind::Invalid,
                "v2 tokens carry ipaddr only as an optional claim (list it in optional_claims)",
            ));
        }
    }
    // Query tokens are read on GET and HEAD; a WebSocket handshake is always a GET.
    let takes = |what: &str, allowed: &[&str], problems: &mut Vec<PolicyProblem>| {
        let reachable = methods
            .as_ref()
            .is_none_or(|m: &Vec<String>| m.iter().any(|m| allowed.contains(&m.as_str())));
        if !reachable {
            problems.push(PolicyProblem::new(
                format!("{at}.{what}"),
                ProblemKind::NeverHolds,
                format!(
                    "applies to {} only, and the route's methods do not include it",
                    allowed.join(" and ")
                ),
            ));
        }
    };
    if raw.query_token {
        takes("query_token", &["GET", "HEAD"], problems);
        if raw.public {
            problems.push(PolicyProblem::new(
                format!("{at}.query_token"),
                ProblemKind::Conflict,
                "a public route reads no token",
            ));
        }
    }
    if raw.websocket {
        takes("websocket", &["GET"], problems);
    }
    let rate_limit = raw
        .rate_limit
        .and_then(|r| rate_limit::compile(r, at, raw.public, problems));
    Route {
        name: raw.name.unwrap_or_else(|| raw.path.clone()),
        methods,
        path,
        public: raw.public,
        report_only: raw.report_only,
        require,
        step_up,
        conditions,
        query_token: raw.query_token,
        websocket: raw.websocket,
        rate_limit,
        origin: raw.origin,
    }
}

fn compile_cors(raw: RawCors, problems: &mut Vec<PolicyProblem>) -> Cors {
    let allowed_origins = list(raw.allowed_origins, "cors.allowed_origins", problems);
    for origin in &allowed_origins {
        if origin != "*" && !is_origin(origin) {
            problems.push(PolicyProblem::new(
                "cors.allowed_origins",
                ProblemKind::Invalid,
                format!("{} is not an origin (scheme://host[:port])", Quoted(origin)),
            ));
        }
    }
    Cors {
        allowed_origins,
        allowed_methods: raw.allowed_methods.unwrap_or_else(|| {
            ["GET", "POST", "PUT", "PATCH", "DELETE"]
                .map(String::from)
                .to_vec()
        }),
        allowed_headers: raw
            .allowed_headers
            .unwrap_or_else(|| ["authorization", "content-type"].map(String::from).to_vec()),
        max_age_seconds: raw.max_age_seconds.unwrap_or(600),
    }
}
