//! The request's target as the gateway uses it: the canonical path (matched by the policy and
//! sent to the origin, one value for both) and the query, read once from the URL the runtime
//! hands over.

use super::canonical_path::{CanonicalPath, PathError};
use std::fmt;

/// Path and query of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestTarget {
    /// What the policy matches and what the origin receives.
    pub path: CanonicalPath,
    /// As the client sent it (without the `?`); passed on unchanged.
    pub query: Option<String>,
    /// `scheme://authority`: where the client sent the request (for the URLs the gateway
    /// points clients at, such as its resource metadata).
    pub served_at: String,
}

/// Why a request's URL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetError {
    /// Not an absolute `scheme://authority/...` URL (the runtime always gives one).
    Unreadable,
    /// A path origins read in different ways.
    Path(PathError),
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetError::Unreadable => f.write_str("the request URL is not absolute"),
            TargetError::Path(e) => write!(f, "path refused: {e}"),
        }
    }
}

impl std::error::Error for TargetError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TargetError::Unreadable => None,
            TargetError::Path(e) => Some(e),
        }
    }
}

impl RequestTarget {
    /// Reads `scheme://authority/path?query#fragment` (the fragment, never sent by clients, is
    /// dropped).
    pub fn from_url(url: &str) -> Result<RequestTarget, TargetError> {
        let (scheme, after_scheme) = url.split_once("://").ok_or(TargetError::Unreadable)?;
        let without_fragment = after_scheme
            .split_once('#')
            .map_or(after_scheme, |(before, _)| before);
        let (authority_and_path, query) = match without_fragment.split_once('?') {
            Some((before, query)) => (before, Some(query.to_owned())),
            None => (without_fragment, None),
        };
        let (authority, path) = match authority_and_path.find('/') {
            Some(at) => authority_and_path.split_at(at),
            None => (authority_and_path, "/"),
        };
        let path = CanonicalPath::parse(path).map_err(TargetError::Path)?;
        Ok(RequestTarget {
            path,
            query,
            served_at: format!("{scheme}://{authority}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> (String, Option<String>) {
        let t = RequestTarget::from_url(url).expect("readable");
        (t.path.into_string(), t.query)
    }

    #[test]
    fn splits_path_and_query_and_canonicalises_the_path() {
        assert_eq!(
            target("https://h.example/a/b?x=1"),
            ("/a/b".into(), Some("x=1".into()))
        );
        assert_eq!(target("https://h.example"), ("/".into(), None));
        assert_eq!(
            target("https://h.example?q"),
            ("/".into(), Some("q".into()))
        );
        assert_eq!(
            target("http://127.0.0.1:8787//api//admin/x"),
            ("/api/admin/x".into(), None)
        );
        assert_eq!(target("https://h.example/a#frag"), ("/a".into(), None));
        assert_eq!(
            target("https://h.example/a?b=/c?d#e"),
            ("/a".into(), Some("b=/c?d".into()))
        );
        assert_eq!(
            target("https://h.example/api/%61dmin"),
            ("/api/admin".into(), None)
        );
        assert_eq!(
            target("https://h.example/a?"),
            ("/a".into(), Some(String::new()))
        );
    }

    #[test]
    fn remembers_where_the_request_was_sent() {
        let at = |url: &str| RequestTarget::from_url(url).expect("readable").served_at;
        assert_eq!(
            at("https://api.contoso.com/a?b#c"),
            "https://api.contoso.com"
        );
        assert_eq!(at("http://127.0.0.1:8787"), "http://127.0.0.1:8787");
        assert_eq!(at("http://127.0.0.1:8787?x=/y"), "http://127.0.0.1:8787");
    }

    #[test]
    fn errors_say_what_and_keep_their_source() {
        use std::error::Error as _;
        let unreadable = TargetError::Unreadable;
        assert_eq!(unreadable.to_string(), "the request URL is not absolute");
        assert!(unreadable.source().is_none());
        let path = RequestTarget::from_url("https://h.example/a%2Fb").expect_err("refused");
        assert!(path.to_string().starts_with("path refused: "), "{path}");
        assert!(path.source().is_some());
    }

    #[test]
    fn refuses_what_cannot_be_read_one_way() {
        assert_eq!(
            RequestTarget::from_url("/relative"),
            Err(TargetError::Unreadable)
        );
        assert!(matches!(
            RequestTarget::from_url("https://h.example/a%2Fb"),
            Err(TargetError::Path(PathError::EncodedSeparator { .. }))
        ));
        assert!(matches!(
            RequestTarget::from_url("https://h.example/items/..;/admin"),
            Err(TargetError::Path(PathError::PathParameter))
        ));
    }
}
