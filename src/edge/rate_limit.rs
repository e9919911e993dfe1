//! The Workers rate-limiting binding (`[[ratelimits]]`, bound by worker-sys as `RateLimiter`):
//! one `limit({ key })` per request on a limited route.

use super::bindings::Env;
use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker_sys::RateLimiter;

/// Whether the binding is there and can limit (checked once, with the configuration).
pub fn is_bound(env: &Env, binding: &str) -> bool {
    env.object(binding)
        .and_then(|limiter| Reflect::get(&limiter, &JsValue::from_str("limit")).ok())
        .is_some_and(|limit| limit.is_function())
}

/// `Some(true)` within the limit, `Some(false)` over it, `None` when the binding failed.
pub async fn allows(env: &Env, binding: &str, key: &str) -> Option<bool> {
    let limiter: RateLimiter = env.object(binding)?.unchecked_into();
    let options = Object::new();
    Reflect::set(&options, &JsValue::from_str("key"), &JsValue::from_str(key)).ok()?;
    let answer = JsFuture::from(limiter.limit(options).ok()?).await.ok()?;
    Reflect::get(&answer, &JsValue::from_str("success"))
        .ok()?
        .as_bool()
}
