//! The Workers glue. It translates HTTP and platform objects to and from the core; every
//! decision (what a header means, whether a token is good, when to refresh keys, which route
//! applies and what it requires, what status a refusal gets) is made by the core.

mod bindings;
mod facts;
mod fetch;
mod keystore;
mod log;
mod proxy;
mod respond;
mod revocation;
pub mod webcrypto;

use crate::core::config::{binding, GateConfig, DEFAULT_REALM};
use crate::core::gate::{self, Denial};
use crate::core::identity::VerifiedIdentity;
use crate::core::policy::{ChallengeContext, Preflight, RequestFacts, Route, RouteChoice, Verdict};
use crate::core::reason::Reason;
use keystore::{now, KeyStore};
use std::rc::Rc;
use worker::{event, Context, Env, Request, Response, Result, ScheduleContext, ScheduledEvent};

/// A refusal on its way out: the reason and any challenge parameters.
struct Refused {
    reason: Reason,
    params: Vec<(&'static str, String)>,
}

impl From<Reason> for Refused {
    fn from(reason: Reason) -> Self {
        Refused {
            reason,
            params: Vec::new(),
        }
    }
}

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> Result<Response> {
    let request_id = log::request_id(&request);
    let Ok(config) = bindings::config(&env) else {
        return respond::refusal(Reason::ConfigInvalid, DEFAULT_REALM, &request_id);
    };
    let Ok(url) = request.url() else {
        return respond::refusal(Reason::MalformedAuthorization, &config.realm, &request_id);
    };
    let facts = facts::of(&request, &config, url.path(), now());
    let cors: Vec<(&str, String)> = match config.policy.as_ref().and_then(|p| p.cors_origin(&facts))
    {
        Some(origin) => vec![
            ("access-control-allow-origin", origin),
            ("vary", "Origin".into()),
        ],
        None => Vec::new(),
    };
    match handle(&request, &env, &config, &facts, &request_id).await {
        Ok(response) => Ok(response),
        Err(refused) => respond::refusal_with(
            refused.reason,
            &refused.params,
            &cors,
            &config.realm,
            &request_id,
        ),
    }
}

async fn handle(
    request: &Request,
    env: &Env,
    config: &Rc<GateConfig>,
    facts: &RequestFacts,
    request_id: &str,
) -> std::result::Result<Response, Refused> {
    let route = match &config.policy {
        None => None,
        Some(policy) => {
            if let Some(preflight) = policy.preflight(facts) {
                return match preflight {
                    Preflight::Allow { headers } => respond::preflight(&headers, request_id)
                        .map_err(|_| Reason::CorsNotAllowed.into()),
                    Preflight::Refuse => {
                        log::refused(request_id, Reason::CorsNotAllowed, "preflight refused");
                        Err(Reason::CorsNotAllowed.into())
                    }
                };
            }
            match policy.route_for(facts) {
                RouteChoice::Route(route) => Some(route),
                RouteChoice::DefaultAuthenticated => None,
                RouteChoice::Unmatched => {
                    log::refused(request_id, Reason::NoRoute, "no route matched");
                    return Err(Reason::NoRoute.into());
                }
            }
        }
    };

    if let (Some(policy), Some(route)) = (&config.policy, route.filter(|r| r.public)) {
        enforce(policy.public_conditions(route, facts), route, request_id)?;
        return forward(request, config, None, request_id).await;
    }

    let identity = authenticate(request, env, config, request_id).await?;
    revocation_check(env, config, &identity, request_id).await?;
    if let (Some(policy), Some(route)) = (&config.policy, route) {
        let ctx = ChallengeContext {
            authorization_uri: format!(
                "{}/{}/oauth2/v2.0/authorize",
                config.authority.as_str().trim_end_matches('/'),
                config.tenant.path_segment()
            ),
            client_id: policy.api_client_id.clone(),
        };
        enforce(
            policy.authorize(route, &identity, facts, &ctx),
            route,
            request_id,
        )?;
    }
    log::allowed(request_id, &identity);
    forward(request, config, Some(&identity), request_id).await
}

/// Logs report-only findings and turns an enforced denial into a refusal.
fn enforce(verdict: Verdict, route: &Route, request_id: &str) -> std::result::Result<(), Refused> {
    for finding in &verdict.would_deny {
        log::would_deny(request_id, &route.name, finding.reason, &finding.detail);
    }
    match verdict.denial {
        Some(denial) => {
            log::refused(request_id, denial.reason, &denial.detail);
            Err(Refused {
                reason: denial.reason,
                params: denial.params,
            })
        }
        None => Ok(()),
    }
}

async fn authenticate(
    request: &Request,
    env: &Env,
    config: &Rc<GateConfig>,
    request_id: &str,
) -> std::result::Result<VerifiedIdentity, Refused> {
    let authorization = request.headers().get("authorization").ok().flatten();
    let denied = |denial: Denial| -> Refused {
        log::denied(request_id, &denial);
        denial.reason().into()
    };
    let token = gate::intake(authorization.as_deref(), config.max_token_bytes).map_err(denied)?;

    let store = KeyStore::for_isolate(config);
    let Some(set) = store.set_for(|| token.unverified_tenant()) else {
        log::refused(
            request_id,
            Reason::TenantNotAllowed,
            "no key set for the token's tenant",
        );
        return Err(Reason::TenantNotAllowed.into());
    };
    let kv = env
        .kv(binding::JWKS_KV)
        .map_err(|_| Refused::from(Reason::ConfigInvalid))?;
    let keys = set.current(&kv).await.ok_or(Reason::KeysUnavailable)?;
    let verifier = webcrypto::verifier().map_err(|_| Refused::from(Reason::KeysUnavailable))?;

    let first = gate::verify(token.clone(), &keys.keys, &verifier, &keys.rules, now()).await;
    match first {
        Err(denial) if denial.is_unknown_kid() => {
            match set.kid_miss(&token.header().kid, &kv, request_id).await {
                Some(fresh) => gate::verify(token, &fresh.keys, &verifier, &fresh.rules, now())
                    .await
                    .map_err(denied),
                None => Err(denied(denial)),
            }
        }
        other => other.map_err(denied),
    }
}

/// With a `REVOCATIONS` KV binding, every verified caller is checked against the list.
async fn revocation_check(
    env: &Env,
    config: &GateConfig,
    identity: &VerifiedIdentity,
    request_id: &str,
) -> std::result::Result<(), Refused> {
    let Ok(kv) = env.kv(binding::REVOCATIONS_KV) else {
        return Ok(());
    };
    let list = revocation::for_isolate()
        .current(&kv, config.revocation_refresh_seconds)
        .await
        .ok_or(Reason::RevocationUnavailable)?;
    match list.revoked(identity) {
        Some(by) => {
            log::refused(
                request_id,
                Reason::TokenRevoked,
                &format!("revoked by {by} entry"),
            );
            Err(Reason::TokenRevoked.into())
        }
        None => Ok(()),
    }
}

async fn forward(
    request: &Request,
    config: &GateConfig,
    identity: Option<&VerifiedIdentity>,
    request_id: &str,
) -> std::result::Result<Response, Refused> {
    proxy::forward(request, config, identity)
        .await
        .map_err(|detail| {
            log::origin_failed(request_id, &detail);
            Reason::OriginUnreachable.into()
        })
}

/// The Cron Trigger: refresh every configured key set, one after another (so an allow-list of
/// many tenants never fires all its fetches at once); KV is written only when content changed.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let Ok(config) = bindings::config(&env) else {
        return;
    };
    let Ok(kv) = env.kv(binding::JWKS_KV) else {
        return;
    };
    for set in KeyStore::for_isolate(&config).sets() {
        set.scheduled(&kv).await;
    }
}
