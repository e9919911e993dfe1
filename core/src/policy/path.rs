//! Route path patterns, matched segment by segment in one linear pass (no regex, no
//! backtracking): `/health` (exact), `/api/items/*` (`*` is exactly one non-empty segment),
//! `/api/**` (`**`, last only, is any number of segments, none included).
//!
//! Paths are matched in their canonical form (`core::canonical_path`): the very string the
//! origin receives, with unreserved escapes decoded, dot segments resolved, slashes merged, and
//! anything origins read in different ways (`%2F`, `\\`, `;`) refused before matching. A pattern
//! may fold ASCII case, for origins that route without regard to it.

use crate::canonical_path::CanonicalPath;
use crate::quoted::Quoted;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    One,
}

/// A route's path pattern, parsed: literal segments, `*` and a trailing `**`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern {
    text: String,
    segments: Vec<Segment>,
    rest: bool,
    /// Literal segments match without regard to ASCII case.
    fold_case: bool,
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why a route's path pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PatternError {
    /// Does not start with `/`.
    NotAbsolute,
    /// Has a `?` or `#`.
    QueryOrFragment,
    /// `**` before the last segment.
    RestNotLast,
    /// `*` inside a segment (`/a*`).
    PartialWildcard {
        /// The segment.
        segment: String,
    },
    /// `//` inside the pattern.
    EmptySegment,
    /// A literal that no canonical request path contains.
    NotCanonical {
        /// The segment.
        segment: String,
    },
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::NotAbsolute => f.write_str("must start with /"),
            PatternError::QueryOrFragment => f.write_str("must not contain ? or #"),
            PatternError::RestNotLast => f.write_str("** may only be the last segment"),
            PatternError::PartialWildcard { segment } => {
                write!(f, "{}: * must be a whole segment", Quoted(segment))
            }
            PatternError::EmptySegment => f.write_str("empty segment (//)"),
            PatternError::NotCanonical { segment } => write!(
                f,
                "{} can never match: request paths are matched in canonical form \
                 (no dot segments, unreserved characters unescaped, escapes in upper case, \
                 no ; or encoded / \\)",
                Quoted(segment)
            ),
        }
    }
}

impl std::error::Error for PatternError {}

/// A literal segment a canonical request path can contain as it is written.
fn is_canonical_segment(segment: &str) -> bool {
    let path = format!("/{segment}");
    CanonicalPath::parse(&path).is_ok_and(|canonical| canonical.as_str() == path)
        && segment != "."
        && segment != ".."
}

impl PathPattern {
    /// `/`: the root only.
    pub fn root() -> Self {
        PathPattern {
            text: "/".into(),
            segments: Vec::new(),
            rest: false,
            fold_case: false,
        }
    }

    /// The same pattern, matching literal segments without regard to ASCII case.
    pub fn ignoring_case(mut self) -> Self {
        self.fold_case = true;
        self
    }

    fn same_literal(&self, want: &str, got: &str) -> bool {
        if self.fold_case {
            want.eq_ignore_ascii_case(got)
        } else {
            want == got
        }
    }

    /// Reads a route's `path`.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let body = text.strip_prefix('/').ok_or(PatternError::NotAbsolute)?;
        if text.contains(['?', '#']) {
            return Err(PatternError::QueryOrFragment);
        }
        let parts: Vec<&str> = if body.is_empty() {
            Vec::new()
        } else {
            body.split('/').collect()
        };
        let mut segments = Vec::new();
        let mut rest = false;
        for (i, part) in parts.iter().enumerate() {
            match *part {
                "**" if i + 1 == parts.len() => rest = true,
                "**" => return Err(PatternError::RestNotLast),
                "*" => segments.push(Segment::One),
                p if p.contains('*') => {
                    return Err(PatternError::PartialWildcard {
                        segment: p.to_owned(),
                    })
                }
                "" if i + 1 < parts.len() => return Err(PatternError::EmptySegment),
                p if !is_canonical_segment(p) => {
                    return Err(PatternError::NotCanonical {
                        segment: p.to_owned(),
                    })
                }
                p => segments.push(Segment::Literal(p.to_owned())),
            }
        }
        Ok(PathPattern {
            text: text.to_owned(),
            segments,
            rest,
            fold_case: false,
        })
    }

    /// Whether a canonical request path matches, segment by segment.
    pub fn matches(&self, path: &str) -> bool {
        let Some(body) = path.strip_prefix('/') else {
            return false;
        };
        // "/" has no segments at all, while "/a/" has "a" and an empty last one.
        let mut parts = body.split('/').skip(usize::from(body.is_empty()));
        for segment in &self.segments {
            match (segment, parts.next()) {
                (Segment::Literal(want), Some(got)) if self.same_literal(want, got) => {}
                (Segment::One, Some(got)) if !got.is_empty() => {}
                _ => return false,
            }
        }
        self.rest || parts.next().is_none()
    }

    /// More literal segments first, then fewer wildcards: used only to lint shadowed routes.
    pub fn covers(&self, other: &PathPattern) -> bool {
        if self.segments.len() > other.segments.len()
            || (!self.rest && (other.rest || self.segments.len() != other.segments.len()))
        {
            return false;
        }
        self.segments
            .iter()
            .zip(&other.segments)
            .all(|(a, b)| match (a, b) {
                (Segment::One, Segment::Literal(l)) => !l.is_empty(),
                (Segment::One, Segment::One) => true,
                (Segment::Literal(a), Segment::Literal(b)) => {
                    self.same_literal(a, b) || other.same_literal(a, b)
                }
                (Segment::Literal(_), Segment::One) => false,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> PathPattern {
        PathPattern::parse(text).expect("valid pattern")
    }

    #[test]
    fn exact_one_segment_and_rest() {
        assert!(p("/health").matches("/health"));
        assert!(!p("/health").matches("/health/"));
        assert!(!p("/health").matches("/healthz"));
        assert!(p("/").matches("/"));
        assert!(!p("/").matches("/x"));
        assert!(p("/api/items/*").matches("/api/items/42"));
        assert!(!p("/api/items/*").matches("/api/items/"));
        assert!(!p("/api/items/*").matches("/api/items/42/parts"));
        assert!(p("/api/**").matches("/api"));
        assert!(p("/api/**").matches("/api/"));
        assert!(p("/api/**").matches("/api/a/b/c"));
        assert!(!p("/api/**").matches("/apix"));
        assert!(p("/**").matches("/anything/at/all"));
        assert!(p("/a/*/c").matches("/a/b/c"));
        assert!(!p("/a/*/c").matches("/a//c"));
    }

    #[test]
    fn encoded_separators_stay_inside_a_segment() {
        assert!(p("/files/*").matches("/files/a%2Fb"));
        assert!(!p("/admin/**").matches("/public/%2e%2e/admin"));
    }

    #[test]
    fn case_folding_is_chosen_per_pattern() {
        assert!(!p("/api/admin/**").matches("/API/Admin/x"));
        let folded = p("/api/admin/**").ignoring_case();
        assert!(folded.matches("/API/Admin/x"));
        assert!(folded.matches("/api/admin"));
        assert!(!folded.matches("/api/admins"));
        assert!(folded.covers(&p("/API/ADMIN/x")));
        assert!(!p("/api/**").covers(&p("/API/x")));
    }

    #[test]
    fn refuses_bad_patterns() {
        for bad in [
            "health",
            "/a/**/b",
            "/a*",
            "/a//b",
            "/a?x=1",
            "/api/%61dmin",
            "/api/%2fadmin",
            "/a/%c3%a9",
            "/a/./b",
            "/a/../b",
            "/a/..",
            "/a;b",
            "/a\\b",
        ] {
            assert!(PathPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn canonical_literals_and_a_trailing_slash_are_fine() {
        for good in [
            "/a/",
            "/api/items/*",
            "/a/%C3%A9",
            "/~user/x",
            "/a/b.c",
            "/**",
        ] {
            assert!(PathPattern::parse(good).is_ok(), "{good}");
        }
        assert!(p("/a/").matches("/a/"));
        assert!(!p("/a/").matches("/a"));
    }

    #[test]
    fn coverage_for_shadow_lint() {
        assert!(p("/api/**").covers(&p("/api/items/*")));
        assert!(p("/api/*").covers(&p("/api/x")));
        assert!(!p("/api/x").covers(&p("/api/*")));
        assert!(!p("/api/*").covers(&p("/api/**")));
        assert!(!p("/a/b/**").covers(&p("/a")), "longer than the other");
        assert!(!p("/a").covers(&p("/a/b")), "shorter, without a rest");
        assert!(!p("/a").covers(&p("/a/**")), "the other has a rest");
        assert!(p("/a/**").covers(&p("/a/**")));
        assert!(p("/a/**").covers(&p("/a")));
    }
}
