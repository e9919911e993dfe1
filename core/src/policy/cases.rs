//! The policy engine, table by table: requirements, conditions and combinators, step-up,
//! report-only, route precedence, the default, public routes, CORS, the loader's problem list
//! and lints, and the answers the refusals become.
//!
//! Identities are built by hand (inside the crate, where a `VerifiedIdentity`'s fields can be
//! named), starting from what the mock tenant mints for a v2 delegated token, so each row changes
//! only what it is about.
//! The clock is fixed: `NOW` is Friday 2026-11-27 10:30:00 UTC.

// Native only, like the other table tests.
#![cfg(not(target_arch = "wasm32"))]
// Test tables panic on whatever they did not expect; the crate's lints are for its own code.
#![allow(clippy::wildcard_enum_match_arm, clippy::as_conversions)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use entra_gate_core::refuse_with;
use entra_gate_core::CanonicalPath;
use entra_gate_core::Reason;
use entra_gate_core::RevocationList;
use entra_gate_core::UnixTime;
use entra_gate_core::{binding, from_bindings};
use entra_gate_core::{
    ChallengeContext, Deployment, Policy, PolicyProblem, Preflight, Refusal, RequestFacts,
    RouteChoice, Verdict, MAX_CONDITION_NODES, MAX_LIST_ENTRIES, MAX_POLICY_BYTES, MAX_ROUTES,
};
use entra_gate_core::{TokenKind, TokenVersion, VerifiedIdentity};
use serde_json::{json, Value};
use std::collections::HashMap;

/// Friday 2026-11-27 10:30:00 UTC.
const NOW: i64 = 1_795_775_400;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

const TID: &str = "3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b";
const OTHER_TID: &str = "8b7c6d5e-4f3a-4b2c-9d1e-0f1a2b3c4d5e";
const OID: &str = "5a1d5c3e-6a4b-4f1e-8a2d-0c9e8f7b6a51";
/// What the mock tenant puts in `azp`/`appid`.
const CLIENT: &str = "0f6e1f5b-0c6f-4a55-9d1e-5c1f3f2f0a11";
const GROUP_A: &str = "8d9e3b4a-1f2c-4e5d-9a6b-7c8d9e0f1a2b";
const GROUP_B: &str = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
const GROUP_C: &str = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";
const OTHER_CLIENT: &str = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
/// The API's own client id (the v2 audience).
const API_CLIENT_ID: &str = "c0ffee00-1234-4abc-8def-0123456789ab";
const API_URI: &str = "api://contoso-api";
const AUTHORIZE: &str =
    "https://login.microsoftonline.com/3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b/oauth2/v2.0/authorize";

// ---------------------------------------------------------------------------------------------
// Fixtures

fn audiences() -> Vec<String> {
    vec![API_URI.into(), API_CLIENT_ID.into()]
}

fn deployment(audiences: &[String], v1: bool, v2: bool) -> Deployment<'_> {
    Deployment {
        accept_v1: v1,
        accept_v2: v2,
        audiences,
    }
}

/// A v2 delegated token as the mock tenant mints it: scp "items.read items.write", azpacr "1".
fn user() -> VerifiedIdentity {
    VerifiedIdentity {
        tenant_id: TID.into(),
        object_id: OID.into(),
        subject: "mF_9.B5f-4.1JqM-mock-subject".into(),
        client_id: CLIENT.into(),
        client_auth: Some("1".into()),
        kind: TokenKind::Delegated,
        version: TokenVersion::V2,
        audience: API_CLIENT_ID.into(),
        issuer: format!("https://login.microsoftonline.com/{TID}/v2.0"),
        kid: "mock-key-1".into(),
        scopes: vec!["items.read".into(), "items.write".into()],
        roles: Vec::new(),
        acrs: Vec::new(),
        amr: Vec::new(),
        auth_time: None,
        xms_cc: Vec::new(),
        token_id: Some("AbCdEfGhIjKlMnOpQrStUv".into()),
        ip_address: None,
        expires_at: NOW + HOUR,
        groups: Vec::new(),
        groups_overage: false,
        extra_claims: Vec::new(),
    }
}

/// A v1 delegated token: appid/appidacr, amr ["pwd","mfa"], ipaddr 203.0.113.7.
fn v1_user() -> VerifiedIdentity {
    VerifiedIdentity {
        version: TokenVersion::V1,
        audience: API_URI.into(),
        issuer: format!("https://sts.windows.net/{TID}/"),
        amr: strings(&["pwd", "mfa"]),
        ip_address: Some("203.0.113.7".into()),
        ..user()
    }
}

/// An app-only token: idtyp app, roles ["Items.Ingest"], no scopes.
fn app() -> VerifiedIdentity {
    VerifiedIdentity {
        kind: TokenKind::App,
        scopes: Vec::new(),
        roles: strings(&["Items.Ingest"]),
        ..user()
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn facts(method: &str, path: &str) -> RequestFacts {
    RequestFacts {
        client_ip: Some("198.51.100.20".parse().expect("ip")),
        country: Some("NL".into()),
        asn: Some(1136),
        ..RequestFacts::new(
            method,
            CanonicalPath::parse(path).expect("a canonical test path"),
            UnixTime(NOW),
        )
    }
}

fn get(path: &str) -> RequestFacts {
    facts("GET", path)
}

fn ctx() -> ChallengeContext {
    ChallengeContext {
        authorization_uri: AUTHORIZE.into(),
        client_id: Some(API_CLIENT_ID.into()),
    }
}

/// Loads a policy for a deployment accepting v1 and v2, with the given audiences.
fn load(doc: Value) -> Policy {
    let auds = audiences();
    Policy::parse(&doc.to_string(), deployment(&auds, true, true))
        .unwrap_or_else(|problems| panic!("policy refused: {problems:#?}\n{doc}"))
}

/// Problems as the config_invalid log line shows them: `path: detail`.
fn texts(problems: &[PolicyProblem]) -> Vec<String> {
    problems.iter().map(ToString::to_string).collect()
}

fn problems_with(doc: &Value, v1: bool, v2: bool) -> Vec<String> {
    let auds = audiences();
    match Policy::parse(&doc.to_string(), deployment(&auds, v1, v2)) {
        Ok(_) => panic!("policy accepted, expected problems:\n{doc}"),
        Err(problems) => texts(&problems),
    }
}

fn problems(doc: &Value) -> Vec<String> {
    problems_with(doc, true, true)
}

fn assert_problem(problems: &[String], fragments: &[&str]) {
    assert!(
        problems
            .iter()
            .any(|p| fragments.iter().all(|f| p.contains(f))),
        "no problem containing all of {fragments:?} in\n{problems:#?}"
    );
}

/// A one-route policy on `/x` (all methods) with the given route members.
fn one_route(route: Value) -> Policy {
    let mut r = route;
    r["path"] = json!("/x");
    load(json!({
        "optional_claims": ["acrs", "auth_time", "ipaddr", "groups"],
        "api_client_id": API_CLIENT_ID,
        "routes": [r],
    }))
}

/// The verdict for a request: the route it falls under, evaluated as the edge does.
fn verdict(policy: &Policy, id: &VerifiedIdentity, f: &RequestFacts) -> Verdict {
    match policy.route_for(f) {
        RouteChoice::Route(route) if route.public => policy.public_conditions(route, f),
        RouteChoice::Route(route) => policy.authorize(route, id, f, &ctx()),
        other => panic!("no route for {} {}: {other:?}", f.method, f.path()),
    }
}

/// The enforced refusal (asserting nothing was merely reported).
fn denial(policy: &Policy, id: &VerifiedIdentity, f: &RequestFacts) -> Option<Refusal> {
    let v = verdict(policy, id, f);
    assert!(
        v.would_deny.is_empty(),
        "unexpected report-only finding {v:?}"
    );
    v.refusal
}

fn reason(policy: &Policy, id: &VerifiedIdentity, f: &RequestFacts) -> Option<Reason> {
    denial(policy, id, f).map(|r| r.reason)
}

// ---------------------------------------------------------------------------------------------
// Requirements

type Edit = fn(&mut VerifiedIdentity);
/// name, `require` member, base identity, edit, expected refusal.
type RequirementRow = (
    &'static str,
    Value,
    fn() -> VerifiedIdentity,
    Edit,
    Option<Reason>,
);

fn no_edit(_: &mut VerifiedIdentity) {}

#[test]
fn requirements_table() {
    let rows: Vec<RequirementRow> = vec![
        // scopes any_of / all_of
        (
            "scopes any_of: one held",
            json!({"scopes": {"any_of": ["admin", "items.read"]}}),
            user,
            no_edit,
            None,
        ),
        (
            "scopes any_of: none held",
            json!({"scopes": {"any_of": ["admin", "audit.read"]}}),
            user,
            no_edit,
            Some(Reason::InsufficientScope),
        ),
        (
            "scopes all_of: all held",
            json!({"scopes": {"all_of": ["items.read", "items.write"]}}),
            user,
            no_edit,
            None,
        ),
        (
            "scopes all_of: one missing",
            json!({"scopes": {"all_of": ["items.read", "admin"]}}),
            user,
            no_edit,
            Some(Reason::InsufficientScope),
        ),
        (
            "scopes: token without scp",
            json!({"scopes": {"any_of": ["items.read"]}}),
            user,
            |i| i.scopes.clear(),
            Some(Reason::InsufficientScope),
        ),
        (
            "scopes: a scope is not a role",
            json!({"scopes": {"any_of": ["Items.Ingest"]}}),
            app,
            no_edit,
            Some(Reason::InsufficientScope),
        ),
        // roles any_of / all_of
        (
            "roles any_of: one held",
            json!({"roles": {"any_of": ["Items.Read", "Items.Ingest"]}}),
            app,
            no_edit,
            None,
        ),
        (
            "roles any_of: none held",
            json!({"roles": {"any_of": ["Items.Read"]}}),
            app,
            no_edit,
            Some(Reason::InsufficientRole),
        ),
        (
            "roles all_of: all held",
            json!({"roles": {"all_of": ["Items.Ingest", "Items.Read"]}}),
            app,
            |i| i.roles.push("Items.Read".into()),
            None,
        ),
        (
            "roles all_of: one missing",
            json!({"roles": {"all_of": ["Items.Ingest", "Items.Read"]}}),
            app,
            no_edit,
            Some(Reason::InsufficientRole),
        ),
        (
            "roles: a delegated token with a user role",
            json!({"roles": {"any_of": ["Approver"]}}),
            user,
            |i| i.roles.push("Approver".into()),
            None,
        ),
        (
            "roles: a role is not a scope",
            json!({"roles": {"any_of": ["items.read"]}}),
            user,
            no_edit,
            Some(Reason::InsufficientRole),
        ),
        // scopes + roles: either
        (
            "either: user with the scope",
            json!({"scopes": {"any_of": ["items.read"]}, "roles": {"any_of": ["Items.Read"]}}),
            user,
            no_edit,
            None,
        ),
        (
            "either: app with the role",
            json!({"scopes": {"any_of": ["items.read"]}, "roles": {"any_of": ["Items.Ingest"]}}),
            app,
            no_edit,
            None,
        ),
        (
            "either: user with neither",
            json!({"scopes": {"any_of": ["admin"]}, "roles": {"any_of": ["Items.Read"]}}),
            user,
            no_edit,
            Some(Reason::InsufficientScope),
        ),
        // An app-only token can never hold a scope: it is told about the role it lacks.
        (
            "either: app with neither",
            json!({"scopes": {"any_of": ["items.read"]}, "roles": {"any_of": ["Items.Read"]}}),
            app,
            no_edit,
            Some(Reason::InsufficientRole),
        ),
        (
            "either: all_of scopes unmet, role met",
            json!({"scopes": {"all_of": ["items.read", "admin"]}, "roles": {"all_of": ["Approver"]}}),
            user,
            |i| i.roles.push("Approver".into()),
            None,
        ),
        // token kind
        (
            "kind user: delegated",
            json!({"token_kind": "user"}),
            user,
            no_edit,
            None,
        ),
        (
            "kind user: app-only",
            json!({"token_kind": "user"}),
            app,
            no_edit,
            Some(Reason::TokenKindNotAllowed),
        ),
        (
            "kind app: app-only",
            json!({"token_kind": "app"}),
            app,
            no_edit,
            None,
        ),
        (
            "kind app: delegated",
            json!({"token_kind": "app"}),
            user,
            no_edit,
            Some(Reason::TokenKindNotAllowed),
        ),
        (
            "kind app + role: app-only",
            json!({"token_kind": "app", "roles": {"any_of": ["Items.Ingest"]}}),
            app,
            no_edit,
            None,
        ),
        // calling applications (policy GUIDs are normalised to lower case)
        (
            "apps: listed",
            json!({"apps": [OTHER_CLIENT, CLIENT.to_uppercase()]}),
            user,
            no_edit,
            None,
        ),
        (
            "apps: not listed",
            json!({"apps": [OTHER_CLIENT]}),
            user,
            no_edit,
            Some(Reason::ClientNotAllowed),
        ),
        (
            "apps: app-only caller listed",
            json!({"apps": [CLIENT]}),
            app,
            no_edit,
            None,
        ),
        // tenants
        (
            "tenants: listed",
            json!({"tenants": [OTHER_TID, TID.to_uppercase()]}),
            user,
            no_edit,
            None,
        ),
        (
            "tenants: not listed",
            json!({"tenants": [OTHER_TID]}),
            user,
            no_edit,
            Some(Reason::RouteTenantNotAllowed),
        ),
        // groups (object ids; claims validation keeps them lower case)
        (
            "groups: any_of, a member of one",
            json!({"groups": {"any_of": [GROUP_A.to_uppercase(), GROUP_B]}}),
            user,
            |i| i.groups = vec![GROUP_B.into(), GROUP_C.into()],
            None,
        ),
        (
            "groups: any_of, a member of none",
            json!({"groups": {"any_of": [GROUP_A]}}),
            user,
            |i| i.groups = vec![GROUP_B.into()],
            Some(Reason::InsufficientGroup),
        ),
        (
            "groups: all_of, a member of some",
            json!({"groups": {"all_of": [GROUP_A, GROUP_B]}}),
            user,
            |i| i.groups = vec![GROUP_A.into()],
            Some(Reason::InsufficientGroup),
        ),
        (
            "groups: all_of, a member of all",
            json!({"groups": {"all_of": [GROUP_A, GROUP_B]}}),
            user,
            |i| i.groups = vec![GROUP_B.into(), GROUP_A.into()],
            None,
        ),
        (
            "groups: no groups claim",
            json!({"groups": {"any_of": [GROUP_A]}}),
            user,
            no_edit,
            Some(Reason::InsufficientGroup),
        ),
        (
            "groups: overage, even with the group listed",
            json!({"groups": {"any_of": [GROUP_A]}}),
            user,
            |i| {
                i.groups = vec![GROUP_A.into()];
                i.groups_overage = true;
            },
            Some(Reason::GroupsOverage),
        ),
        (
            "groups: overage where no group is asked for",
            json!({"scopes": {"any_of": ["items.read"]}}),
            user,
            |i| i.groups_overage = true,
            None,
        ),
        (
            "order: scopes before groups",
            json!({"scopes": {"any_of": ["admin"]}, "groups": {"any_of": [GROUP_A]}}),
            user,
            |i| i.groups_overage = true,
            Some(Reason::InsufficientScope),
        ),
        (
            "order: groups before claims",
            json!({"groups": {"any_of": [GROUP_A]}, "claims": [{"name": "department", "one_of": ["x"]}]}),
            user,
            no_edit,
            Some(Reason::InsufficientGroup),
        ),
        // generic claim matchers (values as claims validation keeps them in extra_claims)
        (
            "claim: a value among several",
            json!({"claims": [{"name": "groups", "one_of": ["g-admins"]}]}),
            user,
            |i| i.extra_claims = vec![("groups".into(), strings(&["g-users", "g-admins"]))],
            None,
        ),
        (
            "claim: no accepted value",
            json!({"claims": [{"name": "groups", "one_of": ["g-admins"]}]}),
            user,
            |i| i.extra_claims = vec![("groups".into(), strings(&["g-users"]))],
            Some(Reason::ClaimMismatch),
        ),
        (
            "claim: absent",
            json!({"claims": [{"name": "groups", "one_of": ["g-admins"]}]}),
            user,
            no_edit,
            Some(Reason::ClaimMismatch),
        ),
        (
            "claim: present but empty",
            json!({"claims": [{"name": "groups", "one_of": ["g-admins"]}]}),
            user,
            |i| i.extra_claims = vec![("groups".into(), Vec::new())],
            Some(Reason::ClaimMismatch),
        ),
        (
            "claim: every matcher must hold",
            json!({"claims": [{"name": "groups", "one_of": ["g-admins"]}, {"name": "department", "one_of": ["finance"]}]}),
            user,
            |i| {
                i.extra_claims = vec![
                    ("groups".into(), strings(&["g-admins"])),
                    ("department".into(), strings(&["sales"])),
                ]
            },
            Some(Reason::ClaimMismatch),
        ),
        (
            "claim: both matchers hold",
            json!({"claims": [{"name": "groups", "one_of": ["g-admins"]}, {"name": "department", "one_of": ["finance", "sales"]}]}),
            user,
            |i| {
                i.extra_claims = vec![
                    ("groups".into(), strings(&["g-admins"])),
                    ("department".into(), strings(&["sales"])),
                ]
            },
            None,
        ),
        (
            "claim: numbers match as their JSON text",
            json!({"claims": [{"name": "level", "one_of": ["3"]}]}),
            user,
            |i| i.extra_claims = vec![("level".into(), strings(&["3"]))],
            None,
        ),
        // order inside the requirements: kind, tenant, app, client auth, scopes/roles, claims
        (
            "order: kind before scopes",
            json!({"token_kind": "app", "scopes": {"any_of": ["admin"]}, "roles": {"any_of": ["X"]}}),
            user,
            no_edit,
            Some(Reason::TokenKindNotAllowed),
        ),
        (
            "order: tenant before app",
            json!({"tenants": [OTHER_TID], "apps": [OTHER_CLIENT]}),
            user,
            no_edit,
            Some(Reason::RouteTenantNotAllowed),
        ),
        (
            "order: app before client auth",
            json!({"apps": [OTHER_CLIENT], "client_auth": "certificate"}),
            user,
            no_edit,
            Some(Reason::ClientNotAllowed),
        ),
        (
            "order: client auth before scopes",
            json!({"client_auth": "certificate", "scopes": {"any_of": ["admin"]}}),
            user,
            no_edit,
            Some(Reason::ClientAuthTooWeak),
        ),
        (
            "order: scopes before claims",
            json!({"scopes": {"any_of": ["admin"]}, "claims": [{"name": "groups", "one_of": ["g"]}]}),
            user,
            no_edit,
            Some(Reason::InsufficientScope),
        ),
        (
            "no requirements: any verified token",
            json!({}),
            app,
            no_edit,
            None,
        ),
    ];
    for (name, require, base, edit, want) in rows {
        let policy = one_route(json!({ "require": require }));
        let mut id = base();
        edit(&mut id);
        assert_eq!(reason(&policy, &id, &get("/x")), want, "{name}");
    }
}

#[test]
fn client_authentication_strength() {
    // azpacr / appidacr: "0" public client, "1" client secret, "2" certificate; absent counts
    // as public, and so does anything that is not a number.
    let held: [(Option<&str>, u8); 5] = [
        (None, 0),
        (Some("0"), 0),
        (Some("1"), 1),
        (Some("2"), 2),
        (Some("x"), 0),
    ];
    for (minimum, min) in [("public", 0u8), ("secret", 1), ("certificate", 2)] {
        let policy = one_route(json!({ "require": { "client_auth": minimum } }));
        for (azpacr, strength) in held {
            let id = VerifiedIdentity {
                client_auth: azpacr.map(String::from),
                ..user()
            };
            let got = denial(&policy, &id, &get("/x"));
            if strength >= min {
                assert_eq!(got, None, "{minimum} with azpacr {azpacr:?}");
            } else {
                let refusal = got.unwrap_or_else(|| panic!("{minimum} let azpacr {azpacr:?} in"));
                assert_eq!(
                    (refusal.reason, refusal.params),
                    (Reason::ClientAuthTooWeak, Vec::new()),
                    "{minimum} with azpacr {azpacr:?}"
                );
            }
        }
    }
    // A v1 token's appidacr is the same field.
    let policy = one_route(json!({ "require": { "client_auth": "certificate" } }));
    let v1_cert = VerifiedIdentity {
        client_auth: Some("2".into()),
        ..v1_user()
    };
    assert_eq!(reason(&policy, &v1_cert, &get("/x")), None);
}

fn user_without_scopes() -> VerifiedIdentity {
    VerifiedIdentity {
        scopes: Vec::new(),
        ..user()
    }
}

#[test]
fn insufficient_scope_names_the_scopes_the_route_accepts() {
    for (require, id, scope) in [
        (
            json!({"scopes": {"any_of": ["admin", "audit.read"]}}),
            user(),
            "admin audit.read",
        ),
        (
            json!({"scopes": {"all_of": ["items.read", "admin"]}}),
            user(),
            "items.read admin",
        ),
        // With scopes and roles both unmet, a delegated caller is told the scopes.
        (
            json!({"scopes": {"any_of": ["items.read"]}, "roles": {"any_of": ["Items.Read"]}}),
            user_without_scopes(),
            "items.read",
        ),
    ] {
        let policy = one_route(json!({ "require": require }));
        let refusal = denial(&policy, &id, &get("/x")).expect("refused");
        assert_eq!(refusal.reason, Reason::InsufficientScope);
        assert_eq!(
            refusal.params,
            vec![("scope", scope.to_string())],
            "{require}"
        );
    }
    // A missing role has no scope to name.
    let policy = one_route(json!({"require": {"roles": {"any_of": ["Items.Read"]}}}));
    let refusal = denial(&policy, &app(), &get("/x")).expect("refused");
    assert_eq!(
        (refusal.reason, refusal.params),
        (Reason::InsufficientRole, Vec::new())
    );
}

#[test]
fn claim_matchers_name_the_claims_validation_keeps() {
    let policy = load(json!({"routes": [
        {"path": "/a", "require": {"claims": [{"name": "groups", "one_of": ["g1"]}]}},
        {"path": "/b", "require": {"claims": [{"name": "department", "one_of": ["d"]}, {"name": "groups", "one_of": ["g2"]}]}},
        {"path": "/c", "require": {"scopes": {"any_of": ["items.read"]}}},
    ]}));
    assert_eq!(policy.extra_claims, ["groups", "department"]);
    assert!(load(json!({"routes": [{"path": "/"}]}))
        .extra_claims
        .is_empty());
}

// ---------------------------------------------------------------------------------------------
// Conditions

fn with_ip(f: RequestFacts, ip: Option<&str>) -> RequestFacts {
    RequestFacts {
        client_ip: ip.map(|ip| ip.parse().expect("ip")),
        ..f
    }
}

#[test]
fn conditions_table() {
    type FactsEdit = fn(&mut RequestFacts);
    let rows: Vec<(&str, Value, FactsEdit, Option<Reason>)> = vec![
        // ip in / not_in, v4 and v6, ranges and single addresses
        (
            "ip in v4 range",
            json!({"ip": {"in": ["10.0.0.0/8", "2001:db8::/32"]}}),
            |f| f.client_ip = Some("10.20.30.40".parse().unwrap()),
            None,
        ),
        (
            "ip in v6 range",
            json!({"ip": {"in": ["10.0.0.0/8", "2001:db8::/32"]}}),
            |f| f.client_ip = Some("2001:db8:1::7".parse().unwrap()),
            None,
        ),
        (
            "ip outside both",
            json!({"ip": {"in": ["10.0.0.0/8", "2001:db8::/32"]}}),
            |f| f.client_ip = Some("2001:db9::1".parse().unwrap()),
            Some(Reason::ConditionIp),
        ),
        (
            "ip v4 outside",
            json!({"ip": {"in": ["10.0.0.0/8"]}}),
            |f| f.client_ip = Some("11.0.0.1".parse().unwrap()),
            Some(Reason::ConditionIp),
        ),
        (
            "ip single v4 address",
            json!({"ip": {"in": ["192.0.2.7"]}}),
            |f| f.client_ip = Some("192.0.2.7".parse().unwrap()),
            None,
        ),
        (
            "ip next to the single address",
            json!({"ip": {"in": ["192.0.2.7"]}}),
            |f| f.client_ip = Some("192.0.2.8".parse().unwrap()),
            Some(Reason::ConditionIp),
        ),
        (
            "ip single v6 address, other spelling",
            json!({"ip": {"in": ["2001:db8::1"]}}),
            |f| f.client_ip = Some("2001:0db8:0:0:0:0:0:1".parse().unwrap()),
            None,
        ),
        (
            "ip range with host bits",
            json!({"ip": {"in": ["10.1.2.3/16"]}}),
            |f| f.client_ip = Some("10.1.200.1".parse().unwrap()),
            None,
        ),
        (
            "ip unknown client",
            json!({"ip": {"in": ["0.0.0.0/0", "::/0"]}}),
            |f| f.client_ip = None,
            Some(Reason::ConditionIp),
        ),
        (
            "ip not_in v4: inside",
            json!({"ip": {"not_in": ["203.0.113.0/24", "2001:db8::/32"]}}),
            |f| f.client_ip = Some("203.0.113.9".parse().unwrap()),
            Some(Reason::ConditionIp),
        ),
        (
            "ip not_in v6: inside",
            json!({"ip": {"not_in": ["203.0.113.0/24", "2001:db8::/32"]}}),
            |f| f.client_ip = Some("2001:db8::9".parse().unwrap()),
            Some(Reason::ConditionIp),
        ),
        (
            "ip not_in: outside",
            json!({"ip": {"not_in": ["203.0.113.0/24", "2001:db8::/32"]}}),
            |f| f.client_ip = Some("198.51.100.1".parse().unwrap()),
            None,
        ),
        // country (codes compared case-insensitively, the policy's upper-cased)
        (
            "country in",
            json!({"country": {"in": ["nl", "BE"]}}),
            no_facts_edit,
            None,
        ),
        (
            "country not in",
            json!({"country": {"in": ["BE", "DE"]}}),
            no_facts_edit,
            Some(Reason::ConditionCountry),
        ),
        (
            "country unknown",
            json!({"country": {"in": ["NL"]}}),
            |f| f.country = None,
            Some(Reason::ConditionCountry),
        ),
        (
            "country not_in: listed",
            json!({"country": {"not_in": ["KP", "nl"]}}),
            no_facts_edit,
            Some(Reason::ConditionCountry),
        ),
        (
            "country not_in: other",
            json!({"country": {"not_in": ["KP"]}}),
            no_facts_edit,
            None,
        ),
        // asn
        (
            "asn in",
            json!({"asn": {"in": [1136, 3320]}}),
            no_facts_edit,
            None,
        ),
        (
            "asn not in",
            json!({"asn": {"in": [3320]}}),
            no_facts_edit,
            Some(Reason::ConditionAsn),
        ),
        (
            "asn unknown",
            json!({"asn": {"in": [1136]}}),
            |f| f.asn = None,
            Some(Reason::ConditionAsn),
        ),
        (
            "asn not_in: listed",
            json!({"asn": {"not_in": [1136]}}),
            no_facts_edit,
            Some(Reason::ConditionAsn),
        ),
        (
            "asn not_in: other",
            json!({"asn": {"not_in": [64496]}}),
            no_facts_edit,
            None,
        ),
        // time windows (UTC; from inclusive, to exclusive); NOW is Friday 10:30
        (
            "time inside office hours",
            json!({"time": {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "18:00"}}),
            no_facts_edit,
            None,
        ),
        (
            "time after office hours",
            json!({"time": {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "18:00"}}),
            |f| f.now = UnixTime(NOW + 8 * HOUR),
            Some(Reason::ConditionTime),
        ),
        (
            "time on Saturday",
            json!({"time": {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "18:00"}}),
            |f| f.now = UnixTime(NOW + DAY),
            Some(Reason::ConditionTime),
        ),
        (
            "time on Monday (weekday bit 0)",
            json!({"time": {"days": ["Mon"], "from": "08:00", "to": "18:00"}}),
            |f| f.now = UnixTime(NOW + 3 * DAY),
            None,
        ),
        (
            "time on Sunday (weekday bit 6)",
            json!({"time": {"days": ["sun"]}}),
            |f| f.now = UnixTime(NOW + 2 * DAY),
            None,
        ),
        (
            "time: from is inclusive",
            json!({"time": {"from": "10:30", "to": "11:00"}}),
            no_facts_edit,
            None,
        ),
        (
            "time: to is exclusive",
            json!({"time": {"from": "10:00", "to": "10:30"}}),
            no_facts_edit,
            Some(Reason::ConditionTime),
        ),
        (
            "time: last minute before to",
            json!({"time": {"from": "10:00", "to": "10:30"}}),
            |f| f.now = UnixTime(NOW - 1),
            None,
        ),
        (
            "time: to 24:00 is the end of the day",
            json!({"time": {"from": "23:00", "to": "24:00"}}),
            |f| f.now = UnixTime(NOW + 13 * HOUR + 29 * 60 + 59),
            None,
        ),
        (
            "time wrap: 23:30 inside 22:00-06:00",
            json!({"time": {"from": "22:00", "to": "06:00"}}),
            |f| f.now = UnixTime(NOW + 13 * HOUR),
            None,
        ),
        (
            "time wrap: 05:59 inside 22:00-06:00",
            json!({"time": {"from": "22:00", "to": "06:00"}}),
            |f| f.now = UnixTime(NOW + 19 * HOUR + 29 * 60),
            None,
        ),
        (
            "time wrap: 06:00 outside 22:00-06:00",
            json!({"time": {"from": "22:00", "to": "06:00"}}),
            |f| f.now = UnixTime(NOW + 19 * HOUR + 30 * 60),
            Some(Reason::ConditionTime),
        ),
        (
            "time wrap: 10:30 outside 22:00-06:00",
            json!({"time": {"from": "22:00", "to": "06:00"}}),
            no_facts_edit,
            Some(Reason::ConditionTime),
        ),
        (
            "time wrap, Friday night, Friday 23:00",
            json!({"time": {"days": ["fri"], "from": "22:00", "to": "06:00"}}),
            |f| f.now = UnixTime(NOW + 12 * HOUR + 30 * 60),
            None,
        ),
        (
            "time wrap, Friday night, Thursday 23:00",
            json!({"time": {"days": ["fri"], "from": "22:00", "to": "06:00"}}),
            |f| f.now = UnixTime(NOW - DAY + 12 * HOUR + 30 * 60),
            Some(Reason::ConditionTime),
        ),
        (
            "time before the epoch",
            json!({"time": {"days": ["wed"], "from": "23:00", "to": "24:00"}}),
            |f| f.now = UnixTime(-1),
            None,
        ),
        // combinators
        (
            "all: both hold",
            json!({"all": [{"country": {"in": ["NL"]}}, {"asn": {"in": [1136]}}]}),
            no_facts_edit,
            None,
        ),
        (
            "all: the failing leaf decides",
            json!({"all": [{"country": {"in": ["NL"]}}, {"asn": {"in": [3320]}}]}),
            no_facts_edit,
            Some(Reason::ConditionAsn),
        ),
        (
            "all: first failing leaf",
            json!({"all": [{"ip": {"in": ["10.0.0.0/8"]}}, {"country": {"in": ["BE"]}}]}),
            no_facts_edit,
            Some(Reason::ConditionIp),
        ),
        ("all: empty holds", json!({"all": []}), no_facts_edit, None),
        (
            "any: second holds",
            json!({"any": [{"country": {"in": ["BE"]}}, {"asn": {"in": [1136]}}]}),
            no_facts_edit,
            None,
        ),
        (
            "any: none holds, first failure",
            json!({"any": [{"country": {"in": ["BE"]}}, {"asn": {"in": [3320]}}]}),
            no_facts_edit,
            Some(Reason::ConditionCountry),
        ),
        (
            "not: inner holds",
            json!({"not": {"country": {"in": ["NL"]}}}),
            no_facts_edit,
            Some(Reason::ConditionCountry),
        ),
        (
            "not: inner fails",
            json!({"not": {"country": {"in": ["KP"]}}}),
            no_facts_edit,
            None,
        ),
        (
            "not not",
            json!({"not": {"not": {"asn": {"in": [3320]}}}}),
            no_facts_edit,
            Some(Reason::ConditionAsn),
        ),
        (
            "not all: reported as its first leaf",
            json!({"not": {"all": [{"time": {}}, {"country": {"in": ["NL"]}}]}}),
            no_facts_edit,
            Some(Reason::ConditionTime),
        ),
        (
            "nested: office network or (NL and weekday hours)",
            json!({"any": [
                {"ip": {"in": ["10.0.0.0/8"]}},
                {"all": [{"country": {"in": ["NL"]}}, {"time": {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "18:00"}}]}
            ]}),
            no_facts_edit,
            None,
        ),
        (
            "nested: outside hours but on the office network",
            json!({"any": [
                {"ip": {"in": ["10.0.0.0/8"]}},
                {"all": [{"country": {"in": ["NL"]}}, {"time": {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "18:00"}}]}
            ]}),
            |f| {
                f.now = UnixTime(NOW + DAY);
                f.client_ip = Some("10.9.9.9".parse().unwrap());
            },
            None,
        ),
        (
            "nested: outside hours, elsewhere",
            json!({"any": [
                {"ip": {"in": ["10.0.0.0/8"]}},
                {"all": [{"country": {"in": ["NL"]}}, {"time": {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "18:00"}}]}
            ]}),
            |f| f.now = UnixTime(NOW + DAY),
            Some(Reason::ConditionIp),
        ),
        (
            "nested: a blocked network inside an allowed country",
            json!({"all": [
                {"country": {"in": ["NL", "BE"]}},
                {"not": {"any": [{"asn": {"in": [1136]}}, {"ip": {"in": ["192.0.2.0/24"]}}]}}
            ]}),
            no_facts_edit,
            Some(Reason::ConditionAsn),
        ),
        (
            "nested: neither blocked network",
            json!({"all": [
                {"country": {"in": ["NL", "BE"]}},
                {"not": {"any": [{"asn": {"in": [64496]}}, {"ip": {"in": ["192.0.2.0/24"]}}]}}
            ]}),
            no_facts_edit,
            None,
        ),
    ];
    for (name, conditions, edit, want) in rows {
        let policy = one_route(json!({ "conditions": conditions }));
        let mut f = get("/x");
        edit(&mut f);
        assert_eq!(reason(&policy, &user(), &f), want, "{name}");
    }
}

fn no_facts_edit(_: &mut RequestFacts) {}

#[test]
fn ipaddr_must_match_the_client() {
    let policy = one_route(json!({"conditions": {"ipaddr_matches_client": true}}));
    let v1 = v1_user(); // ipaddr 203.0.113.7
    let at = |ip: Option<&str>| with_ip(get("/x"), ip);
    assert_eq!(reason(&policy, &v1, &at(Some("203.0.113.7"))), None);
    assert_eq!(
        reason(&policy, &v1, &at(Some("203.0.113.8"))),
        Some(Reason::ConditionIpaddr)
    );
    assert_eq!(
        reason(&policy, &v1, &at(None)),
        Some(Reason::ConditionIpaddr)
    );
    // A token without ipaddr never matches.
    assert_eq!(
        reason(&policy, &user(), &at(Some("203.0.113.7"))),
        Some(Reason::ConditionIpaddr)
    );
    // Compared as addresses, not as text.
    let v6 = VerifiedIdentity {
        ip_address: Some("2001:DB8:0:0::7".into()),
        ..v1_user()
    };
    assert_eq!(reason(&policy, &v6, &at(Some("2001:db8::7"))), None);
    let garbage = VerifiedIdentity {
        ip_address: Some("not an address".into()),
        ..v1_user()
    };
    assert_eq!(
        reason(&policy, &garbage, &at(Some("203.0.113.7"))),
        Some(Reason::ConditionIpaddr)
    );
    // Combined: the token's address or the office network.
    let either = one_route(json!({"conditions": {"any": [
        {"ipaddr_matches_client": true}, {"ip": {"in": ["10.0.0.0/8"]}}
    ]}}));
    assert_eq!(reason(&either, &user(), &at(Some("10.0.0.1"))), None);
    assert_eq!(
        reason(&either, &user(), &at(Some("11.0.0.1"))),
        Some(Reason::ConditionIpaddr)
    );
}

#[test]
fn condition_refusals_carry_no_challenge_parameters() {
    let policy = one_route(json!({"conditions": {"country": {"in": ["BE"]}}}));
    let refusal = denial(&policy, &user(), &get("/x")).expect("refused");
    assert_eq!(refusal.reason, Reason::ConditionCountry);
    assert!(refusal.params.is_empty());
    assert!(!refusal.detail.is_empty());
}

#[test]
fn requirements_come_before_conditions_and_conditions_before_step_up() {
    let policy = one_route(json!({
        "require": {"scopes": {"any_of": ["admin"]}},
        "conditions": {"country": {"in": ["BE"]}},
        "step_up": {"auth_context": "c1"},
    }));
    let capable = VerifiedIdentity {
        xms_cc: strings(&["cp1"]),
        ..user()
    };
    assert_eq!(
        reason(&policy, &capable, &get("/x")),
        Some(Reason::InsufficientScope)
    );
    let with_scope = VerifiedIdentity {
        scopes: strings(&["admin"]),
        ..capable.clone()
    };
    assert_eq!(
        reason(&policy, &with_scope, &get("/x")),
        Some(Reason::ConditionCountry)
    );
    let mut in_belgium = get("/x");
    in_belgium.country = Some("BE".into());
    assert_eq!(
        reason(&policy, &with_scope, &in_belgium),
        Some(Reason::StepUpRequired)
    );
    let stepped_up = VerifiedIdentity {
        acrs: strings(&["c1"]),
        ..with_scope
    };
    assert_eq!(reason(&policy, &stepped_up, &in_belgium), None);
}

// ---------------------------------------------------------------------------------------------
// Step-up

#[test]
fn auth_context_with_a_capable_client_gets_a_claims_challenge() {
    let policy = one_route(json!({"step_up": {"auth_context": "c1"}}));
    let capable = VerifiedIdentity {
        xms_cc: strings(&["cp1"]),
        ..user()
    };
    let refusal = denial(&policy, &capable, &get("/x")).expect("challenge");
    assert_eq!(refusal.reason, Reason::StepUpRequired);
    let names: Vec<&str> = refusal.params.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        ["authorization_uri", "claims", "client_id", "cc_type"]
    );
    let param = |name: &str| {
        refusal
            .params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .expect(name)
    };
    assert_eq!(param("authorization_uri"), AUTHORIZE);
    assert_eq!(param("client_id"), API_CLIENT_ID);
    assert_eq!(param("cc_type"), "authcontext");
    let claims = STANDARD.decode(param("claims")).expect("standard base64");
    let claims: Value = serde_json::from_slice(&claims).expect("claims JSON");
    assert_eq!(
        claims,
        json!({"access_token": {"acrs": {"essential": true, "value": "c1"}}})
    );
    // Exactly the value the README shows (standard, padded base64 of the compact JSON).
    assert_eq!(
        param("claims"),
        "eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19"
    );

    // xms_cc is matched case-insensitively and may hold other capabilities.
    let upper = VerifiedIdentity {
        xms_cc: strings(&["cp2", "CP1"]),
        ..user()
    };
    assert_eq!(
        reason(&policy, &upper, &get("/x")),
        Some(Reason::StepUpRequired)
    );
    // Another context in acrs does not satisfy c1.
    let other_context = VerifiedIdentity {
        acrs: strings(&["c2"]),
        ..capable.clone()
    };
    assert_eq!(
        reason(&policy, &other_context, &get("/x")),
        Some(Reason::StepUpRequired)
    );
    // The context in acrs satisfies it (whether or not the client is capable).
    for id in [&capable, &user()] {
        let satisfied = VerifiedIdentity {
            acrs: strings(&["c2", "c1"]),
            ..id.clone()
        };
        assert_eq!(reason(&policy, &satisfied, &get("/x")), None);
    }
}

#[test]
fn claims_challenge_names_the_routes_context() {
    let policy = one_route(json!({"step_up": {"auth_context": "c25"}}));
    let capable = VerifiedIdentity {
        xms_cc: strings(&["cp1"]),
        ..user()
    };
    let refusal = denial(&policy, &capable, &get("/x")).expect("challenge");
    let (_, claims) = refusal
        .params
        .iter()
        .find(|(n, _)| *n == "claims")
        .expect("claims");
    let claims: Value =
        serde_json::from_slice(&STANDARD.decode(claims).expect("b64")).expect("json");
    assert_eq!(claims["access_token"]["acrs"]["value"], "c25");
    // Without an API client id in the context the parameter is left out.
    let f = get("/x");
    let route = match policy.route_for(&f) {
        RouteChoice::Route(r) => r,
        other => panic!("{other:?}"),
    };
    let bare = ChallengeContext {
        authorization_uri: AUTHORIZE.into(),
        client_id: None,
    };
    let refusal = policy
        .authorize(route, &capable, &f, &bare)
        .refusal
        .expect("challenge");
    let names: Vec<&str> = refusal.params.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["authorization_uri", "claims", "cc_type"]);
}

#[test]
fn step_up_refusals_a_token_cannot_fix() {
    let policy = one_route(json!({"step_up": {"auth_context": "c1"}}));
    let refusal = denial(&policy, &user(), &get("/x")).expect("refused");
    assert_eq!(
        (refusal.reason, refusal.params.len()),
        (Reason::StepUpUnsupportedClient, 0),
        "no cp1 in xms_cc"
    );
    let with_cp1 = VerifiedIdentity {
        xms_cc: strings(&["cp1"]),
        ..app()
    };
    for id in [app(), with_cp1] {
        let refusal = denial(&policy, &id, &get("/x")).expect("refused");
        assert_eq!(
            (refusal.reason, refusal.params.len()),
            (Reason::StepUpAppOnly, 0)
        );
    }
    // Every kind of step-up refuses app-only tokens.
    for step_up in [json!({"mfa": true}), json!({"max_age_seconds": 600})] {
        let policy = one_route(json!({ "step_up": step_up }));
        assert_eq!(
            reason(&policy, &app(), &get("/x")),
            Some(Reason::StepUpAppOnly),
            "{step_up}"
        );
    }
}

#[test]
fn mfa_step_up() {
    let policy = one_route(json!({"step_up": {"mfa": true}}));
    assert_eq!(reason(&policy, &v1_user(), &get("/x")), None);
    let password_only = VerifiedIdentity {
        amr: strings(&["pwd"]),
        ..v1_user()
    };
    let refusal = denial(&policy, &password_only, &get("/x")).expect("refused");
    assert_eq!(refusal.reason, Reason::MfaRequired);
    assert_eq!(refusal.params, vec![("acr_values", "mfa".to_string())]);
    // v2 tokens carry no amr.
    assert_eq!(
        reason(&policy, &user(), &get("/x")),
        Some(Reason::MfaRequired)
    );
}

#[test]
fn max_age_step_up() {
    let policy = one_route(json!({"step_up": {"max_age_seconds": 300}}));
    let signed_in = |seconds_ago: i64| VerifiedIdentity {
        auth_time: Some(NOW - seconds_ago),
        ..user()
    };
    assert_eq!(reason(&policy, &signed_in(10), &get("/x")), None);
    assert_eq!(
        reason(&policy, &signed_in(300), &get("/x")),
        None,
        "exactly max_age"
    );
    for id in [signed_in(301), signed_in(86_400), user()] {
        let refusal = denial(&policy, &id, &get("/x")).expect("refused");
        assert_eq!(refusal.reason, Reason::AuthTooOld, "{:?}", id.auth_time);
        assert_eq!(refusal.params, vec![("max_age", "300".to_string())]);
    }
}

#[test]
fn step_up_parts_are_checked_context_then_mfa_then_age() {
    let policy =
        one_route(json!({"step_up": {"auth_context": "c1", "mfa": true, "max_age_seconds": 60}}));
    let base = VerifiedIdentity {
        xms_cc: strings(&["cp1"]),
        amr: strings(&["pwd"]),
        auth_time: Some(NOW - 3600),
        ..v1_user()
    };
    assert_eq!(
        reason(&policy, &base, &get("/x")),
        Some(Reason::StepUpRequired)
    );
    let with_context = VerifiedIdentity {
        acrs: strings(&["c1"]),
        ..base
    };
    assert_eq!(
        reason(&policy, &with_context, &get("/x")),
        Some(Reason::MfaRequired)
    );
    let with_mfa = VerifiedIdentity {
        amr: strings(&["pwd", "mfa"]),
        ..with_context
    };
    assert_eq!(
        reason(&policy, &with_mfa, &get("/x")),
        Some(Reason::AuthTooOld)
    );
    let fresh = VerifiedIdentity {
        auth_time: Some(NOW - 5),
        ..with_mfa
    };
    assert_eq!(reason(&policy, &fresh, &get("/x")), None);
}

// ---------------------------------------------------------------------------------------------
// Report-only

#[test]
fn report_only_moves_the_denial_to_would_deny() {
    let policy = load(json!({
        "optional_claims": ["acrs"],
        "api_client_id": API_CLIENT_ID,
        "routes": [
            {"name": "audit", "path": "/audit/**", "report_only": true, "require": {"scopes": {"any_of": ["audit.read"]}}},
            {"name": "geo", "path": "/geo", "report_only": true, "conditions": {"country": {"in": ["BE"]}}},
            {"name": "stepup", "path": "/stepup", "report_only": true, "step_up": {"auth_context": "c3"}},
            {"name": "public", "path": "/status", "public": true, "report_only": true, "conditions": {"ip": {"in": ["10.0.0.0/8"]}}},
            {"name": "enforced", "path": "/audit-enforced", "require": {"scopes": {"any_of": ["audit.read"]}}},
        ],
    }));
    let capable = VerifiedIdentity {
        xms_cc: strings(&["cp1"]),
        ..user()
    };
    for (path, want) in [
        ("/audit/log", Reason::InsufficientScope),
        ("/geo", Reason::ConditionCountry),
        ("/stepup", Reason::StepUpRequired),
        ("/status", Reason::ConditionIp),
    ] {
        let v = verdict(&policy, &capable, &get(path));
        assert_eq!(v.refusal, None, "{path} enforced");
        let found: Vec<Reason> = v.would_deny.iter().map(|r| r.reason).collect();
        assert_eq!(found, [want], "{path}");
    }
    // The finding keeps its challenge parameters (for the log), the enforced twin refuses.
    let v = verdict(&policy, &capable, &get("/audit/log"));
    assert_eq!(
        v.would_deny[0].params,
        vec![("scope", "audit.read".to_string())]
    );
    assert_eq!(
        reason(&policy, &capable, &get("/audit-enforced")),
        Some(Reason::InsufficientScope)
    );
    // Nothing to report when the route's rules hold.
    let auditor = VerifiedIdentity {
        scopes: strings(&["audit.read"]),
        ..user()
    };
    assert_eq!(
        verdict(&policy, &auditor, &get("/audit/x")),
        Verdict::default()
    );
}

// ---------------------------------------------------------------------------------------------
// Routes: precedence, methods, default, public

fn chosen<'p>(policy: &'p Policy, method: &str, path: &str) -> Option<&'p str> {
    match policy.route_for(&facts(method, path)) {
        RouteChoice::Route(r) => Some(r.name.as_str()),
        RouteChoice::DefaultAuthenticated => Some("<default>"),
        RouteChoice::Unmatched => None,
    }
}

#[test]
fn a_specific_route_after_a_broad_one_is_refused_as_shadowed() {
    for (earlier, later) in [
        (json!({"path": "/api/**"}), json!({"path": "/api/items/*"})),
        (json!({"path": "/api/**"}), json!({"path": "/api"})),
        (json!({"path": "/api/*"}), json!({"path": "/api/items"})),
        (json!({"path": "/**"}), json!({"path": "/"})),
        (json!({"path": "/a/*/c"}), json!({"path": "/a/b/c"})),
        (json!({"path": "/items"}), json!({"path": "/items"})),
        (
            json!({"path": "/api/**"}),
            json!({"path": "/api/**", "methods": ["POST"]}),
        ),
        (
            json!({"path": "/api/**", "methods": ["GET", "POST"]}),
            json!({"path": "/api/x", "methods": ["post"]}),
        ),
    ] {
        let doc = json!({"routes": [{"path": "/health", "public": true}, earlier, later]});
        let found = problems(&doc);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_problem(
            &found,
            &["routes[2]: never reached, routes[1] (", ") matches first"],
        );
    }
}

#[test]
fn a_broad_route_after_a_specific_one_is_fine_and_the_first_match_wins() {
    let policy = load(json!({"routes": [
        {"name": "export", "path": "/api/items/export", "methods": ["GET"]},
        {"name": "item", "path": "/api/items/*"},
        {"name": "reads", "path": "/api/**", "methods": ["GET", "HEAD"]},
        {"name": "writes", "path": "/api/**", "methods": ["POST", "PUT", "DELETE"]},
        {"name": "root", "path": "/"},
    ]}));
    for (method, path, want) in [
        ("GET", "/api/items/export", Some("export")),
        ("POST", "/api/items/export", Some("item")),
        ("GET", "/api/items/42", Some("item")),
        ("DELETE", "/api/items/42", Some("item")),
        ("GET", "/api/items/42/parts", Some("reads")),
        ("GET", "/api", Some("reads")),
        ("HEAD", "/api/other", Some("reads")),
        ("PUT", "/api/other", Some("writes")),
        ("PATCH", "/api/other", None),
        ("GET", "/", Some("root")),
        ("GET", "/apix", None),
        ("GET", "/api/items/", Some("reads")),
        ("GET", "/other", None),
    ] {
        assert_eq!(chosen(&policy, method, path), want, "{method} {path}");
    }
}

#[test]
fn methods_narrow_a_route_and_are_normalised() {
    let policy = load(json!({"routes": [
        {"name": "read", "path": "/items/**", "methods": ["get"]},
        // Not shadowed: the earlier route does not cover POST.
        {"name": "any", "path": "/items/**"},
    ]}));
    assert_eq!(
        policy.routes[0].methods.as_deref(),
        Some(&["GET".to_string()][..])
    );
    assert_eq!(chosen(&policy, "GET", "/items/1"), Some("read"));
    assert_eq!(chosen(&policy, "POST", "/items/1"), Some("any"));
    let found = problems(&json!({"routes": [{"path": "/a", "methods": ["GET", "FETCH"]}]}));
    assert_problem(
        &found,
        &["routes[0].methods: \"FETCH\" is not an HTTP method"],
    );
    let found = problems(&json!({"routes": [{"path": "/a", "methods": []}]}));
    assert_problem(&found, &["routes[0].methods: empty"]);
}

#[test]
fn unmatched_requests_are_denied_unless_the_default_is_authenticated() {
    let routes = json!([{"name": "items", "path": "/items/**", "methods": ["GET"]}]);
    for default in [None, Some("deny")] {
        let mut doc = json!({ "routes": routes });
        if let Some(d) = default {
            doc["default"] = json!(d);
        }
        let policy = load(doc);
        assert!(!policy.default_authenticated);
        assert_eq!(chosen(&policy, "GET", "/other"), None, "{default:?}");
        assert_eq!(chosen(&policy, "POST", "/items/1"), None, "{default:?}");
        assert_eq!(chosen(&policy, "GET", "/items/1"), Some("items"));
    }
    let policy = load(json!({ "default": "authenticated", "routes": routes }));
    assert!(policy.default_authenticated);
    assert_eq!(chosen(&policy, "GET", "/other"), Some("<default>"));
    assert_eq!(chosen(&policy, "GET", "/items/1"), Some("items"));
    // An empty route list with the default is a valid "any token" policy.
    let any = load(json!({ "default": "authenticated", "routes": [] }));
    assert_eq!(any.route_for(&get("/x")), RouteChoice::DefaultAuthenticated);
    let found = problems(&json!({ "default": "allow", "routes": [] }));
    assert_eq!(
        found,
        ["default: \"allow\" is not deny or authenticated".to_string()]
    );
}

#[test]
fn public_routes_need_no_token_but_keep_their_conditions() {
    let policy = load(json!({"routes": [
        {"name": "health", "path": "/health", "methods": ["GET"], "public": true},
        {"name": "docs", "path": "/docs/**", "public": true, "conditions": {"country": {"not_in": ["KP"]}}},
    ]}));
    let health = match policy.route_for(&get("/health")) {
        RouteChoice::Route(r) => r,
        other => panic!("{other:?}"),
    };
    assert!(health.public);
    assert_eq!(
        policy.public_conditions(health, &get("/health")),
        Verdict::default()
    );
    assert_eq!(chosen(&policy, "POST", "/health"), None);
    let mut from_kp = get("/docs/a");
    from_kp.country = Some("kp".into());
    let docs = match policy.route_for(&from_kp) {
        RouteChoice::Route(r) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        policy
            .public_conditions(docs, &from_kp)
            .refusal
            .map(|d| d.reason),
        Some(Reason::ConditionCountry)
    );
    assert_eq!(
        policy.public_conditions(docs, &get("/docs/a")),
        Verdict::default()
    );

    for (route, path) in [
        (
            json!({"path": "/p", "public": true, "require": {}}),
            "routes[0]: a public route cannot require anything of a token",
        ),
        (
            json!({"path": "/p", "public": true, "step_up": {"mfa": true}}),
            "routes[0]: a public route cannot require anything of a token",
        ),
        (
            json!({"path": "/p", "public": true, "conditions": {"ipaddr_matches_client": true}}),
            "routes[0].conditions: ipaddr_matches_client needs a token, and the route is public",
        ),
    ] {
        let found = problems(&json!({"optional_claims": ["ipaddr"], "routes": [route]}));
        assert_problem(&found, &[path]);
    }
}

// ---------------------------------------------------------------------------------------------
// CORS

fn preflight(origin: &str, method: &str) -> RequestFacts {
    RequestFacts {
        origin: Some(origin.into()),
        preflight_method: Some(method.into()),
        ..facts("OPTIONS", "/items/1")
    }
}

#[test]
fn cors_preflights() {
    let policy = load(json!({
        "cors": {
            "allowed_origins": ["https://app.contoso.example", "http://localhost:5173"],
            "allowed_methods": ["GET", "POST"],
            "allowed_headers": ["authorization", "content-type", "x-request-id"],
            "max_age_seconds": 300,
        },
        "routes": [{"path": "/items/**"}],
    }));
    assert_eq!(
        policy.preflight(&preflight("https://app.contoso.example", "POST")),
        Some(Preflight::Allow {
            headers: vec![
                (
                    "access-control-allow-origin",
                    "https://app.contoso.example".into()
                ),
                ("access-control-allow-methods", "GET, POST".into()),
                (
                    "access-control-allow-headers",
                    "authorization, content-type, x-request-id".into()
                ),
                ("access-control-max-age", "300".into()),
                ("vary", "Origin".into()),
            ]
        })
    );
    assert!(matches!(
        policy.preflight(&preflight("http://localhost:5173", "GET")),
        Some(Preflight::Allow { .. })
    ));
    for (origin, method) in [
        ("https://evil.example", "GET"),
        ("https://app.contoso.example.evil.example", "GET"),
        ("http://app.contoso.example", "GET"),
        ("https://app.contoso.example:8443", "GET"),
        ("null", "GET"),
        ("https://app.contoso.example", "DELETE"),
    ] {
        assert_eq!(
            policy.preflight(&preflight(origin, method)),
            Some(Preflight::Refuse),
            "{origin} {method}"
        );
    }
    // Not a preflight: no Access-Control-Request-Method, or no Origin.
    let mut plain = facts("OPTIONS", "/items/1");
    plain.origin = Some("https://app.contoso.example".into());
    assert_eq!(policy.preflight(&plain), None);
    plain.origin = None;
    plain.preflight_method = Some("GET".into());
    assert_eq!(policy.preflight(&plain), None);

    // The gateway's own answers carry the origin when it is allowed.
    let mut from = get("/items/1");
    from.origin = Some("https://app.contoso.example".into());
    assert_eq!(
        policy.cors_origin(&from).as_deref(),
        Some("https://app.contoso.example")
    );
    from.origin = Some("https://evil.example".into());
    assert_eq!(policy.cors_origin(&from), None);
    assert_eq!(policy.cors_origin(&get("/items/1")), None);
}

#[test]
fn cors_defaults_wildcard_and_absence() {
    let policy = load(json!({"cors": {"allowed_origins": ["*"]}, "routes": []}));
    match policy.preflight(&preflight("https://anyone.example", "DELETE")) {
        Some(Preflight::Allow { headers }) => assert_eq!(
            headers,
            vec![
                (
                    "access-control-allow-origin",
                    "https://anyone.example".to_string()
                ),
                (
                    "access-control-allow-methods",
                    "GET, POST, PUT, PATCH, DELETE".into()
                ),
                (
                    "access-control-allow-headers",
                    "authorization, content-type".into()
                ),
                ("access-control-max-age", "600".into()),
                ("vary", "Origin".into()),
            ]
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        policy.preflight(&preflight("https://anyone.example", "TRACE")),
        Some(Preflight::Refuse)
    );
    let mut from = get("/");
    from.origin = Some("https://anyone.example".into());
    assert_eq!(
        policy.cors_origin(&from).as_deref(),
        Some("https://anyone.example")
    );

    // A policy without cors refuses every preflight and adds no CORS headers.
    let none = load(json!({"routes": [{"path": "/**"}]}));
    assert_eq!(
        none.preflight(&preflight("https://app.contoso.example", "GET")),
        Some(Preflight::Refuse)
    );
    assert_eq!(none.cors_origin(&from), None);

    for (origin, bad) in [
        ("https://app.example.com/", true),
        ("https://app.example.com/path", true),
        ("https://App.example.com", true),
        ("app.example.com", true),
        ("https://app.example.com", false),
        ("http://127.0.0.1:8080", false),
    ] {
        let doc = json!({"cors": {"allowed_origins": [origin]}, "routes": []});
        let auds = audiences();
        let result = Policy::parse(&doc.to_string(), deployment(&auds, true, true));
        match (result, bad) {
            (Err(found), true) => assert_problem(
                &texts(&found),
                &["cors.allowed_origins:", "is not an origin"],
            ),
            (Ok(_), false) => {}
            (other, _) => panic!("{origin}: {other:?}"),
        }
    }
    assert_problem(
        &problems(&json!({"cors": {"allowed_origins": []}, "routes": []})),
        &["cors.allowed_origins: empty"],
    );
}

// ---------------------------------------------------------------------------------------------
// The loader: every problem with its path

#[test]
fn a_broken_policy_reports_every_problem_with_its_path() {
    let doc = json!({
        "default": "allow",
        "api_client_id": "not-a-guid",
        "cors": {"allowed_origins": ["https://app.example.com/path"]},
        "routes": [
            {"path": "items"},
            {"path": "/a", "methods": ["GET", "FETCH"]},
            {"path": "/b", "require": {"scopes": {"any_of": []}}},
            {"path": "/c", "require": {"roles": {"any_of": ["X"], "all_of": ["Y"]}}},
            {"path": "/d", "require": {"token_kind": "robot"}},
            {"path": "/e", "require": {"apps": ["my-app"]}},
            {"path": "/f", "require": {"client_auth": "password"}},
            {"path": "/g", "require": {"tenants": ["contoso.onmicrosoft.com"]}},
            {"path": "/h", "require": {"claims": [{"name": "groups", "one_of": []}]}},
            {"path": "/i", "step_up": {"auth_context": "c100"}},
            {"path": "/j", "step_up": {}},
            {"path": "/k", "conditions": {"all": [
                {"ip": {"in": ["10.0.0.0/33"]}},
                {"country": {"in": ["NLD"]}},
                {"time": {"days": ["funday"], "from": "9:00"}},
                {"any": []},
                {"asn": {"in": [1], "not_in": [2]}},
            ]}},
            {"path": "/l", "public": true, "require": {"scopes": {"any_of": ["x"]}}},
            {"path": "/m/**"},
            {"path": "/m/n"},
            {"path": "/o", "methods": ["GET"]},
            {"path": "/o/**", "methods": ["GET", "POST"]},
        ],
    });
    let found = problems(&doc);
    let expected: &[&[&str]] = &[
        &["default: \"allow\" is not deny or authenticated"],
        &["api_client_id: \"not-a-guid\" is not a GUID"],
        &["cors.allowed_origins: \"https://app.example.com/path\" is not an origin"],
        &["routes[0].path: must start with /"],
        &["routes[1].methods: \"FETCH\" is not an HTTP method"],
        &["routes[2].require.scopes.any_of: empty (can never hold)"],
        &["routes[3].require.roles: give exactly one of any_of / all_of"],
        &["routes[4].require.token_kind: \"robot\" is not user or app"],
        &["routes[5].require.apps: \"my-app\" is not a GUID"],
        &["routes[6].require.client_auth: \"password\" is not public, secret or certificate"],
        &["routes[7].require.tenants: \"contoso.onmicrosoft.com\" is not a GUID"],
        &["routes[8].require.claims[0].one_of: empty (can never hold)"],
        &["routes[9].step_up.auth_context: \"c100\" is not c1..c99"],
        &["routes[9].step_up.auth_context: needs the optional claim acrs"],
        &["routes[9].step_up.auth_context: the claims challenge needs api_client_id"],
        &["routes[10].step_up: asks for nothing"],
        &["routes[11].conditions.all[0].ip: \"10.0.0.0/33\" is not a CIDR range or address"],
        &["routes[11].conditions.all[1].country: \"NLD\" is not a two-letter country code"],
        &["routes[11].conditions.all[2].time.days: \"funday\" is not mon..sun"],
        &["routes[11].conditions.all[2].time: from/to must be HH:MM (UTC)"],
        // No valid day is left, so the window is empty too.
        &["routes[11].conditions.all[2].time: the window is empty (can never hold)"],
        &["routes[11].conditions.all[3].any: empty (can never hold)"],
        &["routes[11].conditions.all[4].asn: give exactly one of in / not_in"],
        &["routes[12]: a public route cannot require anything of a token"],
        &["routes[14]: never reached, routes[13] (/m/**) matches first"],
    ];
    for fragments in expected {
        assert_problem(&found, fragments);
    }
    // Nothing reported twice, nothing unexplained.
    let mut unique = found.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), found.len(), "duplicates in {found:#?}");
    for p in &found {
        assert!(
            expected.iter().any(|f| f.iter().all(|f| p.contains(f))),
            "unexpected problem {p:?}"
        );
    }
}

#[test]
fn the_loader_refuses_rules_that_can_never_hold() {
    let v2_only = |doc: Value| problems_with(&doc, false, true);
    // mfa reads amr, which only v1 tokens carry.
    assert_problem(
        &v2_only(json!({"routes": [{"path": "/p", "step_up": {"mfa": true}}]})),
        &["routes[0].step_up.mfa: amr is only in v1 tokens"],
    );
    let auds = audiences();
    let mfa = json!({"routes": [{"path": "/p", "step_up": {"mfa": true}}]}).to_string();
    assert!(Policy::parse(&mfa, deployment(&auds, true, false)).is_ok());
    assert!(Policy::parse(&mfa, deployment(&auds, true, true)).is_ok());
    // Step-up never applies to app-only tokens.
    assert_problem(
        &problems(&json!({"optional_claims": ["auth_time"], "routes": [
            {"path": "/p", "require": {"token_kind": "app"}, "step_up": {"max_age_seconds": 60}}
        ]})),
        &["routes[0].step_up: app-only route, and step-up never applies to app-only tokens"],
    );
    // auth_context needs acrs, max_age needs auth_time in the optional claims.
    assert_problem(
        &problems(
            &json!({"optional_claims": ["auth_time"], "routes": [{"path": "/p", "step_up": {"auth_context": "c1"}}]}),
        ),
        &["routes[0].step_up.auth_context: needs the optional claim acrs"],
    );
    assert_problem(
        &problems(
            &json!({"optional_claims": ["acrs"], "routes": [{"path": "/p", "step_up": {"max_age_seconds": 60}}]}),
        ),
        &["routes[0].step_up.max_age_seconds: needs the optional claim auth_time"],
    );
    // ipaddr is in v1 tokens always, in v2 tokens only as an optional claim.
    let bound = json!({"routes": [{"path": "/p", "conditions": {"not": {"not": {"ipaddr_matches_client": true}}}}]});
    assert_problem(
        &v2_only(bound.clone()),
        &["routes[0].conditions: v2 tokens carry ipaddr only as an optional claim"],
    );
    assert!(Policy::parse(&bound.to_string(), deployment(&auds, true, true)).is_ok());
    let mut listed = bound;
    listed["optional_claims"] = json!(["ipaddr"]);
    assert!(Policy::parse(&listed.to_string(), deployment(&auds, false, true)).is_ok());
    // Empty lists and empty combinators.
    for (route, problem) in [
        (
            json!({"require": {"scopes": {"any_of": []}}}),
            "routes[0].require.scopes.any_of: empty (can never hold)",
        ),
        (
            json!({"require": {"scopes": {"all_of": []}}}),
            "routes[0].require.scopes.all_of: empty (can never hold)",
        ),
        (
            json!({"require": {"roles": {"any_of": []}}}),
            "routes[0].require.roles.any_of: empty (can never hold)",
        ),
        (
            json!({"require": {"apps": []}}),
            "routes[0].require.apps: empty (can never hold)",
        ),
        (
            json!({"require": {"tenants": []}}),
            "routes[0].require.tenants: empty (can never hold)",
        ),
        (
            json!({"require": {"scopes": {}}}),
            "routes[0].require.scopes: give exactly one of any_of / all_of",
        ),
        (
            json!({"conditions": {"any": []}}),
            "routes[0].conditions.any: empty (can never hold)",
        ),
        (
            json!({"conditions": {"not": {"any": []}}}),
            "routes[0].conditions.not.any: empty (can never hold)",
        ),
        (
            json!({"conditions": {"time": {"days": []}}}),
            "routes[0].conditions.time: the window is empty (can never hold)",
        ),
        (
            json!({"conditions": {"time": {"from": "09:00", "to": "09:00"}}}),
            "routes[0].conditions.time: the window is empty (can never hold)",
        ),
        (
            json!({"conditions": {"time": {"from": "24:01"}}}),
            "routes[0].conditions.time: from/to must be HH:MM (UTC)",
        ),
        (
            json!({"conditions": {"ipaddr_matches_client": false}}),
            "routes[0].conditions.ipaddr_matches_client: only true is meaningful",
        ),
        (
            json!({"require": {"token_kind": "app", "scopes": {"any_of": ["items.read"]}}}),
            "routes[0].require: app-only tokens carry no scopes (can never hold)",
        ),
    ] {
        let mut r = route;
        r["path"] = json!("/p");
        assert_problem(&problems(&json!({"routes": [r]})), &[problem]);
    }
    // App-only with scopes and roles is the "either" form, which an app token can satisfy.
    load(
        json!({"routes": [{"path": "/p", "require": {"token_kind": "app", "scopes": {"any_of": ["s"]}, "roles": {"any_of": ["R"]}}}]}),
    );
}

/// An `in` list with no entries can never hold, exactly like an empty `any_of` or `any`, so the
/// loader must refuse it. (A `not_in` list with no entries always holds and is harmless.)
#[test]
fn empty_condition_sets_can_never_hold() {
    let mut bugs = Vec::new();
    for (set, problem) in [
        (json!({"ip": {"in": []}}), "routes[0].conditions.ip"),
        (
            json!({"country": {"in": []}}),
            "routes[0].conditions.country",
        ),
        (json!({"asn": {"in": []}}), "routes[0].conditions.asn"),
        (
            json!({"all": [{"country": {"in": ["NL"]}}, {"ip": {"in": []}}]}),
            "routes[0].conditions.all[1].ip",
        ),
    ] {
        let doc = json!({"routes": [{"path": "/p", "conditions": set}]});
        let auds = audiences();
        match Policy::parse(&doc.to_string(), deployment(&auds, true, true)) {
            Err(found) => assert_problem(&texts(&found), &[problem, "empty"]),
            Ok(policy) => {
                let refused = reason(&policy, &user(), &get("/p"));
                bugs.push(format!(
                    "{set} loaded, and refuses every request ({refused:?})"
                ));
            }
        }
    }
    assert!(
        bugs.is_empty(),
        "rules that can never hold were accepted:\n{}",
        bugs.join("\n")
    );
}

/// A route whose path is invalid is reported for its path, and nothing else: its stand-in
/// pattern must not take part in the shadowing lint (it would name a path the policy never had).
#[test]
fn invalid_paths_cause_no_phantom_shadow_problems() {
    let mut bugs = Vec::new();
    for (routes, invalid) in [
        (
            json!([{"path": "items"}, {"path": "/o/**/p"}]),
            &["routes[0].path: ", "routes[1].path: "][..],
        ),
        (
            json!([{"path": "/"}, {"path": "no-slash"}]),
            &["routes[1].path: "][..],
        ),
        (
            json!([{"path": "/a*"}, {"path": "/"}]),
            &["routes[0].path: "][..],
        ),
    ] {
        let found = problems(&json!({ "routes": routes }));
        for path in invalid {
            assert_problem(&found, &[path]);
        }
        bugs.extend(
            found
                .iter()
                .filter(|p| p.contains("never reached"))
                .map(|p| format!("{routes}: {p:?}")),
        );
    }
    assert!(
        bugs.is_empty(),
        "phantom shadow problems:\n{}",
        bugs.join("\n")
    );
}

#[test]
fn unknown_members_are_refused() {
    for doc in [
        json!({"routes": [], "route": []}),
        json!({"routes": [{"path": "/p", "require_scopes": ["x"]}]}),
        json!({"routes": [{"path": "/p", "require": {"scope": {"any_of": ["x"]}}}]}),
        json!({"routes": [{"path": "/p", "require": {"scopes": {"one_of": ["x"]}}}]}),
        json!({"routes": [{"path": "/p", "require": {"claims": [{"name": "g", "one_of": ["x"], "any_of": ["y"]}]}}]}),
        json!({"routes": [{"path": "/p", "step_up": {"acr": "c1"}}]}),
        json!({"routes": [{"path": "/p", "conditions": {"ip": {"in": ["10.0.0.0/8"], "except": []}}}]}),
        json!({"routes": [{"path": "/p", "conditions": {"time": {"from": "08:00", "timezone": "Europe/Amsterdam"}}}]}),
        json!({"routes": [{"path": "/p", "conditions": {"region": {"in": ["EU"]}}}]}),
        json!({"cors": {"allowed_origins": ["*"], "allow_credentials": true}, "routes": []}),
    ] {
        let found = problems(&doc);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("policy: unknown field")
                || found[0].starts_with("policy: unknown variant"),
            "{doc}: {found:?}"
        );
    }
    // Required members and JSON syntax.
    // `routes` may be omitted: `{"default": "authenticated"}` alone is a policy.
    let minimal = load(json!({"default": "authenticated"}));
    assert!(minimal.routes.is_empty() && minimal.default_authenticated);
    assert_problem(
        &problems(&json!({"routes": [{"name": "x"}]})),
        &["policy: missing field `path`"],
    );
    let auds = audiences();
    let err = Policy::parse("{\"routes\": [", deployment(&auds, true, true)).unwrap_err();
    assert!(
        err.len() == 1 && err[0].to_string().starts_with("policy: "),
        "{err:?}"
    );
}

#[test]
fn size_limits() {
    let routes =
        |n: usize| -> Vec<Value> { (0..n).map(|i| json!({"path": format!("/r{i}")})).collect() };
    let at_limit = load(json!({ "routes": routes(MAX_ROUTES) }));
    assert_eq!(at_limit.routes.len(), MAX_ROUTES);
    assert_eq!(
        problems(&json!({ "routes": routes(MAX_ROUTES + 1) })),
        [format!(
            "routes: {} routes exceed {MAX_ROUTES}",
            MAX_ROUTES + 1
        )]
    );

    let big = json!({"routes": [], "default": "x".repeat(MAX_POLICY_BYTES)}).to_string();
    let auds = audiences();
    let err = Policy::parse(&big, deployment(&auds, true, true)).unwrap_err();
    assert_eq!(
        texts(&err),
        [format!(
            "policy: {} bytes exceed {MAX_POLICY_BYTES}",
            big.len()
        )]
    );

    let many_apps: Vec<String> = (0..=MAX_LIST_ENTRIES)
        .map(|i| format!("00000000-0000-4000-8000-{i:012x}"))
        .collect();
    assert_problem(
        &problems(&json!({"routes": [{"path": "/p", "require": {"apps": many_apps}}]})),
        &[&format!(
            "routes[0].require.apps: {} entries exceed {MAX_LIST_ENTRIES}",
            MAX_LIST_ENTRIES + 1
        )],
    );

    // Condition nodes are counted over the whole policy (each set entry is a node).
    // Five routes of 1,000 networks each: every list within its limit, 5,005 nodes in all.
    let asns: Vec<u32> = (0..1000).collect();
    let routes: Vec<Value> = (0..5)
        .map(|i| json!({"path": format!("/n{i}"), "conditions": {"asn": {"in": asns}}}))
        .collect();
    let found = problems(&json!({ "routes": routes }));
    assert_eq!(
        found,
        [format!(
            "routes: 5005 condition nodes exceed {MAX_CONDITION_NODES}"
        )]
    );
    load(json!({"routes": routes[..4]}));
}

/// README: "at most 256 routes, 4,096 condition nodes, 1,024 entries per list". Condition sets
/// (`ip`, `country`, `asn`) are lists too, and must be held to the same limit.
#[test]
fn condition_sets_obey_the_list_limit() {
    let asns: Vec<u32> = (0..=MAX_LIST_ENTRIES as u32).collect();
    let countries: Vec<String> = (0..=MAX_LIST_ENTRIES)
        .map(|i| {
            format!(
                "{}{}",
                (b'A' + (i / 26 % 26) as u8) as char,
                (b'A' + (i % 26) as u8) as char
            )
        })
        .collect();
    let ips: Vec<String> = (0..=MAX_LIST_ENTRIES)
        .map(|i| format!("10.{}.{}.0/24", i / 256, i % 256))
        .collect();
    let mut bugs = Vec::new();
    for (set, path) in [
        (json!({"asn": {"in": asns}}), "routes[0].conditions.asn"),
        (
            json!({"country": {"not_in": countries}}),
            "routes[0].conditions.country",
        ),
        (json!({"ip": {"in": ips}}), "routes[0].conditions.ip"),
    ] {
        let doc = json!({"routes": [{"path": "/p", "conditions": set}]});
        let auds = audiences();
        match Policy::parse(&doc.to_string(), deployment(&auds, true, true)) {
            Err(found) => assert_problem(
                &texts(&found),
                &[
                    path,
                    &format!("{} entries exceed {MAX_LIST_ENTRIES}", MAX_LIST_ENTRIES + 1),
                ],
            ),
            Ok(_) => bugs.push(format!("{path}: {} entries loaded", MAX_LIST_ENTRIES + 1)),
        }
    }
    assert!(
        bugs.is_empty(),
        "over-long condition sets accepted:\n{}",
        bugs.join("\n")
    );
}

#[test]
fn api_client_id_defaults_to_the_first_guid_audience() {
    let doc = json!({"routes": []});
    let auds = vec![API_URI.to_string(), API_CLIENT_ID.to_uppercase()];
    let p = Policy::parse(&doc.to_string(), deployment(&auds, true, true)).expect("loads");
    assert_eq!(p.api_client_id.as_deref(), Some(API_CLIENT_ID));
    let uri_only = vec![API_URI.to_string()];
    let p = Policy::parse(&doc.to_string(), deployment(&uri_only, true, true)).expect("loads");
    assert_eq!(p.api_client_id, None);
    let explicit = json!({"api_client_id": OTHER_CLIENT.to_uppercase(), "routes": []});
    let p = Policy::parse(&explicit.to_string(), deployment(&auds, true, true)).expect("loads");
    assert_eq!(p.api_client_id.as_deref(), Some(OTHER_CLIENT));
    // auth_context works with the audience's GUID, and without any GUID it is refused.
    let ctx_route = json!({"optional_claims": ["acrs"], "routes": [{"path": "/p", "step_up": {"auth_context": "c1"}}]});
    assert!(Policy::parse(&ctx_route.to_string(), deployment(&auds, true, true)).is_ok());
    let found =
        Policy::parse(&ctx_route.to_string(), deployment(&uri_only, true, true)).unwrap_err();
    assert_problem(
        &texts(&found),
        &["routes[0].step_up.auth_context: the claims challenge needs api_client_id"],
    );
}

#[test]
fn policy_problems_reach_the_configuration_with_the_binding_name() {
    let lookup = |policy: String, versions: &'static str| {
        let map: HashMap<&str, String> = HashMap::from([
            (binding::TENANT_ID, TID.to_string()),
            (binding::AUDIENCES, format!("{API_URI},{API_CLIENT_ID}")),
            (binding::ORIGIN_URL, "https://origin.example".to_string()),
            (binding::TOKEN_VERSIONS, versions.to_string()),
            (binding::POLICY, policy),
            (
                binding::SECRET,
                "dGVzdC1vbmx5LWdhdGUtc2VjcmV0LTMyLWJ5dGVzISE=".to_string(),
            ),
        ]);
        from_bindings(move |name| map.get(name).cloned())
    };
    let broken = json!({"routes": [
        {"path": "/p", "step_up": {"mfa": true}},
        {"path": "/q", "conditions": {"ipaddr_matches_client": true}},
        {"path": "nope"},
    ]})
    .to_string();
    let found: Vec<String> = lookup(broken.clone(), "2.0")
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    for expected in [
        "GATE_POLICY: routes[0].step_up.mfa:",
        "GATE_POLICY: routes[1].conditions: v2 tokens carry ipaddr only",
        "GATE_POLICY: routes[2].path: must start with /",
    ] {
        assert!(
            found.iter().any(|p| p.starts_with(expected)),
            "{expected} in {found:#?}"
        );
    }
    assert_eq!(found.len(), 3, "{found:#?}");
    // Accepting v1 too, only the path is wrong.
    let found = lookup(broken, "1.0,2.0").unwrap_err();
    assert_eq!(found.len(), 1, "{found:?}");
    // A good policy reaches the configuration, with the audience GUID as the API's client id.
    let config = lookup(
        json!({"routes": [{"path": "/**", "require": {"claims": [{"name": "groups", "one_of": ["g"]}]}}]}).to_string(),
        "2.0",
    )
    .expect("valid");
    let policy = config.policy;
    assert_eq!(policy.api_client_id.as_deref(), Some(API_CLIENT_ID));
    assert_eq!(policy.extra_claims, ["groups"]);
}

// ---------------------------------------------------------------------------------------------
// Revocation list

#[test]
fn revocation_entries_by_token_user_and_app() {
    let list = RevocationList::new([
        "uti:revoked-token".to_string(),
        format!("user:{TID}:{OID}"),
        format!("app:{OTHER_CLIENT}"),
    ]);
    let token = VerifiedIdentity {
        token_id: Some("revoked-token".into()),
        object_id: "11111111-1111-4111-8111-111111111111".into(),
        ..user()
    };
    assert_eq!(list.revoked(&token), Some("uti"));
    assert_eq!(list.revoked(&user()), Some("user"));
    let other_user = VerifiedIdentity {
        object_id: "11111111-1111-4111-8111-111111111111".into(),
        ..user()
    };
    assert_eq!(list.revoked(&other_user), None);
    let same_oid_other_tenant = VerifiedIdentity {
        tenant_id: OTHER_TID.into(),
        ..user()
    };
    assert_eq!(list.revoked(&same_oid_other_tenant), None);
    let app = VerifiedIdentity {
        client_id: OTHER_CLIENT.into(),
        ..other_user.clone()
    };
    assert_eq!(list.revoked(&app), Some("app"));
    let no_uti = VerifiedIdentity {
        token_id: None,
        ..other_user
    };
    assert_eq!(list.revoked(&no_uti), None);
}

// ---------------------------------------------------------------------------------------------
// Answers

fn answer(reason: Reason, params: &[(&str, String)]) -> (u16, Option<String>, Value) {
    let a = refuse_with(
        reason,
        params,
        crate::Challenger {
            realm: "contoso-api",
            resource_metadata: None,
        },
        "req-1",
    );
    let body: Value = serde_json::from_str(&a.body).expect("problem JSON");
    assert_eq!(body["reason"], reason.code());
    assert_eq!(body["status"], a.status);
    assert_eq!(body["request_id"], "req-1");
    assert_eq!(body["detail"], reason.description());
    (a.status, a.www_authenticate, body)
}

#[test]
fn authorization_answers() {
    let (status, challenge, _) = answer(
        Reason::InsufficientScope,
        &[("scope", "items.write admin".into())],
    );
    assert_eq!(status, 403);
    assert_eq!(
        challenge.as_deref(),
        Some("Bearer realm=\"contoso-api\", error=\"insufficient_scope\", error_description=\"the token lacks a required scope\", scope=\"items.write admin\"")
    );

    for reason in [
        Reason::InsufficientRole,
        Reason::TokenKindNotAllowed,
        Reason::ClientNotAllowed,
        Reason::ClientAuthTooWeak,
        Reason::RouteTenantNotAllowed,
        Reason::ClaimMismatch,
    ] {
        let (status, challenge, _) = answer(reason, &[]);
        assert_eq!(status, 403, "{reason}");
        assert_eq!(
            challenge,
            Some(format!(
                "Bearer realm=\"contoso-api\", error=\"insufficient_scope\", error_description=\"{}\"",
                reason.description()
            )),
            "{reason}"
        );
    }

    // The step-up challenge, with the parameters the policy produced, in their order.
    let policy = one_route(json!({"step_up": {"auth_context": "c1"}}));
    let capable = VerifiedIdentity {
        xms_cc: strings(&["cp1"]),
        ..user()
    };
    let refusal = denial(&policy, &capable, &get("/x")).expect("challenge");
    let (status, challenge, _) = answer(refusal.reason, &refusal.params);
    assert_eq!(status, 401);
    let claims = STANDARD.encode(r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#);
    assert_eq!(
        challenge.as_deref(),
        Some(format!(
            "Bearer realm=\"contoso-api\", error=\"insufficient_claims\", error_description=\"a stronger authentication context is required\", authorization_uri=\"{AUTHORIZE}\", claims=\"{claims}\", client_id=\"{API_CLIENT_ID}\", cc_type=\"authcontext\""
        ).as_str())
    );

    let (status, challenge, _) = answer(Reason::MfaRequired, &[("acr_values", "mfa".into())]);
    assert_eq!(status, 401);
    assert_eq!(
        challenge.as_deref(),
        Some("Bearer realm=\"contoso-api\", error=\"insufficient_user_authentication\", error_description=\"multi-factor authentication is required\", acr_values=\"mfa\"")
    );
    let (status, challenge, _) = answer(Reason::AuthTooOld, &[("max_age", "300".into())]);
    assert_eq!(status, 401);
    assert_eq!(
        challenge.as_deref(),
        Some("Bearer realm=\"contoso-api\", error=\"insufficient_user_authentication\", error_description=\"a more recent sign-in is required\", max_age=\"300\"")
    );

    // Refusals a token cannot fix: 403 without a challenge.
    for reason in [
        Reason::StepUpUnsupportedClient,
        Reason::StepUpAppOnly,
        Reason::ConditionIp,
        Reason::ConditionCountry,
        Reason::ConditionAsn,
        Reason::ConditionTime,
        Reason::ConditionIpaddr,
        Reason::NoRoute,
        Reason::CorsNotAllowed,
    ] {
        let (status, challenge, body) = answer(reason, &[]);
        assert_eq!((status, challenge), (403, None), "{reason}");
        assert_eq!(body["title"], "Forbidden");
    }

    // A revoked token is an invalid token; an unreadable list is the gateway's trouble.
    let (status, challenge, _) = answer(Reason::TokenRevoked, &[]);
    assert_eq!(status, 401);
    assert_eq!(
        challenge.as_deref(),
        Some("Bearer realm=\"contoso-api\", error=\"invalid_token\", error_description=\"the token has been revoked\"")
    );
    let (status, challenge, _) = answer(Reason::RevocationUnavailable, &[]);
    assert_eq!((status, challenge), (503, None));
}

/// README, policy answers: `revocation_unavailable` is "503 + `Retry-After`", like
/// `keys_unavailable`: the gateway's own trouble, which a client should retry later.
#[test]
fn revocation_unavailable_asks_the_client_to_retry() {
    let keys = refuse_with(
        Reason::KeysUnavailable,
        &[],
        crate::Challenger {
            realm: "contoso-api",
            resource_metadata: None,
        },
        "r",
    );
    assert_eq!((keys.status, keys.retry_after_seconds), (503, Some(30)));
    let revocation = refuse_with(
        Reason::RevocationUnavailable,
        &[],
        crate::Challenger {
            realm: "contoso-api",
            resource_metadata: None,
        },
        "r",
    );
    assert_eq!(revocation.status, 503);
    assert!(
        revocation.retry_after_seconds.is_some(),
        "503 revocation_unavailable without Retry-After"
    );
}

#[test]
fn challenge_parameters_are_quoted() {
    let (_, challenge, _) = answer(Reason::InsufficientScope, &[("scope", "a\"b\\c".into())]);
    assert!(
        challenge
            .expect("challenge")
            .ends_with(r#", scope="a\"b\\c""#),
        "quotes and backslashes escaped"
    );
}

#[test]
fn the_edge_is_told_which_request_facts_the_rules_read() {
    use entra_gate_core::ConditionKind;
    let none = one_route(json!({ "require": { "scopes": { "any_of": ["items.read"] } } }));
    for kind in [
        ConditionKind::Ip,
        ConditionKind::Country,
        ConditionKind::Asn,
    ] {
        assert!(
            !none.uses(kind),
            "{kind:?} read by a policy without conditions"
        );
    }
    let nested = one_route(json!({
        "require": { "scopes": { "any_of": ["items.read"] } },
        "conditions": { "any": [
            { "not": { "country": { "in": ["KP"] } } },
            { "ip": { "in": ["10.0.0.0/8"] } }
        ] }
    }));
    assert!(
        nested.uses(ConditionKind::Country),
        "country inside not/any"
    );
    assert!(nested.uses(ConditionKind::Ip), "ip inside any");
    assert!(!nested.uses(ConditionKind::Asn), "no asn rule");
}

// ---------------------------------------------------------------------------------------------
// Secure defaults: a token must carry a scope or an app role unless a route says otherwise

/// An app-only token from some app in the tenant that was granted nothing.
fn app_without_roles() -> VerifiedIdentity {
    VerifiedIdentity {
        roles: Vec::new(),
        ..app()
    }
}

#[test]
fn tokens_without_scopes_or_roles_are_refused_unless_a_route_allows_them() {
    let bare = app_without_roles();
    let open = one_route(json!({}));
    assert_eq!(
        reason(&open, &bare, &get("/x")),
        Some(Reason::NoPermissions)
    );
    assert_eq!(reason(&open, &app(), &get("/x")), None, "a role is enough");
    assert_eq!(
        reason(&open, &user(), &get("/x")),
        None,
        "a scope is enough"
    );
    let only_roles = VerifiedIdentity {
        scopes: Vec::new(),
        roles: strings(&["Items.Read"]),
        ..user()
    };
    assert_eq!(reason(&open, &only_roles, &get("/x")), None);

    let allowed = one_route(json!({"allow_tokens_without_permissions": true}));
    assert_eq!(
        reason(&allowed, &bare, &get("/x")),
        None,
        "the route opts out"
    );

    // Requirements that already name scopes or roles answer with what is missing.
    let scoped = one_route(json!({"require": {"roles": {"any_of": ["Items.Read"]}}}));
    assert_eq!(
        reason(&scoped, &bare, &get("/x")),
        Some(Reason::InsufficientRole)
    );
    // Other requirements come first, as before.
    let kind = one_route(json!({"require": {"token_kind": "user"}}));
    assert_eq!(
        reason(&kind, &bare, &get("/x")),
        Some(Reason::TokenKindNotAllowed)
    );
}

#[test]
fn the_policy_wide_opt_out_is_the_default_for_routes_and_for_default_authenticated() {
    let bare = app_without_roles();
    let policy = load(json!({
        "default": "authenticated",
        "allow_tokens_without_permissions": true,
        "routes": [
            {"name": "inherits", "path": "/a"},
            {"name": "strict", "path": "/b", "allow_tokens_without_permissions": false},
        ],
    }));
    assert_eq!(reason(&policy, &bare, &get("/a")), None);
    assert_eq!(
        reason(&policy, &bare, &get("/b")),
        Some(Reason::NoPermissions)
    );
    assert_eq!(
        policy.route_for(&get("/c")),
        RouteChoice::DefaultAuthenticated
    );
    assert_eq!(policy.authorize_default(&bare), Verdict::default());

    let strict = load(json!({"default": "authenticated"}));
    assert_eq!(
        strict.authorize_default(&bare).refusal.map(|d| d.reason),
        Some(Reason::NoPermissions)
    );
    assert_eq!(strict.authorize_default(&user()), Verdict::default());

    // No policy at all behaves as `{"default": "authenticated"}`.
    let absent = Policy::without_routes();
    assert_eq!(
        absent.route_for(&get("/any")),
        RouteChoice::DefaultAuthenticated
    );
    assert_eq!(
        absent.authorize_default(&bare).refusal.map(|d| d.reason),
        Some(Reason::NoPermissions)
    );
    assert_eq!(absent.authorize_default(&app()), Verdict::default());
}

#[test]
fn a_public_route_cannot_speak_about_tokens_it_never_reads() {
    assert_problem(
        &problems(
            &json!({"routes": [{"path": "/p", "public": true, "allow_tokens_without_permissions": true}]}),
        ),
        &["routes[0].allow_tokens_without_permissions"],
    );
}

#[test]
fn case_insensitive_paths_are_chosen_for_the_whole_policy() {
    let doc = |fold: bool| {
        json!({
            "case_insensitive_paths": fold,
            "routes": [
                {"name": "admin", "path": "/api/admin/**", "require": {"roles": {"any_of": ["Admin"]}}},
                {"name": "api", "path": "/api/**"},
            ],
        })
    };
    let exact = load(doc(false));
    assert_eq!(chosen(&exact, "GET", "/API/Admin/users"), None);
    assert_eq!(chosen(&exact, "GET", "/api/Admin/users"), Some("api"));
    let folded = load(doc(true));
    assert_eq!(chosen(&folded, "GET", "/API/Admin/users"), Some("admin"));
    assert_eq!(chosen(&folded, "GET", "/api/ADMIN"), Some("admin"));
    assert_eq!(
        reason(&folded, &user(), &get("/Api/Admin/x")),
        Some(Reason::InsufficientRole)
    );
    // Shadowing is judged the same way.
    assert_problem(
        &problems(&json!({
            "case_insensitive_paths": true,
            "routes": [{"path": "/API/**"}, {"path": "/api/items"}],
        })),
        &["routes[1]: never reached"],
    );
}

#[test]
fn group_rules_need_the_groups_claim_and_object_ids() {
    let route = |groups: Value| json!({"path": "/g", "require": {"groups": groups}});
    let unlisted = problems(&json!({"routes": [route(json!({"any_of": [GROUP_A]}))]}));
    assert_eq!(unlisted.len(), 1, "{unlisted:#?}");
    assert_problem(
        &unlisted,
        &["routes[0].require.groups", "groupMembershipClaims"],
    );
    let listed = |groups: Value| {
        problems(&json!({"optional_claims": ["groups"], "routes": [route(groups)]}))
    };
    let fine = load(
        json!({"optional_claims": ["groups"], "routes": [route(json!({"all_of": [GROUP_A, GROUP_B.to_uppercase()]}))]}),
    );
    assert_eq!(
        fine.routes[0].require.groups,
        Some(super::Need::AllOf(vec![GROUP_A.into(), GROUP_B.into()])),
        "object ids kept lower case"
    );
    let named = listed(json!({"any_of": ["Finance Team"]}));
    assert_eq!(named.len(), 1, "{named:#?}");
    assert_problem(&named, &["routes[0].require.groups.any_of", "not a GUID"]);
    let empty = listed(json!({"any_of": []}));
    assert_eq!(empty.len(), 1, "one problem for an empty list: {empty:#?}");
    assert_eq!(
        listed(json!({"any_of": [GROUP_A], "all_of": [GROUP_B]})).len(),
        1
    );
}

#[test]
fn query_tokens_and_websockets_need_get_and_a_token_reading_route() {
    let route = |extra: Value| {
        let mut r = json!({"path": "/hub/**"});
        if let (Some(r), Some(extra)) = (r.as_object_mut(), extra.as_object()) {
            r.extend(extra.clone());
        }
        json!({"routes": [r]})
    };
    let fine = load(route(
        json!({"query_token": true, "websocket": true, "methods": ["GET"]}),
    ));
    assert!(fine.routes[0].query_token && fine.routes[0].websocket);
    let defaults = load(route(json!({})));
    assert!(!defaults.routes[0].query_token && !defaults.routes[0].websocket);
    assert!(fine.has_websocket_routes() && !defaults.has_websocket_routes());

    let heads = problems(&route(json!({"websocket": true, "methods": ["HEAD"]})));
    assert_eq!(heads.len(), 1, "a handshake is a GET: {heads:#?}");
    assert_problem(&heads, &["routes[0].websocket", "GET only"]);
    let posting = problems(&route(
        json!({"query_token": true, "websocket": true, "methods": ["POST"]}),
    ));
    assert_eq!(posting.len(), 2, "{posting:#?}");
    assert_problem(&posting, &["routes[0].query_token", "GET"]);
    assert_problem(&posting, &["routes[0].websocket", "GET"]);
    let public = problems(&route(json!({"query_token": true, "public": true})));
    assert_eq!(public.len(), 1, "{public:#?}");
    assert_problem(
        &public,
        &["routes[0].query_token", "public route reads no token"],
    );
    // A public WebSocket is fine: the handshake needs no token there.
    assert!(load(route(json!({"websocket": true, "public": true}))).routes[0].websocket);
}
