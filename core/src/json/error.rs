//! Why a document was not read. Every message is built here, from fixed text, member names
//! of our own schema, positions and (for a repeated member) a name cut by
//! [`loggable`](crate::token::loggable): never a value from the document.

use crate::quoted::Escaped;
use std::fmt;

/// Why a document was not read: what and where, never a value from the document.
///
/// One boxed string: errors are rare, and a small `Err` keeps every `Result` on the hot path
/// small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    detail: Box<str>,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for JsonError {}

/// A grammar rule the text broke; the message names the rule, the position says where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    NotUtf8,
    Eof,
    ExpectedValue,
    ExpectedName,
    ExpectedColon,
    ExpectedCommaOrBrace,
    ExpectedCommaOrBracket,
    Trailing,
    ControlCharacter,
    InvalidEscape,
    LoneSurrogate,
    InvalidNumber,
    TooDeep,
}

impl Syntax {
    fn text(self) -> &'static str {
        match self {
            Syntax::NotUtf8 => "not UTF-8",
            Syntax::Eof => "EOF while parsing a value",
            Syntax::ExpectedValue => "expected value",
            Syntax::ExpectedName => "expected a member name (a string)",
            Syntax::ExpectedColon => "expected `:`",
            Syntax::ExpectedCommaOrBrace => "expected `,` or `}`",
            Syntax::ExpectedCommaOrBracket => "expected `,` or `]`",
            Syntax::Trailing => "trailing characters",
            Syntax::ControlCharacter => {
                "control character (\\u0000-\\u001F) found while parsing a string"
            }
            Syntax::InvalidEscape => "invalid escape",
            Syntax::LoneSurrogate => "lone surrogate in hex escape",
            Syntax::InvalidNumber => "invalid number",
            Syntax::TooDeep => "recursion limit exceeded",
        }
    }
}

/// Line and column (both from 1, the column in bytes) of a byte offset, as serde_json wrote
/// them: operators find the place in a policy file, and a token's position leaks nothing.
fn position(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = bytes.get(..offset).unwrap_or(bytes);
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    (line, column)
}

/// A name from a document as a message shows it: escaped as `quoted` does, then cut to a
/// loggable length, as every unverified value we name is.
fn shown(name: &str) -> String {
    crate::token::loggable(&Escaped(name).to_string())
}

impl JsonError {
    fn new(detail: String) -> Self {
        JsonError {
            detail: detail.into_boxed_str(),
        }
    }

    pub(crate) fn syntax(what: Syntax, bytes: &[u8], offset: usize) -> Self {
        let (line, column) = position(bytes, offset);
        JsonError::new(format!("{} at line {line} column {column}", what.text()))
    }

    /// A member name seen twice in one object (after unescaping). The name comes from the
    /// document: it is cut to a loggable length, as every unverified value we name is.
    pub(crate) fn duplicate(name: &str, bytes: &[u8], offset: usize) -> Self {
        let (line, column) = position(bytes, offset);
        JsonError::new(format!(
            "duplicate field `{}` at line {line} column {column}",
            shown(name)
        ))
    }

    /// The document is well-formed but not an object where one must be.
    pub(crate) fn not_object() -> Self {
        JsonError::new("not a JSON object".to_owned())
    }

    /// A member of our schema holds the wrong kind of value. `at` is a schema path
    /// (`routes[2].methods`), `found` a JSON kind (`a string`): neither comes from the values.
    pub fn wrong_type(at: impl fmt::Display, expected: &str, found: &str) -> Self {
        JsonError::new(format!(
            "invalid type at {at}: expected {expected}, found {found}"
        ))
    }

    /// A member of our schema holds a value out of its range (`period_seconds` above u32).
    pub fn out_of_range(at: impl fmt::Display, expected: &str) -> Self {
        JsonError::new(format!("invalid value at {at}: expected {expected}"))
    }

    /// A required member of our schema is absent.
    pub fn missing(name: &str, within: impl fmt::Display) -> Self {
        JsonError::new(format!("missing field `{name}` in {within}"))
    }

    /// A member our schema does not have, where unknown members are refused. The name comes
    /// from an operator's document (a policy, a key record we sealed), not from a token; it is
    /// cut to a loggable length all the same.
    pub fn unknown(name: &str, within: impl fmt::Display, expected: &[&str]) -> Self {
        JsonError::new(format!(
            "unknown field `{}` in {within}, expected {}",
            shown(name),
            one_of(expected)
        ))
    }

    /// A string of our schema that is none of the values it may take (an enum's variant).
    pub fn unknown_variant(name: &str, within: impl fmt::Display, expected: &[&str]) -> Self {
        JsonError::new(format!(
            "unknown variant `{}` in {within}, expected {}",
            shown(name),
            one_of(expected)
        ))
    }

    /// Any other rule of a schema, worded by its reader (`no aud`).
    pub fn other(detail: impl Into<String>) -> Self {
        JsonError::new(detail.into())
    }
}

fn one_of(names: &[&str]) -> String {
    match names {
        [] => "no members".to_owned(),
        [one] => format!("`{one}`"),
        [_, ..] => {
            let listed: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            format!("one of {}", listed.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_bytes_from_one() {
        assert_eq!(position(b"abc", 0), (1, 1));
        assert_eq!(position(b"abc", 2), (1, 3));
        assert_eq!(position(b"a\nbc", 3), (2, 2));
        assert_eq!(position(b"a\n", 2), (2, 1));
        assert_eq!(position(b"ab", 99), (1, 3), "past the end: the end");
    }

    #[test]
    fn messages() {
        assert_eq!(
            JsonError::syntax(Syntax::ExpectedColon, b"{\"a\"1}", 4).to_string(),
            "expected `:` at line 1 column 5"
        );
        assert_eq!(
            JsonError::duplicate(&"n".repeat(100), b"", 0).to_string(),
            format!("duplicate field `{}…` at line 1 column 1", "n".repeat(32))
        );
        assert_eq!(
            JsonError::unknown("x", "routes[0]", &["a", "b"]).to_string(),
            "unknown field `x` in routes[0], expected one of `a`, `b`"
        );
        assert_eq!(
            JsonError::unknown_variant("x", "c", &["a"]).to_string(),
            "unknown variant `x` in c, expected `a`"
        );
        assert_eq!(
            JsonError::unknown("x", "c", &[]).to_string(),
            "unknown field `x` in c, expected no members"
        );
        assert_eq!(
            JsonError::missing("path", "routes[1]").to_string(),
            "missing field `path` in routes[1]"
        );
        assert_eq!(
            JsonError::wrong_type("`exp`", "a number", "a string").to_string(),
            "invalid type at `exp`: expected a number, found a string"
        );
        assert_eq!(
            JsonError::out_of_range("x", "u32").to_string(),
            "invalid value at x: expected u32"
        );
        assert_eq!(JsonError::other("no aud").to_string(), "no aud");
        assert_eq!(JsonError::not_object().to_string(), "not a JSON object");
    }
}
