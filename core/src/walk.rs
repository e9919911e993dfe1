//! The whole decision for one request, as a sans-I/O state machine: the edge feeds it the
//! request and what it has fetched, and it answers either the outcome (forward with this plan,
//! answer this way, refuse with this reason) or the I/O it needs next. Like a rustls handshake,
//! it never waits on anything itself: every step is a plain call, so every path through a
//! request (cached tokens, unknown kids and their refresh, keys unavailable, the revocation list
//! failing, every policy refusal) runs natively with fakes.
//!
//! ```text
//! start ──► Done (JWKS, resource metadata, preflight, no route, public route, bad Authorization)
//!   │
//!   └─► NeedKeys ──keys_arrived──► NeedKeysWithKid ──keys_arrived──┐   (unknown kid: one refresh)
//!                       │                                          │
//!                       └──────────────► NeedSignature ◄───────────┘
//!                                            │ check_signature (crypto provider)
//!                                            ▼
//!                                  NeedRevocations ──revocations_arrived──► authorize ──► Done
//!                                  (only with a list)                           │    (forward)
//!                                                                               ▼
//!                                            NeedRateLimit (a route's limit) ──rate_limit_arrived──► Done
//! ```
//!
//! Crypto is not I/O here: the signature is checked through the [`SignatureVerifier`] provider
//! the edge passes to [`Walk::check_signature`], as rustls takes its `CryptoProvider`.

use crate::claims::ClaimRules;
use crate::config::GateConfig;
use crate::crypto::SignatureVerifier;
use crate::gate::{self, VerifyError};
use crate::identity::VerifiedIdentity;
use crate::keyset::KeySet;
use crate::keystore::set_for;
use crate::policy::{Preflight, Refusal, RequestFacts, Route, RouteChoice, Verdict};
use crate::query_token::QueryCredentials;
use crate::quoted::Quoted;
use crate::reason::Reason;
use crate::replay::{self, ReplayContext};
use crate::resource_metadata::resource_for;
use crate::revocation::RevocationList;
use crate::time::UnixTime;
use crate::token::UntrustedToken;
use crate::token_cache::TokenCache;
use std::cell::RefCell;
use std::rc::Rc;

/// The path of the gateway's own key set for signed identity assertions.
pub use crate::assertion::JWKS_PATH;

/// Keys of one key set as the edge holds them: vetted keys (with whatever the platform prepared
/// for each), the claim rules their documents imply, and an id of their content.
pub struct KeysView<'k, P> {
    /// The keys, by `kid`.
    pub keys: &'k KeySet<P>,
    /// What tokens verified with these keys must claim.
    pub rules: &'k ClaimRules,
    /// Changes whenever the keys do (the token cache follows it).
    pub content_hash: &'k str,
}

// By hand: a view is references only, whatever `P` is.
impl<P> Clone for KeysView<'_, P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P> Copy for KeysView<'_, P> {}

/// What to do next.
#[derive(Debug)]
pub enum Step {
    /// The request is decided.
    Done(Outcome),
    /// The current keys of key set `set` (an index into `GateConfig::key_sets`), or none when
    /// they cannot be had: memory, KV or Entra, as `refresh::CachePolicy` says.
    NeedKeys {
        /// Which key set.
        set: usize,
    },
    /// Key set `set` refreshed because the token names `kid`, which it lacks: the edge applies
    /// the kid-miss policy (join a refresh under way, the penalty window, or fetch), and answers
    /// with the keys it then holds, or none.
    NeedKeysWithKid {
        /// Which key set.
        set: usize,
        /// The unknown key id (already bounded in length by the token's intake).
        kid: String,
    },
    /// The signature, checked with the keys just given: call [`Walk::check_signature`].
    NeedSignature {
        /// Which key set the keys are.
        set: usize,
    },
    /// The revocation list (asked only when one is bound), or none when no copy fresh enough
    /// can be had.
    NeedRevocations,
    /// The route's rate limit, asked once everything else allows the request: call
    /// [`Walk::rate_limit_arrived`] with whether `binding` let `key` through (`None`: it failed).
    NeedRateLimit {
        /// The `[[ratelimits]]` binding.
        binding: String,
        /// Whose budget this request counts against.
        key: String,
    },
}

/// How a request ends.
#[derive(Debug)]
pub enum Outcome {
    /// Forward to the origin, with identity headers for this caller (none on a public route).
    Forward {
        /// The verified caller.
        identity: Option<Rc<VerifiedIdentity>>,
    },
    /// Answer a CORS preflight with these headers.
    Preflight {
        /// `Access-Control-*` and `Vary`.
        headers: Vec<(&'static str, String)>,
    },
    /// Answer with the gateway's assertion key set.
    PublishKeys,
    /// Answer with the Protected Resource Metadata document (RFC 9728).
    ResourceMetadata {
        /// The JSON document.
        document: String,
    },
    /// Refuse.
    Refuse(Refusal),
}

/// The request's token as parsed before its keys were asked for, carried to the signature check
/// so it is decoded once. Its `Debug` never shows the token.
struct Parsed(Box<UntrustedToken<'static>>);

impl std::fmt::Debug for Parsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a parsed token")
    }
}

#[derive(Debug)]
enum State {
    /// Before `start`.
    New,
    /// A cached identity, waiting for its key set (to check its `kid` is still published).
    Cached { set: usize },
    /// Waiting for keys to verify with.
    Keys {
        set: usize,
        kid: String,
        token: Parsed,
    },
    /// Waiting for keys refreshed for an unknown kid.
    KidMiss {
        set: usize,
        kid: String,
        token: Parsed,
    },
    /// Keys given; the signature is next.
    Signature { set: usize, token: Parsed },
    /// Verified; waiting for the revocation list.
    Revocations,
    /// Allowed by everything else; waiting for the rate limit's answer.
    RateLimit,
    /// Decided.
    Done,
}

impl State {
    /// For an internal error's detail (not `Debug`: see `quoted`).
    fn name(&self) -> &'static str {
        match self {
            State::New => "new",
            State::Cached { .. } => "cached",
            State::Keys { .. } => "keys",
            State::KidMiss { .. } => "kid_miss",
            State::Signature { .. } => "signature",
            State::Revocations => "revocations",
            State::RateLimit => "rate_limit",
            State::Done => "done",
        }
    }
}

/// One request's walk. See the module docs for the order of the steps.
pub struct Walk<'c> {
    config: &'c GateConfig,
    facts: RequestFacts,
    authorization: Option<String>,
    query: QueryCredentials,
    revocations_bound: bool,
    route: Option<&'c Route>,
    state: State,
    identity: Option<Rc<VerifiedIdentity>>,
    trace: Trace,
}

/// What the decision line records about a walk: never token material beyond identifiers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    /// The route that applied (`None`: the default, or no route at all).
    pub route: Option<String>,
    /// The token's `kid`, once read.
    pub kid: Option<String>,
    /// Verified in an earlier request (the token cache).
    pub cached: bool,
    /// Report-only findings: what would have been refused.
    pub would_deny: Vec<Refusal>,
    /// Why it was refused, for the log (more than the answer tells the client).
    pub detail: Option<String>,
    /// Shadow mode: the refusal that was not enforced (the request went to the origin anyway).
    pub shadowed: Option<Refusal>,
}

impl<'c> Walk<'c> {
    /// A walk for one request. `authorization` is the `Authorization` header's value;
    /// `revocations_bound` whether a revocation list exists to be asked for.
    pub fn new(
        config: &'c GateConfig,
        facts: RequestFacts,
        authorization: Option<String>,
        revocations_bound: bool,
    ) -> Self {
        Walk {
            config,
            facts,
            authorization,
            query: QueryCredentials::default(),
            revocations_bound,
            route: None,
            state: State::New,
            identity: None,
            trace: Trace::default(),
        }
    }

    /// The request's query (without the `?`): a route may take its token from there.
    pub fn with_query(mut self, query: Option<&str>) -> Self {
        self.query = QueryCredentials::read(query);
        self
    }

    /// The request's facts (the canonical path among them: what the origin receives).
    pub fn facts(&self) -> &RequestFacts {
        &self.facts
    }

    /// The query the origin receives: without any `access_token`, on every route, public ones
    /// included, as the `Authorization` header is dropped everywhere: a caller's credentials
    /// reach the origin only with `GATE_FORWARD_AUTHORIZATION` (and shadow mode, which sets it).
    pub fn forwarded_query(&self) -> Option<&str> {
        if self.config.forward_authorization {
            self.query.raw()
        } else {
            self.query.without_tokens()
        }
    }

    /// The `GATE_ORIGINS` name of the route the request goes to (`None`: `ORIGIN_URL`).
    pub fn route_origin(&self) -> Option<&str> {
        self.route.and_then(|r| r.origin.as_deref())
    }

    /// Whether the origin gets the WebSocket handshake (`Upgrade: websocket`): only on a route
    /// that allows upgrades.
    pub fn keeps_upgrade(&self) -> bool {
        self.facts.websocket_upgrade && self.route.is_some_and(|r| r.websocket)
    }

    /// Until when this request's forward may be answered again for the very same request
    /// without a walk (`replay` has the rules); `None` for any other outcome.
    pub fn replay_until(&self, outcome: &Outcome, context: ReplayContext) -> Option<UnixTime> {
        let Outcome::Forward {
            identity: Some(identity),
        } = outcome
        else {
            return None;
        };
        let forwarded = replay::Forwarded {
            config: self.config,
            route: self.route,
            identity,
            revocations_bound: self.revocations_bound,
            query_token: self.query.count() > 0,
            findings: !self.trace.would_deny.is_empty() || self.trace.shadowed.is_some(),
            cached: self.trace.cached,
        };
        replay::replay_until(&forwarded, context)
    }

    /// What the decision line records.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The verified caller, once there is one.
    pub fn identity(&self) -> Option<&Rc<VerifiedIdentity>> {
        self.identity.as_ref()
    }

    fn done(&mut self, outcome: Outcome) -> Step {
        if let Outcome::Refuse(refusal) = &outcome {
            self.trace.detail = Some(refusal.detail.clone());
        }
        let outcome = match outcome {
            // A fault of the gateway itself is never waved through, even in shadow mode; nor
            // is a request with nowhere to go (no route, and no ORIGIN_URL to default to).
            Outcome::Refuse(refusal)
                if self.config.shadow
                    && refusal.reason != Reason::InternalError
                    && self.config.origins.for_route(self.route_origin()).is_some() =>
            {
                self.trace.shadowed = Some(refusal);
                // No identity headers: the gateway vouches for no one it would have refused.
                Outcome::Forward { identity: None }
            }
            answer @ (Outcome::Refuse(_)
            | Outcome::Forward { .. }
            | Outcome::Preflight { .. }
            | Outcome::PublishKeys
            | Outcome::ResourceMetadata { .. }) => answer,
        };
        self.state = State::Done;
        Step::Done(outcome)
    }

    fn refuse(&mut self, refusal: Refusal) -> Step {
        self.done(Outcome::Refuse(refusal))
    }

    fn rejected(&mut self, error: &VerifyError) -> Step {
        self.refuse(Refusal::new(error.reason(), error.to_string()))
    }

    /// Records report-only findings, and refuses when the verdict does.
    fn enforce(&mut self, verdict: Verdict) -> Option<Step> {
        self.trace.would_deny.extend(verdict.would_deny);
        verdict.refusal.map(|refusal| self.refuse(refusal))
    }

    /// The first step: everything that needs no I/O (the gateway's own answers, the route, a
    /// public route's conditions, the `Authorization` header, the token cache).
    pub fn start(&mut self, cache: &RefCell<TokenCache>, now: UnixTime) -> Step {
        if !matches!(self.state, State::New) {
            return self.refuse(Refusal::new(Reason::InternalError, "walk started twice"));
        }
        let config = self.config;
        let policy = &config.policy;
        if config.assertion_key.is_some()
            && self.facts.method == "GET"
            && self.facts.path() == JWKS_PATH
        {
            return self.done(Outcome::PublishKeys);
        }
        let read_only = self.facts.is_read();
        let resource = config
            .resource_metadata
            .as_ref()
            .filter(|_| read_only)
            .zip(self.facts.served_at.as_deref())
            .and_then(|(metadata, at)| {
                resource_for(self.facts.path(), at).map(|r| metadata.document(&r))
            });
        if let Some(document) = resource {
            return self.done(Outcome::ResourceMetadata { document });
        }
        if let Some(preflight) = policy.preflight(&self.facts) {
            return match preflight {
                Preflight::Allow { headers } => self.done(Outcome::Preflight { headers }),
                Preflight::Refuse => {
                    self.refuse(Refusal::new(Reason::CorsNotAllowed, "preflight refused"))
                }
            };
        }
        self.route = match policy.route_for(&self.facts) {
            RouteChoice::Route(route) => {
                self.trace.route = Some(route.name.clone());
                Some(route)
            }
            RouteChoice::DefaultAuthenticated => None,
            RouteChoice::Unmatched => {
                return self.refuse(Refusal::new(Reason::NoRoute, "no route matched"))
            }
        };
        if let Some(route) = self.route.filter(|r| r.public) {
            if let Some(step) = self.enforce(policy.public_conditions(route, &self.facts)) {
                return step;
            }
            return self.limit_then_forward();
        }
        if let Some(step) = self.token_from_query() {
            return step;
        }
        let raw = match gate::bearer_token(self.authorization.as_deref(), config.max_token_bytes) {
            Ok(raw) => raw,
            Err(error) => return self.rejected(&error),
        };
        // A token verified before: only its key set's current keys are needed (its kid must
        // still be published), then the rules that depend on the request.
        let seen = cache.borrow_mut().get(raw, now);
        if let Some(seen) = seen {
            if let Some(set) = set_for(&config.key_sets, || Some(seen.tenant_id.clone())) {
                self.identity = Some(seen);
                self.state = State::Cached { set };
                return Step::NeedKeys { set };
            }
        }
        self.full_verification()
    }

    /// A token in the query becomes the request's bearer token where the route takes it (GET and
    /// HEAD only) and it is the only credential; anywhere else it is refused, never ignored (an
    /// ignored token would go on to the origin in the URL).
    fn token_from_query(&mut self) -> Option<Step> {
        if self.query.count() == 0 {
            return None;
        }
        if !(self.facts.is_read() && self.route.is_some_and(|r| r.query_token)) {
            return Some(self.refuse(Refusal::new(
                Reason::QueryTokenNotAllowed,
                "access_token in the query where the route does not take it",
            )));
        }
        let token = match (self.authorization.is_some(), self.query.token()) {
            (false, Some(token)) => token,
            (true, _) | (false, None) => {
                return Some(self.refuse(Refusal::new(
                    Reason::MultipleTokens,
                    format!(
                        "{} access_token parameter(s){}",
                        self.query.count(),
                        if self.authorization.is_some() {
                            " and an Authorization header"
                        } else {
                            ""
                        }
                    ),
                )))
            }
        };
        self.authorization = Some(format!("Bearer {token}"));
        None
    }

    /// Parses the token and asks for the keys of the set its (unverified) tenant names.
    fn full_verification(&mut self) -> Step {
        self.identity = None;
        let raw = self.authorization.as_deref().unwrap_or_default();
        let token = match gate::intake(Some(raw), self.config.max_token_bytes) {
            Ok(token) => token,
            Err(error) => return self.rejected(&error),
        };
        let kid = token.header().kid.clone();
        self.trace.kid = Some(kid.clone());
        match set_for(&self.config.key_sets, || token.unverified_tenant()) {
            Some(set) => {
                self.state = State::Keys {
                    set,
                    kid,
                    token: Parsed(Box::new(token.into_owned())),
                };
                Step::NeedKeys { set }
            }
            None => self.refuse(Refusal::new(
                Reason::TenantNotAllowed,
                "no key set for the token's tenant",
            )),
        }
    }

    /// The keys the last `NeedKeys`/`NeedKeysWithKid` asked for (`None`: they cannot be had).
    pub fn keys_arrived<P>(
        &mut self,
        keys: Option<KeysView<'_, P>>,
        cache: &RefCell<TokenCache>,
    ) -> Step {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Cached { set } => {
                let Some(view) = keys else {
                    return self.refuse(Refusal::new(
                        Reason::KeysUnavailable,
                        "no usable signing keys",
                    ));
                };
                let set_id = self.set_id(set);
                cache
                    .borrow_mut()
                    .use_key_set(&set_id, view.content_hash, |kid| {
                        view.keys.get(kid).is_some()
                    });
                match self.identity.clone() {
                    Some(seen) if view.keys.get(&seen.kid).is_some() => {
                        self.trace.cached = true;
                        self.trace.kid = Some(seen.kid.clone());
                        self.verified()
                    }
                    // Its key left the set: verify again from scratch, which decides.
                    _ => self.full_verification(),
                }
            }
            State::Keys { set, kid, token } => match keys {
                None => self.refuse(Refusal::new(
                    Reason::KeysUnavailable,
                    "no usable signing keys",
                )),
                Some(view) if view.keys.get(&kid).is_none() => {
                    self.state = State::KidMiss {
                        set,
                        kid: kid.clone(),
                        token,
                    };
                    Step::NeedKeysWithKid { set, kid }
                }
                Some(_) => {
                    self.state = State::Signature { set, token };
                    Step::NeedSignature { set }
                }
            },
            State::KidMiss { set, kid, token } => match keys {
                Some(view) if view.keys.get(&kid).is_some() => {
                    self.state = State::Signature { set, token };
                    Step::NeedSignature { set }
                }
                Some(_) | None => self.refuse(Refusal::new(
                    Reason::UnknownKid,
                    format!("no key with kid {}", Quoted(&kid)),
                )),
            },
            other @ (State::New
            | State::Signature { .. }
            | State::Revocations
            | State::RateLimit
            | State::Done) => self.out_of_order(other, "keys"),
        }
    }

    /// The platform could not do what a step needed (no crypto provider, say): refused, never
    /// passed.
    pub fn platform_failed(&mut self, detail: &str) -> Step {
        self.refuse(Refusal::new(Reason::InternalError, detail))
    }

    fn out_of_order(&mut self, state: State, what: &str) -> Step {
        self.refuse(Refusal::new(
            Reason::InternalError,
            format!("{what} arrived in state {}", state.name()),
        ))
    }

    fn set_id(&self, set: usize) -> String {
        self.config
            .key_sets
            .get(set)
            .map(|s| s.id.clone())
            .unwrap_or_default()
    }

    /// Checks the signature with the keys given for `NeedSignature`, then the claims; a token
    /// that passes is remembered in `cache`.
    pub async fn check_signature<V: SignatureVerifier>(
        &mut self,
        keys: KeysView<'_, V::PreparedKey>,
        verifier: &V,
        cache: &RefCell<TokenCache>,
        now: UnixTime,
    ) -> Step {
        let (set, token) = match std::mem::replace(&mut self.state, State::Done) {
            State::Signature { set, token } => (set, token),
            other @ (State::New
            | State::Cached { .. }
            | State::Keys { .. }
            | State::KidMiss { .. }
            | State::Revocations
            | State::RateLimit
            | State::Done) => return self.out_of_order(other, "a signature check"),
        };
        // The token the key set was chosen for: parsed once, from the one text kept in it.
        let Parsed(token) = token;
        let raw = token.raw().to_owned();
        let verified = gate::verify(*token, keys.keys, verifier, keys.rules, now).await;
        match verified {
            Ok(identity) => {
                let identity = Rc::new(identity);
                let set_id = self.set_id(set);
                let mut cache = cache.borrow_mut();
                cache.use_key_set(&set_id, keys.content_hash, |kid| {
                    keys.keys.get(kid).is_some()
                });
                cache.insert(&set_id, &raw, Rc::clone(&identity), now);
                drop(cache);
                self.identity = Some(identity);
                self.verified()
            }
            Err(error) => self.rejected(&error),
        }
    }

    /// A verified caller: the revocation list if there is one, then the route policy.
    fn verified(&mut self) -> Step {
        if self.revocations_bound {
            self.state = State::Revocations;
            return Step::NeedRevocations;
        }
        self.authorize()
    }

    /// The revocation list asked for (`None`: no copy fresh enough could be had).
    pub fn revocations_arrived(&mut self, list: Option<&RevocationList>) -> Step {
        let state = std::mem::replace(&mut self.state, State::Done);
        if !matches!(state, State::Revocations) {
            return self.out_of_order(state, "the revocation list");
        }
        let Some(list) = list else {
            return self.refuse(Refusal::new(
                Reason::RevocationUnavailable,
                "no copy of the revocation list fresh enough to trust",
            ));
        };
        if let Some(by) = self.identity.as_deref().and_then(|id| list.revoked(id)) {
            return self.refuse(Refusal::new(
                Reason::TokenRevoked,
                format!("revoked by its {by} entry"),
            ));
        }
        self.authorize()
    }

    fn authorize(&mut self) -> Step {
        let Some(identity) = self.identity.clone() else {
            return self.refuse(Refusal::new(
                Reason::InternalError,
                "authorize without a caller",
            ));
        };
        let policy = &self.config.policy;
        let verdict = match self.route {
            Some(route) => policy.authorize(route, &identity, &self.facts, &self.config.challenge),
            None => policy.authorize_default(&identity),
        };
        if let Some(step) = self.enforce(verdict) {
            return step;
        }
        self.limit_then_forward()
    }

    /// The last step before forwarding: the route's rate limit, if it has one.
    fn limit_then_forward(&mut self) -> Step {
        let Some(limit) = self.route.and_then(|r| r.rate_limit.as_ref()) else {
            return self.forward();
        };
        let key = limit.key(self.identity.as_deref(), &self.facts);
        self.state = State::RateLimit;
        Step::NeedRateLimit {
            binding: limit.binding.clone(),
            key,
        }
    }

    fn forward(&mut self) -> Step {
        let identity = self.identity.clone();
        self.done(Outcome::Forward { identity })
    }

    /// The rate limit's answer: `Some(true)` within the limit, `Some(false)` over it, `None`
    /// when the binding failed (refused: a limit that cannot be checked is not waved through).
    /// On a report-only route either refusal is only recorded.
    pub fn rate_limit_arrived(&mut self, allowed: Option<bool>) -> Step {
        let state = std::mem::replace(&mut self.state, State::Done);
        let limit = self.route.and_then(|r| r.rate_limit.as_ref());
        let (State::RateLimit, Some(limit)) = (&state, limit) else {
            return self.out_of_order(state, "a rate limit's answer");
        };
        let refusal = match allowed {
            Some(true) => return self.forward(),
            Some(false) => Refusal {
                retry_after_seconds: Some(limit.period_seconds),
                ..Refusal::new(
                    Reason::RateLimited,
                    format!("over the limit of {}", limit.binding),
                )
            },
            None => Refusal::new(
                Reason::RateLimitUnavailable,
                format!("{} did not answer", limit.binding),
            ),
        };
        if self.route.is_some_and(|r| r.report_only) {
            self.trace.would_deny.push(refusal);
            return self.forward();
        }
        self.refuse(refusal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_carrying_a_token_never_prints_it() {
        // A state's Debug (tests, a debugger) must not show the token either.
        let text = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJ0aWQiOiJ0In0.c2ln";
        let token = UntrustedToken::parse(text, 16384).expect("parses");
        let state = State::Signature {
            set: 0,
            token: Parsed(Box::new(token.into_owned())),
        };
        let shown = format!("{state:?}");
        assert!(!shown.contains("eyJ"), "{shown}");
        assert!(shown.contains("a parsed token"), "{shown}");
    }

    #[test]
    fn an_owned_token_keeps_what_was_decoded_from_its_own_text() {
        let text = String::from("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJ0aWQiOiJ0In0.c2ln");
        let owned = UntrustedToken::parse(&text, 16384)
            .expect("parses")
            .into_owned();
        drop(text);
        assert_eq!(
            owned.signing_input(),
            b"eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJ0aWQiOiJ0In0"
        );
        assert_eq!(owned.signature(), b"sig");
        assert_eq!(owned.header().kid, "k1");
        assert_eq!(owned.unverified_tenant().as_deref(), Some("t"));
    }
}
