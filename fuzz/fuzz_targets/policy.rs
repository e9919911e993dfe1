//! Policy loading on arbitrary documents (`policy::Policy::parse`), and, for every document it
//! accepts, route matching, authorization, public conditions and CORS for a few requests.
//! Never panics.
#![no_main]

use entra_gate_core::CanonicalPath;
use entra_gate_core::{ChallengeContext, Deployment, Policy, RequestFacts, RouteChoice};
use entra_gate_fuzz::{sample_identity, AUDIENCES, NOW};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let audiences: Vec<String> = AUDIENCES.iter().map(|a| a.to_string()).collect();
    for (accept_v1, accept_v2) in [(true, true), (false, true), (true, false)] {
        let deployment = Deployment {
            accept_v1,
            accept_v2,
            audiences: &audiences,
        };
        let Ok(policy) = Policy::parse(text, deployment) else {
            continue;
        };
        let identity = sample_identity("user");
        let ctx = ChallengeContext {
            authorization_uri: "https://login.microsoftonline.com/t/oauth2/v2.0/authorize".into(),
            client_id: policy.api_client_id.clone(),
        };
        for (method, path) in [
            ("GET", "/"),
            ("GET", "/api/items/1"),
            ("POST", "/api/admin/x/y"),
            ("OPTIONS", "/health"),
            ("DELETE", "/a/%C3%A9/b"),
        ] {
            let Ok(path) = CanonicalPath::parse(path) else {
                continue;
            };
            let mut facts = RequestFacts::new(method, path, NOW);
            facts.client_ip = "203.0.113.7".parse().ok();
            facts.country = Some("NL".into());
            facts.asn = Some(13335);
            facts.origin = Some("https://app.contoso.example".into());
            facts.preflight_method = (method == "OPTIONS").then(|| "GET".into());
            let _ = policy.preflight(&facts);
            let _ = policy.cors_origin(&facts);
            if let RouteChoice::Route(route) = policy.route_for(&facts) {
                let _ = policy.public_conditions(route, &facts);
                let verdict = policy.authorize(route, &identity, &facts, &ctx);
                if route.report_only {
                    assert!(verdict.refusal.is_none(), "a report-only route denied");
                }
            }
        }
    }
});
