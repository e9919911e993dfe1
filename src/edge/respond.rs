//! Core [`Answer`]s → Workers responses.

use crate::core::answer::refuse;
use crate::core::reason::Reason;
use worker::{Headers, Response, Result};

pub fn refusal(reason: Reason, realm: &str, request_id: &str) -> Result<Response> {
    let answer = refuse(reason, realm, request_id);
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
    Ok(Response::from_bytes(answer.body.into_bytes())?
        .with_status(answer.status)
        .with_headers(headers))
}
