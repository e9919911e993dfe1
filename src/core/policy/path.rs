//! Route path patterns, matched segment by segment in one linear pass (no regex, no
//! backtracking): `/health` (exact), `/api/items/*` (`*` is exactly one non-empty segment),
//! `/api/**` (`**`, last only, is any number of segments, none included).
//!
//! Paths are matched as the runtime's URL parser normalised them (dot segments resolved),
//! without percent-decoding, so `%2F` never splits a segment and `%2e%2e` never climbs.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    One,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern {
    text: String,
    segments: Vec<Segment>,
    rest: bool,
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PathPattern {
    /// `/`: the root only.
    pub fn root() -> Self {
        PathPattern {
            text: "/".into(),
            segments: Vec::new(),
            rest: false,
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let body = text.strip_prefix('/').ok_or("must start with /")?;
        if text.contains(['?', '#']) {
            return Err("must not contain ? or #".into());
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
                "**" => return Err("** may only be the last segment".into()),
                "*" => segments.push(Segment::One),
                p if p.contains('*') => return Err(format!("{p:?}: * must be a whole segment")),
                "" if i + 1 < parts.len() => return Err("empty segment (//)".into()),
                p => segments.push(Segment::Literal(p.to_owned())),
            }
        }
        Ok(PathPattern {
            text: text.to_owned(),
            segments,
            rest,
        })
    }

    pub fn matches(&self, path: &str) -> bool {
        let Some(body) = path.strip_prefix('/') else {
            return false;
        };
        // "/" has no segments at all, while "/a/" has "a" and an empty last one.
        let mut parts = body.split('/').skip(usize::from(body.is_empty()));
        for segment in &self.segments {
            match (segment, parts.next()) {
                (Segment::Literal(want), Some(got)) if want == got => {}
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
                (Segment::Literal(a), Segment::Literal(b)) => a == b,
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
    fn refuses_bad_patterns() {
        for bad in ["health", "/a/**/b", "/a*", "/a//b", "/a?x=1"] {
            assert!(PathPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn coverage_for_shadow_lint() {
        assert!(p("/api/**").covers(&p("/api/items/*")));
        assert!(p("/api/*").covers(&p("/api/x")));
        assert!(!p("/api/x").covers(&p("/api/*")));
        assert!(!p("/api/*").covers(&p("/api/**")));
    }
}
