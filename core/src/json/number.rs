//! Numbers, kept as their text and read as integers or NumericDates by hand.
//!
//! No float is ever parsed or formatted: decimal-to-binary conversion and float formatting are
//! among the largest code a wasm can carry, and no value we read needs them. An integer member
//! takes exactly the texts serde_json would have read as an integer; a NumericDate takes any
//! number, fraction and exponent included, as an exact [`Instant`].

/// A number as written in the document; the reader has checked it against RFC 8259's grammar
/// (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Number<'a>(&'a str);

/// A point in time to 10^-18 s: whole seconds rounded down, and the fraction of the next
/// second. Ordering compares the value, so `-0.5` (`-1` and half a second) sorts before `0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    /// Whole seconds, rounded towards negative infinity; saturates at the `i64` range.
    pub floor: i64,
    /// The rest, in units of 10^-18 s: `0..10^18`.
    pub attos: u64,
}

const ATTOS_PER_SECOND: u64 = 1_000_000_000_000_000_000;

/// 10^0 … 10^17: the worth, in attoseconds, of the 18th … 1st fraction digit.
const POWERS_OF_TEN: [u64; 18] = {
    let mut powers = [1u64; 18];
    let mut i = 1;
    while i < 18 {
        powers[i] = powers[i - 1] * 10;
        i += 1;
    }
    powers
};

/// The most integer digits a finite f64 has (f64::MAX is about 1.8e308). serde_json refused a
/// NumericDate beyond the f64 range as "number out of range"; so do we, from the count of its
/// integer digits (a value from 1.8e308 up to 1e309 is taken, saturated, where serde_json
/// refused it: no instant of interest is anywhere near).
const MAX_INTEGER_DIGITS: i64 = 309;

impl Instant {
    /// A whole number of seconds.
    pub fn seconds(floor: i64) -> Self {
        Instant { floor, attos: 0 }
    }
}

impl<'a> Number<'a> {
    /// Only the reader makes numbers: the text must already match the grammar.
    pub(crate) fn new(text: &'a str) -> Self {
        Number(text)
    }

    /// The number as written; for texts meant to be compared as written (a claim matcher).
    pub fn text(&self) -> &'a str {
        self.0
    }

    /// A non-negative integer without fraction or exponent that fits a `u64`; serde_json read
    /// anything else (`1.0`, `1e3`, `-0`, 2^64) as a float, which no integer member took.
    pub fn as_u64(&self) -> Option<u64> {
        let digits = self.0.as_bytes();
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        digits.iter().try_fold(0u64, |acc, d| {
            acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
    }

    /// An integer without fraction or exponent that fits an `i64`; `-0` is refused, as
    /// serde_json read it as a float.
    pub fn as_i64(&self) -> Option<i64> {
        match self.0.strip_prefix('-') {
            None => i64::try_from(self.as_u64()?).ok(),
            Some(magnitude) => {
                let magnitude = Number(magnitude).as_u64()?;
                if magnitude == 0 {
                    return None;
                }
                0i64.checked_sub_unsigned(magnitude)
            }
        }
    }

    /// As a `u32`.
    pub fn as_u32(&self) -> Option<u32> {
        u32::try_from(self.as_u64()?).ok()
    }

    /// A NumericDate (RFC 7519 §2): any number, fraction and exponent included, exact to
    /// 10^-18 s and saturating at the `i64` range of seconds. `None` only beyond the f64
    /// range, which serde_json refused.
    pub fn as_instant(&self) -> Option<Instant> {
        let (negative, unsigned) = match self.0.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, self.0),
        };
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => (unsigned.get(..at)?, parse_exponent(unsigned.get(at + 1..)?)),
            None => (unsigned, 0),
        };
        let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits = || {
            integer
                .bytes()
                .chain(fraction.bytes())
                .map(|d| u64::from(d - b'0'))
        };
        // Where the decimal point falls among the digits once the exponent has moved it.
        let point = i64::try_from(integer.len()).ok()?.saturating_add(exponent);
        let Some(first) = digits().position(|d| d != 0) else {
            return Some(Instant::seconds(0));
        };
        if point.saturating_sub(i64::try_from(first).ok()?) > MAX_INTEGER_DIGITS {
            return None;
        }
        let mut whole: i64 = 0;
        let mut attos: u64 = 0;
        let mut count: i64 = 0;
        for (index, digit) in digits().enumerate() {
            let index = i64::try_from(index).ok()?;
            count = index + 1;
            if index < point {
                whole = whole
                    .saturating_mul(10)
                    .saturating_add(i64::try_from(digit).ok()?);
            } else {
                // The k-th fraction digit (k = 0 for tenths) is worth 10^(17 - k) attoseconds;
                // from the 18th on, nothing.
                let k = index.saturating_sub(point);
                let place = usize::try_from(17i64.saturating_sub(k))
                    .ok()
                    .and_then(|p| POWERS_OF_TEN.get(p));
                if let Some(place) = place {
                    attos += digit * place;
                }
            }
        }
        // Zeros the exponent appended (bounded by MAX_INTEGER_DIGITS above).
        for _ in count..point {
            whole = whole.saturating_mul(10);
        }
        Some(if negative && (whole, attos) != (0, 0) {
            if attos == 0 {
                Instant::seconds(whole.saturating_neg())
            } else {
                Instant {
                    floor: whole.saturating_neg().saturating_sub(1),
                    attos: ATTOS_PER_SECOND - attos,
                }
            }
        } else {
            Instant {
                floor: whole,
                attos,
            }
        })
    }
}

/// An exponent (`[+-]?[0-9]+`), saturating far beyond any range that matters.
fn parse_exponent(text: &str) -> i64 {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, text.get(1..).unwrap_or_default()),
        Some(b'+') => (false, text.get(1..).unwrap_or_default()),
        _ => (false, text),
    };
    let magnitude = digits.bytes().fold(0i64, |acc, d| {
        acc.saturating_mul(10)
            .saturating_add(i64::from(d.wrapping_sub(b'0')))
    });
    if negative {
        magnitude.saturating_neg()
    } else {
        magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Number<'_> {
        Number(text)
    }

    #[test]
    fn unsigned_integers_only_in_integer_form() {
        assert_eq!(n("0").as_u64(), Some(0));
        assert_eq!(n("42").as_u64(), Some(42));
        assert_eq!(n("18446744073709551615").as_u64(), Some(u64::MAX));
        for float in [
            "18446744073709551616",
            "1.0",
            "1e3",
            "1E3",
            "-0",
            "-1",
            "0.5",
            "",
        ] {
            assert_eq!(n(float).as_u64(), None, "{float}");
        }
        assert_eq!(n("4294967295").as_u32(), Some(u32::MAX));
        assert_eq!(n("4294967296").as_u32(), None);
        assert_eq!(n("7").text(), "7");
    }

    #[test]
    fn signed_integers() {
        assert_eq!(n("0").as_i64(), Some(0));
        assert_eq!(n("-1").as_i64(), Some(-1));
        assert_eq!(n("9223372036854775807").as_i64(), Some(i64::MAX));
        assert_eq!(n("-9223372036854775808").as_i64(), Some(i64::MIN));
        for other in [
            "9223372036854775808",
            "-9223372036854775809",
            "-0",
            "1.5",
            "-1e2",
            "-",
        ] {
            assert_eq!(n(other).as_i64(), None, "{other}");
        }
    }

    fn instant(text: &str) -> (i64, u64) {
        let i = n(text).as_instant().expect(text);
        (i.floor, i.attos)
    }

    #[test]
    fn instants_are_exact() {
        let half = ATTOS_PER_SECOND / 2;
        assert_eq!(instant("0"), (0, 0));
        assert_eq!(instant("-0"), (0, 0));
        assert_eq!(instant("-0.0e5"), (0, 0));
        assert_eq!(instant("1700000000"), (1_700_000_000, 0));
        assert_eq!(instant("1700000000.5"), (1_700_000_000, half));
        assert_eq!(instant("1.7e9"), (1_700_000_000, 0));
        assert_eq!(instant("1.7E+9"), (1_700_000_000, 0));
        assert_eq!(instant("17000000005e-1"), (1_700_000_000, half));
        assert_eq!(instant("5e-1"), (0, half));
        assert_eq!(instant("5e-2"), (0, half / 10));
        assert_eq!(instant("0.000000000000000001"), (0, 1));
        assert_eq!(instant("0.0000000000000000019"), (0, 1), "cut at 10^-18");
        assert_eq!(instant("1e-400"), (0, 0), "below 10^-18 s: zero");
        assert_eq!(instant("-1"), (-1, 0));
        assert_eq!(instant("-0.5"), (-1, half));
        assert_eq!(instant("-1.25"), (-2, ATTOS_PER_SECOND / 4 * 3));
        assert_eq!(instant("100"), (100, 0));
        assert_eq!(instant("1e2"), (100, 0));
        assert_eq!(instant("10e1"), (100, 0));
        assert_eq!(instant("0.1e3"), (100, 0));
        assert_eq!(instant("12.345e1"), (123, ATTOS_PER_SECOND / 100 * 45));
    }

    #[test]
    fn instants_saturate_within_the_f64_range_and_refuse_beyond_it() {
        assert_eq!(instant("9223372036854775807"), (i64::MAX, 0));
        assert_eq!(instant("1e20"), (i64::MAX, 0));
        assert_eq!(instant("1e308"), (i64::MAX, 0));
        assert_eq!(instant("-1e308"), (-i64::MAX, 0));
        assert_eq!(instant("-1e300"), (-i64::MAX, 0));
        assert_eq!(instant("-1.5e300"), (-i64::MAX, 0));
        assert_eq!(
            instant("0.0001e312"),
            (i64::MAX, 0),
            "leading zeros do not count"
        );
        assert_eq!(n("1e309").as_instant(), None);
        assert_eq!(n("-1e309").as_instant(), None);
        assert_eq!(n("1e99999999999999999999999").as_instant(), None);
        assert_eq!(instant("0e99999999999999999999999"), (0, 0));
        assert_eq!(
            instant("1e-99999999999999999999999"),
            (0, 0),
            "a huge negative exponent"
        );
    }

    #[test]
    fn instants_order_by_value() {
        let order = [
            "-2",
            "-1.5",
            "-1",
            "-0.5",
            "0",
            "0.5",
            "1",
            "1.000000000000000001",
        ];
        for pair in order.windows(2) {
            if let [a, b] = pair {
                assert!(n(a).as_instant() < n(b).as_instant(), "{a} before {b}");
            }
        }
        assert!(Instant::seconds(5) > Instant::seconds(4));
    }

    #[test]
    fn exponents() {
        assert_eq!(parse_exponent("12"), 12);
        assert_eq!(parse_exponent("+12"), 12);
        assert_eq!(parse_exponent("-12"), -12);
        assert_eq!(parse_exponent("99999999999999999999999"), i64::MAX);
        assert_eq!(parse_exponent("-99999999999999999999999"), -i64::MAX);
    }
}
