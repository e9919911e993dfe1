//! Token intake from `Authorization: Bearer <token>` (RFC 6750 §2.1).

use super::reason::Reason;
use std::fmt;

/// Why no token could be taken from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BearerError {
    /// No `Authorization` header at all.
    Missing,
    /// An `Authorization` header for another scheme (Basic, Negotiate, ...).
    OtherScheme,
    /// `Bearer` with something that is not one b64token (empty, inner spaces, a second header).
    Malformed,
    /// Longer than the cap; nothing of it was parsed.
    TooLarge { length: usize, cap: usize },
}

impl BearerError {
    pub fn reason(&self) -> Reason {
        match self {
            BearerError::Missing | BearerError::OtherScheme => Reason::TokenMissing,
            BearerError::Malformed => Reason::MalformedAuthorization,
            BearerError::TooLarge { .. } => Reason::TokenTooLarge,
        }
    }
}

impl fmt::Display for BearerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BearerError::Missing => f.write_str("no authorization header"),
            BearerError::OtherScheme => f.write_str("authorization scheme is not bearer"),
            BearerError::Malformed => f.write_str("bearer credentials are not one b64token"),
            BearerError::TooLarge { length, cap } => {
                write!(f, "token of {length} bytes exceeds the cap of {cap}")
            }
        }
    }
}

/// Takes the token out of an `Authorization` header value.
///
/// The size cap is checked on the raw value first, so an oversized header costs one length
/// comparison. Repeated headers arrive joined by `", "`, which is not b64token syntax, so two
/// `Authorization` headers are refused as malformed rather than silently picking one.
pub fn extract(header: Option<&str>, max_token_bytes: usize) -> Result<&str, BearerError> {
    let value = header.ok_or(BearerError::Missing)?;
    // "Bearer", a space and the token leave 57 bytes for extra spaces; a value longer than that
    // is refused unparsed, even if it is a token within the cap padded with spaces.
    if value.len() > max_token_bytes + 64 {
        return Err(BearerError::TooLarge {
            length: value.len(),
            cap: max_token_bytes,
        });
    }
    let value = value.trim_matches(|c| c == ' ' || c == '\t');
    let (scheme, rest) = match value.find([' ', '\t']) {
        Some(at) => value.split_at(at),
        None => (value, ""),
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(BearerError::OtherScheme);
    }
    // RFC 6750 separates scheme and token with spaces only: a tab is a malformed Bearer header,
    // not another scheme.
    if rest.starts_with('\t') {
        return Err(BearerError::Malformed);
    }
    let token = rest.trim_start_matches(' ');
    if token.is_empty() || !is_b64token(token) {
        return Err(BearerError::Malformed);
    }
    if token.len() > max_token_bytes {
        return Err(BearerError::TooLarge {
            length: token.len(),
            cap: max_token_bytes,
        });
    }
    Ok(token)
}

/// The characters of RFC 6750's `b64token`. `=` is accepted anywhere, not only at the end: a
/// JWS with a padded segment is a malformed *token* (401 `invalid_token`, `malformed_jws`), a
/// more useful answer than a malformed request.
fn is_b64token(token: &str) -> bool {
    token.bytes().any(|b| b != b'=') && token.bytes().all(|b| B64TOKEN[usize::from(b)])
}

/// The bytes of RFC 6750's b64token, as a table: a 1 KB token is one load per byte (the
/// size-optimised wasm called a closure per byte for the comparisons, 2 µs per request).
// A u8 widens to usize without loss; `usize::from` cannot run in a const.
#[allow(clippy::as_conversions)]
static B64TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b: u8 = 0;
    loop {
        table[b as usize] = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=');
        if b == u8::MAX {
            break table;
        }
        b += 1;
    }
};

impl std::error::Error for BearerError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_token_with_any_scheme_case() {
        for header in [
            "Bearer abc.def.ghi",
            "bearer abc.def.ghi",
            "BEARER   abc.def.ghi",
        ] {
            assert_eq!(extract(Some(header), 100), Ok("abc.def.ghi"), "{header}");
        }
    }

    #[test]
    fn refuses_other_shapes() {
        assert_eq!(extract(None, 100), Err(BearerError::Missing));
        assert_eq!(
            extract(Some("Basic dXNlcjpwYXNz"), 100),
            Err(BearerError::OtherScheme)
        );
        assert_eq!(extract(Some("Bearer"), 100), Err(BearerError::Malformed));
        assert_eq!(extract(Some("Bearer "), 100), Err(BearerError::Malformed));
        assert_eq!(
            extract(Some("Bearer a b"), 100),
            Err(BearerError::Malformed)
        );
        assert_eq!(
            extract(Some("Bearer a.b.c, Bearer d.e.f"), 100),
            Err(BearerError::Malformed)
        );
        assert_eq!(
            extract(Some("Bearer ==="), 100),
            Err(BearerError::Malformed)
        );
        assert_eq!(
            extract(Some("Bearer a\"b"), 100),
            Err(BearerError::Malformed)
        );
        assert_eq!(
            extract(Some("Bearerabc"), 100),
            Err(BearerError::OtherScheme)
        );
    }

    #[test]
    fn every_byte_is_judged_as_rfc_6750_says() {
        // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b);
        for b in 0..=255u8 {
            let token = format!("a{}", char::from(b));
            let header = format!("Bearer {token}");
            let judged = extract(Some(&header), 100).is_ok();
            // A trailing space or tab is trimmed from the header (and leaves the token "a").
            let trimmed = matches!(b, b' ' | b'\t');
            assert_eq!(judged, allowed(b) || trimmed, "byte {b:#04x}");
        }
    }

    #[test]
    fn the_raw_value_may_carry_64_bytes_beside_a_token_at_the_cap() {
        let token = "a".repeat(100);
        // "Bearer" and its spaces: 64 bytes with the token at the cap, then 65.
        let within = format!("Bearer{}{token}", " ".repeat(58));
        assert_eq!(within.len(), 164);
        assert_eq!(extract(Some(&within), 100), Ok(token.as_str()));
        let beyond = format!("Bearer{}{token}", " ".repeat(59));
        assert_eq!(
            extract(Some(&beyond), 100),
            Err(BearerError::TooLarge {
                length: 165,
                cap: 100
            })
        );
    }

    #[test]
    fn errors_say_what_was_wrong() {
        let text = |e: BearerError| e.to_string();
        assert_eq!(text(BearerError::Missing), "no authorization header");
        assert_eq!(
            text(BearerError::OtherScheme),
            "authorization scheme is not bearer"
        );
        assert_eq!(
            text(BearerError::Malformed),
            "bearer credentials are not one b64token"
        );
        assert_eq!(
            text(BearerError::TooLarge { length: 9, cap: 8 }),
            "token of 9 bytes exceeds the cap of 8"
        );
    }

    #[test]
    fn cap_applies_before_parsing() {
        let token = "a".repeat(101);
        let header = format!("Bearer {token}");
        assert!(matches!(
            extract(Some(&header), 100),
            Err(BearerError::TooLarge { .. })
        ));
        let exactly = "a".repeat(100);
        let header = format!("Bearer {exactly}");
        assert_eq!(extract(Some(&header), 100), Ok(exactly.as_str()));
        let huge = format!("Bearer {}", "a b".repeat(10_000));
        assert!(matches!(
            extract(Some(&huge), 100),
            Err(BearerError::TooLarge { .. })
        ));
    }
}
