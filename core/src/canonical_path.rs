//! The one canonical form of a request path: the path the policy matches is the path the origin
//! is sent.
//!
//! A gateway that matches routes on one reading of the path and forwards another is a bypass:
//! `GET //api/admin/x` does not match a rule on `/api/admin/...`, yet an nginx origin with
//! `merge_slashes on` (its default) serves `/api/admin/x`; `/api/%61dmin/x`,
//! `/api/items/..;/admin/x` and `/api//admin/x` all reach origins that read them as
//! `/api/admin/x`. So [`CanonicalPath::parse`] turns the raw path into the single form that
//! every mainstream origin stack reads the same way, refusing what cannot be put in such a form,
//! and the gateway both matches and forwards that output, never the raw text.
//!
//! The model is Envoy's `normalize_path` + `merge_slashes` +
//! `path_with_escaped_slashes_action: REJECT_REQUEST`, with the refusals of Spring Security's
//! `StrictHttpFirewall`.
//!
//! # What is refused, and why
//!
//! Checks over the raw bytes come first (the first offending byte decides the error), then the
//! percent-escapes and the UTF-8 check in reading order (a segment's UTF-8 is judged when the
//! segment ends, so an escape error inside the segment is reported first).
//!
//! | refusal | origins that would read the path differently |
//! |---|---|
//! | [`PathError::TooLong`] | none; bounds the work (checked before anything is read) |
//! | [`PathError::NotAbsolute`] | the input must be an origin-form path (`/...`); `*`, authority-form and relative references are not routable |
//! | [`PathError::Backslash`] (raw `\`) | IIS / ASP.NET on Windows and WHATWG URL parsers treat `\` as `/`; Envoy translates it; Apache and nginx do not |
//! | [`PathError::PathParameter`] (raw `;`, `%3B`) | Tomcat and Jetty strip `;params` from each segment before mapping (`/a/..;/admin` is `/admin` there), Spring's `StrictHttpFirewall` refuses both forms |
//! | [`PathError::EncodedSeparator`] (`%2F`, `%5C`) | Spring's `UrlPathHelper` and ASP.NET decode `%2F` into a separator, Tomcat refuses it, Kestrel and nginx keep it as data, IIS takes `%5C` as `\` and so as `/`; no single form means the same everywhere (Envoy's `REJECT_REQUEST`) |
//! | [`PathError::ControlCharacter`] (raw bytes `0x00..=0x20`, `0x7F`; escapes of `0x00..=0x1F`, `0x7F`) | raw ones are not request-target syntax (request splitting); `%00` truncates paths in C-based stacks, `%0D%0A` splits logs and headers; Envoy refuses `%00` |
//! | [`PathError::NonAscii`] (raw bytes `>= 0x80`) | not URI syntax; Tomcat (`URIEncoding`) and IIS may read the bytes as another charset than UTF-8 |
//! | [`PathError::MalformedEscape`] (`%` without two hex digits, raw `?` or `#`) | origins pass `%zz` through, decode `%u0041`-style forms, or refuse; Envoy refuses |
//! | [`PathError::InvalidUtf8`] (the decoded bytes of a segment) | lenient decoders read overlong forms such as `%C0%AE` as `.` (the IIS and Tomcat traversal bugs), others as U+FFFD |
//!
//! A raw `?` or `#` cannot be part of a serialised path (the URL parser ends the path there; as
//! data they arrive as `%3F` and `%23`), so seeing one means the caller passed more than the
//! path component: it is refused as [`PathError::MalformedEscape`], the path not being a
//! correctly percent-encoded path.
//!
//! # The canonical form
//!
//! - Escapes of RFC 3986 unreserved characters (`ALPHA / DIGIT / "-" / "." / "_" / "~"`) are
//!   decoded (RFC 3986 §6.2.2.2): `%61dmin` is `admin`, as ASP.NET Core, Spring and Express
//!   decode it before routing. Every other escape stays encoded, with upper-case hex
//!   (§6.2.2.1): `%c3%a9` becomes `%C3%A9`.
//! - `%25` stays `%25`: an origin that decodes twice (`%252e` → `%2e` → `.`) is out of scope.
//! - Repeated slashes are merged (`//a///b` is `/a/b`), as nginx's `merge_slashes` does; then
//!   dot segments are removed as RFC 3986 §5.2.4 removes them, after the unreserved decoding, so
//!   `%2e%2e` is `..`. A `..` above the root stays at the root (`/../a` is `/a`). The merge comes
//!   first, as in nginx: `/a/b//../c` is `/a/c`, not `/a/b/c`.
//! - A trailing slash stays where §5.2.4 keeps it: `/a/b/` stays, `/a/b/..` and `/a/.` end in
//!   `/`, `/..` and `/.` are `/`.
//! - Segments are checked (escapes, UTF-8) before dot segments remove any: `/%FF/../a` is
//!   refused, not `/a`.
//! - Letter case is kept (whether routes match case-insensitively is decided elsewhere); other
//!   printable ASCII (`: @ ! $ & ' ( ) * + , = | [ ] { } ^ ` " < >` ...) passes unchanged.
//!
//! The output is never longer than the input, starts with `/`, has no `//`, no `.` or `..`
//! segment, no `\`, `;` or control character, no escape of an unreserved character and no
//! lower-case hex; its segments decode to UTF-8, decoding never creates a separator, and parsing
//! it again gives it back unchanged.

use std::fmt::{self, Write as _};

/// The longest raw path accepted, in bytes.
pub const MAX_PATH_BYTES: usize = 8192;

/// A request path in its one canonical form (see module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalPath(String);

impl CanonicalPath {
    /// Canonicalises the path component of a request URL (no query, no fragment), or says why
    /// it cannot be canonicalised.
    pub fn parse(raw: &str) -> Result<CanonicalPath, PathError> {
        if raw.len() > MAX_PATH_BYTES {
            return Err(PathError::TooLong { length: raw.len() });
        }
        let bytes = raw.as_bytes();
        if bytes.first() != Some(&b'/') {
            return Err(PathError::NotAbsolute);
        }
        if let Some(error) = bytes.iter().find_map(|&byte| raw_byte_error(byte)) {
            return Err(error);
        }
        canonicalise(bytes).map(CanonicalPath)
    }

    /// `/`, the root (canonical as it is).
    pub fn root() -> CanonicalPath {
        CanonicalPath("/".to_owned())
    }

    /// The path text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for CanonicalPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a path has no canonical form. The path itself is never part of the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathError {
    /// Does not start with `/` (empty, `*`, relative, authority-form).
    NotAbsolute,
    /// A raw `\`.
    Backslash,
    /// A raw `;` or its escape `%3B`.
    PathParameter,
    /// `%2F` or `%5C` (either case); `byte` is the decoded byte.
    EncodedSeparator {
        /// `b'/'` or `b'\\'`.
        byte: u8,
    },
    /// A raw byte below 0x21 (space included) or 0x7F, or an escape decoding to 0x00..=0x1F or
    /// 0x7F.
    ControlCharacter,
    /// A raw byte 0x80 or above.
    NonAscii,
    /// A `%` not followed by two hex digits, or a raw `?` or `#` (a serialised path carries them
    /// only as `%3F` and `%23`).
    MalformedEscape,
    /// The fully decoded bytes of a segment are not UTF-8 (overlong forms included).
    InvalidUtf8,
    /// More than [`MAX_PATH_BYTES`] input bytes.
    TooLong {
        /// The path's length in bytes.
        length: usize,
    },
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathError::NotAbsolute => f.write_str("path does not start with a slash"),
            PathError::Backslash => f.write_str("path contains a backslash"),
            PathError::PathParameter => f.write_str("path contains a semicolon (path parameter)"),
            PathError::EncodedSeparator { byte: b'/' } => {
                f.write_str("path contains an encoded slash")
            }
            PathError::EncodedSeparator { byte: b'\\' } => {
                f.write_str("path contains an encoded backslash")
            }
            PathError::EncodedSeparator { .. } => f.write_str("path contains an encoded separator"),
            PathError::ControlCharacter => {
                f.write_str("path contains a control character, space or delete")
            }
            PathError::NonAscii => f.write_str("path contains a raw non-ascii byte"),
            PathError::MalformedEscape => f.write_str("path is not correctly percent-encoded"),
            PathError::InvalidUtf8 => f.write_str("path segment does not decode to utf-8"),
            PathError::TooLong { length } => write!(
                f,
                "path of {length} bytes exceeds the limit of {MAX_PATH_BYTES}"
            ),
        }
    }
}

impl std::error::Error for PathError {}

/// What a raw byte of the path is refused as, if it is refused.
fn raw_byte_error(byte: u8) -> Option<PathError> {
    match byte {
        b'\\' => Some(PathError::Backslash),
        b';' => Some(PathError::PathParameter),
        b'?' | b'#' => Some(PathError::MalformedEscape),
        0x00..=0x20 | 0x7f => Some(PathError::ControlCharacter),
        0x80..=0xff => Some(PathError::NonAscii),
        _ => None,
    }
}

/// Merges slashes, canonicalises each segment and removes dot segments, in one pass over
/// `bytes` (which start with `/` and passed the raw-byte checks, so the output is ASCII).
fn canonicalise(bytes: &[u8]) -> Result<String, PathError> {
    let mut out = String::with_capacity(bytes.len());
    // The current segment with every escape decoded, for the UTF-8 check.
    let mut decoded = Vec::new();
    let mut ends_in_dot_segment = false;
    // Empty pieces are the leading slash and repeated slashes: skipping them merges slashes.
    for segment in bytes.split(|&byte| byte == b'/').filter(|s| !s.is_empty()) {
        let start = out.len();
        out.push('/');
        decoded.clear();
        append_segment(segment, &mut out, &mut decoded)?;
        if std::str::from_utf8(&decoded).is_err() {
            return Err(PathError::InvalidUtf8);
        }
        ends_in_dot_segment = match out.get(start + 1..) {
            Some(".") => {
                out.truncate(start);
                true
            }
            Some("..") => {
                out.truncate(start);
                // Drop the parent segment, if any: above the root stays at the root.
                let parent = out.rfind('/').unwrap_or(0);
                out.truncate(parent);
                true
            }
            _ => false,
        };
    }
    if out.is_empty() || ends_in_dot_segment || bytes.ends_with(b"/") {
        out.push('/');
    }
    Ok(out)
}

/// Appends one segment (no `/` in it) to `out` in canonical form, and its decoded bytes to
/// `decoded`.
fn append_segment(
    segment: &[u8],
    out: &mut String,
    decoded: &mut Vec<u8>,
) -> Result<(), PathError> {
    let mut rest = segment;
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let [high, low, after @ ..] = tail else {
                return Err(PathError::MalformedEscape);
            };
            let escaped = hex_pair(*high, *low).ok_or(PathError::MalformedEscape)?;
            append_escape(escaped, out, decoded)?;
            rest = after;
        } else {
            out.push(char::from(byte));
            decoded.push(byte);
            rest = tail;
        }
    }
    Ok(())
}

/// The byte two hex digits (either case) spell.
fn hex_pair(high: u8, low: u8) -> Option<u8> {
    let high = char::from(high).to_digit(16)?;
    let low = char::from(low).to_digit(16)?;
    u8::try_from(high * 16 + low).ok()
}

/// Appends the decoded byte of an escape: as the character if it is unreserved, else as an
/// escape with upper-case hex; refuses separators, `;` and controls.
fn append_escape(byte: u8, out: &mut String, decoded: &mut Vec<u8>) -> Result<(), PathError> {
    match byte {
        b'/' | b'\\' => return Err(PathError::EncodedSeparator { byte }),
        b';' => return Err(PathError::PathParameter),
        0x00..=0x1f | 0x7f => return Err(PathError::ControlCharacter),
        _ => {}
    }
    decoded.push(byte);
    if is_unreserved(byte) {
        out.push(char::from(byte));
    } else {
        // Writing to a String cannot fail.
        let _ = write!(out, "%{byte:02X}");
    }
    Ok(())
}

/// RFC 3986 §2.3: `ALPHA / DIGIT / "-" / "." / "_" / "~"`.
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> String {
        match CanonicalPath::parse(raw) {
            Ok(path) => path.into_string(),
            Err(error) => panic!("{raw:?} refused: {error:?}"),
        }
    }

    fn err(raw: &str) -> PathError {
        match CanonicalPath::parse(raw) {
            Ok(path) => panic!("{raw:?} accepted as {path:?}"),
            Err(error) => error,
        }
    }

    #[test]
    fn canonical_paths_are_unchanged() {
        for path in [
            "/",
            "/a",
            "/a/b",
            "/a/b/",
            "/A/b/C",
            "/a.b/c..d/...",
            "/%C3%A9",
            "/%25",
        ] {
            assert_eq!(ok(path), path);
        }
    }

    #[test]
    fn accessors_and_display_give_the_path() {
        let path = CanonicalPath::parse("/a//b").unwrap();
        assert_eq!(path.as_str(), "/a/b");
        assert_eq!(path.to_string(), "/a/b");
        assert_eq!(path.clone().into_string(), "/a/b");
    }

    #[test]
    fn repeated_slashes_merge() {
        assert_eq!(ok("//"), "/");
        assert_eq!(ok("///"), "/");
        assert_eq!(ok("//api/admin/x"), "/api/admin/x");
        assert_eq!(ok("/api//admin/x"), "/api/admin/x");
        assert_eq!(ok("/a///b"), "/a/b");
        assert_eq!(ok("/a/b//"), "/a/b/");
    }

    #[test]
    fn dot_segments_are_removed() {
        assert_eq!(ok("/a/./b"), "/a/b");
        assert_eq!(ok("/a/b/../c"), "/a/c");
        assert_eq!(ok("/a/b/c/./../../g"), "/a/g");
        assert_eq!(ok("/a/b/../../../../c"), "/c");
        assert_eq!(ok("/../a"), "/a");
        assert_eq!(ok("/./a"), "/a");
        // The merge comes first: the empty segment is not a segment `..` can remove.
        assert_eq!(ok("/a/b//../c"), "/a/c");
    }

    #[test]
    fn trailing_slash_follows_rfc_3986() {
        assert_eq!(ok("/a/b/"), "/a/b/");
        assert_eq!(ok("/a/b"), "/a/b");
        assert_eq!(ok("/a/b/.."), "/a/");
        assert_eq!(ok("/a/b/../"), "/a/");
        assert_eq!(ok("/a/."), "/a/");
        assert_eq!(ok("/a/./"), "/a/");
        assert_eq!(ok("/.."), "/");
        assert_eq!(ok("/."), "/");
        assert_eq!(ok("/a/.."), "/");
        assert_eq!(ok("/../.."), "/");
        assert_eq!(ok("/a/../b"), "/b");
        assert_eq!(ok("/a/./b"), "/a/b");
    }

    #[test]
    fn dots_inside_names_are_kept() {
        assert_eq!(ok("/.a/a./..b/b../.../a.b"), "/.a/a./..b/b../.../a.b");
        assert_eq!(ok("/%2e%2e%2e"), "/...");
        assert_eq!(ok("/a/%2e%2ex"), "/a/..x");
    }

    #[test]
    fn unreserved_escapes_are_decoded() {
        assert_eq!(ok("/api/%61dmin/x"), "/api/admin/x");
        assert_eq!(ok("/%41%5a%61%7a%30%39"), "/AZaz09");
        assert_eq!(ok("/%2D%2E%5F%7E"), "/-._~");
        assert_eq!(ok("/%2d%5f%7e"), "/-_~");
    }

    #[test]
    fn encoded_dots_are_dot_segments() {
        assert_eq!(ok("/a/b/%2e%2e/c"), "/a/c");
        assert_eq!(ok("/a/b/%2E%2E/c"), "/a/c");
        assert_eq!(ok("/a/b/.%2e/c"), "/a/c");
        assert_eq!(ok("/a/b/%2e./c"), "/a/c");
        assert_eq!(ok("/a/b/%2e/c"), "/a/b/c");
        assert_eq!(ok("/a/%2e"), "/a/");
    }

    #[test]
    fn other_escapes_stay_with_upper_case_hex() {
        assert_eq!(ok("/%c3%a9"), "/%C3%A9");
        assert_eq!(ok("/%3a%40%21%20"), "/%3A%40%21%20");
        assert_eq!(ok("/%25%2561"), "/%25%2561");
        assert_eq!(ok("/%3f%23"), "/%3F%23");
        assert_eq!(ok("/%e2%82%ac"), "/%E2%82%AC");
    }

    #[test]
    fn printable_ascii_passes() {
        let path = "/:@!$&'()*+,=|[]{}^`\"<>-._~";
        assert_eq!(ok(path), path);
    }

    #[test]
    fn raw_byte_refusals() {
        assert_eq!(err("/a\\b"), PathError::Backslash);
        assert_eq!(err("/a/..;/b"), PathError::PathParameter);
        assert_eq!(err("/a;x"), PathError::PathParameter);
        assert_eq!(err("/a?b"), PathError::MalformedEscape);
        assert_eq!(err("/a#b"), PathError::MalformedEscape);
        for control in ["\0", "\t", "\n", "\r", " ", "\u{1f}", "\u{7f}"] {
            assert_eq!(err(&format!("/a{control}b")), PathError::ControlCharacter);
        }
        assert_eq!(ok("/!"), "/!");
        assert_eq!(err("/é"), PathError::NonAscii);
        assert_eq!(err("/\u{80}"), PathError::NonAscii);
        assert_eq!(err("/\u{10ffff}"), PathError::NonAscii);
    }

    #[test]
    fn escape_refusals() {
        assert_eq!(err("/a%2Fb"), PathError::EncodedSeparator { byte: b'/' });
        assert_eq!(err("/a%2fb"), PathError::EncodedSeparator { byte: b'/' });
        assert_eq!(err("/a%5Cb"), PathError::EncodedSeparator { byte: b'\\' });
        assert_eq!(err("/a%5cb"), PathError::EncodedSeparator { byte: b'\\' });
        assert_eq!(err("/a%3Bb"), PathError::PathParameter);
        assert_eq!(err("/a%3bb"), PathError::PathParameter);
        for control in [
            "%00", "%01", "%09", "%0a", "%0D", "%1f", "%1F", "%7f", "%7F",
        ] {
            assert_eq!(err(&format!("/a{control}")), PathError::ControlCharacter);
        }
        assert_eq!(ok("/%20"), "/%20");
    }

    #[test]
    fn malformed_escapes() {
        for raw in [
            "/%", "/a%", "/%4", "/%4/", "/%zz", "/%g0", "/%0g", "/%%41", "/%/41", "/%-1",
        ] {
            assert_eq!(err(raw), PathError::MalformedEscape, "{raw:?}");
        }
    }

    #[test]
    fn hex_digits_of_both_cases() {
        assert_eq!(hex_pair(b'0', b'0'), Some(0x00));
        assert_eq!(hex_pair(b'9', b'f'), Some(0x9f));
        assert_eq!(hex_pair(b'F', b'A'), Some(0xfa));
        assert_eq!(hex_pair(b'a', b'B'), Some(0xab));
        assert_eq!(hex_pair(b'g', b'0'), None);
        assert_eq!(hex_pair(b'0', b'G'), None);
    }

    #[test]
    fn segments_must_decode_to_utf8() {
        assert_eq!(err("/%FF"), PathError::InvalidUtf8);
        assert_eq!(err("/%C0%AE"), PathError::InvalidUtf8);
        assert_eq!(err("/%c0%af"), PathError::InvalidUtf8);
        assert_eq!(err("/%E0%80%AE"), PathError::InvalidUtf8);
        assert_eq!(err("/%ED%A0%80"), PathError::InvalidUtf8);
        assert_eq!(err("/%F4%90%80%80"), PathError::InvalidUtf8);
        assert_eq!(err("/%C3"), PathError::InvalidUtf8);
        // A sequence split by a raw character or by a separator is not UTF-8 either.
        assert_eq!(err("/%C3a%A9"), PathError::InvalidUtf8);
        assert_eq!(err("/%C3/%A9"), PathError::InvalidUtf8);
        // Checked before the dot segment removes the segment.
        assert_eq!(err("/%FF/../a"), PathError::InvalidUtf8);
        assert_eq!(ok("/%F0%9F%A6%80"), "/%F0%9F%A6%80");
    }

    #[test]
    fn errors_come_in_a_fixed_order() {
        // Raw bytes before escapes, wherever they are.
        assert_eq!(err("/%2F/\\"), PathError::Backslash);
        assert_eq!(err("/%zz/é"), PathError::NonAscii);
        // Raw bytes: the first one decides.
        assert_eq!(err("/;\\"), PathError::PathParameter);
        assert_eq!(err("/\\;"), PathError::Backslash);
        // Escapes: reading order; UTF-8 when the segment ends.
        assert_eq!(err("/%FF%2F"), PathError::EncodedSeparator { byte: b'/' });
        assert_eq!(err("/%FF/%2F"), PathError::InvalidUtf8);
        assert_eq!(err("/%3B%2F"), PathError::PathParameter);
        // Nothing is read before the length is checked.
        assert_eq!(
            err(&format!("x{}", "a".repeat(MAX_PATH_BYTES))),
            PathError::TooLong {
                length: MAX_PATH_BYTES + 1
            }
        );
    }

    #[test]
    fn not_absolute() {
        for raw in [
            "",
            "a",
            "a/b",
            "*",
            "./",
            "..",
            "%2F",
            "\\a",
            "example.com:443",
        ] {
            assert_eq!(err(raw), PathError::NotAbsolute, "{raw:?}");
        }
    }

    #[test]
    fn length_limit() {
        let longest = format!("/{}", "a".repeat(MAX_PATH_BYTES - 1));
        assert_eq!(ok(&longest), longest);
        let over = format!("/{}", "a".repeat(MAX_PATH_BYTES));
        assert_eq!(
            err(&over),
            PathError::TooLong {
                length: MAX_PATH_BYTES + 1
            }
        );
        assert_eq!(MAX_PATH_BYTES, 8192);
    }

    #[test]
    fn display_is_lower_case_and_never_echoes_the_path() {
        let errors = [
            PathError::NotAbsolute,
            PathError::Backslash,
            PathError::PathParameter,
            PathError::EncodedSeparator { byte: b'/' },
            PathError::EncodedSeparator { byte: b'\\' },
            PathError::EncodedSeparator { byte: b'x' },
            PathError::ControlCharacter,
            PathError::NonAscii,
            PathError::MalformedEscape,
            PathError::InvalidUtf8,
            PathError::TooLong { length: 9000 },
        ];
        let mut seen = std::collections::HashSet::new();
        for error in errors {
            let text = error.to_string();
            assert!(seen.insert(text.clone()), "{text:?} twice");
            assert!(text.starts_with("path"), "{text:?}");
            assert!(!text.ends_with(['.', '!', ' ']), "{text:?}");
            assert_eq!(text, text.to_lowercase());
        }
        assert_eq!(
            PathError::TooLong { length: 9000 }.to_string(),
            "path of 9000 bytes exceeds the limit of 8192"
        );
        assert_eq!(
            PathError::EncodedSeparator { byte: b'/' }.to_string(),
            "path contains an encoded slash"
        );
        assert_eq!(
            PathError::EncodedSeparator { byte: b'\\' }.to_string(),
            "path contains an encoded backslash"
        );
        let error: &dyn std::error::Error = &PathError::InvalidUtf8;
        assert!(error.source().is_none());
    }

    #[test]
    fn the_issue_examples_all_reach_one_path() {
        for raw in [
            "/api/admin/x",
            "//api/admin/x",
            "/api/%61dmin/x",
            "/api//admin/x",
            "/api/items/../admin/x",
            "/api/items/%2e%2e/admin/x",
            "/api/./admin/x",
        ] {
            assert_eq!(ok(raw), "/api/admin/x", "{raw:?}");
        }
        assert_eq!(err("/api/items/..;/admin/x"), PathError::PathParameter);
    }
}
