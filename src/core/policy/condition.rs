//! Conditions on the request's context: client IP ranges, country, ASN, UTC time windows, the
//! token's `ipaddr` against the client IP, and the combinators all / any / not. Evaluation is one
//! walk over a tree whose size is capped when the policy is loaded.

use super::facts::RequestFacts;
use crate::core::identity::VerifiedIdentity;
use ipnet::IpNet;
use serde::Deserialize;
use std::net::IpAddr;

/// Which kind of condition failed: each has its own reason code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionKind {
    Ip,
    Country,
    Asn,
    Time,
    IpaddrMismatch,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
    IpIn(Vec<IpNet>),
    CountryIn(Vec<String>),
    AsnIn(Vec<u32>),
    Time(TimeWindow),
    IpaddrMatchesClient,
    /// The fact a `not_in` list is about is known: an unknown client IP, country or ASN never
    /// satisfies a rule, `in` or `not_in` (fail closed).
    Known(ConditionKind),
}

/// UTC days and hours; `from` inclusive, `to` exclusive, in minutes since midnight. A window
/// with `from > to` wraps past midnight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeWindow {
    /// Bit 0 is Monday.
    pub days: u8,
    pub from_minute: u16,
    pub to_minute: u16,
}

impl Condition {
    /// Whether any leaf reads the fact `kind` is about (so the edge fetches only facts a rule uses).
    pub fn mentions(&self, kind: ConditionKind) -> bool {
        match self {
            Condition::All(items) | Condition::Any(items) => items.iter().any(|c| c.mentions(kind)),
            Condition::Not(inner) => inner.mentions(kind),
            Condition::IpIn(_) => kind == ConditionKind::Ip,
            Condition::CountryIn(_) => kind == ConditionKind::Country,
            Condition::AsnIn(_) => kind == ConditionKind::Asn,
            Condition::Time(_) => kind == ConditionKind::Time,
            Condition::IpaddrMatchesClient => {
                kind == ConditionKind::IpaddrMismatch || kind == ConditionKind::Ip
            }
            Condition::Known(known) => *known == kind,
        }
    }

    /// `Ok` when the condition holds; otherwise the kind of the leaf that decided it.
    pub fn check(
        &self,
        facts: &RequestFacts,
        identity: Option<&VerifiedIdentity>,
    ) -> Result<(), ConditionKind> {
        match self {
            Condition::All(items) => items.iter().try_for_each(|c| c.check(facts, identity)),
            Condition::Any(items) => {
                let mut first_failure = None;
                for item in items {
                    match item.check(facts, identity) {
                        Ok(()) => return Ok(()),
                        Err(kind) => {
                            first_failure.get_or_insert(kind);
                        }
                    }
                }
                Err(first_failure.unwrap_or(ConditionKind::Ip))
            }
            Condition::Not(inner) => match inner.check(facts, identity) {
                Ok(()) => Err(inner.deciding_kind(facts, identity)),
                Err(_) => Ok(()),
            },
            Condition::Known(kind) => holds(
                match kind {
                    ConditionKind::Ip => facts.client_ip.is_some(),
                    ConditionKind::Country => facts.country.is_some(),
                    ConditionKind::Asn => facts.asn.is_some(),
                    _ => true,
                },
                *kind,
            ),
            Condition::IpIn(nets) => holds(
                // An IPv4-mapped IPv6 client (::ffff:10.1.2.3) is the IPv4 address it maps.
                facts
                    .client_ip
                    .is_some_and(|ip| nets.iter().any(|n| n.contains(&ip.to_canonical()))),
                ConditionKind::Ip,
            ),
            Condition::CountryIn(countries) => holds(
                facts
                    .country
                    .as_ref()
                    .is_some_and(|c| countries.iter().any(|want| want.eq_ignore_ascii_case(c))),
                ConditionKind::Country,
            ),
            Condition::AsnIn(asns) => holds(
                facts.asn.is_some_and(|a| asns.contains(&a)),
                ConditionKind::Asn,
            ),
            Condition::Time(window) => {
                holds(window.contains(facts.now.seconds()), ConditionKind::Time)
            }
            Condition::IpaddrMatchesClient => {
                let token_ip = identity
                    .and_then(|i| i.ip_address.as_deref())
                    .and_then(|s| s.parse::<IpAddr>().ok());
                holds(
                    token_ip.is_some() && token_ip == facts.client_ip,
                    ConditionKind::IpaddrMismatch,
                )
            }
        }
    }

    /// For a condition that holds, the kind of the leaf that made it hold: what a `not` around
    /// it reports (for `any`, the first child that held; for `all`, its first child).
    fn deciding_kind(
        &self,
        facts: &RequestFacts,
        identity: Option<&VerifiedIdentity>,
    ) -> ConditionKind {
        match self {
            Condition::Any(items) => items
                .iter()
                .find(|c| c.check(facts, identity).is_ok())
                .map_or(ConditionKind::Ip, |c| c.deciding_kind(facts, identity)),
            Condition::All(items) => items
                .first()
                .map_or(ConditionKind::Ip, |c| c.deciding_kind(facts, identity)),
            other => other.kind(),
        }
    }

    fn kind(&self) -> ConditionKind {
        match self {
            Condition::All(items) | Condition::Any(items) => {
                items.first().map_or(ConditionKind::Ip, Condition::kind)
            }
            Condition::Not(inner) => inner.kind(),
            Condition::Known(kind) => *kind,
            Condition::IpIn(_) => ConditionKind::Ip,
            Condition::CountryIn(_) => ConditionKind::Country,
            Condition::AsnIn(_) => ConditionKind::Asn,
            Condition::Time(_) => ConditionKind::Time,
            Condition::IpaddrMatchesClient => ConditionKind::IpaddrMismatch,
        }
    }

    /// Counts nodes, for the policy size cap.
    pub fn size(&self) -> usize {
        match self {
            Condition::All(items) | Condition::Any(items) => {
                1 + items.iter().map(Condition::size).sum::<usize>()
            }
            Condition::Not(inner) => 1 + inner.size(),
            Condition::IpIn(v) => 1 + v.len(),
            Condition::CountryIn(v) => 1 + v.len(),
            Condition::AsnIn(v) => 1 + v.len(),
            Condition::Time(_) | Condition::IpaddrMatchesClient | Condition::Known(_) => 1,
        }
    }

    pub fn uses_ipaddr(&self) -> bool {
        match self {
            Condition::All(items) | Condition::Any(items) => {
                items.iter().any(Condition::uses_ipaddr)
            }
            Condition::Not(inner) => inner.uses_ipaddr(),
            Condition::IpaddrMatchesClient => true,
            _ => false,
        }
    }
}

fn holds(ok: bool, kind: ConditionKind) -> Result<(), ConditionKind> {
    if ok {
        Ok(())
    } else {
        Err(kind)
    }
}

impl TimeWindow {
    pub fn contains(&self, unix_seconds: i64) -> bool {
        let days = unix_seconds.div_euclid(86_400);
        // 1970-01-01 was a Thursday (Monday = 0 → Thursday = 3).
        let weekday = (days + 3).rem_euclid(7) as u8;
        let minute = (unix_seconds.rem_euclid(86_400) / 60) as u16;
        let in_hours = if self.from_minute <= self.to_minute {
            (self.from_minute..self.to_minute).contains(&minute)
        } else {
            minute >= self.from_minute || minute < self.to_minute
        };
        self.days & (1 << weekday) != 0 && in_hours
    }
}

/// The JSON form, parsed strictly.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum RawCondition {
    All(Vec<RawCondition>),
    Any(Vec<RawCondition>),
    Not(Box<RawCondition>),
    Ip(RawSet<String>),
    Country(RawSet<String>),
    Asn(RawSet<u32>),
    Time(RawTime),
    IpaddrMatchesClient(bool),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSet<T> {
    #[serde(default, rename = "in")]
    pub in_: Option<Vec<T>>,
    #[serde(default)]
    pub not_in: Option<Vec<T>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTime {
    #[serde(default)]
    pub days: Option<Vec<String>>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn minutes(text: &str) -> Option<u16> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

impl RawCondition {
    /// Compiles, reporting problems with their path.
    pub fn compile(self, path: &str, problems: &mut Vec<String>) -> Condition {
        // A placeholder that is never evaluated: a policy with problems is refused whole.
        let set = |raw: RawSetKind, problems: &mut Vec<String>| match raw.pick(path, problems) {
            Some((leaf, true)) => Condition::All(vec![
                Condition::Known(leaf.kind()),
                Condition::Not(Box::new(leaf)),
            ]),
            Some((leaf, false)) => leaf,
            None => Condition::All(vec![]),
        };
        match self {
            RawCondition::All(items) => Condition::All(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, c)| c.compile(&format!("{path}.all[{i}]"), problems))
                    .collect(),
            ),
            RawCondition::Any(items) => {
                if items.is_empty() {
                    problems.push(format!("{path}.any: empty (can never hold)"));
                }
                Condition::Any(
                    items
                        .into_iter()
                        .enumerate()
                        .map(|(i, c)| c.compile(&format!("{path}.any[{i}]"), problems))
                        .collect(),
                )
            }
            RawCondition::Not(inner) => {
                Condition::Not(Box::new(inner.compile(&format!("{path}.not"), problems)))
            }
            RawCondition::Ip(raw) => set(RawSetKind::Ip(raw), problems),
            RawCondition::Country(raw) => set(RawSetKind::Country(raw), problems),
            RawCondition::Asn(raw) => set(RawSetKind::Asn(raw), problems),
            RawCondition::Time(raw) => {
                let mut days = 0u8;
                for day in raw
                    .days
                    .unwrap_or_else(|| DAYS.iter().map(|d| d.to_string()).collect())
                {
                    match DAYS.iter().position(|d| d.eq_ignore_ascii_case(&day)) {
                        Some(i) => days |= 1 << i,
                        None => problems.push(format!("{path}.time.days: {day:?} is not mon..sun")),
                    }
                }
                let from = raw.from.as_deref().map_or(Some(0), minutes);
                let to = raw.to.as_deref().map_or(Some(1440), minutes);
                if from.is_none() || to.is_none() {
                    problems.push(format!("{path}.time: from/to must be HH:MM (UTC)"));
                }
                let (from_minute, to_minute) = (from.unwrap_or(0), to.unwrap_or(0));
                if days == 0 || from_minute == to_minute {
                    problems.push(format!("{path}.time: the window is empty (can never hold)"));
                }
                Condition::Time(TimeWindow {
                    days,
                    from_minute,
                    to_minute,
                })
            }
            RawCondition::IpaddrMatchesClient(true) => Condition::IpaddrMatchesClient,
            RawCondition::IpaddrMatchesClient(false) => {
                problems.push(format!(
                    "{path}.ipaddr_matches_client: only true is meaningful"
                ));
                Condition::All(vec![])
            }
        }
    }
}

enum RawSetKind {
    Ip(RawSet<String>),
    Country(RawSet<String>),
    Asn(RawSet<u32>),
}

impl RawSetKind {
    fn pick(self, path: &str, problems: &mut Vec<String>) -> Option<(Condition, bool)> {
        fn one<T>(
            raw: RawSet<T>,
            what: &str,
            path: &str,
            problems: &mut Vec<String>,
        ) -> Option<(Vec<T>, bool)> {
            let (values, negate, list) = match (raw.in_, raw.not_in) {
                (Some(v), None) => (v, false, "in"),
                (None, Some(v)) => (v, true, "not_in"),
                _ => {
                    problems.push(format!("{path}.{what}: give exactly one of in / not_in"));
                    return None;
                }
            };
            if values.is_empty() {
                problems.push(format!("{path}.{what}.{list}: empty (can never hold)"));
            }
            if values.len() > super::MAX_LIST_ENTRIES {
                problems.push(format!(
                    "{path}.{what}.{list}: {} entries exceed {}",
                    values.len(),
                    super::MAX_LIST_ENTRIES
                ));
            }
            Some((values, negate))
        }
        match self {
            RawSetKind::Ip(raw) => {
                let (values, negate) = one(raw, "ip", path, problems)?;
                let mut nets = Vec::new();
                for value in values {
                    match value
                        .parse::<IpNet>()
                        .or_else(|_| value.parse::<IpAddr>().map(IpNet::from))
                    {
                        Ok(net) => nets.push(net.trunc()),
                        Err(_) => problems.push(format!(
                            "{path}.ip: {value:?} is not a CIDR range or address"
                        )),
                    }
                }
                Some((Condition::IpIn(nets), negate))
            }
            RawSetKind::Country(raw) => {
                let (values, negate) = one(raw, "country", path, problems)?;
                for value in &values {
                    if value.len() != 2 || !value.bytes().all(|b| b.is_ascii_alphabetic()) {
                        problems.push(format!(
                            "{path}.country: {value:?} is not a two-letter country code"
                        ));
                    }
                }
                Some((
                    Condition::CountryIn(
                        values.into_iter().map(|c| c.to_ascii_uppercase()).collect(),
                    ),
                    negate,
                ))
            }
            RawSetKind::Asn(raw) => {
                let (values, negate) = one(raw, "asn", path, problems)?;
                Some((Condition::AsnIn(values), negate))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::time::UnixTime;

    fn facts(ip: &str, country: &str, asn: u32, now: i64) -> RequestFacts {
        RequestFacts {
            method: "GET".into(),
            path: "/".into(),
            client_ip: ip.parse().ok(),
            country: Some(country.into()),
            asn: Some(asn),
            now: UnixTime(now),
            origin: None,
            preflight_method: None,
        }
    }

    fn compile(json: &str) -> Condition {
        let raw: RawCondition = serde_json::from_str(json).expect("json");
        let mut problems = Vec::new();
        let c = raw.compile("conditions", &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        c
    }

    // 2026-11-27 was a Friday; 10:30 UTC.
    const FRIDAY_1030: i64 = 1_795_775_400;

    #[test]
    fn ip_ranges_v4_and_v6() {
        let c = compile(r#"{"ip":{"in":["10.0.0.0/8","2001:db8::/32","192.0.2.7"]}}"#);
        assert_eq!(c.check(&facts("10.1.2.3", "NL", 1, 0), None), Ok(()));
        assert_eq!(c.check(&facts("2001:db8::1", "NL", 1, 0), None), Ok(()));
        assert_eq!(c.check(&facts("192.0.2.7", "NL", 1, 0), None), Ok(()));
        assert_eq!(
            c.check(&facts("192.0.2.8", "NL", 1, 0), None),
            Err(ConditionKind::Ip)
        );
        assert_eq!(
            c.check(&facts("not an ip", "NL", 1, 0), None),
            Err(ConditionKind::Ip)
        );
        let not = compile(r#"{"ip":{"not_in":["10.0.0.0/8"]}}"#);
        assert_eq!(
            not.check(&facts("10.1.2.3", "NL", 1, 0), None),
            Err(ConditionKind::Ip)
        );
        assert_eq!(not.check(&facts("11.1.2.3", "NL", 1, 0), None), Ok(()));
    }

    #[test]
    fn country_asn_and_combinators() {
        let c = compile(r#"{"all":[{"country":{"in":["nl","be"]}},{"not":{"asn":{"in":[666]}}}]}"#);
        assert_eq!(c.check(&facts("1.1.1.1", "NL", 1, 0), None), Ok(()));
        assert_eq!(
            c.check(&facts("1.1.1.1", "DE", 1, 0), None),
            Err(ConditionKind::Country)
        );
        assert_eq!(
            c.check(&facts("1.1.1.1", "BE", 666, 0), None),
            Err(ConditionKind::Asn)
        );
        let any = compile(r#"{"any":[{"country":{"in":["NL"]}},{"ip":{"in":["10.0.0.0/8"]}}]}"#);
        assert_eq!(any.check(&facts("10.0.0.1", "DE", 1, 0), None), Ok(()));
        assert_eq!(
            any.check(&facts("11.0.0.1", "DE", 1, 0), None),
            Err(ConditionKind::Country)
        );
    }

    #[test]
    fn utc_time_windows() {
        let office = compile(
            r#"{"time":{"days":["mon","tue","wed","thu","fri"],"from":"08:00","to":"18:00"}}"#,
        );
        assert_eq!(
            office.check(&facts("1.1.1.1", "NL", 1, FRIDAY_1030), None),
            Ok(())
        );
        assert_eq!(
            office.check(&facts("1.1.1.1", "NL", 1, FRIDAY_1030 + 86_400), None),
            Err(ConditionKind::Time),
            "Saturday"
        );
        assert_eq!(
            office.check(&facts("1.1.1.1", "NL", 1, FRIDAY_1030 + 8 * 3600), None),
            Err(ConditionKind::Time),
            "18:30"
        );
        let night = compile(r#"{"time":{"from":"22:00","to":"06:00"}}"#);
        assert_eq!(
            night.check(&facts("1.1.1.1", "NL", 1, FRIDAY_1030 + 13 * 3600), None),
            Ok(()),
            "23:30"
        );
        assert_eq!(
            night.check(&facts("1.1.1.1", "NL", 1, FRIDAY_1030), None),
            Err(ConditionKind::Time)
        );
    }

    #[test]
    fn compile_reports_every_problem_with_its_path() {
        let raw: RawCondition = serde_json::from_str(
            r#"{"all":[{"ip":{"in":["10.0.0.0/33"]}},{"country":{"in":["NLD"]}},{"time":{"days":["funday"],"from":"25:00"}},{"any":[]},{"asn":{}}]}"#,
        )
        .expect("json");
        let mut problems = Vec::new();
        raw.compile("routes[0].conditions", &mut problems);
        let joined = problems.join("\n");
        for expected in [
            "all[0].ip",
            "all[1].country",
            "all[2].time.days",
            "all[2].time:",
            "all[3].any",
            "all[4].asn",
        ] {
            assert!(joined.contains(expected), "{expected} missing in\n{joined}");
        }
    }
}
