//! Request path canonicalisation on arbitrary text (`canonical_path::CanonicalPath::parse`; bytes
//! that are not UTF-8 are read lossily). Never panics; the same answer twice; an accepted path is
//! a fixed point, starts with `/`, has no `//`, no `.` or `..` segment, no `\`, `;`, control or
//! non-ASCII byte, only upper-case escapes of bytes that are not unreserved, decodes to UTF-8,
//! and is never longer than the input.
#![no_main]

use entra_gate_core::{CanonicalPath, PathError, MAX_PATH_BYTES};
use libfuzzer_sys::fuzz_target;

fn hex(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None, // lower-case hex is not canonical
    }
}

fn check_canonical(raw: &str, path: &str) {
    assert!(path.starts_with('/'), "{path:?} is not absolute");
    assert!(!path.contains("//"), "{path:?} has //");
    assert!(
        !path.split('/').any(|s| s == "." || s == ".."),
        "{path:?} has a dot segment"
    );
    assert!(path.len() <= raw.len(), "{raw:?} grew into {path:?}");
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        assert!(
            b > 0x20 && b < 0x7f && !b"\\;?#".contains(&b),
            "{path:?} has byte {b:#04x}"
        );
        if b == b'%' {
            let (Some(high), Some(low)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) else {
                panic!("{path:?} has an escape without two upper-case hex digits");
            };
            let byte = high * 16 + low;
            assert!(
                !(byte.is_ascii_alphanumeric() || b"-._~".contains(&byte)),
                "{path:?} escapes an unreserved byte"
            );
            assert!(!b"/\\;".contains(&byte), "{path:?} escapes a separator");
            decoded.push(byte);
            i += 3;
        } else {
            decoded.push(b);
            i += 1;
        }
    }
    assert!(
        std::str::from_utf8(&decoded).is_ok(),
        "{path:?} decodes to non-UTF-8"
    );
}

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    let first = CanonicalPath::parse(&raw);
    assert_eq!(
        first,
        CanonicalPath::parse(&raw),
        "two answers for one path"
    );
    match first {
        Ok(path) => {
            check_canonical(&raw, path.as_str());
            assert_eq!(
                CanonicalPath::parse(path.as_str()).as_ref(),
                Ok(&path),
                "not idempotent"
            );
            assert_eq!(path.to_string(), path.as_str());
        }
        Err(PathError::TooLong { length }) => {
            assert_eq!(length, raw.len());
            assert!(length > MAX_PATH_BYTES);
        }
        Err(error) => {
            assert!(raw.len() <= MAX_PATH_BYTES);
            let message = error.to_string();
            assert!(message.starts_with("path"), "{message:?}");
        }
    }
});
