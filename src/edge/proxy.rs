//! Forwarding to the route's origin (a URL, or a Worker through its service binding): the body
//! streams through, connection-level and reserved headers are dropped, identity headers (and
//! the signed assertion) are added, and the origin gets `GATE_ORIGIN_TIMEOUT_SECONDS` to answer
//! (when set; otherwise the runtime's own limits apply).
//!
//! Every call here crosses into JavaScript, so the path is built for few crossings: the timeout
//! is a timer in JavaScript cleared when the origin's headers arrive (no race in wasm), and the
//! fetch promise is handed back unawaited (`pending` finishes it).

use super::assertion;
use super::js;
use super::keystore::now;
use super::replay;
use entra_gate_core::AssertionClaims;
use entra_gate_core::GateConfig;
use entra_gate_core::Reason;
use entra_gate_core::VerifiedIdentity;
use entra_gate_core::{is_stripped, Origin};
use js_sys::Promise;
use web_sys::{Headers, Request};

/// Headers never passed on (see `core::forward::is_stripped`), plus the caller's credentials
/// unless configured.
fn dropped(name: &str, connection: Option<&str>, config: &GateConfig) -> bool {
    is_stripped(
        name,
        connection,
        &config.identity_headers,
        &config.strip_headers,
    ) || (!config.forward_authorization && name.eq_ignore_ascii_case("authorization"))
}

pub type Failure = (Reason, String);

pub struct Target<'a> {
    /// Where it goes; a service's binding comes with it.
    pub origin: &'a Origin,
    pub service: Option<&'a worker_sys::Fetcher>,
    /// `scheme://host` the client called (what a service receives as its host).
    pub served_at: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    /// As the walk says (without a token taken from it).
    pub query: Option<&'a str>,
    /// A WebSocket handshake on a route that allows it: `Upgrade` goes to the origin (it is
    /// hop-by-hop, so dropped everywhere else), and the origin's `101` comes back with its socket.
    pub websocket: bool,
}

pub async fn forward(
    request: &Request,
    incoming: &Headers,
    target: &Target<'_>,
    config: &GateConfig,
    identity: Option<&VerifiedIdentity>,
    request_id: &str,
    replay: Option<replay::Plan>,
) -> Result<Promise, Failure> {
    let destination = target
        .origin
        .destination(target.served_at, target.path, target.query);
    let connection = incoming.get("connection").ok().flatten();
    let drop: Vec<String> = js::header_names(incoming)
        .into_iter()
        .filter(|name| dropped(name, connection.as_deref(), config))
        .collect();
    let ids = &config.identity_headers;
    let mut added = vec![(ids.name("Request-Id"), request_id.to_owned())];
    if target.websocket {
        added.push(("upgrade".into(), "websocket".to_owned()));
    }
    if let Some(identity) = identity {
        added.extend(ids.for_identity(identity));
        if let Some(key) = &config.assertion_key {
            // As the origin receives it: its URL's path prefix (or, for a service, the host the
            // client called), then the request's path and query.
            let audience = target.origin.audience();
            let path_and_query = destination
                .strip_prefix(audience.as_ref())
                .or_else(|| destination.strip_prefix(target.served_at))
                .unwrap_or(&destination);
            let claims = AssertionClaims::new(
                key,
                identity,
                &audience,
                request_id,
                target.method,
                path_and_query,
                now().seconds(),
            );
            let jws = assertion::sign(key, &claims)
                .await
                .map_err(|detail| (Reason::InternalError, detail))?;
            added.push((ids.name("Assertion"), jws));
        }
    }
    let outbound = js::Outbound {
        url: &destination,
        method: target.method,
        drop: &drop,
        pairs: &added,
        // 0: no timer (the runtime's limits apply).
        milliseconds: config
            .origin_timeout_seconds
            .map_or(0, |seconds| seconds.saturating_mul(1000)),
        service: target.service,
    };
    let fetching = js::forward(request, incoming, &outbound)
        .map_err(|e| (Reason::InternalError, js::describe(&e)))?;
    if let Some(plan) = replay {
        // Not remembered is only not replayed: the walk answers the next one.
        let _ = replay::remember(request, plan, &outbound);
    }
    Ok(fetching)
}
