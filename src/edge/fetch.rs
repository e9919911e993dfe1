//! Outbound GETs for discovery and keys: no redirects followed, a timeout, a size cap.

use super::js;
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, Request, RequestInit, RequestRedirect, Response};

pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

async fn send(url: &str) -> Result<Response, String> {
    let headers = Headers::new().map_err(|e| js::describe(&e))?;
    headers
        .set("accept", "application/json")
        .map_err(|e| js::describe(&e))?;
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_headers_headers(&headers);
    init.set_redirect(RequestRedirect::Manual);
    let limit_ms = u32::try_from(FETCH_TIMEOUT.as_millis()).unwrap_or(u32::MAX);
    init.set_signal(Some(&AbortSignal::timeout_with_u32(limit_ms)));
    let request = Request::new_with_str_and_init(url, &init).map_err(|e| js::describe(&e))?;
    match JsFuture::from(js::fetch(&request)).await {
        Ok(response) => Ok(response.unchecked_into()),
        Err(e) if js::is_timeout(&e) => {
            Err(format!("no answer within {}s", FETCH_TIMEOUT.as_secs()))
        }
        Err(e) => Err(js::describe(&e)),
    }
}

pub async fn get_bounded(url: &str, max_bytes: usize) -> Result<Vec<u8>, String> {
    let response = send(url).await.map_err(|e| format!("{url}: {e}"))?;
    let status = response.status();
    if status != 200 {
        return Err(format!("{url}: HTTP {status} (redirects are not followed)"));
    }
    if let Ok(Some(length)) = response.headers().get("content-length") {
        if length.parse::<usize>().is_ok_and(|n| n > max_bytes) {
            return Err(format!("{url}: {length} bytes exceed {max_bytes}"));
        }
    }
    let buffer = response
        .array_buffer()
        .map_err(|e| format!("{url}: {}", js::describe(&e)))?;
    let body = JsFuture::from(buffer)
        .await
        .map_err(|e| format!("{url}: {}", js::describe(&e)))?;
    let body = js_sys::Uint8Array::new(&body);
    if body.length() as usize > max_bytes {
        return Err(format!("{url}: {} bytes exceed {max_bytes}", body.length()));
    }
    Ok(body.to_vec())
}
