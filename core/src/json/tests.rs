//! The reader against RFC 8259, one rule at a time, and against serde_json where both read.

use super::parse::MAX_DEPTH;
use super::*;

fn ok(text: &str) -> Value<'_> {
    parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn err(text: &[u8]) -> String {
    match parse(text) {
        Ok(v) => panic!("{:?} parsed as {v:?}", String::from_utf8_lossy(text)),
        Err(e) => e.to_string(),
    }
}

#[test]
fn one_value_with_whitespace_around() {
    assert_eq!(ok(" \t\r\n null \t\r\n"), Value::Null);
    assert_eq!(ok("true"), Value::Bool(true));
    assert_eq!(ok("false"), Value::Bool(false));
    assert_eq!(ok("\"s\""), Value::String("s".into()));
    assert!(err(b"").starts_with("EOF while parsing a value"));
    assert!(err(b"   ").starts_with("EOF"));
    assert!(err(b"null null").starts_with("trailing characters at line 1 column 6"));
    assert!(err(b"{}x").starts_with("trailing characters"));
    assert!(
        err(b"\x0cnull").starts_with("expected value"),
        "form feed is not whitespace"
    );
    assert!(
        err(b"\xc2\xa0null").starts_with("expected value"),
        "nor is U+00A0"
    );
    for word in [
        "nul",
        "tru",
        "fals",
        "nulL",
        "True",
        "NaN",
        "Infinity",
        "undefined",
        "'a'",
    ] {
        assert!(err(word.as_bytes()).starts_with("expected value"), "{word}");
    }
}

#[test]
fn utf8_everywhere() {
    assert!(err(b"\"\xff\"").starts_with("not UTF-8 at line 1 column 2"));
    assert!(
        err(b"{\"a\":1,\"b\":\"\xed\xa0\x80\"}").starts_with("not UTF-8"),
        "a raw surrogate"
    );
    assert!(
        err(b"null \xff").starts_with("not UTF-8"),
        "even after the value"
    );
    assert!(
        err(b"\xef\xbb\xbfnull").starts_with("expected value"),
        "no byte order mark"
    );
    assert_eq!(ok("\"é😀\""), Value::String("é😀".into()));
}

#[test]
fn arrays() {
    assert_eq!(ok("[]"), Value::Array(vec![]));
    assert_eq!(ok("[ ]"), Value::Array(vec![]));
    assert_eq!(
        ok("[ 1 , [ ] , \"a\" ]").as_array().map(<[Value<'_>]>::len),
        Some(3)
    );
    assert!(err(b"[1,]").starts_with("expected value"), "trailing comma");
    assert!(err(b"[,1]").starts_with("expected value"));
    assert!(err(b"[1 2]").starts_with("expected `,` or `]` at line 1 column 4"));
    assert!(err(b"[1").starts_with("EOF"));
    assert!(err(b"[1,").starts_with("EOF"));
    assert!(err(b"[").starts_with("EOF"));
    assert!(err(b"]").starts_with("expected value"));
}

#[test]
fn objects() {
    let o = ok(r#" { "a" : 1 , "b" : { } } "#);
    let o = o.as_object().expect("object");
    assert_eq!(o.len(), 2);
    assert_eq!(o.get("b"), Some(&Value::Object(Object::default())));
    assert!(err(br#"{"a":1,}"#).starts_with("expected a member name"));
    assert!(err(br#"{,}"#).starts_with("expected a member name"));
    assert!(err(br#"{1:1}"#).starts_with("expected a member name"));
    assert!(err(br#"{a:1}"#).starts_with("expected a member name"));
    assert!(err(br#"{"a" 1}"#).starts_with("expected `:` at line 1 column 6"));
    assert!(err(br#"{"a":1 "b":2}"#).starts_with("expected `,` or `}`"));
    assert!(err(br#"{"a":}"#).starts_with("expected value"));
    assert!(err(br#"{"a""#).starts_with("EOF"));
    assert!(err(br#"{"a":"#).starts_with("EOF"));
    assert!(err(br#"{"a":1"#).starts_with("EOF"));
    assert!(err(br#"{"a"#).starts_with("EOF"));
    assert!(err(br#"{"#).starts_with("EOF"));
    assert!(err(br#"{"a":1,"#).starts_with("EOF"));
}

#[test]
fn only_objects_where_an_object_is_read() {
    assert!(parse_object(br#" {"a":"x"} "#).is_ok());
    for other in [&br#"["x"]"#[..], b"null", b"1", b"\"{}\""] {
        assert_eq!(
            parse_object(other).map_err(|e| e.to_string()),
            Err("not a JSON object".to_owned())
        );
    }
    assert!(parse_object(b"").is_err());
}

#[test]
fn repeated_names_are_refused_at_every_depth() {
    for repeated in [
        &br#"{"a":1,"a":2}"#[..],
        br#"{"a":"x","b":1,"b":2}"#,
        br#"{"b":{"c":1},"b":[]}"#,
        br#"{"\u0062":1,"b":2}"#,
        br#"{"b\/":1,"b/":2}"#,
        br#"{"n":{"c":1,"c":2}}"#,
        br#"[{"c":1,"c":2}]"#,
        br#"{"a":[[{"d":{"x":1,"y":2,"x":3}}]]}"#,
        br#"{"":1,"":2}"#,
    ] {
        let e = err(repeated);
        assert!(e.starts_with("duplicate field `"), "{e}");
    }
    assert!(err(br#"{"a":1,"a":2}"#).starts_with("duplicate field `a` at line 1 column 14"));
    // A name unescaped from the document reaches the message (and the log) escaped again.
    assert!(err(br#"{"\u001b[31m\u202e":1,"\u001b[31m\u202e":2}"#)
        .starts_with("duplicate field `\\u{1b}[31m\\u{202e}` at"));
    assert!(
        parse(br#"{"a":{"a":1},"b":[{"a":1},{"a":2}]}"#).is_ok(),
        "different objects"
    );
    assert!(
        parse(br#"{"a":1,"A":2,"a ":3}"#).is_ok(),
        "names compare exactly"
    );
}

#[test]
fn repeated_names_in_large_objects() {
    let many: Vec<String> = (0..500).map(|i| format!("\"m{i}\":{i}")).collect();
    let unique = format!("{{{}}}", many.join(","));
    assert_eq!(ok(&unique).as_object().map(Object::len), Some(500));
    for (first, second) in [(0, 499), (250, 251), (498, 499), (17, 3)] {
        let mut members = many.clone();
        if let Some(slot) = members.get_mut(second) {
            *slot = format!("\"m{first}\":true");
        }
        let doc = format!("{{{}}}", members.join(","));
        let e = err(doc.as_bytes());
        assert!(e.starts_with(&format!("duplicate field `m{first}`")), "{e}");
    }
    // At the boundary between the pairwise and the sorting check.
    for size in [15, 16, 17, 18] {
        let mut members: Vec<String> = (0..size).map(|i| format!("\"m{i}\":0")).collect();
        members.push("\"m0\":1".to_owned());
        let e = err(format!("{{{}}}", members.join(",")).as_bytes());
        assert!(e.starts_with("duplicate field `m0`"), "{size}: {e}");
    }
}

#[test]
fn repeated_names_are_cut_for_the_log() {
    let long = format!(r#"{{"{0}":1,"{0}":2}}"#, "n".repeat(500));
    let e = err(long.as_bytes());
    assert!(e.len() < 100, "the name is cut: {e}");
}

#[test]
fn nesting_is_bounded() {
    let nested = |depth: usize, open: &str, close: &str| {
        format!("{}{}", open.repeat(depth), close.repeat(depth))
    };
    assert!(parse(nested(MAX_DEPTH, "[", "]").as_bytes()).is_ok());
    assert!(err(nested(MAX_DEPTH + 1, "[", "]").as_bytes()).starts_with("recursion limit"));
    let objects = format!("{}1{}", "{\"a\":".repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
    assert!(parse(objects.as_bytes()).is_ok());
    let deeper = format!("[{objects}]");
    assert!(err(deeper.as_bytes()).starts_with("recursion limit"));
    // Far deeper than any stack would take, unclosed: refused at the limit, never recursed.
    let hostile = "[{\"a\":".repeat(100_000);
    assert!(err(hostile.as_bytes()).starts_with("recursion limit"));
}

#[test]
fn strings_borrow_unless_escaped() {
    let plain = ok(r#""plain text""#);
    assert!(matches!(
        plain,
        Value::String(std::borrow::Cow::Borrowed("plain text"))
    ));
    let escaped = ok(r#""a\nb""#);
    assert!(matches!(escaped, Value::String(std::borrow::Cow::Owned(ref s)) if s == "a\nb"));
    let o = ok(r#"{"name":"v"}"#);
    let (name, _) = o
        .into_object()
        .and_then(|o| o.into_iter().next())
        .expect("a member");
    assert!(matches!(name, std::borrow::Cow::Borrowed("name")));
}

#[test]
fn escapes() {
    assert_eq!(
        ok(r#""\"\\\/\b\f\n\r\t""#).as_str(),
        Some("\"\\/\u{8}\u{c}\n\r\t")
    );
    assert_eq!(ok(r#""x\u0041y""#).as_str(), Some("xAy"));
    assert_eq!(ok(r#""\u00e9\u00E9""#).as_str(), Some("éé"));
    assert_eq!(ok(r#""\u0000""#).as_str(), Some("\u{0}"));
    assert_eq!(ok(r#""\uffff""#).as_str(), Some("\u{ffff}"));
    assert_eq!(ok(r#""a\\""#).as_str(), Some("a\\"));
    assert_eq!(ok(r#""é\n😀""#).as_str(), Some("é\n😀"));
    for bad in [
        r#""\a""#,
        r#""\x41""#,
        r#""\U0041""#,
        r#""\u004""#,
        r#""\u00g1""#,
        r#""\ ""#,
    ] {
        assert!(err(bad.as_bytes()).starts_with("invalid escape"), "{bad}");
    }
    assert!(err(br#""\"#).starts_with("EOF"));
    assert!(err(br#""\u00"#).starts_with("invalid escape"));
    assert!(err(br#""abc"#).starts_with("EOF"));
    assert!(err(br#""a\nbc"#).starts_with("EOF"));
}

#[test]
fn surrogates_pair_or_are_refused() {
    assert_eq!(ok(r#""\ud83d\ude00""#).as_str(), Some("😀"));
    assert_eq!(ok(r#""\uD800\uDC00""#).as_str(), Some("\u{10000}"));
    assert_eq!(ok(r#""\uDBFF\uDFFF""#).as_str(), Some("\u{10ffff}"));
    for lone in [
        r#""\ud83d""#,
        r#""\ud83dx""#,
        r#""\ud83d\n""#,
        r#""\ud83d\u0041""#,
        r#""\ud83d\ud83d""#,
        r#""\ude00""#,
        r#""\ude00\ud83d""#,
        r#"{"a":1,"b":"\udfff"}"#,
    ] {
        assert!(err(lone.as_bytes()).starts_with("lone surrogate"), "{lone}");
    }
    assert!(err(br#""\ud83d\u""#).starts_with("invalid escape"));
}

#[test]
fn control_characters_must_be_escaped() {
    for c in 0u8..0x20 {
        let doc = [b'"', c, b'"'];
        assert!(err(&doc).starts_with("control character"), "{c}");
        let after_escape = [b'"', b'\\', b'n', c, b'"'];
        assert!(err(&after_escape).starts_with("control character"), "{c}");
    }
    assert_eq!(
        ok("\"\u{7f}\"").as_str(),
        Some("\u{7f}"),
        "DEL is not a control here"
    );
}

#[test]
fn numbers_by_the_grammar() {
    for good in [
        "0",
        "-0",
        "1",
        "-1",
        "10",
        "1.5",
        "-1.5",
        "0.0",
        "1e5",
        "1E5",
        "1e+5",
        "1e-5",
        "1.5e05",
        "123456789012345678901234567890",
        "0e0",
    ] {
        assert_eq!(ok(good).as_number().map(|n| n.text()), Some(good), "{good}");
    }
    for bad in [
        "01", "-01", "00", "1.", ".5", "-", "+1", "1e", "1e+", "1.e5", "-.5", "1.5.5", "0x10",
        "1e5.5", "--1", "-a",
    ] {
        let e = err(bad.as_bytes());
        assert!(
            e.starts_with("invalid number")
                || e.starts_with("expected value")
                || e.starts_with("trailing"),
            "{bad}: {e}"
        );
    }
    assert!(err(b"[01]").starts_with("invalid number"));
    assert!(err(b"-").starts_with("invalid number"));
    assert!(err(b"1.").starts_with("invalid number"));
    assert!(err(b"1e").starts_with("invalid number"));
    assert!(err(b"1.5.5").starts_with("trailing"));
    assert_eq!(ok("[1,-2.5e3]").as_array().map(<[Value<'_>]>::len), Some(2));
}

/// A parse error names the rule and the position, never the text: values from a token must
/// not reach a log.
#[test]
fn errors_never_quote_the_document() {
    let secret = "SECRETVALUE";
    for doc in [
        format!(r#"{{"a":"{secret}" "b":1}}"#),
        format!(r#"{{"a":{secret}}}"#),
        format!(r#"["{secret}\q"]"#),
        format!(r#"["{secret}\ud800"]"#),
        format!(r#"["{secret}"#),
        format!("[\"{secret}\u{1}\"]"),
        format!(r#"[1{secret}]"#),
        format!(r#"{{{secret}:1}}"#),
        format!(r#""x"{secret}"#),
        format!("[-{secret}]"),
        format!(r#"{{"a":[1,2,3.{secret}]}}"#),
    ] {
        let e = err(doc.as_bytes());
        assert!(!e.contains(secret) && !e.contains("SECRET"), "{doc}: {e}");
        assert!(e.contains(" at line 1 column "), "{doc}: {e}");
    }
}

#[test]
fn agrees_with_serde_json_on_what_is_json() {
    let docs: &[&[u8]] = &[
        br#"{"a":[1,2,{"b":null}],"c":"\u00e9\ud83d\ude00","d":-1.5e-3,"e":true}"#,
        b" [ ] ",
        b"\"\\/\"",
        b"[1,]",
        b"{\"a\":1}}",
        b"01",
        b"[\"\\u12\"]",
        b"[\"\t\"]",
        b"1e",
        b"[-]",
        b"nul",
        b"[] []",
        b"[1.0e+0]",
        b"{\"\":\"\"}",
    ];
    for doc in docs {
        let ours = parse(doc).is_ok();
        let theirs = serde_json::from_slice::<serde_json::Value>(doc).is_ok();
        assert_eq!(ours, theirs, "{}", String::from_utf8_lossy(doc));
    }
}

#[test]
fn round_trip_through_the_writer() {
    let doc = ok(r#"{"s":"a\"b\\c\u0001\u2028é","n":[1,-2,"x"],"t":true,"z":null}"#);
    let o = doc.as_object().expect("object");
    let mut w = write::ObjectWriter::new();
    w.str("s", o.get("s").and_then(Value::as_str).unwrap_or_default());
    let text = w.finish();
    let back = parse(text.as_bytes()).expect("parses");
    assert_eq!(back.as_object().and_then(|b| b.get("s")), o.get("s"));
}
