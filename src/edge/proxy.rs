//! Forwarding an allowed request to the configured origin, streaming the body through.

use crate::core::config::GateConfig;
use crate::core::forward::{identity_headers, is_identity_header, origin_url};
use crate::core::identity::VerifiedIdentity;
use wasm_bindgen::JsValue;
use worker::{Fetch, Request, Response};

/// Headers never passed on: the caller's credentials (unless configured) and the client's
/// view of the host, which must not steer the origin request.
fn dropped(name: &str, forward_authorization: bool) -> bool {
    is_identity_header(name)
        || name.eq_ignore_ascii_case("host")
        || (!forward_authorization && name.eq_ignore_ascii_case("authorization"))
}

fn js_error(e: JsValue) -> String {
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

/// Forwards to the origin; `identity` is `None` on public routes (identity headers are still
/// stripped from the request, so a public route cannot be used to smuggle them).
pub async fn forward(
    request: &Request,
    config: &GateConfig,
    identity: Option<&VerifiedIdentity>,
) -> Result<Response, String> {
    let url = request.url().map_err(|e| e.to_string())?;
    let target = origin_url(&config.origin, url.path(), url.query());

    let inner = request.inner();
    let headers = web_sys::Headers::new().map_err(js_error)?;
    for (name, value) in request.headers().entries() {
        if !dropped(&name, config.forward_authorization) {
            headers.append(&name, &value).map_err(js_error)?;
        }
    }
    for (name, value) in identity.map(identity_headers).unwrap_or_default() {
        headers.set(name, &value).map_err(js_error)?;
    }

    let init = web_sys::RequestInit::new();
    init.set_method(&inner.method());
    init.set_headers_headers(&headers);
    init.set_redirect(web_sys::RequestRedirect::Manual);
    if let Some(body) = inner.body() {
        init.set_body_opt_readable_stream(Some(&body));
    }
    let outbound = web_sys::Request::new_with_str_and_init(&target, &init).map_err(js_error)?;
    Fetch::Request(Request::from(outbound))
        .send()
        .await
        .map_err(|e| e.to_string())
}
