//! The reader: RFC 8259 text in, a borrowed [`Value`] tree out, or an error.
//!
//! The bytes come from attackers (a token's header and claims) or from the network (key
//! documents). So: the whole input must be UTF-8, nesting is bounded (recursion is the stack,
//! and in wasm a stack overflow kills the request), nothing indexes or unwraps, and every
//! object's member names are unique after unescaping.

use super::error::{JsonError, Syntax};
use super::number::Number;
use super::value::{Object, Value};
use std::borrow::Cow;

/// How deeply arrays and objects may nest; serde_json's limit, far beyond any document we read.
pub const MAX_DEPTH: usize = 128;

/// Objects up to this size are checked for repeated names pairwise; larger ones by sorting,
/// so that a hostile object of thousands of members costs n log n, not n².
const PAIRWISE_MEMBERS: usize = 16;

/// Parses one JSON value, with nothing but whitespace around it.
pub fn parse(bytes: &[u8]) -> Result<Value<'_>, JsonError> {
    let mut reader = Reader::new(bytes)?;
    reader.skip_whitespace();
    let value = reader.value(MAX_DEPTH)?;
    reader.end()?;
    Ok(value)
}

/// Parses a document that must be an object (a JOSE header, a claims set, a key document).
pub fn parse_object(bytes: &[u8]) -> Result<Object<'_>, JsonError> {
    parse(bytes)?
        .into_object()
        .ok_or_else(JsonError::not_object)
}

/// Parses a document that must be an object, keeping only the members `keep` names: the
/// others are checked (grammar, UTF-8, escapes, repeated names at every depth) but not built,
/// at any depth and without recursion. The nesting limit applies to what is kept, as it did
/// when serde_json skipped the members a type did not name: a token may carry deep claims we
/// never read. Faster too: no tree for claims nobody reads.
pub fn parse_object_keeping<'a>(
    bytes: &'a [u8],
    keep: &dyn Fn(&str) -> bool,
) -> Result<Object<'a>, JsonError> {
    let mut reader = Reader::new(bytes)?;
    reader.skip_whitespace();
    if reader.peek() != Some(b'{') {
        // The grammar first (an empty document is EOF), then the kind.
        reader.value(MAX_DEPTH)?;
        reader.end()?;
        return Err(JsonError::not_object());
    }
    reader.pos += 1;
    reader.skip_whitespace();
    let mut kept = Vec::new();
    let mut skipped = Vec::new();
    if reader.peek() == Some(b'}') {
        reader.pos += 1;
    } else {
        loop {
            let name = reader.member_name()?;
            if keep(&name) {
                let value = reader.value(MAX_DEPTH - 1)?;
                kept.push((name, value));
            } else {
                reader.skip_value()?;
                skipped.push(name);
            }
            if reader.after_member()? {
                break;
            }
        }
    }
    let names: Vec<&str> = kept
        .iter()
        .map(|(name, _)| name.as_ref())
        .chain(skipped.iter().map(AsRef::as_ref))
        .collect();
    if let Some(name) = repeated_name(&names) {
        return Err(JsonError::duplicate(name, bytes, reader.pos));
    }
    reader.end()?;
    Ok(Object::new(kept))
}

pub(super) struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pub(super) pos: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Result<Self, JsonError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| JsonError::syntax(Syntax::NotUtf8, bytes, e.valid_up_to()))?;
        Ok(Reader {
            text,
            bytes,
            pos: 0,
        })
    }

    /// Only whitespace may follow the value.
    fn end(&mut self) -> Result<(), JsonError> {
        self.skip_whitespace();
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            Err(self.error(Syntax::Trailing))
        }
    }

    pub(super) fn error(&self, what: Syntax) -> JsonError {
        JsonError::syntax(what, self.bytes, self.pos)
    }

    pub(super) fn duplicate(&self, name: &str) -> JsonError {
        JsonError::duplicate(name, self.bytes, self.pos)
    }

    pub(super) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    pub(super) fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// `depth`: how many more arrays or objects may open.
    fn value(&mut self, depth: usize) -> Result<Value<'a>, JsonError> {
        match self.peek() {
            None => Err(self.error(Syntax::Eof)),
            Some(b'{') => {
                let inner = self.deeper(depth)?;
                self.object(inner)
            }
            Some(b'[') => {
                let inner = self.deeper(depth)?;
                self.array(inner)
            }
            Some(b'"') => {
                self.pos += 1;
                Ok(Value::String(self.string()?))
            }
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error(Syntax::ExpectedValue)),
        }
    }

    fn deeper(&self, depth: usize) -> Result<usize, JsonError> {
        depth
            .checked_sub(1)
            .ok_or_else(|| self.error(Syntax::TooDeep))
    }

    pub(super) fn literal(&mut self, word: &str, value: Value<'a>) -> Result<Value<'a>, JsonError> {
        let end = self.pos + word.len();
        if self.bytes.get(self.pos..end) == Some(word.as_bytes()) {
            self.pos = end;
            Ok(value)
        } else {
            Err(self.error(Syntax::ExpectedValue))
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value<'a>, JsonError> {
        self.pos += 1;
        self.skip_whitespace();
        let mut items = Vec::new();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_whitespace();
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                None => return Err(self.error(Syntax::Eof)),
                Some(_) => return Err(self.error(Syntax::ExpectedCommaOrBracket)),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value<'a>, JsonError> {
        self.pos += 1;
        self.skip_whitespace();
        let mut members = Vec::new();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(Object::new(members)));
        }
        loop {
            let name = self.member_name()?;
            let value = self.value(depth)?;
            members.push((name, value));
            if self.after_member()? {
                break;
            }
        }
        let names: Vec<&str> = members.iter().map(|(name, _)| name.as_ref()).collect();
        if let Some(name) = repeated_name(&names) {
            // The position is just past the object: where the reader knew.
            return Err(self.duplicate(name));
        }
        Ok(Value::Object(Object::new(members)))
    }

    /// `"name" :` and the whitespace after it, at the start of a member.
    pub(super) fn member_name(&mut self) -> Result<Cow<'a, str>, JsonError> {
        match self.peek() {
            Some(b'"') => self.pos += 1,
            None => return Err(self.error(Syntax::Eof)),
            Some(_) => return Err(self.error(Syntax::ExpectedName)),
        }
        let name = self.string()?;
        self.skip_whitespace();
        match self.peek() {
            Some(b':') => self.pos += 1,
            None => return Err(self.error(Syntax::Eof)),
            Some(_) => return Err(self.error(Syntax::ExpectedColon)),
        }
        self.skip_whitespace();
        Ok(name)
    }

    /// After a member's value: `,` (another member follows: false) or `}` (true).
    pub(super) fn after_member(&mut self) -> Result<bool, JsonError> {
        self.skip_whitespace();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                self.skip_whitespace();
                Ok(false)
            }
            Some(b'}') => {
                self.pos += 1;
                Ok(true)
            }
            None => Err(self.error(Syntax::Eof)),
            Some(_) => Err(self.error(Syntax::ExpectedCommaOrBrace)),
        }
    }

    /// A string's content after its opening quote; borrowed unless it has escapes.
    pub(super) fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        let start = self.pos;
        loop {
            match self.peek() {
                Some(b'"') => {
                    let text = self.slice(start)?;
                    self.pos += 1;
                    return Ok(Cow::Borrowed(text));
                }
                Some(b'\\') => return self.escaped(start).map(Cow::Owned),
                Some(0..=0x1f) => return Err(self.error(Syntax::ControlCharacter)),
                Some(_) => self.pos += 1,
                None => return Err(self.error(Syntax::Eof)),
            }
        }
    }

    /// The text from `start` to the current position. Both lie on ASCII bytes of valid UTF-8,
    /// so this never fails; if it ever did, the document is refused rather than a panic.
    fn slice(&self, start: usize) -> Result<&'a str, JsonError> {
        self.text
            .get(start..self.pos)
            .ok_or_else(|| self.error(Syntax::NotUtf8))
    }

    /// The rest of a string that has an escape: unescaped into an owned copy.
    fn escaped(&mut self, start: usize) -> Result<String, JsonError> {
        let mut out = String::from(self.slice(start)?);
        loop {
            let run = self.pos;
            while matches!(self.peek(), Some(b) if b != b'"' && b != b'\\' && b >= 0x20) {
                self.pos += 1;
            }
            out.push_str(self.slice(run)?);
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = self.escape()?;
                    out.push(c);
                }
                Some(_) => return Err(self.error(Syntax::ControlCharacter)),
                None => return Err(self.error(Syntax::Eof)),
            }
        }
    }

    /// One escape after its backslash.
    fn escape(&mut self) -> Result<char, JsonError> {
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                return self.unicode_escape();
            }
            None => return Err(self.error(Syntax::Eof)),
            Some(_) => return Err(self.error(Syntax::InvalidEscape)),
        };
        self.pos += 1;
        Ok(c)
    }

    /// `XXXX` after `\u`; a UTF-16 surrogate must pair with the next escape, as RFC 8259 §7
    /// spells characters outside the BMP. A lone one is no character and is refused.
    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                    return Err(self.error(Syntax::LoneSurrogate));
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.error(Syntax::LoneSurrogate));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            // A low surrogate first (0xDC00..=0xDFFF) is no `char`: `from_u32` refuses it below.
            _ => first,
        };
        char::from_u32(code).ok_or_else(|| self.error(Syntax::LoneSurrogate))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut code = 0;
        for _ in 0..4 {
            let digit = self
                .peek()
                .and_then(|b| char::from(b).to_digit(16))
                .ok_or_else(|| self.error(Syntax::InvalidEscape))?;
            code = code * 16 + digit;
            self.pos += 1;
        }
        Ok(code)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    pub(super) fn number(&mut self) -> Result<Value<'a>, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error(Syntax::InvalidNumber)),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.error(Syntax::InvalidNumber));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error(Syntax::InvalidNumber));
            }
        }
        // `01`: a number may not run on into digits the grammar did not take.
        if matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.error(Syntax::InvalidNumber));
        }
        Ok(Value::Number(Number::new(self.slice(start)?)))
    }
}

/// A member name that occurs twice, if any.
pub(super) fn repeated_name<'m>(names: &[&'m str]) -> Option<&'m str> {
    if names.len() <= PAIRWISE_MEMBERS {
        return names.iter().enumerate().find_map(|(i, name)| {
            names
                .get(..i)
                .unwrap_or_default()
                .contains(name)
                .then_some(*name)
        });
    }
    let mut sorted = names.to_vec();
    sorted.sort_unstable();
    sorted.windows(2).find_map(|pair| match pair {
        [a, b] if a == b => Some(*a),
        _ => None,
    })
}
