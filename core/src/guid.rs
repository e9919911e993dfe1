//! Entra identifiers (tenant, object and application ids) are GUIDs in their canonical
//! lower-case 8-4-4-4-12 form; anything else in those claims is refused.

/// True for a canonical lower-case GUID such as `72f988bf-86f1-41af-91ab-2d7cd011db47`.
pub fn is_guid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// Accepts upper-case hex too (configuration is typed by people) and returns the canonical form.
pub fn normalize_guid(text: &str) -> Option<String> {
    let lower = text.trim().to_ascii_lowercase();
    is_guid(&lower).then_some(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_guids() {
        assert!(is_guid("72f988bf-86f1-41af-91ab-2d7cd011db47"));
        assert!(!is_guid("72F988BF-86F1-41AF-91AB-2D7CD011DB47"));
        assert!(!is_guid("72f988bf86f141af91ab2d7cd011db47"));
        assert!(!is_guid("{72f988bf-86f1-41af-91ab-2d7cd011db47}"));
        assert!(!is_guid("72f988bf-86f1-41af-91ab-2d7cd011db4g"));
        assert!(!is_guid(""));
        assert_eq!(
            normalize_guid(" 72F988BF-86F1-41AF-91AB-2D7CD011DB47 ").as_deref(),
            Some("72f988bf-86f1-41af-91ab-2d7cd011db47")
        );
    }
}
