//! The Workers glue. It translates HTTP and platform objects to and from the core; every
//! decision (what a header means, whether a token is good, when to refresh keys, what status a
//! refusal gets) is made by the core.

mod bindings;
mod fetch;
mod log;
mod proxy;
mod respond;
mod tenant;
pub mod webcrypto;

use crate::core::config::GateConfig;
use crate::core::gate::{self, Denial};
use crate::core::reason::Reason;
use crate::core::time::UnixTime;
use std::rc::Rc;
use tenant::TenantKeys;
use worker::{event, Context, Env, Request, Response, Result};

fn now() -> UnixTime {
    UnixTime::from_millis(js_sys::Date::now())
}

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> Result<Response> {
    let request_id = log::request_id(&request);
    let config = match bindings::config(&env) {
        Ok(config) => config,
        Err(()) => {
            return respond::refusal(
                Reason::ConfigInvalid,
                crate::core::config::DEFAULT_REALM,
                &request_id,
            )
        }
    };
    let outcome = handle(&request, &config, &request_id).await;
    match outcome {
        Ok(response) => Ok(response),
        Err(reason) => respond::refusal(reason, &config.realm, &request_id),
    }
}

async fn handle(
    request: &Request,
    config: &Rc<GateConfig>,
    request_id: &str,
) -> std::result::Result<Response, Reason> {
    let authorization = request.headers().get("authorization").ok().flatten();
    let denied = |denial: Denial| {
        log::denied(request_id, &denial);
        denial.reason()
    };
    let token = gate::intake(authorization.as_deref(), config.max_token_bytes).map_err(denied)?;

    let tenant = TenantKeys::for_isolate(config);
    let snapshot = tenant.current(now()).await.ok_or(Reason::KeysUnavailable)?;
    let verifier = webcrypto::verifier().map_err(|_| Reason::KeysUnavailable)?;
    let first = gate::verify(
        token.clone(),
        &snapshot.keys,
        &verifier,
        &snapshot.rules,
        now(),
    )
    .await;
    let identity = match first {
        Err(denial) if denial.is_unknown_kid() => {
            log::kid_miss(request_id, token.header().kid.as_str());
            match tenant.refresh_for_unknown_kid(now()).await {
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
