//! The parsed document: a small tree that borrows from the input wherever it can.

use super::number::Number;
use std::borrow::Cow;

/// One JSON value. Strings without escapes and every number borrow from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// A number, kept as its text (grammar-checked); read it with [`Number`]'s methods.
    Number(Number<'a>),
    /// A string, unescaped.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Value<'a>>),
    /// An object whose member names are unique.
    Object(Object<'a>),
}

impl<'a> Value<'a> {
    /// The kind, as an error message names it ("expected a string, found an array").
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            Value::Null
            | Value::Bool(_)
            | Value::Number(_)
            | Value::Array(_)
            | Value::Object(_) => None,
        }
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&Object<'a>> {
        match self {
            Value::Object(o) => Some(o),
            Value::Null
            | Value::Bool(_)
            | Value::Number(_)
            | Value::String(_)
            | Value::Array(_) => None,
        }
    }

    /// The object, if this is one.
    pub fn into_object(self) -> Option<Object<'a>> {
        match self {
            Value::Object(o) => Some(o),
            Value::Null
            | Value::Bool(_)
            | Value::Number(_)
            | Value::String(_)
            | Value::Array(_) => None,
        }
    }

    /// The elements, if this is an array.
    #[cfg(test)]
    pub fn as_array(&self) -> Option<&[Value<'a>]> {
        match self {
            Value::Array(items) => Some(items),
            Value::Null
            | Value::Bool(_)
            | Value::Number(_)
            | Value::String(_)
            | Value::Object(_) => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Null
            | Value::Number(_)
            | Value::String(_)
            | Value::Array(_)
            | Value::Object(_) => None,
        }
    }

    /// The number, if this is one.
    pub fn as_number(&self) -> Option<Number<'a>> {
        match self {
            Value::Number(n) => Some(*n),
            Value::Null
            | Value::Bool(_)
            | Value::String(_)
            | Value::Array(_)
            | Value::Object(_) => None,
        }
    }
}

/// An object's members in document order; the reader has refused repeated names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Object<'a> {
    members: Vec<(Cow<'a, str>, Value<'a>)>,
}

impl<'a> Object<'a> {
    pub(crate) fn new(members: Vec<(Cow<'a, str>, Value<'a>)>) -> Self {
        Object { members }
    }

    /// The value of a member, if present.
    pub fn get(&self, name: &str) -> Option<&Value<'a>> {
        self.members
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value)
    }

    /// Takes a member's value out, if present, without copying it.
    pub fn take(&mut self, name: &str) -> Option<Value<'a>> {
        let at = self.members.iter().position(|(n, _)| n == name)?;
        Some(self.members.remove(at).1)
    }

    /// The members in document order.
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value<'a>)> {
        self.members.iter().map(|(n, v)| (n.as_ref(), v))
    }

    /// How many members there are.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// The first member whose name is not in `allowed`, for schemas that refuse unknown
    /// members so that a typo never silently drops a rule.
    pub fn unknown_member(&self, allowed: &[&str]) -> Option<&str> {
        self.members
            .iter()
            .map(|(n, _)| n.as_ref())
            .find(|n| !allowed.contains(n))
    }
}

impl<'a> IntoIterator for Object<'a> {
    type Item = (Cow<'a, str>, Value<'a>);
    type IntoIter = std::vec::IntoIter<(Cow<'a, str>, Value<'a>)>;

    fn into_iter(self) -> Self::IntoIter {
        self.members.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    #[test]
    fn kinds_and_accessors_match_only_their_own_kind() {
        let doc = parse(br#"[null,true,1,"s",[2],{"k":3}]"#).expect("parses");
        let items = doc.as_array().expect("array").to_vec();
        let kinds: Vec<&str> = items.iter().map(Value::kind).collect();
        assert_eq!(
            kinds,
            [
                "null",
                "a boolean",
                "a number",
                "a string",
                "an array",
                "an object"
            ]
        );
        let count = |f: &dyn Fn(&Value<'_>) -> bool| items.iter().filter(|v| f(v)).count();
        assert_eq!(count(&|v| v.as_bool().is_some()), 1);
        assert_eq!(count(&|v| v.as_number().is_some()), 1);
        assert_eq!(count(&|v| v.as_str().is_some()), 1);
        assert_eq!(count(&|v| v.as_array().is_some()), 1);
        assert_eq!(count(&|v| v.as_object().is_some()), 1);
        assert_eq!(count(&|v| v.clone().into_object().is_some()), 1);
        assert_eq!(items.get(1).and_then(Value::as_bool), Some(true));
        assert_eq!(items.get(3).and_then(Value::as_str), Some("s"));
        assert_eq!(
            items
                .get(2)
                .and_then(Value::as_number)
                .and_then(|n| n.as_u64()),
            Some(1)
        );
    }

    #[test]
    fn object_members() {
        let doc = parse(br#"{"a":1,"b":"x"}"#).expect("parses");
        let o = doc.into_object().expect("object");
        assert_eq!(o.len(), 2);
        assert_eq!(Object::default().len(), 0);
        assert_eq!(o.get("b").and_then(Value::as_str), Some("x"));
        assert!(o.get("c").is_none());
        assert_eq!(o.iter().map(|(n, _)| n).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(o.unknown_member(&["a", "b"]), None);
        assert_eq!(o.unknown_member(&["a"]), Some("b"));
        let mut taken = o.clone();
        assert_eq!(
            taken
                .take("a")
                .and_then(|v| v.as_number())
                .map(|n| n.text()),
            Some("1")
        );
        assert_eq!(taken.take("a"), None, "taken once");
        assert_eq!(taken.len(), 1);
        let names: Vec<String> = o.into_iter().map(|(n, _)| n.into_owned()).collect();
        assert_eq!(names, ["a", "b"]);
    }
}
