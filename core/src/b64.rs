//! Strict base64url as JWS requires it (RFC 7515 §2): URL-safe alphabet, no padding, no
//! whitespace, canonical trailing bits. Anything else is a different token and is refused.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// Decodes strict base64url; `None` for padding, `+`/`/`, whitespace or non-canonical bits.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Encodes as base64url without padding.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_everything_but_canonical_base64url() {
        assert_eq!(decode("Zm9v").as_deref(), Some(&b"foo"[..]));
        assert_eq!(decode("Zm8").as_deref(), Some(&b"fo"[..]));
        assert!(decode("Zm8=").is_none(), "padding");
        assert!(decode("Zm9").is_none(), "non-canonical trailing bits");
        assert!(decode("Zm9=").is_none(), "padding");
        assert!(decode("a+b/").is_none(), "standard alphabet");
        assert!(decode("Zm 9v").is_none(), "whitespace");
        assert!(decode("Z").is_none(), "impossible length");
        assert_eq!(decode("").as_deref(), Some(&b""[..]));
    }
}
