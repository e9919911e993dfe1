//! Time as a value: the core never reads a clock, the caller passes "now" in.

/// Seconds since the Unix epoch, as the caller's clock sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub i64);

impl UnixTime {
    /// The seconds since the epoch.
    pub fn seconds(self) -> i64 {
        self.0
    }

    /// From milliseconds, as `Date.now()` gives them; fractions are dropped (floor).
    pub fn from_millis(millis: f64) -> Self {
        UnixTime(whole_seconds((millis / 1000.0).floor()))
    }

    /// This time moved by `seconds` (saturating, never wrapping).
    pub fn plus(self, seconds: i64) -> Self {
        UnixTime(self.0.saturating_add(seconds))
    }
}

/// A float number of seconds as whole seconds: `as` saturates at the `i64` range and maps NaN
/// to 0, which is what a clock reading wants. The one float-to-integer cast in the crate
/// (NumericDates are read exactly, without floats: `json::Instant`).
#[allow(clippy::as_conversions)]
pub fn whole_seconds(value: f64) -> i64 {
    value as i64
}
