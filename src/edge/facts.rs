//! The request's context for the policy: method, path, client IP, country, ASN, CORS headers.
//! In production the client IP is `CF-Connecting-IP` (set by Cloudflare, not by the client) and
//! country/ASN come from `request.cf`. Only when `GATE_DEV_CLIENT_HEADERS` is true (local
//! development and tests) do `X-Dev-Client-IP`, `X-Dev-Country` and `X-Dev-ASN` override them.

use crate::core::config::GateConfig;
use crate::core::policy::RequestFacts;
use crate::core::time::UnixTime;
use worker::Request;

fn header(request: &Request, name: &str) -> Option<String> {
    request.headers().get(name).ok().flatten()
}

pub fn of(request: &Request, config: &GateConfig, path: &str, now: UnixTime) -> RequestFacts {
    let dev = |name: &str| {
        config
            .dev_client_headers
            .then(|| header(request, name))
            .flatten()
    };
    let cf = request.cf();
    let method = request.method().to_string();
    let origin = header(request, "origin");
    let preflight_method = (method == "OPTIONS" && origin.is_some())
        .then(|| header(request, "access-control-request-method"))
        .flatten();
    RequestFacts {
        client_ip: dev("x-dev-client-ip")
            .or_else(|| header(request, "cf-connecting-ip"))
            .and_then(|ip| ip.trim().parse().ok()),
        country: dev("x-dev-country")
            .or_else(|| cf.and_then(|cf| cf.country()))
            .map(|c| c.to_ascii_uppercase()),
        asn: dev("x-dev-asn")
            .and_then(|a| a.trim().parse().ok())
            .or_else(|| cf.and_then(|cf| cf.asn())),
        method,
        path: path.to_owned(),
        now,
        origin,
        preflight_method,
    }
}
