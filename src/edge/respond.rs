//! Core answers → Workers responses.

use super::js;
use entra_gate_core::Reason;
use entra_gate_core::{refuse_with, Challenger};
use wasm_bindgen::JsValue;
use web_sys::{Response, ResponseInit};

fn response(
    body: Option<&str>,
    status: u16,
    headers: &[(&str, &str)],
) -> Result<Response, JsValue> {
    let init = ResponseInit::new();
    init.set_status(status);
    init.set_headers(&js::build_headers(None, &[], headers)?.into());
    Response::new_with_opt_str_and_init(body, &init)
}

/// The answer when building the real one failed (a header the runtime refused, say): a bare
/// 500, so the client gets an HTTP answer rather than the runtime's own error page. (The
/// decision line records the failure.)
pub fn or_bare_500(built: Result<Response, JsValue>) -> JsValue {
    built
        .or_else(|_| {
            let init = ResponseInit::new();
            init.set_status(500);
            Response::new_with_opt_str_and_init(None, &init)
        })
        .map_or_else(|error| error, JsValue::from)
}

pub fn refusal(reason: Reason, realm: &str, request_id: &str) -> Result<Response, JsValue> {
    let challenger = Challenger {
        realm,
        resource_metadata: None,
    };
    refusal_with(reason, &[], None, &[], challenger, request_id)
}

/// A refusal with challenge parameters, a rule's own `Retry-After` (over the reason's), and
/// extra response headers (CORS for an allowed origin).
pub fn refusal_with(
    reason: Reason,
    params: &[(&str, String)],
    retry_after: Option<u32>,
    extra_headers: &[(&str, String)],
    challenger: Challenger<'_>,
    request_id: &str,
) -> Result<Response, JsValue> {
    let answer = refuse_with(reason, params, challenger, request_id);
    let retry_after = retry_after
        .or(answer.retry_after_seconds)
        .map(|s| s.to_string());
    let mut headers = vec![
        ("content-type", "application/problem+json"),
        ("cache-control", "no-store"),
        ("x-request-id", request_id),
    ];
    headers.extend(
        answer
            .www_authenticate
            .as_deref()
            .map(|c| ("www-authenticate", c)),
    );
    headers.extend(retry_after.as_deref().map(|s| ("retry-after", s)));
    headers.extend(extra_headers.iter().map(|(n, v)| (*n, v.as_str())));
    response(Some(&answer.body), answer.status, &headers)
}

/// A CORS preflight the policy allows: 204 with the Access-Control-* headers.
pub fn preflight(
    headers_to_send: &[(&'static str, String)],
    request_id: &str,
) -> Result<Response, JsValue> {
    let mut headers = vec![("x-request-id", request_id)];
    headers.extend(headers_to_send.iter().map(|(n, v)| (*n, v.as_str())));
    response(None, 204, &headers)
}

/// The Protected Resource Metadata document (RFC 9728): public, so any origin may read it
/// (browser-based clients discover from another origin).
pub fn resource_metadata(document: &str, request_id: &str) -> Result<Response, JsValue> {
    let headers = [
        ("x-request-id", request_id),
        ("content-type", "application/json"),
        ("cache-control", "public, max-age=300"),
        ("access-control-allow-origin", "*"),
    ];
    response(Some(document), 200, &headers)
}

/// The gateway's own JWKS (the identity assertion's public keys).
pub fn jwks(jwks: &str, request_id: &str) -> Result<Response, JsValue> {
    let headers = [
        ("x-request-id", request_id),
        ("content-type", "application/jwk-set+json"),
        ("cache-control", "public, max-age=300"),
    ];
    response(Some(jwks), 200, &headers)
}
