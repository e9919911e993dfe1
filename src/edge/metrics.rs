//! Counters through a Workers Analytics Engine binding (`GATE_METRICS`), when one is bound.
//! Every log event is also a data point: index = event name, blobs = [event, reason or outcome,
//! route, tenant, method, calling app, decision, mode, Worker version], doubles = [1,
//! milliseconds, HTTP status]. Only decision events fill blobs 5–8 (mode: `enforce` or
//! `shadow`); blob9 is the version id from a `CF_VERSION_METADATA` binding (empty without one), so
//! a gradual rollout's versions can be compared. Without the dataset binding this is a no-op. The queries in README "Operations" rely on this layout: append, never reorder.

use super::bindings::Env;
use js_sys::{Array, Object, Reflect};
use std::cell::OnceCell;
use wasm_bindgen::{JsCast, JsValue};
use worker_sys::AnalyticsEngineDataset;

pub const BINDING: &str = "GATE_METRICS";
/// wrangler's `[version_metadata]` binding: `{ id, tag, timestamp }` of the running version.
pub const VERSION_BINDING: &str = "CF_VERSION_METADATA";

thread_local! {
    static DATASET: OnceCell<Option<AnalyticsEngineDataset>> = const { OnceCell::new() };
    static VERSION: OnceCell<String> = const { OnceCell::new() };
}

/// Called at the start of every event handler; the lookups happen once per isolate (bindings
/// do not change within an isolate's life).
pub fn install(env: &Env) {
    DATASET.with(|d| {
        let dataset = d.get_or_init(|| env.object(BINDING).map(JsCast::unchecked_into));
        if dataset.is_some() {
            VERSION.with(|v| {
                v.get_or_init(|| version_id(env));
            });
        }
    });
}

fn version_id(env: &Env) -> String {
    env.object(VERSION_BINDING)
        .and_then(|metadata| Reflect::get(&metadata, &JsValue::from_str("id")).ok())
        .and_then(|id| id.as_string())
        .unwrap_or_default()
}

/// Whether data points are written at all (so callers can skip preparing them).
pub fn enabled() -> bool {
    DATASET.with(|d| d.get().is_some_and(Option::is_some))
}

fn strings(items: &[&str]) -> Array {
    items.iter().map(|s| JsValue::from_str(s)).collect()
}

/// The dimensions of one data point (blob1..blob8; blob9, the version, is added by `count`).
#[derive(Default)]
pub struct Point<'a> {
    pub event: &'a str,
    pub label: &'a str,
    pub route: &'a str,
    pub tenant: &'a str,
    pub method: &'a str,
    pub client: &'a str,
    pub decision: &'a str,
    pub mode: &'a str,
}

pub fn count(p: &Point<'_>, ms: f64, status: u16) {
    DATASET.with(|d| {
        let Some(dataset) = d.get().and_then(Option::as_ref) else {
            return;
        };
        let doubles: Array = [1.0, ms, f64::from(status)]
            .into_iter()
            .map(JsValue::from_f64)
            .collect();
        let point = Object::new();
        let blobs = VERSION.with(|v| {
            let version = v.get().map_or("", String::as_str);
            strings(&[
                p.event, p.label, p.route, p.tenant, p.method, p.client, p.decision, p.mode,
                version,
            ])
        });
        let members = [
            ("indexes", strings(&[p.event])),
            ("blobs", blobs),
            ("doubles", doubles),
        ];
        for (name, value) in members {
            // A failed data point must never affect the request.
            if Reflect::set(&point, &JsValue::from_str(name), &value).is_err() {
                return;
            }
        }
        let _ = dataset.write_data_point(point.into());
    });
}
