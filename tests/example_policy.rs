//! The worked example policy in wrangler.toml is what a new user copies: it must load without a
//! single problem, and route the way its comments say.
#![cfg(not(target_arch = "wasm32"))]

use entra_gate_core::CanonicalPath;
use entra_gate_core::UnixTime;
use entra_gate_core::{Deployment, Policy, RequestFacts, RouteChoice};

fn example() -> Policy {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/wrangler.toml"))
        .expect("wrangler.toml");
    let manifest: toml::Value = toml::from_str(&text).expect("valid TOML");
    let policy = manifest
        .get("vars")
        .and_then(|v| v.get("GATE_POLICY"))
        .expect("[vars.GATE_POLICY]");
    let json = serde_json::to_string(policy).expect("as JSON");
    let audiences = ["api://contoso-api".to_owned()];
    let deployment = Deployment {
        accept_v1: true,
        accept_v2: true,
        audiences: &audiences,
    };
    Policy::parse(&json, deployment)
        .unwrap_or_else(|problems| panic!("example policy refused:\n{problems:#?}"))
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
    assert_eq!(route(&policy, "GET", "/"), None, "unmatched is denied");
    assert!(policy.routes.iter().any(|r| r.report_only));
    assert!(policy.cors.is_some());
}
