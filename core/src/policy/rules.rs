//! Per-route requirements on the verified token, and step-up.

use super::Refusal;
use crate::identity::{TokenKind, VerifiedIdentity};
use crate::reason::Reason;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// What a route asks of the token's scopes or app roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// At least one of these.
    AnyOf(Vec<String>),
    /// Every one of these.
    AllOf(Vec<String>),
}

impl Need {
    fn met_by(&self, held: &[String]) -> bool {
        match self {
            Need::AnyOf(wanted) => wanted.iter().any(|w| held.contains(w)),
            Need::AllOf(wanted) => wanted.iter().all(|w| held.contains(w)),
        }
    }

    fn listed(&self) -> String {
        match self {
            Need::AnyOf(v) | Need::AllOf(v) => v.join(" "),
        }
    }
}

/// A generic claim matcher: the claim must hold one of these values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimMatch {
    /// The claim's name in the token.
    pub name: String,
    /// Accepted values; a claim with several values matches when any one is accepted.
    pub one_of: Vec<String>,
}

/// What a route asks of a verified token.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Requirements {
    /// Accept a token that carries neither `scp` nor `roles` (off by default: such a token says
    /// only "some app in an accepted tenant", which Microsoft.Identity.Web refuses as IDW10201).
    pub allow_without_permissions: bool,
    /// `scp`; with `roles` too, either one will do (delegated or app-only callers).
    pub scopes: Option<Need>,
    /// `roles`; with `scopes` too, either one will do.
    pub roles: Option<Need>,
    /// Only delegated or only app-only tokens.
    pub kind: Option<TokenKind>,
    /// Calling applications (`azp`/`appid`) allowed, as normalized GUIDs.
    pub apps: Option<Vec<String>>,
    /// 0 public client, 1 client secret, 2 certificate (`azpacr` / `appidacr`).
    pub client_auth_min: Option<u8>,
    /// Tenants (`tid`) allowed on this route, as normalized GUIDs.
    pub tenants: Option<Vec<String>>,
    /// Group object ids (`groups`), as normalized GUIDs.
    pub groups: Option<Need>,
    /// Every matcher must match.
    pub claims: Vec<ClaimMatch>,
}

impl Requirements {
    /// The first requirement the token fails, in a fixed order: kind, tenant, calling app,
    /// client authentication, scopes/roles, groups, claims.
    pub fn check(&self, id: &VerifiedIdentity) -> Result<(), Refusal> {
        if let Some(kind) = self.kind.filter(|k| *k != id.kind) {
            return Err(Refusal::new(
                Reason::TokenKindNotAllowed,
                format!("route wants {} tokens", kind.as_str()),
            ));
        }
        if let Some(tenants) = self.tenants.as_ref().filter(|t| !t.contains(&id.tenant_id)) {
            return Err(Refusal::new(
                Reason::RouteTenantNotAllowed,
                format!("tenant not among {}", tenants.len()),
            ));
        }
        if self
            .apps
            .as_ref()
            .is_some_and(|apps| !apps.contains(&id.client_id))
        {
            return Err(Refusal::new(
                Reason::ClientNotAllowed,
                "calling application not allowed",
            ));
        }
        if let Some(min) = self.client_auth_min {
            let strength = id
                .client_auth
                .as_deref()
                .and_then(|a| a.parse::<u8>().ok())
                .unwrap_or(0);
            if strength < min {
                return Err(Refusal::new(
                    Reason::ClientAuthTooWeak,
                    format!("client authentication {strength} below {min}"),
                ));
            }
        }
        // Scopes and roles together mean "either": a delegated call proves its scope, an
        // app-only call its app role (Microsoft.Identity.Web's RequiredScopeOrAppPermission).
        let scopes_ok = self.scopes.as_ref().map(|n| n.met_by(&id.scopes));
        let roles_ok = self.roles.as_ref().map(|n| n.met_by(&id.roles));
        match (scopes_ok, roles_ok) {
            // An app-only token can never hold a scope: tell it about the role it lacks.
            (Some(false), Some(false)) if id.kind == TokenKind::App => {
                return Err(Refusal::new(Reason::InsufficientRole, "missing app role"));
            }
            (Some(false), Some(false)) | (Some(false), None) => {
                let wanted = self.scopes.as_ref().map(Need::listed).unwrap_or_default();
                let mut r = Refusal::new(Reason::InsufficientScope, "missing scope");
                r.params.push(("scope", wanted));
                return Err(r);
            }
            (None, Some(false)) => {
                return Err(Refusal::new(Reason::InsufficientRole, "missing app role"))
            }
            // Nothing asked of scopes or roles: the token must still carry one or the other,
            // unless the route says otherwise.
            (None, None)
                if !self.allow_without_permissions
                    && id.scopes.is_empty()
                    && id.roles.is_empty() =>
            {
                return Err(Refusal::new(
                    Reason::NoPermissions,
                    "token carries neither scp nor roles",
                ));
            }
            _ => {}
        }
        if let Some(groups) = &self.groups {
            // Overage first: the token's empty list says nothing about membership, and
            // "not in the group" would send an operator looking in the wrong place.
            if id.groups_overage {
                return Err(Refusal::new(
                    Reason::GroupsOverage,
                    "groups left out of the token (overage)",
                ));
            }
            if !groups.met_by(&id.groups) {
                return Err(Refusal::new(
                    Reason::InsufficientGroup,
                    format!("not in {}", groups.listed()),
                ));
            }
        }
        for matcher in &self.claims {
            let values = id.extra_claim(&matcher.name);
            if !values.iter().any(|v| matcher.one_of.contains(v)) {
                return Err(Refusal::new(
                    Reason::ClaimMismatch,
                    format!("claim {} not accepted", matcher.name),
                ));
            }
        }
        Ok(())
    }
}

/// What a route asks of the user's sign-in: each can be fixed by signing in again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepUp {
    /// An Entra authentication context (`c1`..`c99`) that `acrs` must hold; missing, the
    /// client gets a claims challenge.
    pub auth_context: Option<String>,
    /// `amr` must contain `mfa` (v1 tokens only).
    pub mfa: bool,
    /// The user must have signed in (`auth_time`) within this many seconds.
    pub max_age_seconds: Option<i64>,
}

/// Where a client sends the user to satisfy a claims challenge, and which API asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeContext {
    /// The tenant's `/oauth2/v2.0/authorize` endpoint on the configured authority.
    pub authorization_uri: String,
    /// The API's client id (`api_client_id`); `None` leaves it out of the challenge.
    pub client_id: Option<String>,
}

impl StepUp {
    /// The first step-up the token lacks at time `now` (seconds), with the challenge
    /// parameters that ask for it. App-only tokens never pass: there is no user to step up.
    pub fn check(
        &self,
        id: &VerifiedIdentity,
        now: i64,
        ctx: &ChallengeContext,
    ) -> Result<(), Refusal> {
        if id.kind == TokenKind::App {
            return Err(Refusal::new(
                Reason::StepUpAppOnly,
                "step-up does not apply to app-only tokens",
            ));
        }
        if let Some(context) = self.auth_context.as_ref().filter(|c| !id.acrs.contains(c)) {
            let capable = id.xms_cc.iter().any(|c| c.eq_ignore_ascii_case("cp1"));
            if !capable {
                return Err(Refusal::new(
                    Reason::StepUpUnsupportedClient,
                    format!("needs {context}; client cannot handle claims challenges"),
                ));
            }
            let claims = format!(
                r#"{{"access_token":{{"acrs":{{"essential":true,"value":"{context}"}}}}}}"#
            );
            let mut r = Refusal::new(
                Reason::StepUpRequired,
                format!("needs authentication context {context}"),
            );
            r.params
                .push(("authorization_uri", ctx.authorization_uri.clone()));
            r.params.push(("claims", STANDARD.encode(claims)));
            if let Some(client_id) = &ctx.client_id {
                r.params.push(("client_id", client_id.clone()));
            }
            r.params.push(("cc_type", "authcontext".into()));
            return Err(r);
        }
        if self.mfa && !id.amr.iter().any(|m| m == "mfa") {
            let mut r = Refusal::new(Reason::MfaRequired, "multi-factor sign-in required");
            r.params.push(("acr_values", "mfa".into()));
            return Err(r);
        }
        if let Some(max_age) = self.max_age_seconds {
            let fresh = id.auth_time.is_some_and(|t| now - t <= max_age);
            if !fresh {
                let mut r = Refusal::new(
                    Reason::AuthTooOld,
                    format!("sign-in older than {max_age} s"),
                );
                r.params.push(("max_age", max_age.to_string()));
                return Err(r);
            }
        }
        Ok(())
    }
}
