//! One JSON object per log line. Tokens, signatures and claims other than identifiers are never
//! written: a refusal logs its stage context, which the core builds without token material.

use entra_gate_core::ConfigProblem;
use entra_gate_core::LogSettings;
use entra_gate_core::ObjectWriter;
use entra_gate_core::Reason;
use entra_gate_core::VerifiedIdentity;
use web_sys::Headers;

/// A value of an event line.
#[derive(Clone, Copy)]
enum Field<'a> {
    Text(&'a str),
    /// `null` when absent.
    Maybe(Option<&'a str>),
    Count(u64),
    Signed(i64),
    Flag(bool),
    List(&'a [String]),
}

use Field::{Count, Flag, List, Maybe, Signed, Text};

/// Writes an event line. Members go out sorted by name, as the `json!` maps they replace
/// wrote them.
fn emit(fields: &mut [(&str, Field<'_>)]) {
    fields.sort_by_key(|(name, _)| *name);
    if super::metrics::enabled() {
        let field = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| *n == name)
                .and_then(|(_, value)| match value {
                    Text(text) => Some(*text),
                    Maybe(text) => *text,
                    Count(_) | Signed(_) | Flag(_) | List(_) => None,
                })
                .unwrap_or_default()
        };
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
    let mut line = ObjectWriter::new();
    for (name, value) in fields.iter() {
        match *value {
            Text(text) => line.str(name, text),
            Maybe(text) => line.str_or_null(name, text),
            Count(n) => line.u64(name, n),
            Signed(n) => line.i64(name, n),
            Flag(b) => line.bool(name, b),
            List(items) => line.strs(name, items.iter().map(String::as_str)),
        };
    }
    super::js::console_log(&line.finish());
}

/// A count as the line writes it.
fn count(n: usize) -> Field<'static> {
    Count(u64::try_from(n).unwrap_or(u64::MAX))
}

/// `CF-Ray` when Cloudflare set one, otherwise a random id: the rule lives in replay.mjs, which
/// needs it for requests that never enter wasm.
pub fn request_id(headers: &Headers) -> String {
    super::js::request_id(headers)
}

pub fn config_invalid(problems: &[ConfigProblem]) {
    let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
    emit(&mut [
        ("event", Text("config_invalid")),
        ("reason", Text("config_invalid")),
        ("problems", List(&problems)),
    ]);
}

/// `action`: `fetching` (a refresh from Entra), `penalty_window` (a fetch happened too recently),
/// `remembered` (this kid already missed within the window).
pub fn kid_miss(request_id: &str, set: &str, kid: &str, action: &str) {
    emit(&mut [
        ("event", Text("kid_miss")),
        ("request_id", Text(request_id)),
        ("set", Text(set)),
        ("kid", Text(kid)),
        ("action", Text(action)),
    ]);
}

/// `found`: `record`, `nothing`, `corrupt` or `error`.
pub fn kv_read(set: &str, found: &str, detail: Option<&str>) {
    emit(&mut [
        ("event", Text("kv_read")),
        ("set", Text(set)),
        ("found", Text(found)),
        ("detail", Maybe(detail)),
    ]);
}

/// `why`: `changed` (new content) or `confirm` (same content, re-confirmed).
pub fn kv_write(set: &str, why: &str) {
    emit(&mut [
        ("event", Text("kv_write")),
        ("set", Text(set)),
        ("why", Text(why)),
    ]);
}

pub fn kv_write_failed(set: &str, detail: &str) {
    emit(&mut [
        ("event", Text("kv_write_failed")),
        ("set", Text(set)),
        ("detail", Text(detail)),
    ]);
}

pub fn keys_loaded(set: &str, keys: usize, skipped: &[String]) {
    emit(&mut [
        ("event", Text("keys_loaded")),
        ("set", Text(set)),
        ("keys", count(keys)),
        ("skipped", List(skipped)),
    ]);
}

pub fn keys_refreshed(set: &str, changed: bool) {
    emit(&mut [
        ("event", Text("keys_refreshed")),
        ("set", Text(set)),
        ("changed", Flag(changed)),
    ]);
}

pub fn keys_refresh_failed(set: &str, detail: &str) {
    emit(&mut [
        ("event", Text("keys_refresh_failed")),
        ("set", Text(set)),
        ("detail", Text(detail)),
    ]);
}

pub fn stale_keys_served(set: &str, age_seconds: i64) {
    emit(&mut [
        ("event", Text("stale_keys_served")),
        ("set", Text(set)),
        ("age_seconds", Signed(age_seconds)),
    ]);
}

pub fn fail_closed(set: &str) {
    emit(&mut [
        ("event", Text("fail_closed")),
        ("set", Text(set)),
        ("reason", Text("keys_unavailable")),
    ]);
}

/// `outcome`: `not_due`, `refreshed` or `failed`.
pub fn scheduled(set: &str, outcome: &str) {
    emit(&mut [
        ("event", Text("scheduled_refresh")),
        ("set", Text(set)),
        ("outcome", Text(outcome)),
    ]);
}

pub fn revocations_loaded(entries: usize) {
    emit(&mut [
        ("event", Text("revocations_loaded")),
        ("entries", count(entries)),
    ]);
}

/// `failures`: failed reads in a row (the next attempt backs off accordingly).
pub fn revocations_failed(detail: &str, failures: u32) {
    emit(&mut [
        ("event", Text("revocations_failed")),
        ("detail", Text(detail)),
        ("failures", Count(u64::from(failures))),
    ]);
}

/// A KV record that is not believed (bad seal, another configuration's, from the future,
/// older than the copy held): KV is treated as empty and Entra asked instead.
pub fn kv_record_rejected(set: &str, detail: &str) {
    emit(&mut [
        ("event", Text("kv_record_rejected")),
        ("set", Text(set)),
        ("detail", Text(detail)),
    ]);
}

/// Stands for the request id, the status and the milliseconds in a replay's line (see
/// [`Decision::replay_line`]): raw text the writer never emits unescaped.
const REPLAY_SLOT: &str = "\u{1}";

/// The one line written per request: what was decided and why, never token material.
/// Serialised in one pass from borrowed fields: this runs on every request.
#[derive(Clone)]
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
    /// Answered from a remembered forward, without the walk (`replay`).
    replayed: bool,
}

#[derive(Clone)]
struct IdentityFields {
    tenant: String,
    /// The calling application (`azp`/`appid`): who did it, for an audit.
    client: String,
    kind: &'static str,
    ver: &'static str,
    /// Only with `GATE_LOG_IDENTIFIERS`: personal data in most jurisdictions.
    oid: Option<String>,
    uti: Option<String>,
}

#[derive(Clone)]
struct ReportOnly {
    reason: &'static str,
    detail: String,
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
            replayed: false,
        }
    }

    /// This decision as the line of a request answered by replaying it: the token is one the
    /// cache holds.
    pub fn replayed(&self) -> Decision {
        Decision {
            cached: true,
            replayed: true,
            ..self.clone()
        }
    }

    /// The same decision for another request (a replay's refusal when its origin fails).
    pub fn restart(&mut self, request_id: String, started_ms: f64) {
        self.request_id = request_id;
        self.started_ms = started_ms;
    }

    /// How many allowed-request lines in a million are written.
    pub fn allowed_per_million(&self) -> u32 {
        self.settings.allowed.per_million()
    }

    /// The line with [`REPLAY_SLOT`] where the request id (a JSON string), the status and the
    /// milliseconds go: replay.mjs fills them in for each request it answers.
    pub fn replay_line(&self) -> String {
        self.write_line(REPLAY_SLOT, REPLAY_SLOT, None, REPLAY_SLOT)
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
        let reason = self.reason.map(Reason::code);
        // Counters see every request, whatever the lines' sampling.
        if super::metrics::enabled() {
            let point = super::metrics::Point {
                event: "decision",
                label: reason.unwrap_or(self.outcome),
                route: self.route.as_deref().unwrap_or_default(),
                tenant: self.identity.as_ref().map_or("", |i| i.tenant.as_str()),
                method: self.method.as_deref().unwrap_or_default(),
                client: self.identity.as_ref().map_or("", |i| i.client.as_str()),
                decision: self.outcome,
                mode: if self.shadow { "shadow" } else { "enforce" },
            };
            super::metrics::count(&point, ms, status);
        }
        if self.routine(status) && !self.settings.allowed.keeps(random_u32) {
            return;
        }
        super::js::console_log(&self.line(status, reason, ms));
    }

    /// The line's JSON, members in the order they have always had (serde's field order, the
    /// identity's members last). `ms` in whole milliseconds: `Date.now()` has no finer grain.
    fn line(&self, status: u16, reason: Option<&str>, ms: f64) -> String {
        let mut request_id = String::new();
        entra_gate_core::write_json_string(&mut request_id, &self.request_id);
        self.write_line(
            &request_id,
            &status.to_string(),
            reason,
            &whole_ms(ms).to_string(),
        )
    }

    /// The line, the request id, status and milliseconds given as JSON text.
    fn write_line(&self, request_id: &str, status: &str, reason: Option<&str>, ms: &str) -> String {
        let report_only: Vec<String> = self
            .report_only
            .iter()
            .map(|r| {
                ObjectWriter::new()
                    .str("reason", r.reason)
                    .str("detail", &r.detail)
                    .finish()
            })
            .collect();
        let mut line = ObjectWriter::new();
        line.str("event", "decision")
            .raw("request_id", request_id)
            .str_or_null("method", self.method.as_deref())
            .str_or_null("route", self.route.as_deref())
            .str("decision", self.outcome)
            .raw("status", status)
            .str_or_null("reason", reason)
            .str_or_null("detail", self.detail.as_deref())
            .str_or_null("kid", self.kid.as_deref())
            .objects("report_only", &report_only)
            .bool("cached", self.cached);
        if self.replayed {
            line.bool("replayed", true);
        }
        if self.shadow {
            line.bool("shadow", true);
        }
        line.raw("ms", ms);
        if let Some(id) = &self.identity {
            line.str("tenant", &id.tenant)
                .str("client", &id.client)
                .str("kind", id.kind)
                .str("ver", id.ver)
                .opt_str("oid", id.oid.as_deref())
                .opt_str("uti", id.uti.as_deref());
        }
        line.finish()
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

/// Milliseconds as whole milliseconds (`as` saturates and maps NaN to 0): the line carries no
/// float, so the worker carries no float formatter.
#[allow(clippy::as_conversions)]
fn whole_ms(ms: f64) -> i64 {
    ms as i64
}
