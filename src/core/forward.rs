//! What the origin receives: the request on a fixed origin, minus anything a client could use to
//! impersonate the gateway, plus identity headers derived only from the verified token.

use super::identity::VerifiedIdentity;
use url::Url;

/// Every incoming header starting with this (any case) is removed before forwarding.
pub const IDENTITY_HEADER_PREFIX: &str = "x-entra-";

/// Header names as sent; lower-case because HTTP/2 and Workers normalise them anyway.
pub mod header {
    pub const TENANT_ID: &str = "x-entra-tenant-id";
    pub const OBJECT_ID: &str = "x-entra-object-id";
    pub const SUBJECT: &str = "x-entra-subject";
    pub const CLIENT_ID: &str = "x-entra-client-id";
    pub const TOKEN_KIND: &str = "x-entra-token-kind";
    pub const TOKEN_VERSION: &str = "x-entra-token-version";
    pub const SCOPES: &str = "x-entra-scopes";
    pub const ROLES: &str = "x-entra-roles";
}

pub fn is_identity_header(name: &str) -> bool {
    name.as_bytes()
        .get(..IDENTITY_HEADER_PREFIX.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(IDENTITY_HEADER_PREFIX.as_bytes()))
}

/// The identity headers for a verified caller. Scopes and roles are joined by single spaces
/// (Entra forbids spaces inside scope and app-role values); every value is header-safe.
pub fn identity_headers(identity: &VerifiedIdentity) -> Vec<(&'static str, String)> {
    vec![
        (header::TENANT_ID, header_safe(&identity.tenant_id)),
        (header::OBJECT_ID, header_safe(&identity.object_id)),
        (header::SUBJECT, header_safe(&identity.subject)),
        (header::CLIENT_ID, header_safe(&identity.client_id)),
        (header::TOKEN_KIND, identity.kind.as_str().to_owned()),
        (header::TOKEN_VERSION, identity.version.as_str().to_owned()),
        (header::SCOPES, header_safe(&identity.scopes.join(" "))),
        (header::ROLES, header_safe(&identity.roles.join(" "))),
    ]
}

/// Percent-encodes everything outside printable ASCII, and `%` itself, so a claim can never
/// split a header (CR/LF) or smuggle bytes an origin might decode differently.
pub fn header_safe(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if (0x20..0x7f).contains(&byte) && byte != b'%' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The origin URL for a request: the configured origin (with its path prefix) plus the request's
/// path and query. Only path and query come from the request, so the destination host can never
/// be chosen by a client.
pub fn origin_url(origin: &Url, path: &str, query: Option<&str>) -> String {
    let base = origin.as_str().trim_end_matches('/');
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    match query {
        Some(q) => format!("{base}{path}?{q}"),
        None => format!("{base}{path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_prefix_in_any_case() {
        assert!(is_identity_header("X-Entra-Tenant-Id"));
        assert!(is_identity_header("x-entra-anything"));
        assert!(is_identity_header("X-ENTRA-"));
        assert!(!is_identity_header("x-entr"));
        assert!(!is_identity_header("authorization"));
    }

    #[test]
    fn values_cannot_break_headers() {
        assert_eq!(header_safe("a b"), "a b");
        assert_eq!(header_safe("a\r\nX-Evil: 1"), "a%0D%0AX-Evil: 1");
        assert_eq!(header_safe("100%"), "100%25");
        assert_eq!(header_safe("é"), "%C3%A9");
    }

    #[test]
    fn joins_origin_prefix_and_request_path() {
        let origin = Url::parse("https://api.internal/base/").expect("url");
        assert_eq!(
            origin_url(&origin, "/v1/items", Some("a=1")),
            "https://api.internal/base/v1/items?a=1"
        );
        let bare = Url::parse("http://127.0.0.1:9001").expect("url");
        assert_eq!(origin_url(&bare, "/", None), "http://127.0.0.1:9001/");
    }
}
