//! The few JavaScript calls web-sys does not declare the way the hot path needs them.

use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Headers, ReadableStream, Response, ResponseInit};

#[wasm_bindgen]
extern "C" {
    /// The runtime's global `fetch` (workers have no `window`).
    #[wasm_bindgen(js_name = fetch)]
    pub fn fetch(request: &web_sys::Request) -> Promise;

    /// `console.log`: what Workers Logs and `wrangler tail` collect.
    #[wasm_bindgen(js_namespace = console, js_name = log)]
    pub fn console_log(line: &str);

    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &js_sys::Function, milliseconds: f64) -> JsValue;
}

/// Resolves after `duration` (a timer of the calling request's own).
pub async fn sleep(duration: std::time::Duration) {
    let milliseconds = duration.as_secs_f64() * 1000.0;
    let timer = Promise::new(&mut |resolve, _reject| {
        set_timeout(&resolve, milliseconds);
    });
    // The timer's promise never rejects.
    let _ = wasm_bindgen_futures::JsFuture::from(timer).await;
}

/// `new Response(body, response)`: a response with the same status and headers (copied by the
/// runtime, in one call) around `body`, with headers that can be changed.
pub fn response_like(body: Option<&ReadableStream>, like: &Response) -> Result<Response, JsValue> {
    Response::new_with_opt_readable_stream_and_init(body, like.unchecked_ref::<ResponseInit>())
}

// The helpers live in glue.mjs, next to this file.
#[wasm_bindgen(module = "/src/edge/glue.mjs")]
extern "C" {
    #[wasm_bindgen(js_name = header_names)]
    fn header_names_joined(headers: &Headers) -> String;

    /// The origin request in one call (see `forward` in glue.mjs): `headers` copied without
    /// the `drop` names (joined by "\n") and with `pairs` (name and value lines) set, the
    /// request's method and body, manual redirects, and `fetch` aborted when no response has
    /// arrived within `milliseconds`. Throws only for a header the runtime refuses.
    #[wasm_bindgen(js_name = forward, catch)]
    fn forward_joined(
        request: &web_sys::Request,
        headers: &Headers,
        url: &str,
        method: &str,
        drop: &str,
        pairs: &str,
        milliseconds: u32,
        service: Option<&worker_sys::Fetcher>,
    ) -> Result<Promise, JsValue>;

    /// `promise.then(v => fulfilled(id, v), e => rejected(id, e))`: the callbacks are made once
    /// per isolate and find their waiter by `id`.
    pub fn then_numbered(
        promise: &Promise,
        id: u32,
        fulfilled: &JsValue,
        rejected: &JsValue,
    ) -> Promise;

    /// `limiter.limit({ key })`, rejected after `milliseconds` without an answer.
    #[wasm_bindgen(js_name = limit_within, catch)]
    pub fn limit_within(
        limiter: &worker_sys::RateLimiter,
        key: &str,
        milliseconds: u32,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_name = build_headers, catch)]
    fn build_headers_joined(
        source: Option<&Headers>,
        drop: &str,
        pairs: &str,
    ) -> Result<Headers, JsValue>;
}

// What requests answered without wasm need (replay.mjs, next to this file).
#[wasm_bindgen(module = "/src/edge/replay.mjs")]
extern "C" {
    /// `CF-Ray` when valid, otherwise a random id (one rule for both paths).
    pub fn request_id(headers: &Headers) -> String;

    /// Keeps a replayable forward of `request` (see `remember` in replay.mjs).
    #[allow(clippy::too_many_arguments)]
    pub fn remember(
        request: &web_sys::Request,
        until_ms: f64,
        url: &str,
        drop: &str,
        id_header: &str,
        pairs: &str,
        service: Option<&worker_sys::Fetcher>,
        line: &str,
        per_million: u32,
        ticket: super::replay::ReplayTicket,
    );

    /// A key set changed: no remembered forward is replayed again.
    pub fn forget_replays();
}

/// The names of `headers` (lower case, as the runtime keeps them).
pub fn header_names(headers: &Headers) -> Vec<String> {
    header_names_joined(headers)
        .split_terminator('\n')
        .map(str::to_owned)
        .collect()
}

/// Header name and value lines, one each, for the glue's `build_headers`. Refuses a name or
/// value with a line break rather than let it split the list.
pub fn header_lines<N: AsRef<str>, V: AsRef<str>>(pairs: &[(N, V)]) -> Result<String, JsValue> {
    let breaks = |s: &str| s.bytes().any(|b| b == b'\n' || b == b'\r');
    let mut joined = String::new();
    for (name, value) in pairs {
        let (name, value) = (name.as_ref(), value.as_ref());
        if breaks(name) || breaks(value) {
            return Err(JsValue::from_str(
                "a header name or value contains a line break",
            ));
        }
        joined.push_str(name);
        joined.push('\n');
        joined.push_str(value);
        joined.push('\n');
    }
    Ok(joined)
}

/// A new `Headers`: a copy of `source` (if any) without the `drop` names, then `pairs` set.
pub fn build_headers<N: AsRef<str>, V: AsRef<str>>(
    source: Option<&Headers>,
    drop: &[String],
    pairs: &[(N, V)],
) -> Result<Headers, JsValue> {
    build_headers_joined(source, &drop.join("\n"), &header_lines(pairs)?)
}

/// What the origin is sent: where, how, and the headers' changes.
pub struct Outbound<'a, N, V> {
    pub url: &'a str,
    pub method: &'a str,
    pub drop: &'a [String],
    pub pairs: &'a [(N, V)],
    pub milliseconds: u32,
    pub service: Option<&'a worker_sys::Fetcher>,
}

/// Sends `request` on as `outbound` says: `Err` for headers the runtime refuses, otherwise
/// the origin's answer (rejected when it fails or times out, see [`is_timeout`]).
pub fn forward<N: AsRef<str>, V: AsRef<str>>(
    request: &web_sys::Request,
    headers: &Headers,
    outbound: &Outbound<'_, N, V>,
) -> Result<Promise, JsValue> {
    forward_joined(
        request,
        headers,
        outbound.url,
        outbound.method,
        &outbound.drop.join("\n"),
        &header_lines(outbound.pairs)?,
        outbound.milliseconds,
        outbound.service,
    )
}

/// The origin's response, streamed through, with `X-Request-Id` added (fetched responses have
/// immutable headers, so a new response wraps the same body).
pub fn with_request_id(response: &Response, request_id: &str) -> Result<Response, JsValue> {
    let rebuilt = response_like(response.body().as_ref(), response)?;
    rebuilt.headers().set("x-request-id", request_id)?;
    Ok(rebuilt)
}

/// A rejection from `AbortSignal.timeout` or [`forward`]'s deadline.
pub fn is_timeout(error: &JsValue) -> bool {
    Reflect::get(error, &JsValue::from_str("name"))
        .ok()
        .and_then(|name| name.as_string())
        .is_some_and(|name| name == "TimeoutError")
}

/// An exception as text for the log.
pub fn describe(error: &JsValue) -> String {
    if let Some(text) = error.as_string() {
        return text;
    }
    if let Some(e) = error.dyn_ref::<js_sys::Error>() {
        return String::from(e.to_string());
    }
    // Not `{:?}`: formatting a JsValue that way brings the float formatter into the wasm.
    js_sys::JSON::stringify(error)
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_else(|| "an unprintable JavaScript value".to_owned())
}

// scripts/build.sh puts the module it generates from the policy file in this one's place.
#[wasm_bindgen(module = "/src/edge/policy.mjs")]
extern "C" {
    /// The bundled policy file's path as the build was given it; `None` without one.
    #[wasm_bindgen(js_name = bundledPolicyPath)]
    pub fn bundled_policy_path() -> Option<String>;

    /// The bundled policy file as JSON.
    #[wasm_bindgen(js_name = bundledPolicyJson)]
    pub fn bundled_policy_json() -> Option<String>;
}
