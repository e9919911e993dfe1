//! One JSON object per log line. Tokens, signatures and claims other than identifiers are never
//! written: a denial logs its stage context, which the core builds without token material.

use crate::core::config::ConfigProblem;
use crate::core::gate::Denial;
use crate::core::identity::VerifiedIdentity;
use crate::core::reason::Reason;
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
    refused(request_id, denial.reason(), &denial.to_string());
}

pub fn refused(request_id: &str, reason: Reason, detail: &str) {
    emit(json!({
        "event": "denied",
        "request_id": request_id,
        "reason": reason.code(),
        "detail": detail,
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

/// `action`: `fetching` (a refresh from Entra), `penalty_window` (a fetch happened too recently),
/// `remembered` (this kid already missed within the window).
pub fn kid_miss(request_id: &str, set: &str, kid: &str, action: &str) {
    emit(
        json!({ "event": "kid_miss", "request_id": request_id, "set": set, "kid": kid, "action": action }),
    );
}

/// `found`: `record`, `nothing`, `corrupt` or `error`.
pub fn kv_read(set: &str, found: &str, detail: Option<&str>) {
    emit(json!({ "event": "kv_read", "set": set, "found": found, "detail": detail }));
}

/// `why`: `changed` (new content) or `confirm` (same content, re-confirmed).
pub fn kv_write(set: &str, why: &str) {
    emit(json!({ "event": "kv_write", "set": set, "why": why }));
}

pub fn kv_write_failed(set: &str, detail: &str) {
    emit(json!({ "event": "kv_write_failed", "set": set, "detail": detail }));
}

pub fn keys_loaded(set: &str, keys: usize, skipped: &[String]) {
    emit(json!({ "event": "keys_loaded", "set": set, "keys": keys, "skipped": skipped }));
}

pub fn keys_refreshed(set: &str, changed: bool) {
    emit(json!({ "event": "keys_refreshed", "set": set, "changed": changed }));
}

pub fn keys_refresh_failed(set: &str, detail: &str) {
    emit(json!({ "event": "keys_refresh_failed", "set": set, "detail": detail }));
}

pub fn stale_keys_served(set: &str, age_seconds: i64) {
    emit(json!({ "event": "stale_keys_served", "set": set, "age_seconds": age_seconds }));
}

pub fn fail_closed(set: &str) {
    emit(json!({ "event": "fail_closed", "set": set, "reason": "keys_unavailable" }));
}

/// `outcome`: `not_due`, `refreshed` or `failed`.
pub fn scheduled(set: &str, outcome: &str) {
    emit(json!({ "event": "scheduled_refresh", "set": set, "outcome": outcome }));
}

pub fn origin_failed(request_id: &str, detail: &str) {
    emit(json!({
        "event": "origin_failed",
        "request_id": request_id,
        "reason": "origin_unreachable",
        "detail": detail,
    }));
}

pub fn would_deny(request_id: &str, route: &str, reason: Reason, detail: &str) {
    emit(json!({
        "event": "would_deny",
        "request_id": request_id,
        "route": route,
        "reason": reason.code(),
        "detail": detail,
    }));
}

pub fn revocations_loaded(entries: usize) {
    emit(json!({ "event": "revocations_loaded", "entries": entries }));
}

pub fn revocations_failed(detail: &str) {
    emit(json!({ "event": "revocations_failed", "detail": detail }));
}
