//! Structural intake of a compact JWS: size, segments, strict base64url and the JOSE header.
//!
//! Nothing here is trusted yet: an [`UntrustedToken`] only says "this is shaped like a JWS whose
//! header we are willing to look at". Its payload stays opaque bytes until the signature verifies.

use super::b64;
use super::json::read::{self, Member};
use super::json::{self, JsonError};
use super::reason::Reason;
use crate::quoted::Quoted;
use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

/// The longest `kid` we look up; Entra's are 27–43 characters.
pub const MAX_KID_BYTES: usize = 256;
/// Unverified header values quoted in errors (and so in logs) are cut to this many characters:
/// a token must not be able to fill a log line.
pub const MAX_LOGGED_CHARS: usize = 32;

/// An unverified value, cut to [`MAX_LOGGED_CHARS`] characters for an error message.
pub fn loggable(value: &str) -> String {
    let mut chars = value.chars();
    let mut out: String = chars.by_ref().take(MAX_LOGGED_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// Why a token is not shaped like a compact JWS we are willing to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// Over the configured size cap; nothing of it was parsed.
    TooLarge {
        /// The token's length in bytes.
        length: usize,
        /// The cap it exceeds (`GATE_MAX_TOKEN_BYTES`).
        cap: usize,
    },
    /// Not three dot-separated segments.
    Segments {
        /// How many segments there were.
        found: usize,
    },
    /// An empty header or payload segment.
    EmptySegment {
        /// 0 for the header, 1 for the payload.
        index: usize,
    },
    /// A segment that is not strict base64url.
    Base64 {
        /// `header`, `payload` or `signature`.
        segment: &'static str,
    },
    /// The header is not a JSON object of the expected shape.
    HeaderJson {
        /// The parser's complaint.
        detail: String,
    },
    /// A `typ` that is not a JWT access token's.
    UnexpectedType {
        /// `typ` as given, cut for the log.
        typ: String,
    },
    /// A header member we refuse: `crit`, `jku`, `x5u`, `jwk`, `x5c` or `cty`.
    ForbiddenHeader {
        /// The member's name.
        member: &'static str,
    },
    /// No `kid`, or an empty one.
    KidMissing,
    /// A `kid` longer than [`MAX_KID_BYTES`].
    KidTooLong {
        /// Its length in bytes.
        length: usize,
    },
}

impl TokenError {
    /// The reason a refusal for this error carries.
    pub fn reason(&self) -> Reason {
        match self {
            TokenError::TooLarge { .. } => Reason::TokenTooLarge,
            TokenError::Segments { .. }
            | TokenError::EmptySegment { .. }
            | TokenError::Base64 { .. } => Reason::MalformedJws,
            TokenError::HeaderJson { .. } | TokenError::UnexpectedType { .. } => {
                Reason::MalformedHeader
            }
            TokenError::ForbiddenHeader { .. } => Reason::ForbiddenHeader,
            TokenError::KidMissing | TokenError::KidTooLong { .. } => Reason::KidMissing,
        }
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::TooLarge { length, cap } => {
                write!(f, "token of {length} bytes exceeds the cap of {cap}")
            }
            TokenError::Segments { found } => write!(f, "expected 3 segments, found {found}"),
            TokenError::EmptySegment { index } => write!(f, "segment {index} is empty"),
            TokenError::Base64 { segment } => write!(f, "{segment} is not strict base64url"),
            TokenError::HeaderJson { detail } => write!(f, "header is not valid: {detail}"),
            TokenError::UnexpectedType { typ } => write!(f, "unexpected typ {}", Quoted(typ)),
            TokenError::ForbiddenHeader { member } => write!(f, "header member {member} refused"),
            TokenError::KidMissing => f.write_str("header has no kid"),
            TokenError::KidTooLong { length } => write!(f, "kid of {length} bytes is too long"),
        }
    }
}

/// Header members refused on sight, whatever their value (`null` included), in the order a
/// refusal names them: each would have us fetch keys, trust embedded keys or process
/// extensions and content types we do not implement.
const FORBIDDEN_MEMBERS: [&str; 6] = ["crit", "jku", "x5u", "jwk", "x5c", "cty"];

/// The header facts later stages need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoseHeader {
    pub alg: String,
    pub kid: String,
    /// Microsoft Graph tokens carry a `nonce` in the header and cannot be verified by others.
    pub has_nonce: bool,
}

/// A token shaped like a compact JWS, not yet trusted in any way.
#[derive(Debug, Clone)]
pub struct UntrustedToken<'a> {
    /// Borrowed from the request while one step reads it; owned when the token is carried across
    /// an await (see [`UntrustedToken::into_owned`]).
    raw: Cow<'a, str>,
    signing_input_len: usize,
    header: JoseHeader,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> UntrustedToken<'a> {
    /// Parses a compact JWS. The cap is checked before anything else is looked at.
    ///
    /// An empty signature segment is allowed here (it cannot verify under any key): an unsigned
    /// `alg: none` token is then refused for its algorithm, which says more than "malformed".
    pub fn parse(raw: &'a str, max_bytes: usize) -> Result<Self, TokenError> {
        if raw.len() > max_bytes {
            return Err(TokenError::TooLarge {
                length: raw.len(),
                cap: max_bytes,
            });
        }
        let mut parts = raw.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Segments {
                found: raw.split('.').count(),
            });
        };
        if header_b64.is_empty() {
            return Err(TokenError::EmptySegment { index: 0 });
        }
        let header_json =
            b64::decode(header_b64).ok_or(TokenError::Base64 { segment: "header" })?;
        let header = parse_header(&header_json)?;
        if payload_b64.is_empty() {
            return Err(TokenError::EmptySegment { index: 1 });
        }
        let payload = b64::decode(payload_b64).ok_or(TokenError::Base64 { segment: "payload" })?;
        let signature = b64::decode(signature_b64).ok_or(TokenError::Base64 {
            segment: "signature",
        })?;
        Ok(UntrustedToken {
            raw: Cow::Borrowed(raw),
            signing_input_len: header_b64.len() + 1 + payload_b64.len(),
            header,
            payload,
            signature,
        })
    }

    /// The header members later stages need (`alg`, `kid`, whether there is a `nonce`).
    pub fn header(&self) -> &JoseHeader {
        &self.header
    }

    /// `base64url(header) "." base64url(payload)`: the bytes the signature covers.
    pub fn signing_input(&self) -> &[u8] {
        self.raw
            .as_bytes()
            .get(..self.signing_input_len)
            .unwrap_or_default()
    }

    /// The decoded signature (possibly empty).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The raw token text, for hashing by callers that cache; never log it.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The same parsed token holding its own copy of the text: what was decoded is kept, so a
    /// token parsed before an await is not parsed again after it. The signing input and the
    /// decoded segments stay from one text, whoever holds it.
    pub fn into_owned(self) -> UntrustedToken<'static> {
        UntrustedToken {
            raw: Cow::Owned(self.raw.into_owned()),
            signing_input_len: self.signing_input_len,
            header: self.header,
            payload: self.payload,
            signature: self.signature,
        }
    }

    /// The `tid` claim, read without any trust, only to choose which tenant's key set to verify
    /// with when there is one per tenant. Claims validation checks `tid` again once the
    /// signature has verified; a lie here only selects keys that will not verify the token.
    pub fn unverified_tenant(&self) -> Option<String> {
        let claims = json::parse_object_keeping(&self.payload, &|name| name == "tid").ok()?;
        claims.get("tid")?.as_str().map(str::to_owned)
    }

    /// Only the signature stage may hand the payload on.
    pub(crate) fn into_payload(self) -> Vec<u8> {
        self.payload
    }
}

fn parse_header(bytes: &[u8]) -> Result<JoseHeader, TokenError> {
    let invalid = |e: JsonError| TokenError::HeaderJson {
        detail: e.to_string(),
    };
    // `nonce` and the forbidden members matter by their presence alone: their values are
    // checked as JSON but not built, so no value of theirs (a deeply nested `jku`, say) can turn
    // a refusal for what they are into one for how they are written.
    let has_nonce = Cell::new(false);
    // The first forbidden member in the document.
    let forbidden = Cell::new(None);
    let wanted = |name: &str| {
        if name == "nonce" {
            has_nonce.set(true);
        } else if forbidden.get().is_none() {
            forbidden.set(FORBIDDEN_MEMBERS.iter().copied().find(|m| *m == name));
        }
        matches!(name, "alg" | "kid" | "typ")
    };
    let header = json::parse_object_keeping(bytes, &wanted).map_err(invalid)?;
    let mut alg = None;
    let mut kid = None;
    let mut typ = None;
    for (name, value) in header {
        match name.as_ref() {
            "alg" => alg = Some(read::string(&Member("alg"), value).map_err(invalid)?),
            // `null` reads as absent: a missing `kid` is refused below, a missing `typ` is fine.
            "kid" => kid = read::optional_string(&Member("kid"), value).map_err(invalid)?,
            "typ" => typ = read::optional_string(&Member("typ"), value).map_err(invalid)?,
            _ => {}
        }
    }
    let alg = alg.ok_or_else(|| invalid(JsonError::missing("alg", "the header")))?;
    if let Some(member) = forbidden.get() {
        return Err(TokenError::ForbiddenHeader { member });
    }
    let has_nonce = has_nonce.get();
    if let Some(typ) = typ {
        // Entra sends "JWT"; RFC 9068 access tokens say "at+jwt". Anything else is another kind
        // of object (a JWE, a logout token, ...), not an access token.
        let known = ["jwt", "at+jwt", "application/at+jwt"];
        if !known.iter().any(|k| typ.eq_ignore_ascii_case(k)) {
            return Err(TokenError::UnexpectedType {
                typ: loggable(&typ),
            });
        }
    }
    let kid = kid
        .filter(|k| !k.is_empty())
        .ok_or(TokenError::KidMissing)?;
    if kid.len() > MAX_KID_BYTES {
        return Err(TokenError::KidTooLong { length: kid.len() });
    }
    Ok(JoseHeader {
        alg: alg.into_owned(),
        kid: kid.into_owned(),
        has_nonce,
    })
}

impl std::error::Error for TokenError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unverified_values_are_cut_for_logs() {
        assert_eq!(loggable("JWT"), "JWT");
        let long = "x".repeat(MAX_LOGGED_CHARS);
        assert_eq!(loggable(&long), long, "exactly the limit stays whole");
        assert_eq!(
            loggable(&"é".repeat(1000)),
            format!("{}…", "é".repeat(MAX_LOGGED_CHARS))
        );
        let typ = "a".repeat(5000);
        let header = format!(r#"{{"alg":"RS256","kid":"k","typ":"{typ}"}}"#);
        let raw = token(&header, "{}", b"sig");
        match UntrustedToken::parse(&raw, 65536) {
            Err(TokenError::UnexpectedType { typ }) => {
                assert!(typ.chars().count() <= MAX_LOGGED_CHARS + 1)
            }
            other => panic!("{other:?}"),
        }
    }

    fn token(header: &str, payload: &str, signature: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            b64::encode(header.as_bytes()),
            b64::encode(payload.as_bytes()),
            b64::encode(signature)
        )
    }

    const HEADER: &str = r#"{"typ":"JWT","alg":"RS256","kid":"k1"}"#;

    #[test]
    fn parses_a_well_formed_token() {
        let raw = token(HEADER, "{}", b"sig");
        let t = UntrustedToken::parse(&raw, 16384).expect("parses");
        assert_eq!(t.header().alg, "RS256");
        assert_eq!(t.header().kid, "k1");
        assert!(!t.header().has_nonce);
        assert_eq!(t.signature(), b"sig");
        let dot = raw.rfind('.').expect("dot");
        assert_eq!(t.signing_input(), &raw.as_bytes()[..dot]);
    }

    #[test]
    fn refuses_wrong_segment_counts_and_empties() {
        let err = |raw: &str| UntrustedToken::parse(raw, 16384).unwrap_err();
        let h = b64::encode(HEADER.as_bytes());
        assert_eq!(err("a.b"), TokenError::Segments { found: 2 });
        assert_eq!(
            err(&format!("{h}.e30.c2ln.x")),
            TokenError::Segments { found: 4 }
        );
        assert_eq!(err(".e30.c2ln"), TokenError::EmptySegment { index: 0 });
        assert_eq!(
            err(&format!("{h}..c2ln")),
            TokenError::EmptySegment { index: 1 }
        );
        let raw = format!("{h}.e30.");
        let unsigned = UntrustedToken::parse(&raw, 16384).expect("parses");
        assert!(unsigned.signature().is_empty());
        assert_eq!(
            err(&format!("{h}.e30=.c2ln")),
            TokenError::Base64 { segment: "payload" }
        );
        assert_eq!(
            err(&format!("{h}.e30.c2l+")),
            TokenError::Base64 {
                segment: "signature"
            }
        );
    }

    /// Deeper than the nesting allowed for values the gate reads (128).
    fn deep_json() -> String {
        format!("{}{}", "[".repeat(200), "]".repeat(200))
    }

    #[test]
    fn refuses_dangerous_header_members_whatever_their_value() {
        // `null` included; and a value too deep to read is refused for what it is, not for how
        // it is written.
        for value in ["null".to_owned(), deep_json()] {
            for member in ["crit", "jku", "x5u", "jwk", "x5c", "cty"] {
                let header = format!(r#"{{"alg":"RS256","kid":"k1","{member}":{value}}}"#);
                let raw = token(&header, "{}", b"s");
                assert_eq!(
                    UntrustedToken::parse(&raw, 16384).unwrap_err().reason(),
                    Reason::ForbiddenHeader,
                    "{member}"
                );
            }
        }
    }

    #[test]
    fn member_values_noted_by_presence_are_still_checked_as_json() {
        // Its value is still JSON that must parse.
        let broken = token(r#"{"alg":"RS256","kid":"k1","jku":[}"#, "{}", b"s");
        assert_eq!(
            UntrustedToken::parse(&broken, 16384).unwrap_err().reason(),
            Reason::MalformedHeader
        );
        // A nonce is noticed whatever its value (Microsoft Graph's tokens carry one).
        let header = format!(r#"{{"alg":"RS256","kid":"k1","nonce":{}}}"#, deep_json());
        let raw = token(&header, "{}", b"s");
        let parsed = UntrustedToken::parse(&raw, 16384).unwrap();
        assert!(parsed.header().has_nonce);
    }

    #[test]
    fn a_kid_of_exactly_the_limit_is_read_and_one_byte_more_is_not() {
        let with_kid = |length: usize| {
            let header = format!(r#"{{"alg":"RS256","kid":"{}"}}"#, "k".repeat(length));
            let raw = token(&header, "{}", b"s");
            UntrustedToken::parse(&raw, 16384).map(|t| t.header().kid.len())
        };
        assert_eq!(with_kid(MAX_KID_BYTES), Ok(MAX_KID_BYTES));
        assert_eq!(
            with_kid(MAX_KID_BYTES + 1),
            Err(TokenError::KidTooLong {
                length: MAX_KID_BYTES + 1
            })
        );
    }

    #[test]
    fn header_shape_rules() {
        let reason = |header: &str| {
            UntrustedToken::parse(&token(header, "{}", b"s"), 16384)
                .unwrap_err()
                .reason()
        };
        assert_eq!(reason(r#"{"alg":"RS256"}"#), Reason::KidMissing);
        assert_eq!(reason(r#"{"alg":"RS256","kid":""}"#), Reason::KidMissing);
        assert_eq!(
            reason(r#"{"alg":"RS256","kid":7}"#),
            Reason::MalformedHeader
        );
        assert_eq!(reason(r#"{"kid":"k"}"#), Reason::MalformedHeader);
        assert_eq!(
            reason(r#"{"alg":"RS256","alg":"none","kid":"k"}"#),
            Reason::MalformedHeader
        );
        assert_eq!(reason(r#"["RS256"]"#), Reason::MalformedHeader);
        assert_eq!(
            reason(r#"{"alg":"RS256","kid":"k","typ":"JWE"}"#),
            Reason::MalformedHeader
        );
        let long_kid = format!(r#"{{"alg":"RS256","kid":"{}"}}"#, "k".repeat(300));
        assert_eq!(reason(&long_kid), Reason::KidMissing);
    }

    #[test]
    fn notes_the_graph_nonce() {
        let raw = token(r#"{"alg":"RS256","kid":"k","nonce":"abc"}"#, "{}", b"s");
        assert!(
            UntrustedToken::parse(&raw, 16384)
                .expect("parses")
                .header()
                .has_nonce
        );
    }

    #[test]
    fn cap_is_inclusive() {
        let raw = token(HEADER, "{}", b"s");
        assert!(UntrustedToken::parse(&raw, raw.len()).is_ok());
        assert_eq!(
            UntrustedToken::parse(&raw, raw.len() - 1)
                .unwrap_err()
                .reason(),
            Reason::TokenTooLarge
        );
    }
}
