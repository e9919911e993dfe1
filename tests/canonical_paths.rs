//! `core::canonical_path` on the path tables in `tests/data/paths/` (Envoy's normalisation tests
//! and RFC 3986's examples transcribed with our answers, then our own cases), and its properties
//! on generated nasty paths (proptest):
//!
//! - canonicalising is idempotent: an accepted output parses to itself;
//! - an accepted output has the canonical shape: it starts with `/`, has no `//`, no `.` or `..`
//!   segment, no `\`, `;`, control or non-ASCII byte, and every `%` starts an escape with
//!   upper-case hex of a byte that is not unreserved; it is never longer than the input;
//! - it cannot climb: joined under `/base` and resolved the RFC 3986 §5.2.4 way, as sent or
//!   after an origin decodes every escape once, it stays under `/base`;
//! - it decodes (every escape) to UTF-8, and decoding creates no separator;
//! - on paths built only from accepted pieces, it is accepted and equals the RFC 3986 §5.2.4
//!   algorithm applied literally after merging slashes and normalising escapes.
//!
//! `PROPTEST_CASES` raises the case counts.

// Native only: the file system and proptest are not there in the wasm test run.
#![cfg(not(target_arch = "wasm32"))]

use entra_gate_core::{CanonicalPath, PathError, MAX_PATH_BYTES};
use proptest::prelude::*;
use serde_json::Value;
use std::path::Path;

const FILES: [&str; 3] = ["envoy.json", "rfc3986.json", "gateway.json"];

fn load(file: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/paths")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let document: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    document["cases"].as_array().expect("cases").clone()
}

fn text<'a>(case: &'a Value, key: &str) -> Option<&'a str> {
    case.get(key).map(|v| v.as_str().expect("a string"))
}

fn input_of(case: &Value) -> String {
    let unit = text(case, "input").expect("input");
    let times = case
        .get("repeat")
        .map_or(1, |n| n.as_u64().expect("repeat") as usize);
    unit.repeat(times)
}

fn expected_error(case: &Value, name: &str) -> PathError {
    let number = |key: &str| {
        case[key]
            .as_u64()
            .unwrap_or_else(|| panic!("{key} in {case}"))
    };
    match name {
        "NotAbsolute" => PathError::NotAbsolute,
        "Backslash" => PathError::Backslash,
        "PathParameter" => PathError::PathParameter,
        "EncodedSeparator" => PathError::EncodedSeparator {
            byte: u8::try_from(number("byte")).expect("a byte"),
        },
        "ControlCharacter" => PathError::ControlCharacter,
        "NonAscii" => PathError::NonAscii,
        "MalformedEscape" => PathError::MalformedEscape,
        "InvalidUtf8" => PathError::InvalidUtf8,
        "TooLong" => PathError::TooLong {
            length: number("length") as usize,
        },
        other => panic!("unknown error {other:?}"),
    }
}

fn expected(case: &Value, input: &str) -> Result<String, PathError> {
    if let Some(canonical) = text(case, "canonical") {
        return Ok(canonical.to_owned());
    }
    if case.get("unchanged") == Some(&Value::Bool(true)) {
        return Ok(input.to_owned());
    }
    Err(expected_error(
        case,
        text(case, "error").expect("canonical, unchanged or error"),
    ))
}

/// Short description of a case for failure messages (long inputs cut).
fn label(case: &Value) -> String {
    let mut shown = case.to_string();
    shown.truncate(300);
    shown
}

#[test]
fn the_path_tables() {
    let mut failures = Vec::new();
    let mut counts = Vec::new();
    let mut total = 0;
    for file in FILES {
        let cases = load(file);
        counts.push(format!("{file}: {}", cases.len()));
        total += cases.len();
        for case in &cases {
            let input = input_of(case);
            let got = CanonicalPath::parse(&input).map(CanonicalPath::into_string);
            let want = expected(case, &input);
            if got != want {
                failures.push(format!("{file} {}: got {got:?}", label(case)));
                continue;
            }
            // The peer column: `differs` is there exactly when the peer's answer is not ours.
            if let Some(peer) = text(case, "peer") {
                let same = match &got {
                    Ok(path) => peer == path,
                    Err(_) => peer == "reject",
                };
                if same == case.get("differs").is_some() {
                    failures.push(format!("{file} {}: peer column wrong", label(case)));
                }
            }
            if let Err(error) = got {
                let message = error.to_string();
                if !message.starts_with("path ") {
                    failures.push(format!("{file} {}: message {message:?}", label(case)));
                }
                if input.len() >= 4 && message.contains(&input) {
                    failures.push(format!("{file} {}: message echoes the path", label(case)));
                }
            }
        }
    }
    println!("path tables: {} ({total} cases)", counts.join(", "));
    assert!(total >= 120, "only {total} cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_tables_name_their_sources() {
    let readme = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/paths/README.md"),
    )
    .expect("README.md");
    let licence = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/paths/LICENSE"),
    )
    .expect("LICENSE");
    assert!(licence.contains("Apache License"));
    for commit in [
        "044d8204fd5d3b6908450a33582245dcef3c1bc0",
        "ac4ebe49f1f2eabf7bb69e5f9890c126f82f2b7c",
    ] {
        assert!(readme.contains(commit), "{commit} not in README.md");
    }
}

// ---- reference algorithms, written from the RFC text, independent of the module ----

/// RFC 3986 §5.2.4, rule by rule on string buffers.
fn remove_dot_segments(path: &str) -> String {
    fn drop_last_segment(output: &mut String) {
        let at = output.rfind('/').unwrap_or(0);
        output.truncate(at);
    }
    let mut input = path.to_owned();
    let mut output = String::new();
    while !input.is_empty() {
        if let Some(rest) = input.strip_prefix("../") {
            input = rest.to_owned();
        } else if let Some(rest) = input.strip_prefix("./") {
            input = rest.to_owned();
        } else if input.starts_with("/./") {
            input.replace_range(..3, "/");
        } else if input == "/." {
            input = "/".to_owned();
        } else if input.starts_with("/../") {
            input.replace_range(..4, "/");
            drop_last_segment(&mut output);
        } else if input == "/.." {
            input = "/".to_owned();
            drop_last_segment(&mut output);
        } else if input == "." || input == ".." {
            input.clear();
        } else {
            let from = usize::from(input.starts_with('/'));
            let end = input[from..].find('/').map_or(input.len(), |i| i + from);
            output.push_str(&input[..end]);
            input.replace_range(..end, "");
        }
    }
    output
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Every `%XX` decoded once; other bytes as they are.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if let (b'%', Some(&[high, low])) = (bytes[i], bytes.get(i + 1..i + 3)) {
            if let (Some(h), Some(l)) = (hex_value(high), hex_value(low)) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~".contains(&byte)
}

/// RFC 3986 §6.2.2.1 and §6.2.2.2 on a path whose escapes are all well formed: unreserved
/// escapes decoded, the others upper-cased.
fn normalise_escapes(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let byte = hex_value(bytes[i + 1]).unwrap() * 16 + hex_value(bytes[i + 2]).unwrap();
            if unreserved(byte) {
                out.push(char::from(byte));
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
            i += 3;
        } else {
            out.push(char::from(bytes[i]));
            i += 1;
        }
    }
    out
}

fn merge_slashes(path: &str) -> String {
    let mut out = String::new();
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

/// The shape every accepted output has; the reason when it does not.
fn shape_problem(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return Some("does not start with /".into());
    }
    if path.contains("//") {
        return Some("contains //".into());
    }
    if path.split('/').any(|s| s == "." || s == "..") {
        return Some("has a dot segment".into());
    }
    let bytes = path.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\\' || b == b';' || b <= 0x20 || b >= 0x7f || b == b'?' || b == b'#' {
            return Some(format!("byte {b:#04x}"));
        }
        if b == b'%' {
            let digits = bytes.get(i + 1..i + 3).unwrap_or_default();
            if digits.len() != 2
                || !digits
                    .iter()
                    .all(|d| matches!(d, b'0'..=b'9' | b'A'..=b'F'))
            {
                return Some("an escape without two upper-case hex digits".into());
            }
            let byte = hex_value(digits[0]).unwrap() * 16 + hex_value(digits[1]).unwrap();
            if unreserved(byte) {
                return Some(format!(
                    "an escape of the unreserved {:?}",
                    char::from(byte)
                ));
            }
        }
    }
    None
}

// ---- generators ----

/// Pieces that never make a path refused, whatever surrounds them.
fn safe_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => Just("/".to_owned()),
        4 => Just(".".to_owned()),
        3 => Just("..".to_owned()),
        2 => prop_oneof![Just("%2e"), Just("%2E"), Just(".%2e"), Just("%2E.")].prop_map(String::from),
        2 => "[0-9a-fA-F]{1,2}",
        1 => prop_oneof![Just("2e"), Just("2f"), Just("2F"), Just("5c")].prop_map(String::from),
        4 => "[a-zA-Z]{1,3}",
        1 => "[-_~:@!$&'()*+,=|]",
        1 => prop_oneof![Just("%25"), Just("%252e"), Just("%20"), Just("%3a"), Just("%3F")]
            .prop_map(String::from),
        2 => "%[46][1-9a-fA-F]|%[57][0-9aA]|%3[0-9]|%2[dD]|%5[fF]|%7[eE]",
        1 => prop_oneof![Just("%c3%a9"), Just("%C3%A9"), Just("%e2%82%ac"), Just("%F0%9F%A6%80")]
            .prop_map(String::from),
    ]
}

/// Pieces that make a path refused (most of them wherever they are).
fn bad_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        prop_oneof![Just("%2f"), Just("%2F"), Just("%5c"), Just("%5C")].prop_map(String::from),
        prop_oneof![Just("%3b"), Just("%3B"), Just(";"), Just("\\")].prop_map(String::from),
        prop_oneof![Just("%"), Just("%4"), Just("%zz"), Just("?"), Just("#")]
            .prop_map(String::from),
        prop_oneof![Just("%00"), Just("%0a"), Just("%7F"), Just(" "), Just("\t")]
            .prop_map(String::from),
        prop_oneof![
            Just("%c0%ae"),
            Just("%C0%AF"),
            Just("%c3"),
            Just("%a9"),
            Just("%FF")
        ]
        .prop_map(String::from),
        prop_oneof![Just("é"), Just("\u{7f}"), Just("\u{0}")].prop_map(String::from),
        "[\\x00-\\x7f]",
    ]
}

fn path_of(pieces: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    (
        prop::bool::weighted(0.97),
        prop::collection::vec(pieces, 0..24),
    )
        .prop_map(|(leading_slash, pieces)| {
            let mut path = if leading_slash {
                "/".to_owned()
            } else {
                String::new()
            };
            path.extend(pieces);
            path
        })
}

/// Mostly accepted paths with the occasional refused piece.
fn nasty_path() -> impl Strategy<Value = String> {
    path_of(prop_oneof![20 => safe_piece(), 1 => bad_piece()])
}

fn safe_path() -> impl Strategy<Value = String> {
    (prop::collection::vec(safe_piece(), 0..24)).prop_map(|pieces| {
        let mut path = "/".to_owned();
        path.extend(pieces);
        path
    })
}

#[path = "support/proptest_cases.rs"]
mod proptest_cases;
use proptest_cases::cases;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(2048)))]

    /// canonical(canonical(x)) == canonical(x).
    #[test]
    fn canonicalising_is_idempotent(raw in nasty_path()) {
        if let Ok(path) = CanonicalPath::parse(&raw) {
            let again = CanonicalPath::parse(path.as_str());
            prop_assert_eq!(again, Ok(path));
        }
    }

    /// The canonical shape, and never longer than the input.
    #[test]
    fn accepted_paths_have_the_canonical_shape(raw in nasty_path()) {
        if let Ok(path) = CanonicalPath::parse(&raw) {
            let text = path.as_str();
            prop_assert_eq!(shape_problem(text), None, "{:?} -> {:?}", raw, text);
            prop_assert!(text.len() <= raw.len());
            prop_assert_eq!(path.to_string(), text);
        }
    }

    /// Joined under a prefix and resolved (RFC 3986 §5.2.4), as sent or after one full decode,
    /// an accepted path stays under the prefix.
    #[test]
    fn accepted_paths_cannot_climb_out_of_a_prefix(raw in nasty_path()) {
        if let Ok(path) = CanonicalPath::parse(&raw) {
            let decoded = String::from_utf8(percent_decode(path.as_str()));
            prop_assert!(decoded.is_ok(), "{:?} does not decode to UTF-8", path);
            for sent in [path.as_str().to_owned(), decoded.unwrap_or_default()] {
                let resolved = remove_dot_segments(&format!("/base{sent}"));
                prop_assert!(
                    resolved == "/base" || resolved.starts_with("/base/"),
                    "{:?} -> {:?} resolves to {:?}", raw, sent, resolved
                );
            }
        }
    }

    /// Every escape decoded, the path is UTF-8 and has exactly the separators it had.
    #[test]
    fn accepted_paths_decode_to_utf8_without_new_separators(raw in nasty_path()) {
        if let Ok(path) = CanonicalPath::parse(&raw) {
            let decoded = percent_decode(path.as_str());
            prop_assert!(std::str::from_utf8(&decoded).is_ok());
            let slashes = |bytes: &[u8]| bytes.iter().filter(|&&b| b == b'/').count();
            prop_assert_eq!(slashes(&decoded), slashes(path.as_str().as_bytes()));
            prop_assert!(!decoded.contains(&b'\\'));
            prop_assert!(!decoded.contains(&b';'));
            for segment in decoded.split(|&b| b == b'/') {
                prop_assert!(std::str::from_utf8(segment).is_ok());
            }
        }
    }

    /// Built from accepted pieces only: accepted, and equal to the RFC algorithm applied
    /// literally (escapes normalised, slashes merged, then §5.2.4).
    #[test]
    fn agrees_with_the_rfc_algorithm(raw in safe_path()) {
        let got = CanonicalPath::parse(&raw).map(CanonicalPath::into_string);
        let want = remove_dot_segments(&merge_slashes(&normalise_escapes(&raw)));
        let want = if want.is_empty() { "/".to_owned() } else { want };
        prop_assert_eq!(got, Ok(want), "{:?}", raw);
    }

    /// Anything at all: no panic, the same answer twice, refusals for what the shape forbids.
    #[test]
    fn any_text_gets_one_answer(raw in any::<String>()) {
        let first = CanonicalPath::parse(&raw);
        prop_assert_eq!(&first, &CanonicalPath::parse(&raw));
        match first {
            Ok(path) => prop_assert_eq!(shape_problem(path.as_str()), None),
            Err(PathError::TooLong { length }) => prop_assert!(length > MAX_PATH_BYTES),
            Err(_) => {}
        }
        if !raw.starts_with('/') && raw.len() <= MAX_PATH_BYTES {
            prop_assert_eq!(CanonicalPath::parse(&raw), Err(PathError::NotAbsolute));
        }
        if raw.starts_with('/') && raw.bytes().any(|b| b >= 0x80) {
            prop_assert!(CanonicalPath::parse(&raw).is_err());
        }
    }
}

#[test]
fn the_reference_algorithm_follows_the_rfc_examples() {
    // RFC 3986 §5.2.4's two worked examples, so the oracle itself is checked.
    assert_eq!(remove_dot_segments("/a/b/c/./../../g"), "/a/g");
    assert_eq!(remove_dot_segments("mid/content=5/../6"), "mid/6");
    assert_eq!(remove_dot_segments("/.."), "/");
    assert_eq!(remove_dot_segments("/base/../../x"), "/x");
    assert_eq!(percent_decode("/%41%2f%zz%4"), b"/A/%zz%4".to_vec());
    assert_eq!(normalise_escapes("/%7e%3a%2E"), "/~%3A.");
    assert_eq!(merge_slashes("//a///b/"), "/a/b/");
}
