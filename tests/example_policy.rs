//! The worked example policy (examples/items-api/policy.toml) is what a new user copies: it must
//! load without a single problem, and route the way its comments say. The shipped policy.toml
//! must load too.
#![cfg(not(target_arch = "wasm32"))]

use entra_gate_core::CanonicalPath;
use entra_gate_core::UnixTime;
use entra_gate_core::{Deployment, Policy, RequestFacts, RouteChoice};

fn load(file: &str) -> Policy {
    let path = format!("{}/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("the policy file");
    let document: toml::Table = toml::from_str(&text).expect("valid TOML");
    let json = serde_json::to_string(&document).expect("as JSON");
    let audiences = ["api://contoso-api".to_owned()];
    let deployment = Deployment {
        accept_v1: true,
        accept_v2: true,
        audiences: &audiences,
    };
    Policy::parse(&json, deployment)
        .unwrap_or_else(|problems| panic!("{file} refused:\n{problems:#?}"))
}

fn example() -> Policy {
    load("examples/items-api/policy.toml")
}

fn route(policy: &Policy, method: &str, path: &str) -> Option<String> {
    let facts = RequestFacts::new(
        method,
        CanonicalPath::parse(path).expect("canonical"),
        UnixTime(0),
    );
    match policy.route_for(&facts) {
        RouteChoice::Route(r) => Some(r.name.clone()),
        RouteChoice::DefaultAuthenticated => Some("(default)".into()),
        RouteChoice::Unmatched => None,
    }
}

#[test]
fn the_example_loads_and_routes_as_documented() {
    let policy = example();
    assert_eq!(route(&policy, "GET", "/health").as_deref(), Some("health"));
    assert_eq!(
        route(&policy, "GET", "/api/items/42").as_deref(),
        Some("read items")
    );
    assert_eq!(
        route(&policy, "DELETE", "/api/items/42").as_deref(),
        Some("write items")
    );
    assert_eq!(
        route(&policy, "POST", "/api/admin/users").as_deref(),
        Some("admin")
    );
    assert_eq!(
        route(&policy, "POST", "/api/ingest").as_deref(),
        Some("ingest")
    );
    assert_eq!(route(&policy, "GET", "/api/ingest"), None);
    assert_eq!(
        route(&policy, "GET", "/api/reports/monthly").as_deref(),
        Some("reports")
    );
    assert_eq!(
        route(&policy, "GET", "/api/finance/q3").as_deref(),
        Some("finance")
    );
    assert_eq!(
        route(&policy, "GET", "/api/search").as_deref(),
        Some("search")
    );
    assert_eq!(
        route(&policy, "POST", "/hubs/items/negotiate").as_deref(),
        Some("live")
    );
    assert_eq!(route(&policy, "GET", "/"), None, "unmatched is denied");
    let named = |name: &str| policy.routes.iter().find(|r| r.name == name).expect(name);
    assert!(named("finance").require.groups.is_some());
    assert_eq!(named("reports").origin.as_deref(), Some("reports"));
    assert!(named("live").websocket && named("live").query_token);
    assert_eq!(
        named("search")
            .rate_limit
            .as_ref()
            .map(|l| l.binding.as_str()),
        Some("SEARCH_PER_APP")
    );
    assert!(policy.routes.iter().any(|r| r.report_only));
    assert!(policy.cors.is_some());
}

#[test]
fn the_shipped_policy_lets_any_permitted_token_through_and_nothing_else() {
    let policy = load("policy.toml");
    assert!(policy.routes.is_empty());
    assert_eq!(
        route(&policy, "DELETE", "/anything").as_deref(),
        Some("(default)")
    );
    assert!(
        !policy.default_require.allow_without_permissions,
        "a token with neither scp nor roles is refused"
    );
}
