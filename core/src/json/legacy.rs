//! The serde helpers this module replaces, while callers move to the reader.
//!
//! Three things serde_json does not do for us: it lets a derived struct be read from an array
//! (positionally); it takes the last of repeated members we do not read into a field (and a
//! `Map` takes the last of any); and its error text quotes offending values, which come from
//! tokens. So only an object is accepted, repeated top-level members are refused whatever they
//! are (RFC 7515 §4 and RFC 7519 §4: reject, or take the last; parsers that take the first
//! exist, so only rejecting gives every reader one meaning), and errors are redacted: quoted
//! runs are replaced, while member names (in backticks) and positions stay, so the log still
//! says what was wrong.

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use super::JsonError;

/// A member name, borrowed from the document unless it had to be unescaped.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MemberName<'de>(pub Cow<'de, str>);

impl<'de> Deserialize<'de> for MemberName<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Name;
        impl<'de> Visitor<'de> for Name {
            type Value = MemberName<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(MemberName(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(MemberName(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(Name)
    }
}

/// Reads an object's members without keeping their values, refusing a name seen twice (after
/// unescaping: `"aud"` and `"\u0061ud"` are the same member).
struct UniqueMembers;

impl<'de> Visitor<'de> for UniqueMembers {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(name) = map.next_key::<MemberName<'de>>()? {
            map.next_value::<IgnoredAny>()?;
            if let Some(repeated) = seen.replace(name) {
                return Err(de::Error::custom(format_args!(
                    "duplicate field `{}`",
                    crate::token::loggable(&repeated.0)
                )));
            }
        }
        Ok(())
    }
}

/// Parses a JSON object (never an array or scalar) into `T`.
pub fn from_object<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, JsonError> {
    // serde_json checks UTF-8 only in the strings it reads; members we skip would pass with
    // any bytes. RFC 7515 and 7519 require the whole header and claims set to be UTF-8.
    if std::str::from_utf8(bytes).is_err() {
        return Err(JsonError::other("not UTF-8"));
    }
    let first = bytes
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    if first != Some(&b'{') {
        return Err(JsonError::other("not a JSON object"));
    }
    let mut unique = serde_json::Deserializer::from_slice(bytes);
    unique
        .deserialize_map(UniqueMembers)
        .map_err(|e| JsonError::other(json_error(&e)))?;
    serde_json::from_slice(bytes).map_err(|e| JsonError::other(json_error(&e)))
}

pub fn json_error(error: &serde_json::Error) -> String {
    let text = error.to_string();
    // These two only ever name members of our own structs; every other message may carry a
    // value from the document, quoted ("...") or in backticks (`42`).
    if text.starts_with("duplicate field") || text.starts_with("missing field") {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut open: Option<char> = None;
    for c in text.chars() {
        match (open, c) {
            (None, '"' | '`') => {
                open = Some(c);
                out.push(c);
                out.push('…');
            }
            (Some(quote), c) if c == quote => {
                open = None;
                out.push(c);
            }
            (Some(_), _) => {}
            (None, c) => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_objects() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            a: String,
        }
        assert!(from_object::<T>(br#" {"a":"x"}"#).is_ok());
        assert!(from_object::<T>(br#"["x"]"#).is_err());
        assert!(from_object::<T>(b"").is_err());
        assert!(
            from_object::<T>(b"{\"a\":\"x\",\"b\":\"\xff\"}").is_err(),
            "bytes in a skipped member"
        );
    }

    #[test]
    fn repeated_members_are_refused_whatever_they_are() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            a: String,
        }
        assert!(from_object::<T>(br#"{"a":"x","b":1}"#).is_ok());
        for repeated in [
            &br#"{"a":"x","b":1,"b":2}"#[..],
            br#"{"a":"x","a":"y"}"#,
            br#"{"a":"x","\u0062":1,"b":2}"#,
            br#"{"a":"x","b":{"c":1},"b":[]}"#,
        ] {
            let e = from_object::<T>(repeated).unwrap_err();
            assert!(e.to_string().starts_with("duplicate field"), "{e}");
        }
        assert!(
            from_object::<T>(br#"{"a":"x","n":{"c":1,"c":2}}"#).is_ok(),
            "nested objects are the reader's business"
        );
        let long = format!(r#"{{"a":"x","{0}":1,"{0}":2}}"#, "n".repeat(500));
        let e = from_object::<T>(long.as_bytes()).unwrap_err();
        assert!(e.to_string().len() < 120, "the name is cut: {e}");
    }

    #[test]
    fn hides_values_keeps_member_names() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            exp: u64,
        }
        let e = serde_json::from_str::<T>(r#"{"exp":"secret-value"}"#).unwrap_err();
        let safe = json_error(&e);
        assert!(!safe.contains("secret-value"), "{safe}");
        assert!(
            safe.contains("expected u64") && safe.contains("line 1"),
            "what follows a quoted value stays: {safe}"
        );
        let number = serde_json::from_str::<T>(r#"{"exp":-12345}"#).unwrap_err();
        assert!(
            !json_error(&number).contains("12345"),
            "{}",
            json_error(&number)
        );
        let dup = serde_json::from_str::<T>(r#"{"exp":1,"exp":2}"#).unwrap_err();
        assert!(json_error(&dup).contains("`exp`"));
    }
}
