//! What the edge knows about a request, apart from the token: the inputs of route matching and
//! conditions. The edge fills it from the request, `CF-Connecting-IP` and `request.cf`.

use crate::canonical_path::CanonicalPath;
use crate::time::UnixTime;
use std::net::IpAddr;

/// A request's facts. Add a fact here, in [`RequestFacts::new`], in the edge's
/// `facts::of` (which reads it only when a rule does), and in the condition that reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFacts {
    /// The request method; a route's methods (upper case) must equal it exactly.
    pub method: String,
    /// The canonical path: what routes match and the origin receives. Private, and set only
    /// from a [`CanonicalPath`], so no policy ever sees a path that was not canonicalised.
    pub(crate) path: CanonicalPath,
    /// The client's address (`CF-Connecting-IP`).
    pub client_ip: Option<IpAddr>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    /// The client's network (autonomous system number).
    pub asn: Option<u32>,
    /// When the request is decided: time windows and step-up `max_age_seconds` read it.
    pub now: UnixTime,
    /// `Origin`, for CORS.
    pub origin: Option<String>,
    /// An `OPTIONS` request with `Origin` and `Access-Control-Request-Method`.
    pub preflight_method: Option<String>,
    /// `scheme://authority` the client sent the request to (`RequestTarget::served_at`).
    pub served_at: Option<String>,
    /// A GET with `Upgrade: websocket`: a WebSocket handshake.
    pub websocket_upgrade: bool,
}

impl RequestFacts {
    /// A request with only its method, canonical path and time known: every other fact unknown
    /// (and an unknown fact never satisfies a condition).
    pub fn new(method: &str, path: CanonicalPath, now: UnixTime) -> Self {
        RequestFacts {
            method: method.to_owned(),
            path,
            client_ip: None,
            country: None,
            asn: None,
            now,
            origin: None,
            preflight_method: None,
            served_at: None,
            websocket_upgrade: false,
        }
    }

    /// A GET or HEAD: what the resource metadata answers and query tokens ride on.
    pub fn is_read(&self) -> bool {
        self.method == "GET" || self.method == "HEAD"
    }

    /// The canonical path.
    pub fn path(&self) -> &str {
        self.path.as_str()
    }
}
