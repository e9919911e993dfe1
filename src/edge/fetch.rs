//! Outbound GETs for discovery and keys: no redirects followed, a timeout, a size cap.

use futures_util::future::{select, Either};
use std::time::Duration;
use worker::{
    AbortController, Delay, Fetch, Headers, Method, Request, RequestInit, RequestRedirect,
};

pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

pub async fn get_bounded(url: &str, max_bytes: usize) -> Result<Vec<u8>, String> {
    let headers = Headers::new();
    headers
        .set("accept", "application/json")
        .map_err(|e| e.to_string())?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    let request = Request::new_with_init(url, &init).map_err(|e| e.to_string())?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    let sent = std::pin::pin!(fetch.send_with_signal(&signal));
    let timer = std::pin::pin!(Delay::from(FETCH_TIMEOUT));
    let mut response = match select(sent, timer).await {
        Either::Left((response, _)) => response.map_err(|e| format!("{url}: {e}"))?,
        Either::Right(((), _)) => {
            controller.abort();
            return Err(format!("{url}: no answer within {FETCH_TIMEOUT:?}"));
        }
    };
    let status = response.status_code();
    if status != 200 {
        return Err(format!("{url}: HTTP {status} (redirects are not followed)"));
    }
    if let Ok(Some(length)) = response.headers().get("content-length") {
        if length.parse::<usize>().is_ok_and(|n| n > max_bytes) {
            return Err(format!("{url}: {length} bytes exceed {max_bytes}"));
        }
    }
    let body = response.bytes().await.map_err(|e| format!("{url}: {e}"))?;
    if body.len() > max_bytes {
        return Err(format!("{url}: {} bytes exceed {max_bytes}", body.len()));
    }
    Ok(body)
}
