//! Text quoted in a message, in place of `{:?}`: `str`'s `Debug` brings the formatter's Unicode
//! tables and escape machinery into the wasm (about 4 KB gzip, BENCHMARKS.md). The quoting is
//! stricter than `Debug`'s: everything outside printable ASCII is escaped, so a message never
//! carries a control, bidi or look-alike character from its input into a log or a header.

use std::fmt::{self, Display, Write};

/// `text` between double quotes, `"` and `\` escaped, `\n` `\r` `\t` as themselves, any other
/// character outside printable ASCII as `\u{hex}`.
pub struct Quoted<'a>(pub &'a str);

/// [`Quoted`]'s escaping without the quotes, for a value a message sets off otherwise.
pub struct Escaped<'a>(pub &'a str);

impl Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        Escaped(self.0).fmt(f)?;
        f.write_char('"')
    }
}

impl Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                ' '..='~' => f.write_char(c)?,
                other => write!(f, "\\u{{{:x}}}", u32::from(other))?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Escaped, Quoted};

    #[test]
    fn printable_ascii_reads_as_debug_would() {
        for text in ["", "kid-1", "a b", "RS256", "~!@#$%^&*()_+={}[]|:;'<>,.?/`"] {
            assert_eq!(Quoted(text).to_string(), format!("{text:?}"));
        }
    }

    #[test]
    fn quotes_backslashes_and_common_controls_read_as_debug_would() {
        for text in ["say \"hi\"", "C:\\path", "line\nnext", "a\rb", "tab\there"] {
            assert_eq!(Quoted(text).to_string(), format!("{text:?}"));
        }
    }

    #[test]
    fn every_other_character_is_escaped_by_its_code_point() {
        assert_eq!(Quoted("\u{1b}[31m").to_string(), "\"\\u{1b}[31m\"");
        assert_eq!(Quoted("\u{0}").to_string(), "\"\\u{0}\"");
        assert_eq!(Quoted("\u{7f}").to_string(), "\"\\u{7f}\"");
        // Printable to Debug, escaped here: a look-alike or a bidi override never reaches a line.
        assert_eq!(Quoted("é").to_string(), "\"\\u{e9}\"");
        assert_eq!(Quoted("a\u{202e}b").to_string(), "\"a\\u{202e}b\"");
        assert_eq!(Quoted("😀").to_string(), "\"\\u{1f600}\"");
    }

    #[test]
    fn escaped_is_quoted_without_the_quotes() {
        for text in ["kid-1", "a\u{202e}b", "say \"hi\"", "\u{1b}[31m"] {
            let quoted = Quoted(text).to_string();
            assert_eq!(format!("\"{}\"", Escaped(text)), quoted);
        }
    }
}
