//! Counters through a Workers Analytics Engine binding (`GATE_METRICS`), when one is bound.
//! Every log event is also a data point: index = event name, blobs = [event, reason or outcome,
//! route, tenant], doubles = [1, milliseconds, HTTP status]. Without the binding this is a no-op.

use std::cell::RefCell;
use worker::{AnalyticsEngineDataPointBuilder, AnalyticsEngineDataset, Env};

pub const BINDING: &str = "GATE_METRICS";

thread_local! {
    static DATASET: RefCell<Option<AnalyticsEngineDataset>> = const { RefCell::new(None) };
}

/// Called at the start of every event handler: the binding belongs to the environment.
pub fn install(env: &Env) {
    let dataset = env.analytics_engine(BINDING).ok();
    DATASET.with(|d| *d.borrow_mut() = dataset);
}

pub fn count(event: &str, label: &str, route: &str, tenant: &str, ms: f64, status: u16) {
    DATASET.with(|d| {
        if let Some(dataset) = d.borrow().as_ref() {
            // A failed data point must never affect the request.
            let _ = AnalyticsEngineDataPointBuilder::new()
                .indexes([event])
                .blobs([event, label, route, tenant])
                .doubles([1.0, ms, f64::from(status)])
                .write_to(dataset);
        }
    });
}
