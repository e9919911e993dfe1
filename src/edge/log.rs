//! One JSON object per log line. Tokens, signatures and claims other than identifiers are never
//! written: a refusal logs its stage context, which the core builds without token material.

use entra_gate_core::ConfigProblem;
use entra_gate_core::LogSettings;
use entra_gate_core::Reason;
use entra_gate_core::VerifiedIdentity;
use serde::Serialize;
use serde_json::{json, Value};
use web_sys::Headers;

fn emit(line: Value) {
    if super::metrics::enabled() {
        let field = |name: &str| line.get(name).and_then(Value::as_str).unwrap_or_default();
        let label = ["reason", "action", "found", "why", "outcome"]
            .into_iter()
            .map(field)
            .find(|v| !v.is_empty())
            .unwrap_or_default();
        super::metrics::count(
            &super::metrics::Point {
                event: field("event"),
                label,
                route: field("route"),
                tenant: field("tenant"),
                ..super::metrics::Point::default()
            },
            0.0,
            0,
        );
    }
    super::js::console_log(&line.to_string());
}

/// `CF-Ray` when Cloudflare set one, otherwise a random id.
pub fn request_id(headers: &Headers) -> String {
    if let Ok(Some(ray)) = headers.get("cf-ray") {
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
    const HEX: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}

pub fn config_invalid(problems: &[ConfigProblem]) {
    let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
    emit(json!({ "event": "config_invalid", "reason": "config_invalid", "problems": problems }));
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

/// The instance is about to trap; the next event gets a fresh one.
pub fn panicked(location: &str) {
    emit(json!({ "event": "panic", "reason": Reason::InternalError.code(), "where": location }));
}

pub fn revocations_loaded(entries: usize) {
    emit(json!({ "event": "revocations_loaded", "entries": entries }));
}

/// `failures`: failed reads in a row (the next attempt backs off accordingly).
pub fn revocations_failed(detail: &str, failures: u32) {
    emit(json!({ "event": "revocations_failed", "detail": detail, "failures": failures }));
}

/// A KV record that is not believed (bad seal, another configuration's, from the future,
/// older than the copy held): KV is treated as empty and Entra asked instead.
pub fn kv_record_rejected(set: &str, detail: &str) {
    emit(json!({ "event": "kv_record_rejected", "set": set, "detail": detail }));
}

/// The one line written per request: what was decided and why, never token material.
/// Serialised in one pass from borrowed fields: this runs on every request.
pub struct Decision {
    request_id: String,
    started_ms: f64,
    method: Option<String>,
    settings: LogSettings,
    shadow: bool,
    route: Option<String>,
    outcome: &'static str,
    reason: Option<Reason>,
    detail: Option<String>,
    identity: Option<IdentityFields>,
    kid: Option<String>,
    report_only: Vec<ReportOnly>,
    /// The token's verification came from the isolate's verified-token cache.
    cached: bool,
}

#[derive(Serialize)]
struct IdentityFields {
    tenant: String,
    /// The calling application (`azp`/`appid`): who did it, for an audit.
    client: String,
    kind: &'static str,
    ver: &'static str,
    /// Only with `GATE_LOG_IDENTIFIERS`: personal data in most jurisdictions.
    #[serde(skip_serializing_if = "Option::is_none")]
    oid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uti: Option<String>,
}

#[derive(Serialize)]
struct ReportOnly {
    reason: &'static str,
    detail: String,
}

#[derive(Serialize)]
struct DecisionLine<'a> {
    event: &'static str,
    request_id: &'a str,
    method: Option<&'a str>,
    route: Option<&'a str>,
    decision: &'static str,
    status: u16,
    reason: Option<&'static str>,
    detail: Option<&'a str>,
    kid: Option<&'a str>,
    report_only: &'a [ReportOnly],
    cached: bool,
    /// Written only in shadow mode, on every line: nothing was enforced.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    shadow: bool,
    ms: f64,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    identity: Option<&'a IdentityFields>,
}

impl Decision {
    pub fn start(request_id: &str) -> Self {
        Decision {
            request_id: request_id.to_owned(),
            started_ms: js_sys::Date::now(),
            method: None,
            settings: LogSettings::default(),
            shadow: false,
            route: None,
            outcome: "allowed",
            reason: None,
            detail: None,
            identity: None,
            kid: None,
            report_only: Vec::new(),
            cached: false,
        }
    }

    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// Once the configuration is known: what the line holds, and whether it is written.
    pub fn configure(&mut self, settings: LogSettings, shadow: bool) {
        self.settings = settings;
        self.shadow = shadow;
    }

    pub fn method(&mut self, method: &str) {
        self.method = Some(method.to_owned());
    }

    pub fn route(&mut self, name: &str) {
        self.route = Some(name.to_owned());
    }

    pub fn outcome(&mut self, outcome: &'static str) {
        self.outcome = outcome;
    }

    pub fn refused(&mut self, reason: Reason, detail: &str) {
        self.decided("denied", reason, detail);
    }

    /// Shadow mode: refused by the rules, forwarded anyway.
    pub fn shadowed(&mut self, reason: Reason, detail: &str) {
        self.decided("would_deny", reason, detail);
    }

    fn decided(&mut self, outcome: &'static str, reason: Reason, detail: &str) {
        self.outcome = outcome;
        self.reason = Some(reason);
        self.detail = Some(detail.to_owned());
    }

    pub fn cached(&mut self) {
        self.cached = true;
    }

    pub fn kid(&mut self, kid: &str) {
        self.kid = Some(kid.to_owned());
    }

    pub fn identity(&mut self, id: &VerifiedIdentity) {
        self.kid = Some(id.kid().to_owned());
        let identifiers = self.settings.identifiers;
        self.identity = Some(IdentityFields {
            tenant: id.tenant_id().to_owned(),
            client: id.client_id().to_owned(),
            kind: id.kind().as_str(),
            ver: id.version().as_str(),
            oid: identifiers.then(|| id.object_id().to_owned()),
            uti: identifiers
                .then(|| id.token_id().map(str::to_owned))
                .flatten(),
        });
    }

    pub fn would_deny(&mut self, reason: Reason, detail: &str) {
        self.report_only.push(ReportOnly {
            reason: reason.code(),
            detail: detail.to_owned(),
        });
    }

    pub fn elapsed_ms(&self) -> f64 {
        js_sys::Date::now() - self.started_ms
    }

    pub fn emit(&self, status: u16) {
        let ms = self.elapsed_ms();
        let line = DecisionLine {
            event: "decision",
            request_id: &self.request_id,
            method: self.method.as_deref(),
            route: self.route.as_deref(),
            decision: self.outcome,
            status,
            reason: self.reason.map(Reason::code),
            detail: self.detail.as_deref(),
            kid: self.kid.as_deref(),
            report_only: &self.report_only,
            cached: self.cached,
            shadow: self.shadow,
            ms,
            identity: self.identity.as_ref(),
        };
        // Counters see every request, whatever the lines' sampling.
        if super::metrics::enabled() {
            let point = super::metrics::Point {
                event: "decision",
                label: line.reason.unwrap_or(line.decision),
                route: line.route.unwrap_or_default(),
                tenant: self.identity.as_ref().map_or("", |i| i.tenant.as_str()),
                method: line.method.unwrap_or_default(),
                client: self.identity.as_ref().map_or("", |i| i.client.as_str()),
                decision: line.decision,
                mode: if self.shadow { "shadow" } else { "enforce" },
            };
            super::metrics::count(&point, ms, status);
        }
        if self.routine(status) && !self.settings.allowed.keeps(random_u32) {
            return;
        }
        // Serialising plain strings, numbers and bools cannot fail.
        if let Ok(text) = serde_json::to_string(&line) {
            super::js::console_log(&text);
        }
    }

    /// A line sampling may drop: nothing refused, nothing that would have been, no error.
    fn routine(&self, status: u16) -> bool {
        self.reason.is_none() && self.report_only.is_empty() && status < 400
    }
}

/// Uniform over `u32`; without randomness, 0 (the line is kept: better a line too many).
fn random_u32() -> u32 {
    let mut bytes = [0u8; 4];
    match getrandom::getrandom(&mut bytes) {
        Ok(()) => u32::from_le_bytes(bytes),
        Err(_) => 0,
    }
}
