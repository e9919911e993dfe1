//! The request's context for the policy: method, path, client IP, country, ASN, CORS headers.
//! In production the client IP is `CF-Connecting-IP` (set by Cloudflare, not by the client) and
//! country/ASN come from `request.cf`. Only when `GATE_DEV_CLIENT_HEADERS` is true (local
//! development and tests) do `X-Dev-Client-IP`, `X-Dev-Country` and `X-Dev-ASN` override them.
//! A fact no rule reads is not fetched: `request.cf` in particular is built on first access.

use entra_gate_core::CanonicalPath;
use entra_gate_core::GateConfig;
use entra_gate_core::UnixTime;
use entra_gate_core::{ConditionKind, RequestFacts};
use js_sys::Reflect;
use wasm_bindgen::JsValue;
use web_sys::{Headers, Request};

fn header(headers: &Headers, name: &str) -> Option<String> {
    headers.get(name).ok().flatten()
}

/// A member of `request.cf` (absent outside Cloudflare's network unless injected).
fn cf_member(request: &Request, name: &str) -> Option<JsValue> {
    let cf = Reflect::get(request, &JsValue::from_str("cf")).ok()?;
    if !cf.is_object() {
        return None;
    }
    Reflect::get(&cf, &JsValue::from_str(name))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

pub fn of(
    request: &Request,
    headers: &Headers,
    config: &GateConfig,
    method: &str,
    path: CanonicalPath,
    now: UnixTime,
) -> RequestFacts {
    let uses = |kind| config.policy.uses(kind);
    let dev = |name: &str| {
        config
            .dev_client_headers
            .then(|| header(headers, name))
            .flatten()
    };
    let origin = config
        .policy
        .cors
        .as_ref()
        .and_then(|_| header(headers, "origin"));
    let preflight_method = (method == "OPTIONS" && origin.is_some())
        .then(|| header(headers, "access-control-request-method"))
        .flatten();
    let client_ip = uses(ConditionKind::Ip).then(|| {
        dev("x-dev-client-ip")
            .or_else(|| header(headers, "cf-connecting-ip"))
            .and_then(|ip| ip.trim().parse().ok())
    });
    let country = uses(ConditionKind::Country).then(|| {
        dev("x-dev-country")
            .or_else(|| cf_member(request, "country").and_then(|c| c.as_string()))
            .map(|c| c.to_ascii_uppercase())
    });
    let asn = uses(ConditionKind::Asn).then(|| {
        dev("x-dev-asn")
            .and_then(|a| a.trim().parse().ok())
            .or_else(|| {
                cf_member(request, "asn")
                    .and_then(|a| a.as_f64())
                    .filter(|a| a.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(a))
                    .map(|a| a as u32)
            })
    });
    // Read only where a route could let the handshake through.
    let websocket_upgrade = method == "GET"
        && config.policy.has_websocket_routes()
        && header(headers, "upgrade").is_some_and(|u| u.trim().eq_ignore_ascii_case("websocket"));
    let mut facts = RequestFacts::new(method, path, now);
    facts.websocket_upgrade = websocket_upgrade;
    facts.client_ip = client_ip.flatten();
    facts.country = country.flatten();
    facts.asn = asn.flatten();
    facts.origin = origin;
    facts.preflight_method = preflight_method;
    facts
}
