//! Counters through a Workers Analytics Engine binding (`GATE_METRICS`), when one is bound.
//! Every log event is also a data point: index = event name, blobs = [event, reason or outcome,
//! route, tenant], doubles = [1, milliseconds, HTTP status]. Without the binding this is a no-op.

use std::cell::OnceCell;
use worker::{AnalyticsEngineDataPointBuilder, AnalyticsEngineDataset, Env};

pub const BINDING: &str = "GATE_METRICS";

thread_local! {
    static DATASET: OnceCell<Option<AnalyticsEngineDataset>> = const { OnceCell::new() };
}

/// Called at the start of every event handler; the lookup happens once per isolate (bindings
/// do not change within an isolate's life).
pub fn install(env: &Env) {
    DATASET.with(|d| {
        d.get_or_init(|| env.analytics_engine(BINDING).ok());
    });
}

/// Whether data points are written at all (so callers can skip preparing them).
pub fn enabled() -> bool {
    DATASET.with(|d| d.get().is_some_and(Option::is_some))
}

pub fn count(event: &str, label: &str, route: &str, tenant: &str, ms: f64, status: u16) {
    DATASET.with(|d| {
        if let Some(dataset) = d.get().and_then(Option::as_ref) {
            // A failed data point must never affect the request.
            let _ = AnalyticsEngineDataPointBuilder::new()
                .indexes([event])
                .blobs([event, label, route, tenant])
                .doubles([1.0, ms, f64::from(status)])
                .write_to(dataset);
        }
    });
}
