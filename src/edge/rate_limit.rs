//! The Workers rate-limiting binding (`[[ratelimits]]`, bound by worker-sys as `RateLimiter`):
//! one `limit({ key })` per request on a limited route.

use super::bindings::Env;
use super::js;
use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker_sys::RateLimiter;

/// Whether the binding is there and can limit (checked once, with the configuration).
pub fn is_bound(env: &Env, binding: &str) -> bool {
    env.object_with(binding, "limit").is_some()
}

/// A limiter answers from the same location in a few milliseconds; one that has not within this
/// is treated as failed.
const ANSWER_WITHIN_MS: u32 = 1_000;

/// `Some(true)` within the limit, `Some(false)` over it, `None` when the binding failed or did
/// not answer in time.
pub async fn allows(env: &Env, binding: &str, key: &str) -> Option<bool> {
    let limiter: RateLimiter = env.object(binding)?.unchecked_into();
    let asked = js::limit_within(&limiter, key, ANSWER_WITHIN_MS).ok()?;
    let answer = JsFuture::from(asked).await.ok()?;
    Reflect::get(&answer, &JsValue::from_str("success"))
        .ok()?
        .as_bool()
}
