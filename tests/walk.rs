//! Every path through a request's walk (`entra_gate_core::walk`), natively, with fakes for the
//! I/O the edge does: keys that are there, missing, or refreshed for an unknown kid; a
//! revocation list that is there, revokes, or cannot be had; the token cache across requests.
//! The crypto provider is the pure-Rust verifier; the clock is fixed.

// Native only: the file system, pollster and the mock tenant are not there in the wasm test run.
#![cfg(not(target_arch = "wasm32"))]

#[path = "support/corpus_tenant.rs"]
mod corpus_tenant;

use corpus_tenant::{
    key_record, signing_keys, v2_issuer, Prepared, API_CLIENT_ID, API_URI, NOW_SECONDS,
    TEST_SECRET, TID,
};
use entra_gate_core::Reason;
use entra_gate_core::Refusal;
use entra_gate_core::RequestFacts;
use entra_gate_core::RustVerifier;
use entra_gate_core::TokenCache;
use entra_gate_core::UnixTime;
use entra_gate_core::{binding, from_bindings, GateConfig};
use entra_gate_core::{token_key, RevocationList};
use entra_gate_core::{Built, StoredKeySet, StoredSource, StoredVersion};
use entra_gate_core::{CanonicalPath, KeysView, Outcome, Step, Walk};
use entra_gate_core::{ReplayContext, MAX_REPLAY_SECONDS};
use mock_tenant::mint::standard_header;
use mock_tenant::{compact, standard_claims, Kind, SigningKey, Version};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::HashMap;

const NOW: UnixTime = UnixTime(NOW_SECONDS);

fn config_with(extra: &[(&str, &str)]) -> GateConfig {
    let audiences = format!("{API_URI},{API_CLIENT_ID}");
    let mut bindings: HashMap<&str, &str> = HashMap::from([
        (binding::TENANT_ID, TID),
        (binding::AUDIENCES, audiences.as_str()),
        (binding::ORIGIN_URL, "http://127.0.0.1:9"),
        (binding::AUTHORITY, "http://127.0.0.1:9"),
        (binding::SECRET, TEST_SECRET),
    ]);
    bindings.extend(extra.iter().copied());
    from_bindings(|name| bindings.get(name).map(|v| v.to_string())).expect("valid config")
}

fn policy(document: Value) -> GateConfig {
    config_with(&[(binding::POLICY, &document.to_string())])
}

/// The corpus tenant's keys, as its documents publish them.
fn keys(config: &GateConfig, signing: &[SigningKey]) -> Built<Prepared> {
    key_record(signing)
        .build::<Prepared>(config)
        .expect("the test keys build")
}

/// Only `published` in the tenant's v2 document (a key withdrawn, or one not yet published).
fn only(config: &GateConfig, published: &[&SigningKey]) -> Built<Prepared> {
    let jwks = json!({ "keys": published.iter().map(|k| k.public_jwk(Some(&v2_issuer(TID)))).collect::<Vec<_>>() });
    let source = StoredSource {
        version: StoredVersion::V2,
        metadata_url: format!("http://127.0.0.1:9/{TID}/v2.0/.well-known/openid-configuration"),
        jwks_uri: format!("http://127.0.0.1:9/{TID}/discovery/v2.0/keys"),
        issuer: v2_issuer(TID),
        jwks: jwks.to_string(),
    };
    StoredKeySet::new(&config.key_sets[0].id, vec![source], NOW)
        .build::<Prepared>(config)
        .expect("the keys build")
}

fn view(built: &Built<Prepared>) -> KeysView<'_, Prepared> {
    KeysView {
        keys: &built.keys,
        rules: &built.rules,
        content_hash: "content-1",
    }
}

/// A v2 delegated token signed by `key`, with claim edits.
fn token(key: &SigningKey, edit: Value) -> String {
    token_of(Kind::User, key, edit, &[])
}

/// A v2 token of `kind` signed by `key`, with claim edits and claims removed.
fn token_of(kind: Kind, key: &SigningKey, edit: Value, remove: &[&str]) -> String {
    let header = Value::Object(standard_header(Version::V2, key)).to_string();
    let mut claims = standard_claims(
        Version::V2,
        kind,
        TID,
        &v2_issuer(TID),
        API_CLIENT_ID,
        NOW_SECONDS,
        3600,
    );
    claims.extend(edit.as_object().expect("object").clone());
    for name in remove {
        claims.remove(*name);
    }
    compact(&header, &Value::Object(claims).to_string(), key)
}

fn get(path: &str) -> RequestFacts {
    RequestFacts::new("GET", CanonicalPath::parse(path).expect("canonical"), NOW)
}

/// What the fake edge does at each step.
struct Fake<'a> {
    /// The keys each `NeedKeys` gets.
    keys: Option<&'a Built<Prepared>>,
    /// The keys a `NeedKeysWithKid` gets (the refresh).
    refreshed: Option<&'a Built<Prepared>>,
    revocations: Option<RevocationList>,
    /// What the rate limit answers.
    rate_limit: Option<bool>,
}

/// Drives a walk to its end; returns the outcome and the steps it asked for, by name.
fn drive(
    walk: &mut Walk<'_>,
    fake: &Fake<'_>,
    cache: &RefCell<TokenCache>,
) -> (Outcome, Vec<&'static str>) {
    let mut asked = Vec::new();
    let mut step = walk.start(cache, NOW);
    let mut last_view = None;
    loop {
        step = match step {
            Step::Done(outcome) => return (outcome, asked),
            Step::NeedKeys { .. } => {
                asked.push("keys");
                last_view = fake.keys.map(view);
                walk.keys_arrived(last_view, cache)
            }
            Step::NeedKeysWithKid { .. } => {
                asked.push("kid refresh");
                last_view = fake.refreshed.map(view);
                walk.keys_arrived(last_view, cache)
            }
            Step::NeedSignature { .. } => {
                asked.push("signature");
                let keys = last_view.expect("keys before the signature");
                pollster::block_on(walk.check_signature(keys, &RustVerifier, cache, NOW))
            }
            Step::NeedRevocations => {
                asked.push("revocations");
                walk.revocations_arrived(fake.revocations.as_ref())
            }
            Step::NeedRateLimit { .. } => {
                asked.push("rate limit");
                walk.rate_limit_arrived(fake.rate_limit)
            }
        };
    }
}

/// An edge that has these keys, no refresh and no revocation list.
fn keys_only(built: &Built<Prepared>) -> Fake<'_> {
    Fake {
        keys: Some(built),
        refreshed: None,
        revocations: None,
        rate_limit: Some(true),
    }
}

fn new_cache() -> RefCell<TokenCache> {
    RefCell::new(TokenCache::new(64, 1 << 20))
}

fn run<'c>(
    config: &'c GateConfig,
    facts: RequestFacts,
    authorization: Option<String>,
    fake: &Fake<'_>,
    cache: &RefCell<TokenCache>,
) -> (Outcome, Vec<&'static str>, Walk<'c>) {
    let mut walk = Walk::new(config, facts, authorization, fake.revocations.is_some());
    let (outcome, asked) = drive(&mut walk, fake, cache);
    (outcome, asked, walk)
}

fn refused(outcome: &Outcome) -> Option<Reason> {
    match outcome {
        Outcome::Refuse(refusal) => Some(refusal.reason),
        Outcome::Forward { .. }
        | Outcome::Preflight { .. }
        | Outcome::PublishKeys
        | Outcome::ResourceMetadata { .. } => None,
    }
}

fn forwarded_caller(outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::Forward { identity } => identity.as_ref().map(|id| id.object_id().to_owned()),
        Outcome::Refuse(_)
        | Outcome::Preflight { .. }
        | Outcome::PublishKeys
        | Outcome::ResourceMetadata { .. } => None,
    }
}

fn bearer(token: &str) -> Option<String> {
    Some(format!("Bearer {token}"))
}

#[test]
fn a_new_token_then_the_same_token_from_the_cache() {
    let config = config_with(&[]);
    let signing = signing_keys();
    let built = keys(&config, &signing);
    let fake = Fake {
        keys: Some(&built),
        refreshed: None,
        revocations: None,
        rate_limit: Some(true),
    };
    let cache = new_cache();
    let t = bearer(&token(&signing[0], json!({})));
    let (outcome, asked, walk) = run(&config, get("/items/1"), t.clone(), &fake, &cache);
    assert!(forwarded_caller(&outcome).is_some(), "{outcome:?}");
    assert_eq!(asked, ["keys", "signature"]);
    assert!(!walk.trace().cached);
    assert_eq!(walk.trace().kid.as_deref(), Some("test-key-1"));

    let (outcome, asked, walk) = run(&config, get("/items/2"), t, &fake, &cache);
    assert!(forwarded_caller(&outcome).is_some());
    assert_eq!(asked, ["keys"], "no signature work for a token seen before");
    assert!(walk.trace().cached);
}

#[test]
fn a_cached_token_whose_key_left_the_set_is_verified_again() {
    let config = config_with(&[]);
    let signing = signing_keys();
    let both = keys(&config, &signing);
    let cache = new_cache();
    let t = bearer(&token(&signing[0], json!({})));
    let fake = Fake {
        keys: Some(&both),
        refreshed: None,
        revocations: None,
        rate_limit: Some(true),
    };
    assert!(forwarded_caller(&run(&config, get("/"), t.clone(), &fake, &cache).0).is_some());
    // test-key-1 withdrawn: the set's content changes, the entry goes, and the full walk decides.
    let without = only(&config, &[&signing[1]]);
    let changed_view = KeysView {
        keys: &without.keys,
        rules: &without.rules,
        content_hash: "content-2",
    };
    let mut walk = Walk::new(&config, get("/"), t, false);
    let mut step = walk.start(&cache, NOW);
    let mut asked = Vec::new();
    let outcome = loop {
        step = match step {
            Step::Done(outcome) => break outcome,
            Step::NeedKeys { .. } => {
                asked.push("keys");
                walk.keys_arrived(Some(changed_view), &cache)
            }
            Step::NeedKeysWithKid { .. } => {
                asked.push("kid refresh");
                walk.keys_arrived(Some(changed_view), &cache)
            }
            other => panic!("unexpected {other:?}"),
        };
    };
    assert_eq!(refused(&outcome), Some(Reason::UnknownKid));
    assert_eq!(asked, ["keys", "keys", "kid refresh"]);
    assert!(
        cache.borrow().is_empty(),
        "the withdrawn key's token is forgotten"
    );
}

#[test]
fn keys_that_cannot_be_had_fail_closed() {
    let config = config_with(&[]);
    let signing = signing_keys();
    let fake = Fake {
        keys: None,
        refreshed: None,
        revocations: None,
        rate_limit: Some(true),
    };
    let (outcome, asked, _) = run(
        &config,
        get("/"),
        bearer(&token(&signing[0], json!({}))),
        &fake,
        &new_cache(),
    );
    assert_eq!(refused(&outcome), Some(Reason::KeysUnavailable));
    assert_eq!(asked, ["keys"]);
}

#[test]
fn an_unknown_kid_asks_for_one_refresh_and_uses_what_it_brings() {
    let config = config_with(&[]);
    let signing = signing_keys();
    let old = only(&config, &[&signing[1]]);
    let fresh = keys(&config, &signing);
    let t = bearer(&token(&signing[0], json!({})));
    for (refreshed, want) in [
        (Some(&fresh), None),
        (Some(&old), Some(Reason::UnknownKid)),
        (None, Some(Reason::UnknownKid)),
    ] {
        let fake = Fake {
            keys: Some(&old),
            refreshed,
            revocations: None,
            rate_limit: Some(true),
        };
        let (outcome, asked, _) = run(&config, get("/"), t.clone(), &fake, &new_cache());
        assert_eq!(refused(&outcome), want, "{outcome:?}");
        let expected: &[&str] = if want.is_none() {
            &["keys", "kid refresh", "signature"]
        } else {
            &["keys", "kid refresh"]
        };
        assert_eq!(asked, expected);
    }
}

#[test]
fn bad_tokens_are_refused_at_their_stage_and_never_cached() {
    let config = config_with(&[]);
    let signing = signing_keys();
    let built = keys(&config, &signing);
    let fake = Fake {
        keys: Some(&built),
        refreshed: Some(&built),
        revocations: None,
        rate_limit: Some(true),
    };
    let good = token(&signing[0], json!({}));
    let (head, _) = good.rsplit_once('.').expect("three segments");
    let forged = format!(
        "{head}.{}",
        token(&signing[1], json!({}))
            .rsplit_once('.')
            .expect("sig")
            .1
    );
    let cache = new_cache();
    for (authorization, want, asked_want) in [
        (None, Reason::TokenMissing, vec![]),
        (
            Some("Bearer".to_owned()),
            Reason::MalformedAuthorization,
            vec![],
        ),
        (bearer("a.b"), Reason::MalformedJws, vec![]),
        (
            bearer(&forged),
            Reason::InvalidSignature,
            vec!["keys", "signature"],
        ),
        (
            bearer(&token(&signing[0], json!({"exp": NOW_SECONDS - 3600}))),
            Reason::TokenExpired,
            vec!["keys", "signature"],
        ),
        (
            bearer(&token(
                &signing[0],
                json!({"tid": "8b7c6d5e-4f3a-4b2c-9d1e-0f1a2b3c4d5e"}),
            )),
            Reason::TenantMismatch,
            vec!["keys", "signature"],
        ),
    ] {
        let (outcome, asked, walk) = run(&config, get("/"), authorization, &fake, &cache);
        assert_eq!(refused(&outcome), Some(want), "{outcome:?}");
        assert_eq!(asked, asked_want, "{want}");
        assert!(walk.trace().detail.is_some());
    }
    assert!(cache.borrow().is_empty());
}

#[test]
fn the_revocation_list_is_asked_for_only_when_bound_and_fails_closed() {
    let config = config_with(&[]);
    let signing = signing_keys();
    let built = keys(&config, &signing);
    let t = token(&signing[0], json!({"uti": "leaked-token-id"}));
    let with_list = |list: Option<RevocationList>| Fake {
        keys: Some(&built),
        refreshed: None,
        revocations: list,
        rate_limit: Some(true),
    };
    let run_with = |fake: &Fake<'_>, bound: bool| {
        let mut walk = Walk::new(&config, get("/"), bearer(&t), bound);
        drive(&mut walk, fake, &new_cache())
    };
    let (outcome, asked) = run_with(&with_list(Some(RevocationList::new([]))), true);
    assert!(forwarded_caller(&outcome).is_some());
    assert_eq!(asked, ["keys", "signature", "revocations"]);

    let revoked = RevocationList::new([token_key("leaked-token-id")]);
    let (outcome, _) = run_with(&with_list(Some(revoked)), true);
    assert_eq!(refused(&outcome), Some(Reason::TokenRevoked));

    let (outcome, _) = run_with(&with_list(None), true);
    assert_eq!(refused(&outcome), Some(Reason::RevocationUnavailable));

    let (outcome, asked) = run_with(&with_list(None), false);
    assert!(
        forwarded_caller(&outcome).is_some(),
        "no list bound: none asked for"
    );
    assert_eq!(asked, ["keys", "signature"]);
}

#[test]
fn the_gateways_own_answers_and_public_routes_need_no_token() {
    let config = policy(json!({
        "cors": {"allowed_origins": ["https://app.example"]},
        "routes": [
            {"name": "health", "path": "/health", "public": true},
            {"name": "office", "path": "/office", "public": true,
             "conditions": {"country": {"in": ["NL"]}}},
            {"name": "items", "path": "/items/**"},
        ],
    }));
    let fake = Fake {
        keys: None,
        refreshed: None,
        revocations: None,
        rate_limit: Some(true),
    };
    let cache = new_cache();
    let (outcome, asked, walk) = run(&config, get("/health"), None, &fake, &cache);
    assert!(matches!(outcome, Outcome::Forward { identity: None }));
    assert!(asked.is_empty());
    assert_eq!(walk.trace().route.as_deref(), Some("health"));

    let (outcome, _, walk) = run(&config, get("/office"), None, &fake, &cache);
    assert_eq!(refused(&outcome), Some(Reason::ConditionCountry));
    assert_eq!(walk.trace().detail.as_deref(), Some("country unknown"));

    let (outcome, _, _) = run(&config, get("/elsewhere"), None, &fake, &cache);
    assert_eq!(refused(&outcome), Some(Reason::NoRoute));

    let mut preflight = get("/items/1");
    preflight.method = "OPTIONS".into();
    preflight.origin = Some("https://app.example".into());
    preflight.preflight_method = Some("GET".into());
    let (outcome, asked, _) = run(&config, preflight.clone(), None, &fake, &cache);
    assert!(matches!(outcome, Outcome::Preflight { .. }), "{outcome:?}");
    assert!(asked.is_empty());
    preflight.origin = Some("https://evil.example".into());
    let (outcome, _, _) = run(&config, preflight, None, &fake, &cache);
    assert_eq!(refused(&outcome), Some(Reason::CorsNotAllowed));
}

#[test]
fn the_resource_metadata_is_answered_before_any_route_and_only_for_reads() {
    let config = policy(json!({"routes": [{"name": "items", "path": "/items/**",
        "require": {"scopes": {"any_of": ["items.read"]}}}]}));
    let fake = Fake {
        keys: None,
        refreshed: None,
        revocations: None,
        rate_limit: Some(true),
    };
    let cache = new_cache();
    let at = |method: &str, path: &str| {
        let mut facts = get(path);
        facts.method = method.into();
        facts.served_at = Some("https://api.contoso.com".into());
        facts
    };
    let (outcome, asked, _) = run(
        &config,
        at("GET", "/.well-known/oauth-protected-resource/items"),
        None,
        &fake,
        &cache,
    );
    assert!(asked.is_empty());
    let Outcome::ResourceMetadata { document } = outcome else {
        panic!("not the document: {outcome:?}");
    };
    let document: Value = serde_json::from_str(&document).expect("json");
    assert_eq!(document["resource"], "https://api.contoso.com/items");
    assert_eq!(
        document["scopes_supported"],
        json!([format!("{API_URI}/items.read")])
    );
    for (method, path) in [
        ("POST", "/.well-known/oauth-protected-resource"),
        ("GET", "/.well-known/oauth-protected-resourcex"),
    ] {
        let (outcome, _, _) = run(&config, at(method, path), None, &fake, &cache);
        assert_eq!(refused(&outcome), Some(Reason::NoRoute), "{method} {path}");
    }
    // Without the URL the client called, there is no resource to describe.
    let (outcome, _, _) = run(
        &config,
        get("/.well-known/oauth-protected-resource"),
        None,
        &fake,
        &cache,
    );
    assert_eq!(refused(&outcome), Some(Reason::NoRoute));
    let mut off = config.clone();
    off.resource_metadata = None;
    let (outcome, _, _) = run(
        &off,
        at("GET", "/.well-known/oauth-protected-resource"),
        None,
        &fake,
        &cache,
    );
    assert_eq!(refused(&outcome), Some(Reason::NoRoute));
}

#[test]
fn route_policy_report_only_and_secure_defaults() {
    let config = policy(json!({
        "default": "authenticated",
        "routes": [
            {"name": "admin", "path": "/admin/**", "require": {"roles": {"any_of": ["Admin"]}}},
            {"name": "trial", "path": "/trial", "report_only": true,
             "require": {"roles": {"any_of": ["Admin"]}}},
        ],
    }));
    let signing = signing_keys();
    let built = keys(&config, &signing);
    let fake = Fake {
        keys: Some(&built),
        refreshed: None,
        revocations: None,
        rate_limit: Some(true),
    };
    let user = bearer(&token(&signing[0], json!({})));
    let (outcome, _, _) = run(&config, get("/admin/x"), user.clone(), &fake, &new_cache());
    assert_eq!(refused(&outcome), Some(Reason::InsufficientRole));

    let (outcome, _, walk) = run(&config, get("/trial"), user.clone(), &fake, &new_cache());
    assert!(forwarded_caller(&outcome).is_some());
    assert_eq!(
        walk.trace()
            .would_deny
            .iter()
            .map(|r| r.reason)
            .collect::<Vec<_>>(),
        [Reason::InsufficientRole]
    );

    let (outcome, _, walk) = run(&config, get("/anything"), user, &fake, &new_cache());
    assert!(forwarded_caller(&outcome).is_some());
    assert_eq!(walk.trace().route, None, "the default");
    // An app-only token granted nothing: refused by the default too.
    let bare = bearer(&token_of(Kind::App, &signing[0], json!({}), &["roles"]));
    let (outcome, _, _) = run(&config, get("/anything"), bare, &fake, &new_cache());
    assert_eq!(refused(&outcome), Some(Reason::NoPermissions));
}

/// A step that ends the walk with `internal_error`: the edge called out of order.
fn is_internal_error(step: &Step) -> bool {
    matches!(step, Step::Done(Outcome::Refuse(r)) if r.reason == Reason::InternalError)
}

#[test]
fn steps_out_of_order_are_refused_not_trusted() {
    let config = config_with(&[]);
    let signing = signing_keys();
    let built = keys(&config, &signing);
    let cache = new_cache();
    let fresh = || {
        Walk::new(
            &config,
            get("/"),
            bearer(&token(&signing[0], json!({}))),
            false,
        )
    };
    // Keys before `start`, a revocation list nobody asked for, a second start.
    let mut walk = fresh();
    assert!(is_internal_error(
        &walk.keys_arrived(Some(view(&built)), &cache)
    ));
    let mut walk = fresh();
    assert!(matches!(walk.start(&cache, NOW), Step::NeedKeys { set: 0 }));
    assert!(is_internal_error(&walk.revocations_arrived(None)));
    let mut walk = fresh();
    let _ = walk.start(&cache, NOW);
    assert!(is_internal_error(&walk.start(&cache, NOW)));
    // A signature check without keys first.
    let mut walk = fresh();
    let _ = walk.start(&cache, NOW);
    let step = pollster::block_on(walk.check_signature(view(&built), &RustVerifier, &cache, NOW));
    assert!(is_internal_error(&step));
}

#[test]
fn with_an_allow_list_each_tenant_has_its_set_and_others_none() {
    let other = "8b7c6d5e-4f3a-4b2c-9d1e-0f1a2b3c4d5e";
    let allowed = format!("{TID},{other}");
    let config = config_with(&[
        (binding::TENANT_ID, "organizations"),
        (binding::ALLOWED_TENANTS, &allowed),
    ]);
    assert_eq!(config.key_sets.len(), 2);
    let signing = signing_keys();
    let cache = new_cache();
    let mut walk = Walk::new(
        &config,
        get("/"),
        bearer(&token(&signing[0], json!({}))),
        false,
    );
    assert!(matches!(walk.start(&cache, NOW), Step::NeedKeys { set: 0 }));
    let theirs = token(&signing[0], json!({"tid": other, "iss": v2_issuer(other)}));
    let mut walk = Walk::new(&config, get("/"), bearer(&theirs), false);
    assert!(matches!(walk.start(&cache, NOW), Step::NeedKeys { set: 1 }));
    let stranger = "3f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
    let unlisted = token(
        &signing[0],
        json!({"tid": stranger, "iss": v2_issuer(stranger)}),
    );
    let mut walk = Walk::new(&config, get("/"), bearer(&unlisted), false);
    assert!(matches!(
        walk.start(&cache, NOW),
        Step::Done(Outcome::Refuse(r)) if r.reason == Reason::TenantNotAllowed
    ));
}

#[test]
fn shadow_mode_forwards_every_refusal_anonymously_and_records_it() {
    let document = json!({
        "routes": [
            {"name": "admin", "path": "/admin/**", "require": {"roles": {"any_of": ["Admin"]}}},
            {"name": "items", "path": "/items/**", "require": {"scopes": {"any_of": ["items.read"]}}},
        ],
    })
    .to_string();
    let shadow = config_with(&[(binding::POLICY, &document), (binding::SHADOW_MODE, "true")]);
    let enforcing = config_with(&[(binding::POLICY, &document)]);
    assert!(
        shadow.shadow && shadow.forward_authorization,
        "the origin keeps the token"
    );
    assert!(!enforcing.shadow && !enforcing.forward_authorization);
    let signing = signing_keys();
    let built = keys(&shadow, &signing);
    let fake = Fake {
        keys: Some(&built),
        refreshed: None,
        revocations: None,
        rate_limit: Some(true),
    };
    let user = bearer(&token(&signing[0], json!({})));
    let malformed = bearer(&format!("{}x", token(&signing[0], json!({}))));
    let cases: [(&str, Option<String>, Reason); 4] = [
        ("/admin/x", user.clone(), Reason::InsufficientRole),
        ("/items/1", None, Reason::TokenMissing),
        ("/items/1", malformed, Reason::MalformedJws),
        ("/nowhere", user.clone(), Reason::NoRoute),
    ];
    for (path, authorization, reason) in cases {
        let (outcome, _, _) = run(
            &enforcing,
            get(path),
            authorization.clone(),
            &fake,
            &new_cache(),
        );
        assert_eq!(refused(&outcome), Some(reason), "{path}: enforced");

        let (outcome, _, walk) = run(&shadow, get(path), authorization, &fake, &new_cache());
        assert!(
            matches!(outcome, Outcome::Forward { identity: None }),
            "{path}: forwarded without identity headers, got {outcome:?}"
        );
        let shadowed = walk.trace().shadowed.as_ref().map(|r| r.reason);
        assert_eq!(shadowed, Some(reason), "{path}: the refusal is recorded");
        assert!(walk.trace().detail.is_some(), "{path}: with its detail");
    }

    // Allowed requests are untouched: same caller, nothing shadowed.
    let (outcome, _, walk) = run(&shadow, get("/items/1"), user, &fake, &new_cache());
    assert!(forwarded_caller(&outcome).is_some(), "{outcome:?}");
    assert_eq!(walk.trace().shadowed, None);

    // Keys that cannot be had: forwarded too (the origin still authenticates).
    let no_keys = Fake {
        keys: None,
        refreshed: None,
        revocations: None,
        rate_limit: Some(true),
    };
    let t = bearer(&token(&signing[0], json!({})));
    let (outcome, _, walk) = run(&shadow, get("/items/1"), t, &no_keys, &new_cache());
    assert!(matches!(outcome, Outcome::Forward { identity: None }));
    assert_eq!(
        walk.trace().shadowed.as_ref().map(|r| r.reason),
        Some(Reason::KeysUnavailable)
    );
}

#[test]
fn shadow_mode_never_waves_through_a_fault_of_the_gateway() {
    let config = config_with(&[(binding::SHADOW_MODE, "true")]);
    let mut walk = Walk::new(&config, get("/"), None, false);
    let cache = new_cache();
    let _ = walk.start(&cache, NOW);
    // A second start is the edge misbehaving: an internal error, refused even in shadow mode.
    let step = walk.start(&cache, NOW);
    assert!(is_internal_error(&step), "{step:?}");
    // What was shadowed before stays what it was: the fault itself is not recorded as waved.
    assert_eq!(
        walk.trace().shadowed.as_ref().map(|r| r.reason),
        Some(Reason::TokenMissing)
    );
}

/// Runs a walk for a request with a query.
fn run_with_query<'c>(
    config: &'c GateConfig,
    facts: RequestFacts,
    authorization: Option<String>,
    query: &str,
    fake: &Fake<'_>,
) -> (Outcome, Walk<'c>) {
    let cache = new_cache();
    let mut walk = Walk::new(config, facts, authorization, false).with_query(Some(query));
    let (outcome, _) = drive(&mut walk, fake, &cache);
    (outcome, walk)
}

#[test]
fn a_token_in_the_query_where_the_route_takes_it_and_nowhere_else() {
    let config = policy(json!({"routes": [
        {"name": "hub", "path": "/hub/**", "query_token": true, "websocket": true},
        {"name": "items", "path": "/items/**"},
        {"name": "docs", "path": "/docs/**", "public": true},
    ]}));
    let signing = signing_keys();
    let built = keys(&config, &signing);
    let fake = keys_only(&built);
    let t = token(&signing[0], json!({}));
    let query = format!("id=7&access_token={t}");

    let (outcome, walk) = run_with_query(&config, get("/hub/x"), None, &query, &fake);
    assert!(forwarded_caller(&outcome).is_some(), "{outcome:?}");
    assert_eq!(
        walk.forwarded_query(),
        Some("id=7"),
        "the token never goes on"
    );

    let mut post = get("/hub/x");
    post.method = "POST".into();
    for (facts, authorization, why) in [
        (get("/items/1"), None, "a route without query_token"),
        (post, None, "a POST"),
    ] {
        let (outcome, _) = run_with_query(&config, facts, authorization, &query, &fake);
        assert_eq!(
            refused(&outcome),
            Some(Reason::QueryTokenNotAllowed),
            "{why}"
        );
    }
    let (outcome, _) = run_with_query(&config, get("/hub/x"), bearer(&t), &query, &fake);
    assert_eq!(refused(&outcome), Some(Reason::MultipleTokens));
    let twice = format!("access_token={t}&access_token={t}");
    let (outcome, _) = run_with_query(&config, get("/hub/x"), None, &twice, &fake);
    assert_eq!(refused(&outcome), Some(Reason::MultipleTokens));

    // A public route reads no token, and passes none on either (as with the header).
    let (outcome, walk) = run_with_query(&config, get("/docs/a"), None, &query, &fake);
    assert!(matches!(outcome, Outcome::Forward { identity: None }));
    assert_eq!(walk.forwarded_query(), Some("id=7"));
    // Only with GATE_FORWARD_AUTHORIZATION do the caller's credentials go on.
    let mut passing = config.clone();
    passing.forward_authorization = true;
    let (outcome, walk) = run_with_query(&passing, get("/hub/x"), None, &query, &fake);
    assert!(forwarded_caller(&outcome).is_some());
    assert_eq!(walk.forwarded_query(), Some(query.as_str()));
    // Spellings an origin would read as the token count as one.
    let upper = format!("ACCESS_TOKEN={t}");
    let (outcome, _) = run_with_query(&config, get("/items/1"), None, &upper, &fake);
    assert_eq!(refused(&outcome), Some(Reason::QueryTokenNotAllowed));

    // A header token on a query route leaves a query without a token untouched.
    let (outcome, walk) = run_with_query(&config, get("/hub/x"), bearer(&t), "a=1", &fake);
    assert!(forwarded_caller(&outcome).is_some());
    assert_eq!(walk.forwarded_query(), Some("a=1"));
}

#[test]
fn only_a_websocket_route_keeps_the_upgrade() {
    let config = policy(json!({"routes": [
        {"name": "hub", "path": "/hub/**", "websocket": true},
        {"name": "items", "path": "/items/**"},
    ]}));
    let signing = signing_keys();
    let built = keys(&config, &signing);
    let fake = keys_only(&built);
    let t = bearer(&token(&signing[0], json!({})));
    let cache = new_cache();
    let upgrade = |path: &str, websocket_upgrade: bool| {
        let mut facts = get(path);
        facts.websocket_upgrade = websocket_upgrade;
        facts
    };
    let (_, _, walk) = run(&config, upgrade("/hub/x", true), t.clone(), &fake, &cache);
    assert!(walk.keeps_upgrade());
    let (_, _, walk) = run(&config, upgrade("/hub/x", false), t.clone(), &fake, &cache);
    assert!(!walk.keeps_upgrade(), "no handshake, nothing to keep");
    let (_, _, walk) = run(&config, upgrade("/items/x", true), t, &fake, &cache);
    assert!(!walk.keeps_upgrade());
}

#[test]
fn the_rate_limit_is_asked_last_keyed_by_the_verified_caller_and_fails_closed() {
    let config = policy(json!({"routes": [
        {"name": "search", "path": "/search/**", "rate_limit": {"binding": "PER_APP", "per": "app", "period_seconds": 10}},
        {"name": "trial", "path": "/trial/**", "report_only": true, "rate_limit": {"binding": "TRIAL", "per": "tenant"}},
        {"name": "status", "path": "/status", "public": true, "rate_limit": {"binding": "PER_IP", "per": "ip"}},
        {"name": "scoped", "path": "/scoped/**", "require": {"scopes": {"any_of": ["nothing.held"]}},
         "rate_limit": {"binding": "PER_APP", "per": "app"}},
    ]}));
    let signing = signing_keys();
    let built = keys(&config, &signing);
    let t = bearer(&token(&signing[0], json!({})));
    let answering = |rate_limit: Option<bool>| Fake {
        keys: Some(&built),
        refreshed: None,
        revocations: None,
        rate_limit,
    };
    let cache = new_cache();
    let mut walk = Walk::new(&config, get("/search/1"), t.clone(), false);
    let mut step = walk.start(&cache, NOW);
    while !matches!(step, Step::NeedRateLimit { .. } | Step::Done(_)) {
        step = match step {
            Step::NeedKeys { .. } => walk.keys_arrived(Some(view(&built)), &cache),
            Step::NeedSignature { .. } => {
                pollster::block_on(walk.check_signature(view(&built), &RustVerifier, &cache, NOW))
            }
            other => panic!("unexpected {other:?}"),
        };
    }
    let Step::NeedRateLimit { binding, key } = step else {
        panic!("no rate limit asked: {step:?}");
    };
    assert_eq!(binding, "PER_APP");
    assert!(key.starts_with("app:"), "{key}");

    let (outcome, asked, _) = run(
        &config,
        get("/search/1"),
        t.clone(),
        &answering(Some(true)),
        &cache,
    );
    assert!(forwarded_caller(&outcome).is_some());
    assert_eq!(asked.last(), Some(&"rate limit"));
    let (outcome, _, _) = run(
        &config,
        get("/search/1"),
        t.clone(),
        &answering(Some(false)),
        &cache,
    );
    let Outcome::Refuse(over) = outcome else {
        panic!("not refused: {outcome:?}");
    };
    assert_eq!(
        (over.reason, over.retry_after_seconds),
        (Reason::RateLimited, Some(10))
    );
    let (outcome, _, _) = run(
        &config,
        get("/search/1"),
        t.clone(),
        &answering(None),
        &cache,
    );
    assert_eq!(refused(&outcome), Some(Reason::RateLimitUnavailable));

    // Refused before the limit is asked: a refusal does not spend the caller's budget.
    let (outcome, asked, _) = run(
        &config,
        get("/scoped/1"),
        t.clone(),
        &answering(Some(false)),
        &cache,
    );
    assert_eq!(refused(&outcome), Some(Reason::InsufficientScope));
    assert!(!asked.contains(&"rate limit"));

    // Report-only: recorded, forwarded.
    let (outcome, _, walk) = run(&config, get("/trial/1"), t, &answering(Some(false)), &cache);
    assert!(forwarded_caller(&outcome).is_some());
    assert_eq!(
        walk.trace().would_deny.first().map(|r| r.reason),
        Some(Reason::RateLimited)
    );

    // A public route: limited per client address, no token read.
    let (outcome, asked, _) = run(
        &config,
        get("/status"),
        None,
        &answering(Some(false)),
        &cache,
    );
    assert_eq!(refused(&outcome), Some(Reason::RateLimited));
    assert_eq!(asked, ["rate limit"]);
    let mut walk = Walk::new(&config, get("/status"), None, false);
    assert!(
        matches!(walk.start(&cache, NOW), Step::NeedRateLimit { ref key, .. } if key == "ip:unknown")
    );
    assert!(matches!(
        walk.keys_arrived::<Prepared>(None, &cache),
        Step::Done(Outcome::Refuse(Refusal {
            reason: Reason::InternalError,
            ..
        }))
    ));
}

#[test]
fn shadow_mode_never_forwards_a_request_with_nowhere_to_go() {
    // Named origins only: an unmatched request has no origin, so its refusal stands.
    let config = config_with(&[
        (binding::ORIGIN_URL, ""),
        (binding::ORIGINS, r#"{"orders":"https://orders.example"}"#),
        (binding::SHADOW_MODE, "true"),
        (
            binding::POLICY,
            r#"{"routes":[{"name":"orders","path":"/orders/**","origin":"orders","require":{"roles":{"any_of":["Nobody"]}}}]}"#,
        ),
    ]);
    assert!(config.origins.default.is_none());
    let signing = signing_keys();
    let built = keys(&config, &signing);
    let fake = keys_only(&built);
    let t = bearer(&token(&signing[0], json!({})));
    let cache = new_cache();
    let (outcome, _, walk) = run(&config, get("/elsewhere"), t.clone(), &fake, &cache);
    assert_eq!(refused(&outcome), Some(Reason::NoRoute));
    assert!(walk.trace().shadowed.is_none());
    // A route with an origin is shadowed as usual: forwarded anonymously, logged.
    let (outcome, _, walk) = run(&config, get("/orders/1"), t, &fake, &cache);
    assert!(
        matches!(outcome, Outcome::Forward { identity: None }),
        "{outcome:?}"
    );
    assert_eq!(
        walk.trace().shadowed.as_ref().map(|r| r.reason),
        Some(Reason::InsufficientRole)
    );
}

// ---------------------------------------------------------------------------------------------
// Replay (`core::replay`): when a forward may be answered again for the same request without a
// walk, and until when.

fn far() -> ReplayContext {
    ReplayContext {
        now: NOW,
        keys_until: UnixTime(NOW_SECONDS + 86_400),
        metrics: false,
    }
}

/// The walk's replay window for `facts` on `config`, after a forward of a token seen before.
fn replay_window(
    config: &GateConfig,
    facts: RequestFacts,
    claims: Value,
    fake_revocations: bool,
    context: ReplayContext,
) -> Option<UnixTime> {
    let signing = signing_keys();
    let built = keys(config, &signing);
    let fake = Fake {
        keys: Some(&built),
        refreshed: None,
        revocations: fake_revocations.then(RevocationList::default),
        rate_limit: Some(true),
    };
    let t = bearer(&token(&signing[0], claims));
    let path = facts.path().to_owned();
    let cache = new_cache();
    let (first, _, walk) = run(config, facts.clone(), t.clone(), &fake, &cache);
    assert!(
        matches!(first, Outcome::Forward { .. }),
        "{path} is forwarded: {first:?}"
    );
    assert_eq!(
        walk.replay_until(&first, context),
        None,
        "a token seen for the first time is not remembered"
    );
    let (outcome, _, walk) = run(config, facts, t, &fake, &cache);
    assert!(
        walk.trace().cached,
        "{path}: the second time from the cache"
    );
    walk.replay_until(&outcome, context)
}

#[test]
fn a_plain_forward_replays_until_the_earliest_of_exp_the_keys_and_the_cap() {
    let config = config_with(&[]);
    // The token lives an hour: the cap decides.
    assert_eq!(
        replay_window(&config, get("/items"), json!({}), false, far()),
        Some(UnixTime(NOW_SECONDS + MAX_REPLAY_SECONDS))
    );
    // A token about to expire: its exp decides, to the second the cache stops using it.
    let exp = json!({"exp": NOW_SECONDS + 42});
    assert_eq!(
        replay_window(&config, get("/items"), exp, false, far()),
        Some(UnixTime(NOW_SECONDS + 42))
    );
    // Keys due to be looked at again: they decide.
    let keys_soon = ReplayContext {
        keys_until: UnixTime(NOW_SECONDS + 7),
        ..far()
    };
    assert_eq!(
        replay_window(&config, get("/items"), json!({}), false, keys_soon),
        Some(UnixTime(NOW_SECONDS + 7))
    );
    // Keys due now: no replay at all.
    let keys_now = ReplayContext {
        keys_until: NOW,
        ..far()
    };
    assert_eq!(
        replay_window(&config, get("/items"), json!({}), false, keys_now),
        None
    );
}

#[test]
fn a_route_reading_only_the_token_and_target_replays() {
    let config = policy(json!({
        "optional_claims": ["acrs"],
        "routes": [
            {"path": "/items/**", "methods": ["GET"], "require": {"scopes": {"any_of": ["items.read"]}}},
            {"path": "/reports/**", "step_up": {"auth_context": "c1"}},
        ],
    }));
    assert!(replay_window(&config, get("/items/1"), json!({}), false, far()).is_some());
    let with_context = json!({"acrs": ["c1"]});
    assert!(replay_window(&config, get("/reports/1"), with_context, false, far()).is_some());
}

#[test]
fn nothing_that_reads_or_adds_per_request_replays() {
    let plain = config_with(&[]);
    let metrics = ReplayContext {
        metrics: true,
        ..far()
    };
    assert_eq!(
        replay_window(&plain, get("/items"), json!({}), false, metrics),
        None,
        "counters"
    );
    assert_eq!(
        replay_window(&plain, get("/items"), json!({}), true, far()),
        None,
        "revocations"
    );
    let per_request_settings = [
        (binding::POLICY, json!({"default": "authenticated", "cors": {"allowed_origins": ["https://app.example.com"]}}).to_string()),
        (binding::ORIGIN_TIMEOUT_SECONDS, "5".to_owned()),
        (binding::ASSERTION_KEY, json!({"kty": "OKP", "crv": "Ed25519", "kid": "assertion-1",
            "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}).to_string()),
    ];
    for (name, value) in &per_request_settings {
        let config = config_with(&[(name, value.as_str())]);
        assert_eq!(
            replay_window(&config, get("/items"), json!({}), false, far()),
            None,
            "{name}"
        );
    }
    let routes = policy(json!({
        "optional_claims": ["auth_time"],
        "routes": [
            {"path": "/net/**", "conditions": {"ip": {"in": ["10.0.0.0/8"]}}},
            {"path": "/audit/**", "report_only": true},
            {"path": "/recent/**", "step_up": {"max_age_seconds": 600}},
            {"path": "/limited/**", "rate_limit": {"binding": "PER_APP", "per": "app"}},
            {"path": "/hub/**", "websocket": true},
            {"path": "/download/**", "query_token": true},
        ],
    }));
    let recent = json!({"auth_time": NOW_SECONDS - 60});
    for path in [
        "/audit/x",
        "/recent/x",
        "/limited/x",
        "/hub/x",
        "/download/x",
    ] {
        assert_eq!(
            replay_window(&routes, get(path), recent.clone(), false, far()),
            None,
            "{path}"
        );
    }
    let mut inside = get("/net/x");
    inside.client_ip = Some("10.1.2.3".parse().expect("an address"));
    assert_eq!(
        replay_window(&routes, inside, json!({}), false, far()),
        None,
        "conditions"
    );
}

#[test]
fn shadow_mode_and_findings_never_replay_and_only_forwards_do() {
    let shadow = config_with(&[(binding::SHADOW_MODE, "true")]);
    assert_eq!(
        replay_window(&shadow, get("/items"), json!({}), false, far()),
        None
    );
    let config = config_with(&[]);
    let signing = signing_keys();
    let built = keys(&config, &signing);
    let expired = bearer(&token(&signing[0], json!({"exp": NOW_SECONDS - 600})));
    let (outcome, _, walk) = run(
        &config,
        get("/items"),
        expired,
        &keys_only(&built),
        &new_cache(),
    );
    assert_eq!(refused(&outcome), Some(Reason::TokenExpired));
    assert_eq!(walk.replay_until(&outcome, far()), None);
}
