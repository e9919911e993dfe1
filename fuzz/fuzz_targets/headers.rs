//! Header handling on arbitrary text: `bearer::extract` (what it takes is one b64token within
//! the cap, taken from the value), and `forward::IdentityHeaders::new` (a valid prefix reserves
//! every header the gateway sends, in any case; values sent are printable ASCII, so no claim can
//! split a header).
#![no_main]

use entra_gate_core::internal::extract_bearer as extract;
use entra_gate_core::{header_safe, list_value, IdentityHeaders, FIXED_IDENTITY_HEADERS as FIXED};
use entra_gate_fuzz::sample_identity_with;
use libfuzzer_sys::fuzz_target;

fn printable(value: &str) -> bool {
    value.bytes().all(|b| (0x20..0x7f).contains(&b))
}

fuzz_target!(|data: &[u8]| {
    let Some((&cap_byte, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let cap = 1 + usize::from(cap_byte) * 64;
    if let Ok(token) = extract(Some(&text), cap) {
        assert!(!token.is_empty() && token.len() <= cap);
        assert!(text.contains(token));
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b)));
        assert!(token.bytes().any(|b| b != b'='));
    }

    let (prefix, mappings) = text.split_once('\n').unwrap_or((&text, ""));
    if let Ok(headers) = IdentityHeaders::new(prefix, mappings) {
        assert!(!headers.is_reserved("authorization"));
        for suffix in FIXED {
            let name = headers.name(suffix);
            assert!(headers.is_reserved(&name));
            assert!(headers.is_reserved(&name.to_ascii_lowercase()));
            assert!(headers.is_reserved(&name.to_ascii_uppercase()));
        }
        let identity = sample_identity_with(
            &text,
            headers
                .mapped_claims()
                .map(|claim| (claim.to_owned(), vec![text.to_string(), "x y".into()]))
                .collect(),
        );
        for (name, value) in headers.for_identity(&identity) {
            assert!(headers.is_reserved(&name), "{name:?} escapes the strip");
            assert!(printable(&value), "{value:?} is not printable ASCII");
        }
    }
    assert!(printable(&header_safe(&text)));
    assert!(printable(&list_value(&[text.to_string()])));
    assert!(!list_value(&[text.to_string()]).contains(' '));
});
