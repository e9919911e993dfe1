//! The Workers glue. It translates HTTP and platform objects to and from the core; every
//! decision (what a header means, whether a token is good, when to refresh keys, which route
//! applies and what it requires, what status a refusal gets) is made by the core.

mod assertion;
mod bindings;
mod executor;
mod facts;
mod fetch;
mod js;
mod keystore;
mod kv;
mod log;
mod metrics;
mod pending;
mod proxy;
mod rate_limit;
mod replay;
mod respond;
mod revocation;
mod settle;
mod single_flight;
pub mod webcrypto;

use bindings::{Env, ExecutionContext, LazyKv};
use entra_gate_core::Reason;
use entra_gate_core::TokenCache;
use entra_gate_core::VerifiedIdentity;
use entra_gate_core::{binding, metadata_url, Challenger, GateConfig, DEFAULT_REALM};
use entra_gate_core::{Outcome, ReplayContext, Step, UnixTime, Walk};
use entra_gate_core::{Refusal, RequestFacts};
use entra_gate_core::{RequestTarget, TargetError};
use keystore::{now, KeyStore, Loaded};
use log::Decision;
use proxy::Target;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Headers, Request, Response};

/// What the handler settled on: a reply of its own, or the origin's (still on its way).
enum Reply {
    Ready(Response),
    Forwarding(js_sys::Promise),
}

/// A reply, or the refusal to answer with.
type Handled = std::result::Result<Reply, Refusal>;

/// Verified tokens this isolate has seen (see `core::token_cache`).
const TOKEN_CACHE_CAPACITY: usize = 4096;
/// Token text the cache may hold: 4,096 typical 1–2 KiB tokens, in a 128 MB isolate.
const TOKEN_CACHE_BYTES: usize = 8 << 20;

thread_local! {
    /// Verified tokens this isolate has seen; the walk borrows it only between awaits.
    static VERIFIED: Rc<RefCell<TokenCache>> =
        Rc::new(RefCell::new(TokenCache::new(TOKEN_CACHE_CAPACITY, TOKEN_CACHE_BYTES)));
}

/// The `fetch` handler (`src/edge/entry.mjs` calls it): a `Response`, or a promise of one.
/// Always answers: a refusal is a response.
#[wasm_bindgen(js_name = handleFetch)]
pub fn fetch(request: Request, env: JsValue, ctx: JsValue) -> JsValue {
    let ctx = ctx
        .is_object()
        .then(|| ctx.unchecked_into::<ExecutionContext>());
    executor::run(respond_to(request, env, ctx))
}

async fn respond_to(request: Request, env: JsValue, ctx: Option<ExecutionContext>) -> JsValue {
    let env = Env::new(env);
    metrics::install(&env);
    let headers = request.headers();
    let decision = RefCell::new(Decision::start(&log::request_id(&headers)));
    let request_id = decision.borrow().request_id().to_owned();
    // Read once: the decision line and the policy's facts get the same method.
    let method = request.method();
    decision.borrow_mut().method(&method);
    let config = bindings::config(&env);
    if let Ok(config) = &config {
        decision.borrow_mut().configure(config.log, config.shadow);
    }
    let response = match config {
        Err(()) => {
            decision
                .borrow_mut()
                .refused(Reason::ConfigInvalid, "configuration is invalid");
            respond::refusal(Reason::ConfigInvalid, DEFAULT_REALM, &request_id)
        }
        Ok(config) => match RequestTarget::from_url(&request.url()) {
            Err(error) => {
                let reason = match error {
                    TargetError::Unreadable => Reason::RequestUnreadable,
                    TargetError::Path(_) => Reason::PathAmbiguous,
                };
                decision.borrow_mut().refused(reason, &error.to_string());
                respond::refusal(reason, &config.realm, &request_id)
            }
            Ok(RequestTarget {
                path,
                query,
                served_at,
            }) => {
                // The one path: what the policy matches (facts.path) is what the origin gets.
                let mut facts = facts::of(&request, &headers, &config, &method, path, now());
                let metadata_url = config
                    .resource_metadata
                    .as_ref()
                    .map(|_| metadata_url(&served_at));
                facts.served_at = Some(served_at);
                let cors: Vec<(&'static str, String)> = match config.policy.cors_origin(&facts) {
                    Some(origin) => vec![
                        ("access-control-allow-origin", origin),
                        ("vary", "Origin".into()),
                    ],
                    None => Vec::new(),
                };
                let incoming = Incoming {
                    request: &request,
                    headers: &headers,
                    query: query.as_deref(),
                    env: &env,
                    ctx: ctx.as_ref(),
                };
                match handle(&incoming, &config, facts, &decision).await {
                    Ok(Reply::Ready(response)) => Ok(response),
                    Ok(Reply::Forwarding(fetching)) => {
                        let forwarded = pending::Forwarded {
                            decision: decision.into_inner(),
                            cors,
                            realm: config.realm.clone(),
                            origin_timeout_seconds: config.origin_timeout_seconds,
                        };
                        return pending::finish_later(fetching, forwarded).into();
                    }
                    Err(refused) => respond::refusal_with(
                        refused.reason,
                        &refused.params,
                        refused.retry_after_seconds,
                        &cors,
                        Challenger {
                            realm: &config.realm,
                            resource_metadata: metadata_url.as_deref(),
                        },
                        &request_id,
                    ),
                }
            }
        },
    };
    let status = response.as_ref().map(Response::status).unwrap_or(500);
    if response.is_err() {
        decision
            .borrow_mut()
            .refused(Reason::InternalError, "the answer could not be built");
    }
    decision.borrow().emit(status);
    respond::or_bare_500(response)
}

/// What the handler reads of the request and its environment.
struct Incoming<'a> {
    request: &'a Request,
    headers: &'a Headers,
    /// As the client sent it; the path comes from the walk's facts (the canonical one).
    query: Option<&'a str>,
    env: &'a Env,
    ctx: Option<&'a ExecutionContext>,
}

/// A refusal the edge meets itself (the runtime would not build a response), logged.
fn refuse(decision: &RefCell<Decision>, reason: Reason, detail: &str) -> Refusal {
    decision.borrow_mut().refused(reason, detail);
    Refusal::new(reason, detail)
}

/// Runs the core's walk for this request: the core decides every step, this only performs the
/// I/O each step asks for (keys, a kid-miss refresh, the revocation list) and translates the
/// outcome into a response or a forward.
async fn handle(
    incoming: &Incoming<'_>,
    config: &Rc<GateConfig>,
    facts: RequestFacts,
    decision: &RefCell<Decision>,
) -> Handled {
    let request_id = decision.borrow().request_id().to_owned();
    let authorization = incoming.headers.get("authorization").ok().flatten();
    let revocations_bound = bindings::has_revocations(incoming.env);
    let mut walk =
        Walk::new(config, facts, authorization, revocations_bound).with_query(incoming.query);
    let (outcome, keys_until) = drive(&mut walk, incoming, config, &request_id).await;
    record(&walk, &outcome, &mut decision.borrow_mut());
    let replay = keys_until
        .and_then(|keys_until| {
            walk.replay_until(
                &outcome,
                ReplayContext {
                    now: now(),
                    keys_until,
                    metrics: metrics::enabled(),
                },
            )
        })
        .map(|until| replay::Plan {
            until,
            decision: decision.borrow().replayed(),
            realm: config.realm.clone(),
        });
    match outcome {
        Outcome::PublishKeys => match &config.assertion_key {
            Some(key) => respond::jwks(&key.public_jwks(), &request_id)
                .map(Reply::Ready)
                .map_err(|e| refuse(decision, Reason::InternalError, &js::describe(&e))),
            None => Err(refuse(decision, Reason::InternalError, "no assertion key")),
        },
        Outcome::ResourceMetadata { document } => {
            respond::resource_metadata(&document, &request_id)
                .map(Reply::Ready)
                .map_err(|e| refuse(decision, Reason::InternalError, &js::describe(&e)))
        }
        Outcome::Preflight { headers } => respond::preflight(&headers, &request_id)
            .map(Reply::Ready)
            .map_err(|e| refuse(decision, Reason::InternalError, &js::describe(&e))),
        Outcome::Refuse(refusal) => Err(refusal),
        Outcome::Forward { identity } => {
            // The one path: what the policy matched (the walk's facts) is what the origin gets.
            let facts = walk.facts();
            // The loader checked that every route's origin exists; a miss is the gateway's fault.
            let Some(origin) = config.origins.for_route(walk.route_origin()) else {
                return Err(refuse(
                    decision,
                    Reason::InternalError,
                    "no origin for the route",
                ));
            };
            let service = origin.service().and_then(|name| incoming.env.service(name));
            if origin.service().is_some() && service.is_none() {
                return Err(refuse(
                    decision,
                    Reason::InternalError,
                    "service binding gone",
                ));
            }
            let target = Target {
                origin,
                service: service.as_ref(),
                served_at: facts.served_at.as_deref().unwrap_or_default(),
                method: &facts.method,
                path: facts.path(),
                query: walk.forwarded_query(),
                websocket: walk.keeps_upgrade(),
            };
            forward(
                incoming,
                &target,
                config,
                identity.as_deref(),
                decision,
                replay,
            )
            .await
        }
    }
}

/// The walk's steps, performed; with the outcome, until when the keys it was last given are
/// used without looking further (what a replay of it may not outlive).
async fn drive(
    walk: &mut Walk<'_>,
    incoming: &Incoming<'_>,
    config: &Rc<GateConfig>,
    request_id: &str,
) -> (Outcome, Option<UnixTime>) {
    let store = KeyStore::for_isolate(config);
    let kv = LazyKv::new(incoming.env, binding::JWKS_KV);
    let cache = VERIFIED.with(Rc::clone);
    // The keys the walk was last given: a signature is checked with exactly those.
    let mut held: Option<Rc<Loaded>> = None;
    let mut keys_until = None;
    let mut step = walk.start(&cache, now());
    loop {
        step = match step {
            Step::Done(outcome) => return (outcome, keys_until),
            Step::NeedKeys { set } => {
                held = match store.set(set) {
                    Some(set) => {
                        let keys = set.current(&kv, incoming.ctx).await;
                        keys_until = set.held_until();
                        keys
                    }
                    None => None,
                };
                walk.keys_arrived(held.as_deref().map(Loaded::view), &cache)
            }
            Step::NeedKeysWithKid { set, kid } => {
                held = match store.set(set) {
                    Some(set) => {
                        let keys = set.kid_miss(&kid, &kv, incoming.ctx, request_id).await;
                        keys_until = set.held_until();
                        keys
                    }
                    None => None,
                };
                walk.keys_arrived(held.as_deref().map(Loaded::view), &cache)
            }
            Step::NeedSignature { .. } => match (webcrypto::verifier(), held.as_deref()) {
                (Ok(verifier), Some(keys)) => {
                    walk.check_signature(keys.view(), verifier.as_ref(), &cache, now())
                        .await
                }
                (Err(fault), _) => walk.platform_failed(&fault.to_string()),
                (Ok(_), None) => walk.platform_failed("no keys held for the signature"),
            },
            Step::NeedRevocations => {
                let kv = LazyKv::new(incoming.env, binding::REVOCATIONS_KV);
                let list = revocation::for_isolate()
                    .current(&kv, &config.revocation)
                    .await;
                walk.revocations_arrived(list.as_deref())
            }
            Step::NeedRateLimit { binding, key } => {
                let allowed = rate_limit::allows(incoming.env, &binding, &key).await;
                walk.rate_limit_arrived(allowed)
            }
        };
    }
}

/// What the decision line says of the walk.
fn record(walk: &Walk<'_>, outcome: &Outcome, decision: &mut Decision) {
    let trace = walk.trace();
    if let Some(route) = &trace.route {
        decision.route(route);
    }
    if let Some(kid) = &trace.kid {
        decision.kid(kid);
    }
    if let Some(identity) = walk.identity() {
        decision.identity(identity);
    }
    if trace.cached {
        decision.cached();
    }
    for finding in &trace.would_deny {
        decision.would_deny(finding.reason, &finding.detail);
    }
    if let Some(shadowed) = &trace.shadowed {
        decision.shadowed(shadowed.reason, &shadowed.detail);
        return;
    }
    match outcome {
        Outcome::Forward { identity: None } => decision.outcome("public"),
        Outcome::Forward { identity: Some(_) } => {}
        Outcome::Preflight { .. } => decision.outcome("preflight"),
        Outcome::PublishKeys => decision.outcome("jwks"),
        Outcome::ResourceMetadata { .. } => decision.outcome("resource_metadata"),
        Outcome::Refuse(refusal) => decision.refused(refusal.reason, &refusal.detail),
    }
}

async fn forward(
    incoming: &Incoming<'_>,
    target: &Target<'_>,
    config: &GateConfig,
    identity: Option<&VerifiedIdentity>,
    decision: &RefCell<Decision>,
    replay: Option<replay::Plan>,
) -> Handled {
    let request_id = decision.borrow().request_id().to_owned();
    proxy::forward(
        incoming.request,
        incoming.headers,
        target,
        config,
        identity,
        &request_id,
        replay,
    )
    .await
    .map(Reply::Forwarding)
    .map_err(|(reason, detail)| refuse(decision, reason, &detail))
}

/// The Cron Trigger: refresh every configured key set, one after another (so an allow-list of
/// many tenants never fires all its fetches at once); KV is written only when content changed.
#[wasm_bindgen(js_name = handleScheduled)]
pub async fn scheduled(env: JsValue) {
    let env = Env::new(env);
    metrics::install(&env);
    let Ok(config) = bindings::config(&env) else {
        return;
    };
    let kv = LazyKv::new(&env, binding::JWKS_KV);
    for set in KeyStore::for_isolate(&config).sets() {
        set.scheduled(&kv).await;
    }
}
