//! JSON from untrusted bytes, read and written by hand.
//!
//! The reader ([`parse`], [`parse_object`]) is strict RFC 8259: one value with whitespace
//! around it, UTF-8 throughout (skipped members too: RFC 7515 and 7519 require the whole header
//! and claims set to be UTF-8), escapes checked (a lone surrogate is refused), numbers by the
//! grammar, nesting at most [`MAX_DEPTH`] deep. It returns a small tree ([`Value`]) that
//! borrows every string without escapes and every number from the input.
//!
//! Three rules serde_json did not keep for us, and this reader does:
//! - A document read as an object is an object: never an array read positionally.
//! - Repeated member names are refused in every object, after unescaping (`"aud"` and
//!   `"\u0061ud"` are one name), whatever their values (RFC 7515 §4 and RFC 7519 §4: reject, or
//!   take the last; parsers that take the first exist, so only rejecting gives every reader
//!   one meaning).
//! - Errors are redacted: they never quote a value from the document. Member names of our own
//!   schema (in backticks), JSON kinds (`a string`) and positions are named, so the log still
//!   says what was wrong; a repeated name, which comes from the document, is cut by
//!   [`loggable`](crate::token::loggable).
//!
//! Numbers stay text ([`Number`]) and are read as integers or NumericDates by hand: no float
//! parsing or formatting code exists in the worker. The writer ([`write`]) escapes as
//! serde_json did.

mod error;
mod number;
mod parse;
pub mod read;
mod skip;
mod value;
pub mod write;

pub use error::JsonError;
pub use number::Instant;
pub use parse::{parse, parse_object, parse_object_keeping};
pub use value::{Object, Value};

#[cfg(test)]
mod tests;
