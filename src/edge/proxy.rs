//! Forwarding to the configured origin: the body streams through, connection-level and
//! reserved headers are dropped, identity headers (and the signed assertion) are added, and the
//! origin gets `GATE_ORIGIN_TIMEOUT_SECONDS` to answer.

use super::assertion;
use super::keystore::now;
use crate::core::assertion::AssertionClaims;
use crate::core::config::GateConfig;
use crate::core::forward::{is_hop_by_hop, origin_url};
use crate::core::identity::VerifiedIdentity;
use crate::core::reason::Reason;
use futures_util::future::{select, Either};
use std::time::Duration;
use wasm_bindgen::JsValue;
use worker::{AbortController, Delay, Fetch, Request, Response, Url};

fn js_error(e: JsValue) -> String {
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

/// Headers never passed on: connection-level ones, the reserved identity prefix, the client's
/// view of the host, and the caller's credentials (unless configured).
fn dropped(name: &str, connection: Option<&str>, config: &GateConfig) -> bool {
    is_hop_by_hop(name, connection)
        || config.identity_headers.is_reserved(name)
        || name.eq_ignore_ascii_case("host")
        || (!config.forward_authorization && name.eq_ignore_ascii_case("authorization"))
}

pub type Failure = (Reason, String);

pub async fn forward(
    request: &Request,
    url: &Url,
    config: &GateConfig,
    identity: Option<&VerifiedIdentity>,
    request_id: &str,
) -> Result<Response, Failure> {
    let unreachable = |detail: String| (Reason::OriginUnreachable, detail);
    let target = origin_url(&config.origin, url.path(), url.query());

    let inner = request.inner();
    let connection = request.headers().get("connection").ok().flatten();
    let headers = web_sys::Headers::new().map_err(|e| unreachable(js_error(e)))?;
    for (name, value) in request.headers().entries() {
        if !dropped(&name, connection.as_deref(), config) {
            headers
                .append(&name, &value)
                .map_err(|e| unreachable(js_error(e)))?;
        }
    }
    let ids = &config.identity_headers;
    headers
        .set(&ids.name("Request-Id"), request_id)
        .map_err(|e| unreachable(js_error(e)))?;
    if let Some(identity) = identity {
        for (name, value) in ids.for_identity(identity) {
            headers
                .set(&name, &value)
                .map_err(|e| unreachable(js_error(e)))?;
        }
        if let Some(key) = &config.assertion_key {
            // As the origin receives it: ORIGIN_URL's path prefix, then the request's path and query.
            let path_and_query = target
                .strip_prefix(config.origin.origin())
                .unwrap_or(&target)
                .to_owned();
            let audience = config.origin.origin().to_owned();
            let method = inner.method();
            let claims = AssertionClaims::new(
                key,
                identity,
                &audience,
                request_id,
                &method,
                &path_and_query,
                now().seconds(),
            );
            let jws = assertion::sign(key, &claims).await.map_err(unreachable)?;
            headers
                .set(&ids.name("Assertion"), &jws)
                .map_err(|e| unreachable(js_error(e)))?;
        }
    }

    let init = web_sys::RequestInit::new();
    init.set_method(&inner.method());
    init.set_headers_headers(&headers);
    init.set_redirect(web_sys::RequestRedirect::Manual);
    if let Some(body) = inner.body() {
        init.set_body_opt_readable_stream(Some(&body));
    }
    let outbound = web_sys::Request::new_with_str_and_init(&target, &init)
        .map_err(|e| unreachable(js_error(e)))?;

    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(Request::from(outbound));
    let sent = std::pin::pin!(fetch.send_with_signal(&signal));
    let limit = Duration::from_secs(u64::from(config.origin_timeout_seconds));
    let timer = std::pin::pin!(Delay::from(limit));
    let response = match select(sent, timer).await {
        Either::Left((response, _)) => response.map_err(|e| unreachable(e.to_string()))?,
        Either::Right(((), _)) => {
            controller.abort();
            return Err((Reason::OriginTimeout, format!("no answer within {limit:?}")));
        }
    };
    with_request_id(response, request_id).map_err(unreachable)
}

/// The origin's response, streamed through, with `X-Request-Id` added (fetched responses have
/// immutable headers, so a new response wraps the same body).
fn with_request_id(response: Response, request_id: &str) -> Result<Response, String> {
    let original: web_sys::Response = response.into();
    let headers = web_sys::Headers::new_with_headers(&original.headers()).map_err(js_error)?;
    headers.set("x-request-id", request_id).map_err(js_error)?;
    let init = web_sys::ResponseInit::new();
    init.set_status(original.status());
    init.set_status_text(&original.status_text());
    init.set_headers(&headers);
    let body = original.body();
    let rebuilt = web_sys::Response::new_with_opt_readable_stream_and_init(body.as_ref(), &init)
        .map_err(js_error)?;
    Ok(Response::from(rebuilt))
}
