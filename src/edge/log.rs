//! One JSON object per log line. Tokens, signatures and claims other than identifiers are never
//! written: a denial logs its stage context, which the core builds without token material.

use crate::core::config::ConfigProblem;
use crate::core::gate::Denial;
use crate::core::identity::VerifiedIdentity;
use serde_json::{json, Value};
use worker::Request;

fn emit(line: Value) {
    worker::console_log!("{line}");
}

/// `CF-Ray` when Cloudflare set one, otherwise a random id.
pub fn request_id(request: &Request) -> String {
    if let Ok(Some(ray)) = request.headers().get("cf-ray") {
        if !ray.is_empty()
            && ray.len() <= 64
            && ray.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return ray;
        }
    }
    let mut bytes = [0u8; 12];
    if getrandom::getrandom(&mut bytes).is_err() {
        return "unknown".into();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn config_invalid(problems: &[ConfigProblem]) {
    let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
    emit(json!({ "event": "config_invalid", "reason": "config_invalid", "problems": problems }));
}

pub fn denied(request_id: &str, denial: &Denial) {
    emit(json!({
        "event": "denied",
        "request_id": request_id,
        "reason": denial.reason().code(),
        "detail": denial.to_string(),
    }));
}

pub fn allowed(request_id: &str, identity: &VerifiedIdentity) {
    emit(json!({
        "event": "allowed",
        "request_id": request_id,
        "tenant": identity.tenant_id,
        "client": identity.client_id,
        "kind": identity.kind.as_str(),
        "ver": identity.version.as_str(),
        "kid": identity.kid,
    }));
}

pub fn kid_miss(request_id: &str, kid: &str) {
    emit(json!({ "event": "kid_miss", "request_id": request_id, "kid": kid }));
}

pub fn keys_refreshed(keys: usize, skipped: &[String]) {
    emit(json!({ "event": "keys_refreshed", "keys": keys, "skipped": skipped }));
}

pub fn keys_refresh_failed(detail: &str) {
    emit(json!({ "event": "keys_refresh_failed", "detail": detail }));
}

pub fn keys_unavailable() {
    emit(json!({ "event": "fail_closed", "reason": "keys_unavailable" }));
}

pub fn origin_failed(request_id: &str, detail: &str) {
    emit(
        json!({ "event": "origin_failed", "request_id": request_id, "reason": "origin_unreachable", "detail": detail }),
    );
}
