//! A token in the query (`?access_token=`, RFC 6750 §2.3): how SignalR and other browser
//! clients authenticate WebSockets and server-sent events, where they cannot set
//! `Authorization`. Read here once per request; whether a route takes it is the walk's call.
//!
//! Names are compared the way origins read them, loosest first: decoded (`access%5Ftoken`), in
//! any case (ASP.NET Core), with `.`, space and `[` as `_` (PHP), and `;` as a separator beside
//! `&` (older Rack, Go and Python). So no spelling an origin would take for the token slips past
//! the check or into the origin's URL.

/// The parameter's name.
pub const PARAMETER: &str = "access_token";

/// Whether a decoded parameter name is one some origin reads as `access_token`.
fn names_the_token(name: &str) -> bool {
    name.len() == PARAMETER.len()
        && name.bytes().zip(PARAMETER.bytes()).all(|(got, want)| {
            let folded = match got {
                b'.' | b' ' | b'[' => b'_',
                other => other.to_ascii_lowercase(),
            };
            folded == want
        })
}

/// The query of one request, as far as tokens go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryCredentials {
    /// The decoded values of every `access_token` parameter, in order.
    tokens: Vec<String>,
    /// With tokens: the query without them, every other parameter byte for byte (`None` when
    /// nothing is left). Without tokens it is `raw`, not kept twice.
    without_tokens: Option<String>,
    /// The query as sent.
    raw: Option<String>,
}

impl QueryCredentials {
    /// Reads `query` (without the `?`).
    pub fn read(query: Option<&str>) -> Self {
        let Some(query) = query else {
            return QueryCredentials::default();
        };
        let raw = Some(query.to_owned());
        // A name that decodes to the token's has "token" in it literally or an escape: most
        // queries are neither and need no parsing.
        let could_name_it = query.contains('%')
            || query
                .as_bytes()
                .windows(5)
                .any(|w| w.eq_ignore_ascii_case(b"token"));
        if !could_name_it {
            return QueryCredentials {
                raw,
                ..QueryCredentials::default()
            };
        }
        let mut tokens = Vec::new();
        // What stays, each pair with the separator that followed it, so the rest goes on byte
        // for byte.
        let mut kept = String::with_capacity(query.len());
        let mut rest = query;
        loop {
            let end = rest.find(['&', ';']).unwrap_or(rest.len());
            let (pair, after) = rest.split_at(end);
            match form_urlencoded::parse(pair.as_bytes()).next() {
                Some((name, value)) if names_the_token(&name) => tokens.push(value.into_owned()),
                Some(_) | None => {
                    kept.push_str(pair);
                    kept.push_str(after.get(..1).unwrap_or_default());
                }
            }
            match after.get(1..) {
                Some(next) => rest = next,
                None => break,
            }
        }
        let without_tokens = Some(kept.trim_end_matches(['&', ';']).to_owned())
            .filter(|q| !q.is_empty() && !tokens.is_empty());
        QueryCredentials {
            tokens,
            without_tokens,
            raw,
        }
    }

    /// How many `access_token` parameters the query has.
    pub fn count(&self) -> usize {
        self.tokens.len()
    }

    /// The token, when the query has exactly one.
    pub fn token(&self) -> Option<&str> {
        match self.tokens.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// The query without any `access_token`: what an origin receives.
    pub fn without_tokens(&self) -> Option<&str> {
        if self.tokens.is_empty() {
            self.raw.as_deref()
        } else {
            self.without_tokens.as_deref()
        }
    }

    /// The query as the client sent it.
    pub fn raw(&self) -> Option<&str> {
        self.raw.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_and_taken_out_of_the_query() {
        let q = QueryCredentials::read(Some("id=1&access_token=eyJ.a.b&x=%20y+z"));
        assert_eq!(q.count(), 1);
        assert_eq!(q.token(), Some("eyJ.a.b"));
        assert_eq!(
            q.without_tokens(),
            Some("id=1&x=%20y+z"),
            "others byte for byte"
        );
        assert_eq!(q.raw(), Some("id=1&access_token=eyJ.a.b&x=%20y+z"));
    }

    #[test]
    fn only_the_token_leaves_no_query() {
        for query in ["access_token=t", "access_token=t&", "&access_token=t"] {
            let q = QueryCredentials::read(Some(query));
            assert_eq!(q.token(), Some("t"), "{query}");
            assert_eq!(q.without_tokens(), None, "{query}");
        }
    }

    #[test]
    fn every_spelling_of_the_name_counts_and_two_are_two() {
        let encoded = QueryCredentials::read(Some("access%5Ftoken=t1&a=b"));
        assert_eq!(encoded.token(), Some("t1"));
        assert_eq!(encoded.without_tokens(), Some("a=b"));
        let two = QueryCredentials::read(Some("access_token=t1&access_token=t2"));
        assert_eq!(two.count(), 2);
        assert_eq!(two.token(), None);
        assert_eq!(two.without_tokens(), None);
        let empty = QueryCredentials::read(Some("access_token="));
        assert_eq!(empty.count(), 1);
        assert_eq!(empty.token(), Some(""));
    }

    #[test]
    fn every_name_an_origin_reads_as_the_token_is_one() {
        for query in [
            "ACCESS_TOKEN=t",
            "Access_Token=t",
            "access.token=t",
            "access+token=t",
            "access%20token=t",
            "access[token=t",
            "x=1;access_token=t",
        ] {
            let q = QueryCredentials::read(Some(query));
            assert_eq!(q.token(), Some("t"), "{query}");
        }
        let mixed = QueryCredentials::read(Some("a=1;access_token=t&b=2;c=3"));
        assert_eq!(
            mixed.without_tokens(),
            Some("a=1;b=2;c=3"),
            "separators kept"
        );
        let two = QueryCredentials::read(Some("access_token=t&ACCESS.TOKEN=u"));
        assert_eq!(two.count(), 2);
        for other in [
            "access_tokens=t",
            "accesstoken=t",
            "access-token=t",
            "xaccess_token=t",
        ] {
            assert_eq!(QueryCredentials::read(Some(other)).count(), 0, "{other}");
        }
    }

    #[test]
    fn a_query_without_a_token_is_kept_as_it_is() {
        for query in ["", "a=1&&b", "access_tokens=x", "x_access_token=y", "%zz=1"] {
            let q = QueryCredentials::read(Some(query));
            assert_eq!(q.count(), 0, "{query}");
            assert_eq!(q.without_tokens(), Some(query));
        }
        assert_eq!(QueryCredentials::read(None), QueryCredentials::default());
        assert_eq!(QueryCredentials::read(None).without_tokens(), None);
    }
}
