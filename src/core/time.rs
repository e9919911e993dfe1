//! Time as a value: the core never reads a clock, the caller passes "now" in.

/// Seconds since the Unix epoch, as the caller's clock sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub i64);

impl UnixTime {
    pub fn seconds(self) -> i64 {
        self.0
    }

    /// From milliseconds, as `Date.now()` gives them; fractions are dropped (floor).
    pub fn from_millis(millis: f64) -> Self {
        UnixTime((millis / 1000.0).floor() as i64)
    }

    pub fn plus(self, seconds: i64) -> Self {
        UnixTime(self.0.saturating_add(seconds))
    }
}
