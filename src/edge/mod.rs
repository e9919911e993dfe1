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
mod respond;
mod revocation;
mod single_flight;
mod sweep;
pub mod webcrypto;

use bindings::{Env, ExecutionContext, LazyKv};
use entra_gate_core::assertion::JWKS_PATH;
use entra_gate_core::config::{binding, GateConfig, DEFAULT_REALM};
use entra_gate_core::gate::{self, Denial};
use entra_gate_core::identity::VerifiedIdentity;
use entra_gate_core::policy::{ChallengeContext, Preflight, RequestFacts, RouteChoice, Verdict};
use entra_gate_core::reason::Reason;
use entra_gate_core::request_target::{RequestTarget, TargetError};
use entra_gate_core::token_cache::TokenCache;
use keystore::{now, KeyStore};
use log::Decision;
use proxy::Target;
use std::cell::{OnceCell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Headers, Request, Response};

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

/// What the handler settled on: an answer of its own, or the origin's (still on its way).
enum Answer {
    Ready(Response),
    Forwarding(js_sys::Promise),
}

type Outcome = std::result::Result<Answer, Refused>;

/// Verified tokens this isolate has seen (see `core::token_cache`).
const TOKEN_CACHE_CAPACITY: usize = 4096;
/// Token text the cache may hold: 4,096 typical 1–2 KiB tokens, in a 128 MB isolate.
const TOKEN_CACHE_BYTES: usize = 8 << 20;

thread_local! {
    /// What a claims challenge points at: fixed by the configuration, so built once.
    static CHALLENGE: OnceCell<Rc<ChallengeContext>> = const { OnceCell::new() };
    static VERIFIED: RefCell<TokenCache> =
        RefCell::new(TokenCache::new(TOKEN_CACHE_CAPACITY, TOKEN_CACHE_BYTES));
}

/// Runs once when the instance starts. A panic aborts (`panic = "abort"`), which leaves this
/// instance unusable; the hook has wasm-bindgen build a fresh one before the next call into it,
/// wherever the panic happened (also inside a promise callback, where the entry module's own
/// recovery never sees the trap).
#[wasm_bindgen(start)]
fn start() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        wasm_bindgen::handler::schedule_reinit();
        // Where, not what: a panic message could quote request data.
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        log::panicked(&at);
        previous(info);
    }));
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
    let response = match bindings::config(&env) {
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
            Ok(RequestTarget { path, query }) => {
                // The one path: what the policy matches (facts.path) is what the origin gets.
                let facts = facts::of(&request, &headers, &config, path.into_string(), now());
                let cors: Vec<(&'static str, String)> = match config.policy.cors_origin(&facts) {
                    Some(origin) => vec![
                        ("access-control-allow-origin", origin),
                        ("vary", "Origin".into()),
                    ],
                    None => Vec::new(),
                };
                let target = Target {
                    method: &facts.method,
                    path: &facts.path,
                    query: query.as_deref(),
                };
                let incoming = Incoming {
                    request: &request,
                    headers: &headers,
                    target: &target,
                    env: &env,
                    ctx: ctx.as_ref(),
                };
                match handle(&incoming, &config, &facts, &decision).await {
                    Ok(Answer::Ready(response)) => Ok(response),
                    Ok(Answer::Forwarding(fetching)) => {
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
                        &cors,
                        &config.realm,
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
    target: &'a Target<'a>,
    env: &'a Env,
    ctx: Option<&'a ExecutionContext>,
}

fn refuse(decision: &RefCell<Decision>, reason: Reason, detail: &str) -> Refused {
    decision.borrow_mut().refused(reason, detail);
    reason.into()
}

async fn handle(
    incoming: &Incoming<'_>,
    config: &Rc<GateConfig>,
    facts: &RequestFacts,
    decision: &RefCell<Decision>,
) -> Outcome {
    let request_id = decision.borrow().request_id().to_owned();
    if let Some(key) = config
        .assertion_key
        .as_ref()
        .filter(|_| facts.method == "GET" && facts.path == JWKS_PATH)
    {
        decision.borrow_mut().outcome("jwks");
        return respond::jwks(&key.public_jwks(), &request_id)
            .map(Answer::Ready)
            .map_err(|e| refuse(decision, Reason::InternalError, &js::describe(&e)));
    }
    let policy = &config.policy;
    if let Some(preflight) = policy.preflight(facts) {
        return match preflight {
            Preflight::Allow { headers } => {
                decision.borrow_mut().outcome("preflight");
                respond::preflight(&headers, &request_id)
                    .map(Answer::Ready)
                    .map_err(|e| refuse(decision, Reason::InternalError, &js::describe(&e)))
            }
            Preflight::Refuse => Err(refuse(
                decision,
                Reason::CorsNotAllowed,
                "preflight refused",
            )),
        };
    }
    let route = match policy.route_for(facts) {
        RouteChoice::Route(route) => {
            decision.borrow_mut().route(&route.name);
            Some(route)
        }
        RouteChoice::DefaultAuthenticated => None,
        RouteChoice::Unmatched => {
            return Err(refuse(decision, Reason::NoRoute, "no route matched"))
        }
    };

    if let Some(route) = route.filter(|r| r.public) {
        enforce(policy.public_conditions(route, facts), decision)?;
        decision.borrow_mut().outcome("public");
        return forward(incoming, config, None, decision).await;
    }

    let identity = authenticate(incoming, config, decision).await?;
    decision.borrow_mut().identity(&identity);
    revocation_check(incoming.env, config, &identity, decision).await?;
    let verdict = match route {
        Some(route) => {
            let ctx = CHALLENGE.with(|cell| {
                Rc::clone(cell.get_or_init(|| {
                    Rc::new(ChallengeContext {
                        authorization_uri: format!(
                            "{}/{}/oauth2/v2.0/authorize",
                            config.authority.as_str().trim_end_matches('/'),
                            config.tenant.path_segment()
                        ),
                        client_id: policy.api_client_id.clone(),
                    })
                }))
            });
            policy.authorize(route, &identity, facts, &ctx)
        }
        None => policy.authorize_default(&identity),
    };
    enforce(verdict, decision)?;
    forward(incoming, config, Some(&identity), decision).await
}

/// Records report-only findings and turns an enforced denial into a refusal.
fn enforce(verdict: Verdict, decision: &RefCell<Decision>) -> std::result::Result<(), Refused> {
    for finding in &verdict.would_deny {
        decision
            .borrow_mut()
            .would_deny(finding.reason, &finding.detail);
    }
    match verdict.denial {
        Some(denial) => {
            decision.borrow_mut().refused(denial.reason, &denial.detail);
            Err(Refused {
                reason: denial.reason,
                params: denial.params,
            })
        }
        None => Ok(()),
    }
}

async fn authenticate(
    incoming: &Incoming<'_>,
    config: &Rc<GateConfig>,
    decision: &RefCell<Decision>,
) -> std::result::Result<Rc<VerifiedIdentity>, Refused> {
    let request_id = decision.borrow().request_id().to_owned();
    let authorization = incoming.headers.get("authorization").ok().flatten();
    let denied =
        |denial: Denial| -> Refused { refuse(decision, denial.reason(), &denial.to_string()) };
    let raw =
        gate::bearer_token(authorization.as_deref(), config.max_token_bytes).map_err(denied)?;
    let store = KeyStore::for_isolate(config);
    let kv = LazyKv::new(incoming.env, binding::JWKS_KV);
    if let Some(identity) = cached(raw, &store, &kv, incoming.ctx).await {
        decision.borrow_mut().cached();
        return Ok(identity);
    }

    let token = gate::parse(raw, config.max_token_bytes).map_err(denied)?;
    decision.borrow_mut().kid(&token.header().kid);
    let Some(set) = store.set_for(|| token.unverified_tenant()) else {
        return Err(refuse(
            decision,
            Reason::TenantNotAllowed,
            "no key set for the token's tenant",
        ));
    };
    let Some(keys) = set.current(&kv, incoming.ctx).await else {
        return Err(refuse(
            decision,
            Reason::KeysUnavailable,
            "no usable signing keys",
        ));
    };

    let verifier = webcrypto::verifier()
        .map_err(|e| refuse(decision, Reason::InternalError, &e.to_string()))?;
    let verifier = verifier.as_ref();
    let first = gate::verify(token.clone(), &keys.keys, verifier, &keys.rules, now()).await;
    let (identity, used) = match first {
        Err(denial) if denial.is_unknown_kid() => {
            match set
                .kid_miss(&token.header().kid, &kv, incoming.ctx, &request_id)
                .await
            {
                Some(fresh) => {
                    let verified = gate::verify(token, &fresh.keys, verifier, &fresh.rules, now());
                    (verified.await.map_err(denied)?, fresh)
                }
                None => return Err(denied(denial)),
            }
        }
        other => (other.map_err(denied)?, keys),
    };
    let identity = Rc::new(identity);
    VERIFIED.with(|c| {
        let mut cache = c.borrow_mut();
        cache.use_key_set(set.id(), used.content_hash(), |kid| {
            used.keys.get(kid).is_some()
        });
        cache.insert(set.id(), raw, Rc::clone(&identity), now());
    });
    Ok(identity)
}

/// The identity this very token was verified as before, if the cache still holds it and the
/// key that signed it is still in its tenant's current key set. Anything else (no keys, a
/// withdrawn kid, an expired entry) falls through to the full verification, which decides.
async fn cached(
    raw: &str,
    store: &KeyStore,
    kv: &LazyKv<'_>,
    ctx: Option<&ExecutionContext>,
) -> Option<Rc<VerifiedIdentity>> {
    let seen = VERIFIED.with(|c| c.borrow_mut().get(raw, now()))?;
    let set = store.set_for(|| Some(seen.tenant_id.clone()))?;
    let keys = set.current(kv, ctx).await?;
    VERIFIED.with(|c| {
        c.borrow_mut()
            .use_key_set(set.id(), keys.content_hash(), |kid| {
                keys.keys.get(kid).is_some()
            })
    });
    // What `use_key_set` keeps, checked for this entry without a second lookup.
    keys.keys.get(&seen.kid).is_some().then_some(seen)
}

/// With a `REVOCATIONS` KV binding, every verified caller is checked against the list.
async fn revocation_check(
    env: &Env,
    config: &GateConfig,
    identity: &VerifiedIdentity,
    decision: &RefCell<Decision>,
) -> std::result::Result<(), Refused> {
    if !bindings::has_revocations(env) {
        return Ok(());
    }
    let kv = LazyKv::new(env, binding::REVOCATIONS_KV);
    let Some(list) = revocation::for_isolate()
        .current(&kv, &config.revocation)
        .await
    else {
        return Err(refuse(
            decision,
            Reason::RevocationUnavailable,
            "no copy of the revocation list fresh enough to trust",
        ));
    };
    match list.revoked(identity) {
        Some(by) => Err(refuse(
            decision,
            Reason::TokenRevoked,
            &format!("revoked by its {by} entry"),
        )),
        None => Ok(()),
    }
}

async fn forward(
    incoming: &Incoming<'_>,
    config: &GateConfig,
    identity: Option<&VerifiedIdentity>,
    decision: &RefCell<Decision>,
) -> Outcome {
    let request_id = decision.borrow().request_id().to_owned();
    let target = incoming.target;
    proxy::forward(incoming.request, target, config, identity, &request_id)
        .await
        .map(Answer::Forwarding)
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
