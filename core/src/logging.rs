//! Which decision lines are written. Denials, report-only findings and shadow-mode findings are
//! always written; the line for an allowed request is the largest single cost on a cached
//! request, so an operator may keep all, none or a sample of them (the counters still see every
//! request).

use crate::quoted::Quoted;

/// How many allowed-request decision lines are written (`GATE_LOG_ALLOWED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AllowedLines {
    /// Every one (the default: an audit trail until an operator chooses otherwise).
    #[default]
    All,
    /// None.
    None,
    /// About this many per million, chosen at random per request.
    PerMillion(u32),
}

/// One million: the resolution of a sampling rate.
pub const MILLION: u32 = 1_000_000;

impl AllowedLines {
    /// `all`, `none`, or a rate: a decimal fraction in `(0, 1]` (`0.05`) or a percentage
    /// (`5%`), to one in a million. Integer arithmetic only: float parsing would add ~15 KB to
    /// the Worker for one setting.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        match text.to_ascii_lowercase().as_str() {
            "all" => return Ok(AllowedLines::All),
            "none" => return Ok(AllowedLines::None),
            _ => {}
        }
        let invalid = || {
            format!(
                "{} is not all, none, a fraction in (0, 1] or a percentage",
                Quoted(text)
            )
        };
        // A fraction has six decimal places of a million; a percentage four.
        let (number, places) = match text.strip_suffix('%') {
            Some(percent) => (percent.trim(), 4),
            None => (text, 6),
        };
        let (whole, decimals) = number.split_once('.').unwrap_or((number, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        // `u64::from_str` alone would take a sign.
        if !digits(whole) || !digits(decimals) {
            return Err(invalid());
        }
        let decimals = decimals.trim_end_matches('0');
        if decimals.len() > places {
            return Err(format!("{} is finer than one in a million", Quoted(text)));
        }
        let whole: u64 = match whole.trim_start_matches('0') {
            "" => 0,
            w => w.parse().map_err(|_| invalid())?,
        };
        let padded = format!("{decimals:0<places$}");
        let fraction: u64 = padded.parse().map_err(|_| invalid())?;
        let scale = 10u64.pow(u32::try_from(places).unwrap_or(6));
        let per_million = whole
            .checked_mul(scale)
            .and_then(|w| w.checked_add(fraction))
            .and_then(|n| u32::try_from(n).ok());
        match per_million {
            Some(n @ 1..MILLION) => Ok(AllowedLines::PerMillion(n)),
            Some(MILLION) => Ok(AllowedLines::All),
            _ => Err(invalid()),
        }
    }

    /// Lines kept in a million: what replay.mjs samples with, by the rule of [`Self::keeps`].
    pub fn per_million(self) -> u32 {
        match self {
            AllowedLines::All => MILLION,
            AllowedLines::None => 0,
            AllowedLines::PerMillion(n) => n,
        }
    }

    /// Whether an allowed request's line is written; `draw` is uniform random over `u32` (only
    /// consulted when sampling).
    pub fn keeps(self, draw: impl FnOnce() -> u32) -> bool {
        let kept = self.per_million();
        kept >= MILLION || (kept > 0 && draw() % MILLION < kept)
    }
}

/// What the decision lines hold beyond the always-logged fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogSettings {
    /// `GATE_LOG_ALLOWED`.
    pub allowed: AllowedLines,
    /// `GATE_LOG_IDENTIFIERS`: the caller's `oid` and the token's `uti` too (personal data in
    /// most jurisdictions, so off unless an operator opts in).
    pub identifiers: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_rates_parse() {
        let cases = [
            ("all", AllowedLines::All),
            ("ALL", AllowedLines::All),
            ("none", AllowedLines::None),
            ("1", AllowedLines::All),
            ("1.0", AllowedLines::All),
            ("100%", AllowedLines::All),
            ("0.5", AllowedLines::PerMillion(500_000)),
            ("0.05", AllowedLines::PerMillion(50_000)),
            ("5%", AllowedLines::PerMillion(50_000)),
            (" 0.25 % ", AllowedLines::PerMillion(2_500)),
            ("0.000001", AllowedLines::PerMillion(1)),
            (".1", AllowedLines::PerMillion(100_000)),
        ];
        for (text, expected) in cases {
            assert_eq!(AllowedLines::parse(text), Ok(expected), "{text:?}");
        }
    }

    #[test]
    fn everything_else_is_refused() {
        for text in [
            "",
            "0",
            "0.0",
            "0%",
            "1.5",
            "101%",
            "-0.5",
            "inf",
            "NaN",
            "1e-2",
            "half",
            "0.5.1",
            "%",
            "0.0000001",
            "some",
            ".",
            "+0.5",
            "0.+5",
            "1.000001",
            "1000001%",
            "99999999999999999",
            "999999999999999999999999",
            "0.5%%",
        ] {
            assert!(AllowedLines::parse(text).is_err(), "{text:?} accepted");
        }
    }

    #[test]
    fn sampling_keeps_the_share_it_names() {
        assert!(AllowedLines::All.keeps(|| unreachable!("no draw without sampling")));
        assert!(!AllowedLines::None.keeps(|| unreachable!("no draw without sampling")));
        let tenth = AllowedLines::PerMillion(100_000);
        assert!(tenth.keeps(|| 0));
        assert!(tenth.keeps(|| 99_999));
        assert!(!tenth.keeps(|| 100_000));
        assert!(!tenth.keeps(|| 999_999));
        assert!(tenth.keeps(|| MILLION));
        // Over a whole cycle of draws, exactly the named share is kept.
        let kept = (0..MILLION).filter(|d| tenth.keeps(|| *d)).count();
        assert_eq!(kept, 100_000);
    }
}
