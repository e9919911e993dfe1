//! Core answers → Workers responses.

use crate::core::answer::refuse_with;
use crate::core::reason::Reason;
use worker::{Headers, Response, Result};

pub fn refusal(reason: Reason, realm: &str, request_id: &str) -> Result<Response> {
    refusal_with(reason, &[], &[], realm, request_id)
}

/// A refusal with challenge parameters and extra response headers (CORS for an allowed origin).
pub fn refusal_with(
    reason: Reason,
    params: &[(&str, String)],
    extra_headers: &[(&str, String)],
    realm: &str,
    request_id: &str,
) -> Result<Response> {
    let answer = refuse_with(reason, params, realm, request_id);
    let headers = Headers::new();
    headers.set("content-type", "application/problem+json")?;
    headers.set("cache-control", "no-store")?;
    headers.set("x-request-id", request_id)?;
    if let Some(challenge) = &answer.www_authenticate {
        headers.set("www-authenticate", challenge)?;
    }
    if let Some(seconds) = answer.retry_after_seconds {
        headers.set("retry-after", &seconds.to_string())?;
    }
    for (name, value) in extra_headers {
        headers.set(name, value)?;
    }
    Ok(Response::from_bytes(answer.body.into_bytes())?
        .with_status(answer.status)
        .with_headers(headers))
}

/// A CORS preflight the policy allows: 204 with the Access-Control-* headers.
pub fn preflight(headers_to_send: &[(&'static str, String)], request_id: &str) -> Result<Response> {
    let headers = Headers::new();
    headers.set("x-request-id", request_id)?;
    for (name, value) in headers_to_send {
        headers.set(name, value)?;
    }
    Ok(Response::empty()?.with_status(204).with_headers(headers))
}
