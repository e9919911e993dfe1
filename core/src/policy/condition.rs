//! Conditions on the request's context: client IP ranges, country, ASN, UTC time windows, the
//! token's `ipaddr` against the client IP, and the combinators all / any / not. Evaluation is one
//! walk over a tree whose size is capped when the policy is loaded.

use super::facts::RequestFacts;
use super::{PolicyProblem, ProblemKind, Refusal};
use crate::identity::VerifiedIdentity;
use crate::quoted::Quoted;
use crate::reason::Reason;
use ipnet::IpNet;
use std::net::IpAddr;

/// Which kind of condition decided: each has its own reason code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionKind {
    /// The client IP against ranges.
    Ip,
    /// The client's country.
    Country,
    /// The client's network (ASN).
    Asn,
    /// The UTC time window.
    Time,
    /// The token's `ipaddr` against the client IP.
    IpaddrMismatch,
}

/// A route's conditions on the request, as a tree; evaluated under three-valued logic, and only
/// a condition that holds lets a request through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Every one holds (false beats unknown beats true).
    All(Vec<Condition>),
    /// At least one holds (true beats unknown beats false).
    Any(Vec<Condition>),
    /// The inner condition fails; unknown stays unknown.
    Not(Box<Condition>),
    /// The client IP is in one of these ranges (an IPv4-mapped IPv6 address as its IPv4).
    IpIn(Vec<IpNet>),
    /// The client's country is one of these (ISO 3166-1 alpha-2, any case).
    CountryIn(Vec<String>),
    /// The client's ASN is one of these.
    AsnIn(Vec<u32>),
    /// The request time falls in this window.
    Time(TimeWindow),
    /// The token's `ipaddr` is the client IP.
    IpaddrMatchesClient,
}

/// UTC days and hours; `from` inclusive, `to` exclusive, in minutes since midnight. A window
/// with `from > to` wraps past midnight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeWindow {
    /// Bit 0 is Monday.
    pub days: u8,
    /// Start, inclusive, in minutes since midnight UTC.
    pub from_minute: u16,
    /// End, exclusive, in minutes since midnight UTC (1440: midnight at the end of the day).
    pub to_minute: u16,
}

/// A condition's value under three-valued (Kleene) logic. A fact the request does not carry
/// (no client IP, no country, no `ipaddr` in the token) makes a leaf [`Truth::Unknown`], and
/// unknown stays unknown through `not`, `any` and `all`: `not = { country = { in = ["KP"] } }`
/// does not hold for a request whose country is unknown. Only [`Truth::Holds`] lets a request
/// through. Each value carries the kind of the leaf that decided it, for the reason code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Truth {
    Holds(ConditionKind),
    Fails(ConditionKind),
    Unknown(ConditionKind),
}

/// Why a condition did not hold: the deciding leaf's kind, and whether its fact was unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unmet {
    /// The kind of the leaf that decided; picks the reason code.
    pub kind: ConditionKind,
    /// The fact was unknown rather than failing (the log says which).
    pub unknown: bool,
}

impl Truth {
    fn of(known: Option<bool>, kind: ConditionKind) -> Truth {
        match known {
            Some(true) => Truth::Holds(kind),
            Some(false) => Truth::Fails(kind),
            None => Truth::Unknown(kind),
        }
    }

    fn negate(self) -> Truth {
        match self {
            Truth::Holds(kind) => Truth::Fails(kind),
            Truth::Fails(kind) => Truth::Holds(kind),
            Truth::Unknown(kind) => Truth::Unknown(kind),
        }
    }
}

impl Unmet {
    /// The refusal an unmet condition becomes: each kind its own reason, the detail saying
    /// whether the fact was unknown or not allowed.
    pub fn refusal(self) -> Refusal {
        let (reason, refused, unknown) = match self.kind {
            ConditionKind::Ip => (
                Reason::ConditionIp,
                "client IP not allowed",
                "client IP unknown",
            ),
            ConditionKind::Country => (
                Reason::ConditionCountry,
                "country not allowed",
                "country unknown",
            ),
            ConditionKind::Asn => (
                Reason::ConditionAsn,
                "network (ASN) not allowed",
                "network (ASN) unknown",
            ),
            ConditionKind::Time => (
                Reason::ConditionTime,
                "outside the allowed time window",
                "time unknown",
            ),
            ConditionKind::IpaddrMismatch => (
                Reason::ConditionIpaddr,
                "token ipaddr differs from the client IP",
                "token ipaddr or client IP unknown",
            ),
        };
        Refusal::new(reason, if self.unknown { unknown } else { refused })
    }
}

impl Condition {
    /// Whether any leaf reads the fact `kind` is about (so the edge fetches only facts a rule uses).
    pub fn mentions(&self, kind: ConditionKind) -> bool {
        let mut read = Vec::new();
        self.facts_read(&mut read);
        read.contains(&kind)
    }

    /// Adds the kinds of fact this condition reads to `out` (each once). Derived from the
    /// leaves, so a new kind of condition is counted without a list to keep up to date.
    pub fn facts_read(&self, out: &mut Vec<ConditionKind>) {
        let mut add = |kind: ConditionKind| {
            if !out.contains(&kind) {
                out.push(kind);
            }
        };
        match self {
            Condition::All(items) | Condition::Any(items) => {
                items.iter().for_each(|c| c.facts_read(out));
            }
            Condition::Not(inner) => inner.facts_read(out),
            Condition::IpIn(_) => add(ConditionKind::Ip),
            Condition::CountryIn(_) => add(ConditionKind::Country),
            Condition::AsnIn(_) => add(ConditionKind::Asn),
            Condition::Time(_) => add(ConditionKind::Time),
            // The token's `ipaddr` against the client IP: both facts.
            Condition::IpaddrMatchesClient => {
                add(ConditionKind::IpaddrMismatch);
                add(ConditionKind::Ip);
            }
        }
    }

    /// `Ok` only when the condition holds; otherwise what decided it (false or unknown).
    pub fn check(
        &self,
        facts: &RequestFacts,
        identity: Option<&VerifiedIdentity>,
    ) -> Result<(), Unmet> {
        match self.truth(facts, identity) {
            Truth::Holds(_) => Ok(()),
            Truth::Fails(kind) => Err(Unmet {
                kind,
                unknown: false,
            }),
            Truth::Unknown(kind) => Err(Unmet {
                kind,
                unknown: true,
            }),
        }
    }

    /// The condition's value for this request.
    fn truth(&self, facts: &RequestFacts, identity: Option<&VerifiedIdentity>) -> Truth {
        match self {
            // False beats unknown beats true; the first child of the winning value decides.
            Condition::All(items) => {
                let mut unknown = None;
                for item in items {
                    match item.truth(facts, identity) {
                        fails @ Truth::Fails(_) => return fails,
                        u @ Truth::Unknown(_) => {
                            unknown.get_or_insert(u);
                        }
                        Truth::Holds(_) => {}
                    }
                }
                unknown.unwrap_or_else(|| {
                    Truth::Holds(items.first().map_or(ConditionKind::Time, Condition::kind))
                })
            }
            // True beats unknown beats false.
            Condition::Any(items) => {
                let (mut unknown, mut failed) = (None, None);
                for item in items {
                    match item.truth(facts, identity) {
                        holds @ Truth::Holds(_) => return holds,
                        u @ Truth::Unknown(_) => {
                            unknown.get_or_insert(u);
                        }
                        f @ Truth::Fails(_) => {
                            failed.get_or_insert(f);
                        }
                    }
                }
                unknown
                    .or(failed)
                    .unwrap_or(Truth::Fails(ConditionKind::Time))
            }
            Condition::Not(inner) => inner.truth(facts, identity).negate(),
            Condition::IpIn(nets) => Truth::of(
                // An IPv4-mapped IPv6 client (::ffff:10.1.2.3) is the IPv4 address it maps.
                facts
                    .client_ip
                    .map(|ip| nets.iter().any(|n| n.contains(&ip.to_canonical()))),
                ConditionKind::Ip,
            ),
            Condition::CountryIn(countries) => Truth::of(
                facts
                    .country
                    .as_ref()
                    .map(|c| countries.iter().any(|want| want.eq_ignore_ascii_case(c))),
                ConditionKind::Country,
            ),
            Condition::AsnIn(asns) => {
                Truth::of(facts.asn.map(|a| asns.contains(&a)), ConditionKind::Asn)
            }
            Condition::Time(window) => Truth::of(
                Some(window.contains(facts.now.seconds())),
                ConditionKind::Time,
            ),
            Condition::IpaddrMatchesClient => {
                let token_ip = identity
                    .and_then(|i| i.ip_address.as_deref())
                    .and_then(|s| s.parse::<IpAddr>().ok());
                let matches = token_ip
                    .zip(facts.client_ip)
                    .map(|(token, client)| token.to_canonical() == client.to_canonical());
                Truth::of(matches, ConditionKind::IpaddrMismatch)
            }
        }
    }

    fn kind(&self) -> ConditionKind {
        match self {
            Condition::All(items) | Condition::Any(items) => {
                items.first().map_or(ConditionKind::Time, Condition::kind)
            }
            Condition::Not(inner) => inner.kind(),
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
            Condition::Time(_) | Condition::IpaddrMatchesClient => 1,
        }
    }

    /// Whether any leaf compares the token's `ipaddr` (so the loader can check the tokens carry
    /// it and the route is not public).
    pub fn uses_ipaddr(&self) -> bool {
        match self {
            Condition::All(items) | Condition::Any(items) => {
                items.iter().any(Condition::uses_ipaddr)
            }
            Condition::Not(inner) => inner.uses_ipaddr(),
            Condition::IpaddrMatchesClient => true,
            Condition::IpIn(_)
            | Condition::CountryIn(_)
            | Condition::AsnIn(_)
            | Condition::Time(_) => false,
        }
    }
}

impl TimeWindow {
    /// Whether a Unix time falls in the window: its own UTC weekday is one of `days` (also in
    /// the hours after midnight of a wrapping window), and its minute is within the hours.
    pub fn contains(&self, unix_seconds: i64) -> bool {
        let days = unix_seconds.div_euclid(86_400);
        // 1970-01-01 was a Thursday (Monday = 0 → Thursday = 3).
        // Both in range by construction (0..7 and 0..1440): the fallbacks never apply.
        let weekday = u8::try_from((days + 3).rem_euclid(7)).unwrap_or(0);
        let minute = u16::try_from(unix_seconds.rem_euclid(86_400) / 60).unwrap_or(0);
        let in_hours = if self.from_minute <= self.to_minute {
            (self.from_minute..self.to_minute).contains(&minute)
        } else {
            minute >= self.from_minute || minute < self.to_minute
        };
        self.days & (1 << weekday) != 0 && in_hours
    }
}

/// The JSON form, parsed strictly.
#[derive(Debug)]
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

#[derive(Debug)]
pub struct RawSet<T> {
    /// `in`
    pub in_: Option<Vec<T>>,
    pub not_in: Option<Vec<T>>,
}

#[derive(Debug)]
pub struct RawTime {
    pub days: Option<Vec<String>>,
    pub from: Option<String>,
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
    pub fn compile(self, path: &str, problems: &mut Vec<PolicyProblem>) -> Condition {
        // A placeholder that is never evaluated: a policy with problems is refused whole.
        // `not_in` is `not` over `in`: an unknown fact stays unknown, so it never holds.
        let set =
            |raw: RawSetKind, problems: &mut Vec<PolicyProblem>| match raw.pick(path, problems) {
                Some((leaf, true)) => Condition::Not(Box::new(leaf)),
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
                    problems.push(PolicyProblem::new(
                        format!("{path}.any"),
                        ProblemKind::NeverHolds,
                        "empty (can never hold)",
                    ));
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
                        None => problems.push(PolicyProblem::new(
                            format!("{path}.time.days"),
                            ProblemKind::Invalid,
                            format!("{} is not mon..sun", Quoted(&day)),
                        )),
                    }
                }
                let from = raw.from.as_deref().map_or(Some(0), minutes);
                let to = raw.to.as_deref().map_or(Some(1440), minutes);
                if from.is_none() || to.is_none() {
                    problems.push(PolicyProblem::new(
                        format!("{path}.time"),
                        ProblemKind::Invalid,
                        "from/to must be HH:MM (UTC)",
                    ));
                }
                let (from_minute, to_minute) = (from.unwrap_or(0), to.unwrap_or(0));
                if days == 0 || from_minute == to_minute {
                    problems.push(PolicyProblem::new(
                        format!("{path}.time"),
                        ProblemKind::NeverHolds,
                        "the window is empty (can never hold)",
                    ));
                }
                Condition::Time(TimeWindow {
                    days,
                    from_minute,
                    to_minute,
                })
            }
            RawCondition::IpaddrMatchesClient(true) => Condition::IpaddrMatchesClient,
            RawCondition::IpaddrMatchesClient(false) => {
                problems.push(PolicyProblem::new(
                    format!("{path}.ipaddr_matches_client"),
                    ProblemKind::Invalid,
                    "only true is meaningful",
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
    fn pick(self, path: &str, problems: &mut Vec<PolicyProblem>) -> Option<(Condition, bool)> {
        fn one<T>(
            raw: RawSet<T>,
            what: &str,
            path: &str,
            problems: &mut Vec<PolicyProblem>,
        ) -> Option<(Vec<T>, bool)> {
            let (values, negate, list) = match (raw.in_, raw.not_in) {
                (Some(v), None) => (v, false, "in"),
                (None, Some(v)) => (v, true, "not_in"),
                _ => {
                    problems.push(PolicyProblem::new(
                        format!("{path}.{what}"),
                        ProblemKind::Invalid,
                        "give exactly one of in / not_in",
                    ));
                    return None;
                }
            };
            if values.is_empty() {
                problems.push(PolicyProblem::new(
                    format!("{path}.{what}.{list}"),
                    ProblemKind::NeverHolds,
                    "empty (can never hold)",
                ));
            }
            if values.len() > super::MAX_LIST_ENTRIES {
                problems.push(PolicyProblem::new(
                    format!("{path}.{what}.{list}"),
                    ProblemKind::Limit,
                    format!(
                        "{} entries exceed {}",
                        values.len(),
                        super::MAX_LIST_ENTRIES
                    ),
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
                        Err(_) => problems.push(PolicyProblem::new(
                            format!("{path}.ip"),
                            ProblemKind::Invalid,
                            format!("{} is not a CIDR range or address", Quoted(&value)),
                        )),
                    }
                }
                Some((Condition::IpIn(nets), negate))
            }
            RawSetKind::Country(raw) => {
                let (values, negate) = one(raw, "country", path, problems)?;
                for value in &values {
                    if value.len() != 2 || !value.bytes().all(|b| b.is_ascii_alphabetic()) {
                        problems.push(PolicyProblem::new(
                            format!("{path}.country"),
                            ProblemKind::Invalid,
                            format!("{} is not a two-letter country code", Quoted(value)),
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
    use crate::time::UnixTime;

    fn facts(ip: &str, country: &str, asn: u32, now: i64) -> RequestFacts {
        RequestFacts {
            client_ip: ip.parse().ok(),
            country: Some(country.into()),
            asn: Some(asn),
            ..RequestFacts::new("GET", crate::CanonicalPath::root(), UnixTime(now))
        }
    }

    fn fails(kind: ConditionKind) -> Result<(), Unmet> {
        Err(Unmet {
            kind,
            unknown: false,
        })
    }

    fn unknown(kind: ConditionKind) -> Result<(), Unmet> {
        Err(Unmet {
            kind,
            unknown: true,
        })
    }

    fn compile(json: &str) -> Condition {
        let raw: RawCondition =
            super::super::read::parsed(json, super::super::read::condition).expect("json");
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
            fails(ConditionKind::Ip)
        );
        assert_eq!(
            c.check(&facts("not an ip", "NL", 1, 0), None),
            unknown(ConditionKind::Ip)
        );
        let not = compile(r#"{"ip":{"not_in":["10.0.0.0/8"]}}"#);
        assert_eq!(
            not.check(&facts("10.1.2.3", "NL", 1, 0), None),
            fails(ConditionKind::Ip)
        );
        assert_eq!(not.check(&facts("11.1.2.3", "NL", 1, 0), None), Ok(()));
    }

    #[test]
    fn country_asn_and_combinators() {
        let c = compile(r#"{"all":[{"country":{"in":["nl","be"]}},{"not":{"asn":{"in":[666]}}}]}"#);
        assert_eq!(c.check(&facts("1.1.1.1", "NL", 1, 0), None), Ok(()));
        assert_eq!(
            c.check(&facts("1.1.1.1", "DE", 1, 0), None),
            fails(ConditionKind::Country)
        );
        assert_eq!(
            c.check(&facts("1.1.1.1", "BE", 666, 0), None),
            fails(ConditionKind::Asn)
        );
        let any = compile(r#"{"any":[{"country":{"in":["NL"]}},{"ip":{"in":["10.0.0.0/8"]}}]}"#);
        assert_eq!(any.check(&facts("10.0.0.1", "DE", 1, 0), None), Ok(()));
        assert_eq!(
            any.check(&facts("11.0.0.1", "DE", 1, 0), None),
            fails(ConditionKind::Country)
        );
    }

    fn facts_without(ip: bool, country: bool, asn: bool) -> RequestFacts {
        let mut f = facts("10.1.2.3", "KP", 666, 0);
        if !ip {
            f.client_ip = None;
        }
        if !country {
            f.country = None;
        }
        if !asn {
            f.asn = None;
        }
        f
    }

    #[test]
    fn an_unknown_fact_stays_unknown_through_not_any_and_all() {
        let no_country = facts_without(true, false, true);
        let not_kp = compile(r#"{"not":{"country":{"in":["KP"]}}}"#);
        assert_eq!(
            not_kp.check(&no_country, None),
            unknown(ConditionKind::Country),
            "not over an unknown country must not let the request in"
        );
        assert_eq!(not_kp.check(&facts("10.1.2.3", "NL", 1, 0), None), Ok(()));
        let not_in = compile(r#"{"country":{"not_in":["KP"]}}"#);
        assert_eq!(
            not_in.check(&no_country, None),
            unknown(ConditionKind::Country)
        );
        let double = compile(r#"{"not":{"not":{"country":{"in":["NL"]}}}}"#);
        assert_eq!(
            double.check(&no_country, None),
            unknown(ConditionKind::Country)
        );

        // any: true beats unknown; unknown beats false.
        let any = compile(r#"{"any":[{"country":{"in":["NL"]}},{"ip":{"in":["10.0.0.0/8"]}}]}"#);
        assert_eq!(any.check(&no_country, None), Ok(()), "the IP alone holds");
        let any_none =
            compile(r#"{"any":[{"ip":{"in":["11.0.0.0/8"]}},{"country":{"in":["NL"]}}]}"#);
        assert_eq!(
            any_none.check(&no_country, None),
            unknown(ConditionKind::Country)
        );
        assert_eq!(
            any_none.check(&facts("10.1.2.3", "DE", 1, 0), None),
            fails(ConditionKind::Ip),
            "all false: the first child decides"
        );
        // all: false beats unknown; unknown beats true.
        let all = compile(r#"{"all":[{"country":{"in":["NL"]}},{"ip":{"in":["11.0.0.0/8"]}}]}"#);
        assert_eq!(all.check(&no_country, None), fails(ConditionKind::Ip));
        let all_unknown =
            compile(r#"{"all":[{"ip":{"in":["10.0.0.0/8"]}},{"country":{"in":["NL"]}}]}"#);
        assert_eq!(
            all_unknown.check(&no_country, None),
            unknown(ConditionKind::Country)
        );
        // not over all/any that are unknown stays unknown.
        let not_all =
            compile(r#"{"not":{"all":[{"ip":{"in":["10.0.0.0/8"]}},{"asn":{"in":[1]}}]}}"#);
        assert_eq!(
            not_all.check(&facts_without(true, true, false), None),
            unknown(ConditionKind::Asn)
        );
        let no_ip = facts_without(false, true, true);
        for rule in [
            r#"{"ip":{"in":["10.0.0.0/8"]}}"#,
            r#"{"ip":{"not_in":["10.0.0.0/8"]}}"#,
            r#"{"not":{"ip":{"in":["10.0.0.0/8"]}}}"#,
        ] {
            assert_eq!(
                compile(rule).check(&no_ip, None),
                unknown(ConditionKind::Ip),
                "{rule}"
            );
        }
        let no_asn = facts_without(true, true, false);
        assert_eq!(
            compile(r#"{"asn":{"not_in":[666]}}"#).check(&no_asn, None),
            unknown(ConditionKind::Asn)
        );
    }

    #[test]
    fn a_negated_condition_reports_the_leaf_that_held() {
        let c = compile(r#"{"not":{"any":[{"ip":{"in":["11.0.0.0/8"]}},{"asn":{"in":[666]}}]}}"#);
        assert_eq!(
            c.check(&facts("10.1.2.3", "NL", 666, 0), None),
            fails(ConditionKind::Asn)
        );
        let all = compile(r#"{"not":{"all":[{"country":{"in":["NL"]}},{"asn":{"in":[666]}}]}}"#);
        assert_eq!(
            all.check(&facts("10.1.2.3", "NL", 666, 0), None),
            fails(ConditionKind::Country)
        );
    }

    #[test]
    fn ipaddr_needs_both_addresses() {
        let c = Condition::IpaddrMatchesClient;
        let identity = |ip: Option<&str>| VerifiedIdentity {
            ip_address: ip.map(str::to_owned),
            ..crate::identity::tests_support::identity()
        };
        let f = facts("203.0.113.7", "NL", 1, 0);
        assert_eq!(c.check(&f, Some(&identity(Some("203.0.113.7")))), Ok(()));
        assert_eq!(
            c.check(&f, Some(&identity(Some("::ffff:203.0.113.7")))),
            Ok(()),
            "IPv4-mapped is the same address"
        );
        assert_eq!(
            c.check(&f, Some(&identity(Some("203.0.113.8")))),
            fails(ConditionKind::IpaddrMismatch)
        );
        assert_eq!(
            c.check(&f, Some(&identity(None))),
            unknown(ConditionKind::IpaddrMismatch)
        );
        assert_eq!(c.check(&f, None), unknown(ConditionKind::IpaddrMismatch));
        assert_eq!(
            Condition::Not(Box::new(Condition::IpaddrMatchesClient)).check(
                &facts_without(false, true, true),
                Some(&identity(Some("1.2.3.4")))
            ),
            unknown(ConditionKind::IpaddrMismatch)
        );
    }

    #[test]
    fn mentions_names_exactly_the_facts_read() {
        let c = compile(
            r#"{"all":[{"country":{"in":["NL"]}},{"not":{"time":{"from":"08:00","to":"09:00"}}}]}"#,
        );
        assert!(c.mentions(ConditionKind::Country));
        assert!(c.mentions(ConditionKind::Time));
        assert!(!c.mentions(ConditionKind::Ip));
        assert!(!c.mentions(ConditionKind::Asn));
        assert!(!c.mentions(ConditionKind::IpaddrMismatch));
        let asn = compile(r#"{"any":[{"asn":{"in":[1]}}]}"#);
        assert!(asn.mentions(ConditionKind::Asn));
        assert!(!asn.mentions(ConditionKind::Country));
        assert!(Condition::IpaddrMatchesClient.mentions(ConditionKind::Ip));
        assert!(Condition::IpaddrMatchesClient.mentions(ConditionKind::IpaddrMismatch));
        assert!(!Condition::IpaddrMatchesClient.mentions(ConditionKind::Country));
        assert!(compile(r#"{"ip":{"in":["10.0.0.0/8"]}}"#).mentions(ConditionKind::Ip));
    }

    #[test]
    fn size_counts_every_node_and_list_entry() {
        let c = compile(
            r#"{"all":[{"ip":{"in":["10.0.0.0/8","11.0.0.0/8"]}},{"not":{"country":{"in":["NL","BE","DE"]}}},{"asn":{"in":[1,2,3,4]}},{"time":{"from":"08:00"}}]}"#,
        );
        // all(1) + ip(1+2) + not(1) + country(1+3) + asn(1+4) + time(1)
        assert_eq!(c.size(), 15);
        let nested = Condition::Any(vec![Condition::All(vec![Condition::IpaddrMatchesClient])]);
        assert_eq!(nested.size(), 3);
        assert!(nested.uses_ipaddr());
        assert!(Condition::Not(Box::new(nested)).uses_ipaddr());
        assert!(!compile(r#"{"any":[{"asn":{"in":[1]}}]}"#).uses_ipaddr());
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
            fails(ConditionKind::Time),
            "Saturday"
        );
        assert_eq!(
            office.check(&facts("1.1.1.1", "NL", 1, FRIDAY_1030 + 8 * 3600), None),
            fails(ConditionKind::Time),
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
            fails(ConditionKind::Time)
        );
    }

    #[test]
    fn lists_may_hold_exactly_the_limit() {
        let asns = |n: usize| {
            let list: Vec<String> = (0..n).map(|i| i.to_string()).collect();
            format!(r#"{{"asn":{{"in":[{}]}}}}"#, list.join(","))
        };
        let compiled = |json: &str| {
            let raw: RawCondition =
                super::super::read::parsed(json, super::super::read::condition).expect("json");
            let mut problems = Vec::new();
            raw.compile("c", &mut problems);
            problems
        };
        assert!(compiled(&asns(super::super::MAX_LIST_ENTRIES)).is_empty());
        let over = compiled(&asns(super::super::MAX_LIST_ENTRIES + 1));
        assert_eq!(over.len(), 1, "{over:?}");
        assert_eq!(over[0].kind, ProblemKind::Limit, "{over:?}");
        assert!(over[0].detail.contains("entries exceed"), "{over:?}");
    }

    #[test]
    fn compile_reports_every_problem_with_its_path() {
        let raw: RawCondition = super::super::read::parsed(
            r#"{"all":[{"ip":{"in":["10.0.0.0/33"]}},{"country":{"in":["NLD"]}},{"time":{"days":["funday"],"from":"25:00"}},{"any":[]},{"asn":{}}]}"#,
            super::super::read::condition,
        )
        .expect("json");
        let mut problems = Vec::new();
        raw.compile("routes[0].conditions", &mut problems);
        let joined = problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
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
