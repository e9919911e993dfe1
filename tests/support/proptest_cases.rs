//! How many cases a property test runs: its default, or `PROPTEST_CASES` for longer runs.

pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
