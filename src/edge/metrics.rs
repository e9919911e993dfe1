//! Counters through a Workers Analytics Engine binding (`GATE_METRICS`), when one is bound.
//! Every log event is also a data point: index = event name, blobs = [event, reason or outcome,
//! route, tenant, method, calling app, decision, mode], doubles = [1, milliseconds, HTTP status].
//! Only decision events fill blobs 5–8 (mode: `enforce` or `shadow`). Without the binding this
//! is a no-op. The queries in README "Operations" rely on this layout: append, never reorder.

use super::bindings::Env;
use js_sys::{Array, Object, Reflect};
use std::cell::OnceCell;
use wasm_bindgen::{JsCast, JsValue};
use worker_sys::AnalyticsEngineDataset;

pub const BINDING: &str = "GATE_METRICS";

thread_local! {
    static DATASET: OnceCell<Option<AnalyticsEngineDataset>> = const { OnceCell::new() };
}

/// Called at the start of every event handler; the lookup happens once per isolate (bindings
/// do not change within an isolate's life).
pub fn install(env: &Env) {
    DATASET.with(|d| {
        d.get_or_init(|| env.object(BINDING).map(JsCast::unchecked_into));
    });
}

/// Whether data points are written at all (so callers can skip preparing them).
pub fn enabled() -> bool {
    DATASET.with(|d| d.get().is_some_and(Option::is_some))
}

fn strings(items: &[&str]) -> Array {
    items.iter().map(|s| JsValue::from_str(s)).collect()
}

/// The dimensions of one data point (blob1..blob8).
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
        let members = [
            ("indexes", strings(&[p.event])),
            (
                "blobs",
                strings(&[
                    p.event, p.label, p.route, p.tenant, p.method, p.client, p.decision, p.mode,
                ]),
            ),
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
