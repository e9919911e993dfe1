//! What the edge knows about a request, apart from the token: the inputs of route matching and
//! conditions. The edge fills it from the request, `CF-Connecting-IP` and `request.cf`.

use crate::time::UnixTime;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFacts {
    pub method: String,
    /// The URL path as the runtime normalised it (not percent-decoded).
    pub path: String,
    pub client_ip: Option<IpAddr>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    pub asn: Option<u32>,
    pub now: UnixTime,
    /// `Origin`, for CORS.
    pub origin: Option<String>,
    /// An `OPTIONS` request with `Origin` and `Access-Control-Request-Method`.
    pub preflight_method: Option<String>,
}
