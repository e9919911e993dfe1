//! Skipping a value we do not read: every rule checked, nothing built, no recursion.
//!
//! The open arrays and objects are a stack on the heap, so any depth the input can spell costs
//! memory in proportion to the input (already capped by its caller), never the call stack.

use super::error::{JsonError, Syntax};
use super::parse::{repeated_name, Reader};
use std::borrow::Cow;

/// An array or object the skipper is inside.
enum Open<'a> {
    Array,
    /// The names seen so far, to refuse a repeated one when the object closes.
    Object(Vec<Cow<'a, str>>),
}

impl<'a> Reader<'a> {
    /// Checks one value and moves past it.
    pub(super) fn skip_value(&mut self) -> Result<(), JsonError> {
        let mut open: Vec<Open<'a>> = Vec::new();
        loop {
            // A value starts here.
            match self.peek() {
                Some(b'[') => {
                    self.pos += 1;
                    self.skip_whitespace();
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                    } else {
                        open.push(Open::Array);
                        continue;
                    }
                }
                Some(b'{') => {
                    self.pos += 1;
                    self.skip_whitespace();
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                    } else {
                        let name = self.member_name()?;
                        open.push(Open::Object(vec![name]));
                        continue;
                    }
                }
                Some(b'"') => {
                    self.pos += 1;
                    self.string()?;
                }
                Some(b't') => {
                    self.literal("true", super::Value::Null)?;
                }
                Some(b'f') => {
                    self.literal("false", super::Value::Null)?;
                }
                Some(b'n') => {
                    self.literal("null", super::Value::Null)?;
                }
                Some(b'-' | b'0'..=b'9') => {
                    self.number()?;
                }
                None => return Err(self.error(Syntax::Eof)),
                Some(_) => return Err(self.error(Syntax::ExpectedValue)),
            }
            // A value ended: close what it ends, until another value is due.
            loop {
                self.skip_whitespace();
                match open.last_mut() {
                    None => return Ok(()),
                    Some(Open::Array) => match self.peek() {
                        Some(b',') => {
                            self.pos += 1;
                            self.skip_whitespace();
                            break;
                        }
                        Some(b']') => {
                            self.pos += 1;
                            open.pop();
                        }
                        None => return Err(self.error(Syntax::Eof)),
                        Some(_) => return Err(self.error(Syntax::ExpectedCommaOrBracket)),
                    },
                    Some(Open::Object(names)) => {
                        if self.after_member()? {
                            let all: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
                            if let Some(name) = repeated_name(&all) {
                                return Err(self.duplicate(name));
                            }
                            open.pop();
                        } else {
                            let name = self.member_name()?;
                            names.push(name);
                            break;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::MAX_DEPTH;
    use super::super::{parse, parse_object_keeping};

    fn keep_a(bytes: &[u8]) -> Result<Vec<String>, String> {
        parse_object_keeping(bytes, &|name| name == "a")
            .map(|o| o.iter().map(|(n, _)| n.to_owned()).collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn keeps_what_is_asked_and_checks_the_rest() {
        assert_eq!(
            keep_a(br#"{"a":1,"b":[1,{"c":true}],"d":"x"}"#),
            Ok(vec!["a".into()])
        );
        assert_eq!(keep_a(br#"{"b":{}}"#), Ok(vec![]));
        assert_eq!(keep_a(br#" {} "#), Ok(vec![]));
        assert_eq!(keep_a(b"[1]"), Err("not a JSON object".into()));
        assert_eq!(keep_a(b"\"x\""), Err("not a JSON object".into()));
        assert!(keep_a(b"").is_err_and(|e| e.starts_with("EOF")));
        assert!(keep_a(b"[1,").is_err_and(|e| e.starts_with("EOF")));
        assert!(keep_a(b"{} x").is_err_and(|e| e.starts_with("trailing")));
        assert!(keep_a(br#"{"a":1} x"#).is_err_and(|e| e.starts_with("trailing")));
    }

    /// Whatever `parse` refuses inside a skipped member, skipping refuses too.
    #[test]
    fn skipped_members_obey_every_rule() {
        for bad in [
            &br#"[1,]"#[..],
            br#"[1 2]"#,
            br#"{"x":1,}"#,
            br#"{"x" 1}"#,
            br#"{"x":1 "y":2}"#,
            br#"{x:1}"#,
            br#"{"x":1,"x":2}"#,
            br#"[{"x":[{"y":1,"y":2}]}]"#,
            br#""\ud800""#,
            br#""\q""#,
            b"\"\x01\"",
            b"\"\xff\"",
            b"01",
            b"1.",
            b"-",
            b"tru",
            b"nul",
            b"fals",
            b"[",
            b"{",
            br#"{"x""#,
            br#"{"x":"#,
            b"]",
            b"}",
            b"@",
        ] {
            let doc = [&br#"{"b":"#[..], bad, b"}"].concat();
            let text = String::from_utf8_lossy(&doc).into_owned();
            assert!(parse(&doc).is_err(), "{text}");
            assert!(keep_a(&doc).is_err(), "{text}");
        }
        let many: Vec<String> = (0..40).map(|i| format!("\"m{i}\":0")).collect();
        let large = format!(r#"{{"b":{{{},"m7":1}}}}"#, many.join(","));
        assert!(keep_a(large.as_bytes()).is_err_and(|e| e.starts_with("duplicate field `m7`")));
        let distinct = format!(r#"{{"b":{{{}}}}}"#, many.join(","));
        assert!(keep_a(distinct.as_bytes()).is_ok());
    }

    #[test]
    fn skipped_and_kept_names_are_unique_together() {
        assert!(keep_a(br#"{"a":1,"a":2}"#).is_err_and(|e| e.starts_with("duplicate field `a`")));
        assert!(keep_a(br#"{"b":1,"b":2}"#).is_err_and(|e| e.starts_with("duplicate field `b`")));
        assert!(keep_a(br#"{"b":1,"\u0062":2}"#).is_err());
        assert!(keep_a(br#"{"b":{"c":1},"d":{"c":1}}"#).is_ok());
    }

    /// Skipped members may nest beyond the limit (serde_json skipped them so, and tokens in the
    /// wild are accepted with claims we never read); kept ones may not.
    #[test]
    fn depth_is_limited_only_in_what_is_kept() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let objects = |n: usize| format!("{}1{}", "{\"k\":".repeat(n), "}".repeat(n));
        for value in [deep(5000), objects(5000)] {
            let skipped = format!(r#"{{"a":1,"b":{value}}}"#);
            assert!(keep_a(skipped.as_bytes()).is_ok());
            let kept = format!(r#"{{"a":{value}}}"#);
            assert!(keep_a(kept.as_bytes()).is_err_and(|e| e.starts_with("recursion limit")));
        }
        // Kept, the whole document counts: the object itself is one level.
        let at_limit = format!(r#"{{"a":{}}}"#, deep(MAX_DEPTH - 1));
        assert!(keep_a(at_limit.as_bytes()).is_ok());
        let over = format!(r#"{{"a":{}}}"#, deep(MAX_DEPTH));
        assert!(keep_a(over.as_bytes()).is_err());
        assert!(parse(over.as_bytes()).is_err(), "as parse counts");
        assert!(
            keep_a(deep(5000).as_bytes()).is_err(),
            "not an object, and too deep"
        );
    }
}
