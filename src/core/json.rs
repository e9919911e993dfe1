//! JSON objects from untrusted bytes.
//!
//! Two things serde_json does not do for us: it lets a derived struct be read from an array
//! (positionally), and its error text quotes offending values, which come from tokens. So only
//! an object is accepted, and errors are redacted: quoted runs are replaced, while member names
//! (in backticks) and positions stay, so the log still says what was wrong.

use serde::Deserialize;

/// Parses a JSON object (never an array or scalar) into `T`.
pub fn from_object<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, String> {
    // serde_json checks UTF-8 only in the strings it reads; members we skip would pass with
    // any bytes. RFC 7515 and 7519 require the whole header and claims set to be UTF-8.
    if std::str::from_utf8(bytes).is_err() {
        return Err("not UTF-8".into());
    }
    let first = bytes
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    if first != Some(&b'{') {
        return Err("not a JSON object".into());
    }
    serde_json::from_slice(bytes).map_err(|e| json_error(&e))
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
    fn hides_values_keeps_member_names() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            exp: u64,
        }
        let e = serde_json::from_str::<T>(r#"{"exp":"secret-value"}"#).unwrap_err();
        let safe = json_error(&e);
        assert!(!safe.contains("secret-value"), "{safe}");
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
