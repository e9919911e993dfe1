//! The origin's answer, finished without the async executor: the handler returns the fetch
//! promise chained (`js::then_numbered`) to two long-lived callbacks, given a small number that
//! finds this request's state here. (Awaiting the fetch in Rust costs two closures, a finalizer
//! registration and a trip through the microtask queue per request.)

use super::js;
use super::log::Decision;
use super::respond;
use crate::runtime::waiting::Waiting;
use entra_gate_core::{Challenger, Reason};
use js_sys::Promise;
use std::cell::RefCell;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Response;

/// What finishing a forwarded request needs once the origin has answered (or failed to).
pub struct Forwarded {
    pub decision: Decision,
    /// Response headers a refusal carries besides its own (CORS for an allowed origin).
    pub cors: Vec<(&'static str, String)>,
    pub realm: String,
    /// `None`: no timer of the gateway's (a timeout then comes from the runtime).
    pub origin_timeout_seconds: Option<u32>,
}

type Callback = Closure<dyn Fn(u32, JsValue) -> JsValue>;

/// Entries older than any origin timeout (at most 300 s) are dropped.
const LONGEST_WAIT_MS: f64 = 400_000.0;

thread_local! {
    static TABLE: RefCell<Waiting<Forwarded>> = RefCell::new(Waiting::new(1024, LONGEST_WAIT_MS));
    static CALLBACKS: (Callback, Callback) = (
        Closure::new(|id: u32, response: JsValue| finish(id, Ok(response))),
        Closure::new(|id: u32, error: JsValue| finish(id, Err(error))),
    );
}

/// `fetching` (the origin fetch) resolved to the response the client gets, with
/// `X-Request-Id`; a failure becomes a 502/504 refusal. The decision line is written then.
pub fn finish_later(fetching: Promise, forwarded: Forwarded) -> Promise {
    let id = TABLE.with(|table| table.borrow_mut().insert(forwarded, js_sys::Date::now()));
    CALLBACKS.with(|(fulfilled, rejected)| {
        js::then_numbered(&fetching, id, fulfilled.as_ref(), rejected.as_ref())
    })
}

fn finish(id: u32, settled: Result<JsValue, JsValue>) -> JsValue {
    let Some(forwarded) = TABLE.with(|t| t.borrow_mut().take(id)) else {
        // Swept: the client is long gone; nobody reads this answer.
        return JsValue::UNDEFINED;
    };
    let Forwarded {
        mut decision,
        cors,
        realm,
        origin_timeout_seconds,
    } = forwarded;
    answer(
        &mut decision,
        &cors,
        &realm,
        origin_timeout_seconds,
        settled,
    )
}

/// The client's answer once the origin fetch settled, and the decision line (a replay's ticket
/// answers its failures with it too). `decision` takes the refusal, if there is one.
pub fn answer(
    decision: &mut Decision,
    cors: &[(&'static str, String)],
    realm: &str,
    origin_timeout_seconds: Option<u32>,
    settled: Result<JsValue, JsValue>,
) -> JsValue {
    let request_id = decision.request_id().to_owned();
    let answered = settled.and_then(|response| {
        let response: Response = response.unchecked_into();
        js::with_request_id(&response, &request_id)
    });
    let response = match answered {
        Ok(response) => Ok(response),
        Err(error) => {
            let (reason, detail) = if js::is_timeout(&error) {
                let within = origin_timeout_seconds
                    .map(|seconds| format!(" within {seconds}s"))
                    .unwrap_or_default();
                (Reason::OriginTimeout, format!("no answer{within}"))
            } else {
                (Reason::OriginUnreachable, js::describe(&error))
            };
            decision.refused(reason, &detail);
            respond::refusal_with(
                reason,
                &[],
                None,
                cors,
                Challenger {
                    realm,
                    resource_metadata: None,
                },
                &request_id,
            )
        }
    };
    let status = response.as_ref().map(Response::status).unwrap_or(500);
    decision.emit(status);
    respond::or_bare_500(response)
}
