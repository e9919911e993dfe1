//! Typed reads of one value, with the error every schema reader words the same way:
//! "invalid type at `exp`: expected a number, found a string". `at` names the place in our
//! schema (a member name, a policy path); the kind found is a JSON kind, never the value.

use super::error::JsonError;
use super::number::Number;
use super::value::{Object, Value};
use std::borrow::Cow;
use std::fmt::Display;

/// The error for a value of the wrong kind at `at`.
pub fn wrong(at: &dyn Display, expected: &str, found: &Value<'_>) -> JsonError {
    JsonError::wrong_type(at, expected, found.kind())
}

/// A string; `null` is a wrong type like any other.
pub fn string<'a>(at: &dyn Display, value: Value<'a>) -> Result<Cow<'a, str>, JsonError> {
    match value {
        Value::String(s) => Ok(s),
        other @ (Value::Null
        | Value::Bool(_)
        | Value::Number(_)
        | Value::Array(_)
        | Value::Object(_)) => Err(wrong(at, "a string", &other)),
    }
}

/// A string, or `null` for none (serde's `Option<String>`).
pub fn optional_string<'a>(
    at: &dyn Display,
    value: Value<'a>,
) -> Result<Option<Cow<'a, str>>, JsonError> {
    match value {
        Value::Null => Ok(None),
        other @ (Value::Bool(_)
        | Value::Number(_)
        | Value::String(_)
        | Value::Array(_)
        | Value::Object(_)) => string(at, other).map(Some),
    }
}

/// An array of strings; `null` elements are wrong types.
pub fn strings<'a>(at: &dyn Display, value: Value<'a>) -> Result<Vec<Cow<'a, str>>, JsonError> {
    array(at, value)?
        .into_iter()
        .map(|item| string(at, item))
        .collect()
}

/// An array.
pub fn array<'a>(at: &dyn Display, value: Value<'a>) -> Result<Vec<Value<'a>>, JsonError> {
    match value {
        Value::Array(items) => Ok(items),
        other @ (Value::Null
        | Value::Bool(_)
        | Value::Number(_)
        | Value::String(_)
        | Value::Object(_)) => Err(wrong(at, "an array", &other)),
    }
}

/// An object.
pub fn object<'a>(at: &dyn Display, value: Value<'a>) -> Result<Object<'a>, JsonError> {
    match value {
        Value::Object(o) => Ok(o),
        other @ (Value::Null
        | Value::Bool(_)
        | Value::Number(_)
        | Value::String(_)
        | Value::Array(_)) => Err(wrong(at, "an object", &other)),
    }
}

/// A boolean.
pub fn boolean(at: &dyn Display, value: &Value<'_>) -> Result<bool, JsonError> {
    value.as_bool().ok_or_else(|| wrong(at, "a boolean", value))
}

/// A number (any form; the caller reads it).
pub fn number<'a>(at: &dyn Display, value: &Value<'a>) -> Result<Number<'a>, JsonError> {
    value
        .as_number()
        .ok_or_else(|| wrong(at, "a number", value))
}

/// An integer in `0..=u32::MAX`.
pub fn u32(at: &dyn Display, value: &Value<'_>) -> Result<u32, JsonError> {
    number(at, value)?
        .as_u32()
        .ok_or_else(|| JsonError::out_of_range(at, "an integer from 0 to 4294967295"))
}

/// Refuses members outside `allowed` (serde's `deny_unknown_fields`).
pub fn only(object: &Object<'_>, within: &dyn Display, allowed: &[&str]) -> Result<(), JsonError> {
    match object.unknown_member(allowed) {
        Some(name) => Err(JsonError::unknown(name, within, allowed)),
        None => Ok(()),
    }
}

/// A member name in backticks, as errors name members of our schema.
pub struct Member<'n>(pub &'n str);

impl Display for Member<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn v(text: &str) -> Value<'_> {
        parse(text.as_bytes()).expect("parses")
    }

    const AT: &Member<'_> = &Member("m");

    #[test]
    fn each_read_takes_its_own_kind_only() {
        let all = ["null", "true", "1", "\"s\"", "[]", "{}"];
        let taken = |f: &dyn Fn(Value<'_>) -> bool| -> Vec<&str> {
            all.iter().copied().filter(|t| f(v(t))).collect()
        };
        assert_eq!(taken(&|x| string(AT, x).is_ok()), ["\"s\""]);
        assert_eq!(
            taken(&|x| optional_string(AT, x).is_ok()),
            ["null", "\"s\""]
        );
        assert_eq!(taken(&|x| array(AT, x).is_ok()), ["[]"]);
        assert_eq!(taken(&|x| strings(AT, x).is_ok()), ["[]"]);
        assert_eq!(taken(&|x| object(AT, x).is_ok()), ["{}"]);
        assert_eq!(taken(&|x| boolean(AT, &x).is_ok()), ["true"]);
        assert_eq!(taken(&|x| number(AT, &x).is_ok()), ["1"]);
        assert_eq!(taken(&|x| u32(AT, &x).is_ok()), ["1"]);
    }

    #[test]
    fn values_and_messages() {
        assert_eq!(optional_string(AT, v("null")), Ok(None));
        assert_eq!(
            optional_string(AT, v("\"x\"")),
            Ok(Some(Cow::Borrowed("x")))
        );
        assert_eq!(
            strings(AT, v(r#"["a","b"]"#)),
            Ok(vec![Cow::Borrowed("a"), Cow::Borrowed("b")])
        );
        assert_eq!(
            strings(AT, v(r#"["a",null]"#)).map_err(|e| e.to_string()),
            Err("invalid type at `m`: expected a string, found null".to_owned())
        );
        assert_eq!(boolean(AT, &v("false")), Ok(false));
        assert_eq!(u32(AT, &v("4294967295")), Ok(u32::MAX));
        assert_eq!(
            u32(AT, &v("4294967296")).map_err(|e| e.to_string()),
            Err("invalid value at `m`: expected an integer from 0 to 4294967295".to_owned())
        );
        assert!(u32(AT, &v("1.0")).is_err());
        assert!(u32(AT, &v("-1")).is_err());
        assert_eq!(
            string(AT, v("42")).map_err(|e| e.to_string()),
            Err("invalid type at `m`: expected a string, found a number".to_owned())
        );
        let o = v(r#"{"a":1,"b":2}"#).into_object().expect("object");
        assert!(only(&o, &"x", &["a", "b"]).is_ok());
        assert_eq!(
            only(&o, &"x", &["a"]).map_err(|e| e.to_string()),
            Err("unknown field `b` in x, expected `a`".to_owned())
        );
    }

    #[test]
    fn wrong_types_never_quote_the_value() {
        for doc in [
            r#""SECRET""#,
            "123456789",
            r#"["SECRET"]"#,
            r#"{"SECRET":1}"#,
        ] {
            let e = u32(AT, &v(doc))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(!e.contains("SECRET") && !e.contains("123456789"), "{e}");
            let e = string(AT, v(doc))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(!e.contains("SECRET"), "{e}");
        }
    }
}
