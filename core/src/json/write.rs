//! The writer: objects, arrays and strings for the documents we produce (problem bodies,
//! resource metadata, key records, assertion claims, log lines).
//!
//! Escaping is serde_json's, byte for byte: `"` and `\` with a backslash, the control
//! characters below U+0020 as `\b \t \n \f \r` or `\u00XX` (lowercase hex), everything else
//! as is (`/`, DEL and non-ASCII included). Stored key records are MACed over their text, and
//! tests compare outputs, so the bytes must not change.

/// Appends `text` as a JSON string, quotes included.
pub fn string(out: &mut String, text: &str) {
    out.push('"');
    let mut run = 0;
    for (at, byte) in text.bytes().enumerate() {
        let short = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x09 => "\\t",
            0x0a => "\\n",
            0x0c => "\\f",
            0x0d => "\\r",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(text.get(run..at).unwrap_or_default());
        run = at + 1;
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            for nibble in [byte >> 4, byte & 0xf] {
                out.push(char::from(
                    HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'),
                ));
            }
        } else {
            out.push_str(short);
        }
    }
    out.push_str(text.get(run..).unwrap_or_default());
    out.push('"');
}

/// A JSON object built member by member, in the order written (serde's derive order: the
/// fields' declaration order).
#[derive(Debug)]
pub struct ObjectWriter {
    out: String,
    empty: bool,
}

impl Default for ObjectWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl ObjectWriter {
    /// An empty object.
    pub fn new() -> Self {
        ObjectWriter {
            out: String::from("{"),
            empty: true,
        }
    }

    fn name(&mut self, name: &str) -> &mut String {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        string(&mut self.out, name);
        self.out.push(':');
        &mut self.out
    }

    /// A string member.
    pub fn str(&mut self, name: &str, value: &str) -> &mut Self {
        string(self.name(name), value);
        self
    }

    /// A string member, left out when `None` (serde's `skip_serializing_if = "Option::is_none"`).
    pub fn opt_str(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.str(name, value);
        }
        self
    }

    /// A string member, `null` when `None`.
    pub fn str_or_null(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        match value {
            Some(value) => self.str(name, value),
            None => self.raw(name, "null"),
        }
    }

    /// An unsigned integer member.
    pub fn u64(&mut self, name: &str, value: u64) -> &mut Self {
        let out = self.name(name);
        out.push_str(&value.to_string());
        self
    }

    /// A signed integer member.
    pub fn i64(&mut self, name: &str, value: i64) -> &mut Self {
        let out = self.name(name);
        out.push_str(&value.to_string());
        self
    }

    /// A boolean member.
    pub fn bool(&mut self, name: &str, value: bool) -> &mut Self {
        self.raw(name, if value { "true" } else { "false" })
    }

    /// An array-of-strings member.
    pub fn strs<'s>(&mut self, name: &str, values: impl IntoIterator<Item = &'s str>) -> &mut Self {
        let out = self.name(name);
        string_array(out, values);
        self
    }

    /// A member whose value is JSON text already written (a nested object or array from
    /// another writer). The caller vouches that it is well-formed.
    pub fn raw(&mut self, name: &str, json: &str) -> &mut Self {
        self.name(name).push_str(json);
        self
    }

    /// An array member of JSON texts already written (objects from other writers).
    pub fn objects(&mut self, name: &str, items: &[String]) -> &mut Self {
        raw_array(self.name(name), items);
        self
    }

    /// The object's text.
    pub fn finish(&mut self) -> String {
        let mut out = std::mem::take(&mut self.out);
        out.push('}');
        self.empty = true;
        self.out.push('{');
        out
    }
}

/// Appends an array of strings.
pub fn string_array<'s>(out: &mut String, values: impl IntoIterator<Item = &'s str>) {
    out.push('[');
    for (i, value) in values.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(out, value);
    }
    out.push(']');
}

/// Appends an array of JSON texts already written (objects from [`ObjectWriter`]).
pub fn raw_array<S: AsRef<str>>(out: &mut String, items: impl IntoIterator<Item = S>) {
    out.push('[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item.as_ref());
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(text: &str) -> String {
        let mut out = String::new();
        string(&mut out, text);
        out
    }

    #[test]
    fn escapes_as_serde_json_does() {
        let mut all = String::new();
        for b in 0u8..0x80 {
            all.push(char::from(b));
        }
        all.push_str("é€😀\u{2028}");
        assert_eq!(
            quoted(&all),
            serde_json::to_string(&all).expect("serde_json")
        );
        assert_eq!(quoted(""), r#""""#);
        assert_eq!(quoted("plain"), r#""plain""#);
        assert_eq!(quoted("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quoted("\u{1}\u{1f}"), r#""\u0001\u001f""#);
        assert_eq!(quoted("x\ny"), r#""x\ny""#);
    }

    #[test]
    fn round_trips_through_the_reader() {
        for text in ["", "a", "\"\\/", "\u{0}\u{1f}\u{7f}", "é😀", "\u{fffd}"] {
            let json = quoted(text);
            let value = super::super::parse(json.as_bytes()).expect("parses");
            assert_eq!(value.as_str(), Some(text), "{json}");
        }
    }

    #[test]
    fn objects_in_the_order_written() {
        let mut inner = ObjectWriter::new();
        let inner = inner.str("k", "v").finish();
        let mut o = ObjectWriter::new();
        o.str("s", "x\"y")
            .opt_str("absent", None)
            .opt_str("present", Some("p"))
            .str_or_null("n", None)
            .str_or_null("m", Some("q"))
            .u64("u", u64::MAX)
            .i64("i", i64::MIN)
            .bool("t", true)
            .bool("f", false)
            .strs("a", ["1", "2"])
            .strs("e", [])
            .raw("o", &inner)
            .objects("l", &[inner.clone(), "1".to_owned()]);
        let text = o.finish();
        assert_eq!(
            text,
            r#"{"s":"x\"y","present":"p","n":null,"m":"q","u":18446744073709551615,"i":-9223372036854775808,"t":true,"f":false,"a":["1","2"],"e":[],"o":{"k":"v"},"l":[{"k":"v"},1]}"#
        );
        assert!(super::super::parse(text.as_bytes()).is_ok());
        assert_eq!(ObjectWriter::default().finish(), "{}");
        assert_eq!(o.finish(), "{}", "finish leaves an empty writer");
        let mut arr = String::new();
        raw_array(&mut arr, [r#"{"a":1}"#, "2"]);
        assert_eq!(arr, r#"[{"a":1},2]"#);
        let mut empty = String::new();
        raw_array(&mut empty, Vec::<String>::new());
        string_array(&mut empty, []);
        assert_eq!(empty, "[][]");
    }
}
