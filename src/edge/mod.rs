//! The Workers glue. It translates HTTP and platform objects to and from the core; every
//! decision (what a header means, whether a token is good, when to refresh keys, what status a
//! refusal gets) is made by the core.

mod bindings;
mod fetch;
mod keystore;
mod log;
mod proxy;
mod respond;
pub mod webcrypto;

use crate::core::config::{binding, GateConfig, DEFAULT_REALM};
use crate::core::gate::{self, Denial};
use crate::core::reason::Reason;
use keystore::{now, KeyStore};
use std::rc::Rc;
use worker::{event, Context, Env, Request, Response, Result, ScheduleContext, ScheduledEvent};

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> Result<Response> {
    let request_id = log::request_id(&request);
    let Ok(config) = bindings::config(&env) else {
        return respond::refusal(Reason::ConfigInvalid, DEFAULT_REALM, &request_id);
    };
    match handle(&request, &env, &config, &request_id).await {
        Ok(response) => Ok(response),
        Err(reason) => respond::refusal(reason, &config.realm, &request_id),
    }
}

async fn handle(
    request: &Request,
    env: &Env,
    config: &Rc<GateConfig>,
    request_id: &str,
) -> std::result::Result<Response, Reason> {
    let authorization = request.headers().get("authorization").ok().flatten();
    let denied = |denial: Denial| {
        log::denied(request_id, &denial);
        denial.reason()
    };
    let token = gate::intake(authorization.as_deref(), config.max_token_bytes).map_err(denied)?;

    let store = KeyStore::for_isolate(config);
    let Some(set) = store.set_for(|| token.unverified_tenant()) else {
        log::refused(
            request_id,
            Reason::TenantNotAllowed,
            "no key set for the token's tenant",
        );
        return Err(Reason::TenantNotAllowed);
    };
    let kv = env
        .kv(binding::JWKS_KV)
        .map_err(|_| Reason::ConfigInvalid)?;
    let keys = set.current(&kv).await.ok_or(Reason::KeysUnavailable)?;
    let verifier = webcrypto::verifier().map_err(|_| Reason::KeysUnavailable)?;

    let first = gate::verify(token.clone(), &keys.keys, &verifier, &keys.rules, now()).await;
    let identity = match first {
        Err(denial) if denial.is_unknown_kid() => {
            match set.kid_miss(&token.header().kid, &kv, request_id).await {
                Some(fresh) => gate::verify(token, &fresh.keys, &verifier, &fresh.rules, now())
                    .await
                    .map_err(denied)?,
                None => return Err(denied(denial)),
            }
        }
        other => other.map_err(denied)?,
    };
    log::allowed(request_id, &identity);
    proxy::forward(request, config, &identity)
        .await
        .map_err(|detail| {
            log::origin_failed(request_id, &detail);
            Reason::OriginUnreachable
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
