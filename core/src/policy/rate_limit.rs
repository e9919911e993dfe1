//! Per-caller rate limits: a route names a Workers rate-limiting binding and what the budget is
//! per (the verified calling app, user or tenant, or the client IP). The key is built only from
//! what was verified or what Cloudflare supplies, never from anything the client chooses, so a
//! caller cannot spread its calls over fresh keys (a new token is the same app).

use super::document::RawRateLimit;
use super::facts::RequestFacts;
use super::{PolicyProblem, ProblemKind};
use crate::identity::VerifiedIdentity;
use crate::origins::is_binding_name;
use crate::quoted::Quoted;
use ipnet::Ipv6Net;
use std::net::IpAddr;

/// Whose calls share one budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateKey {
    /// The calling application (`azp`/`appid`).
    App,
    /// One user or service principal: tenant and object id.
    User,
    /// Everyone from one tenant.
    Tenant,
    /// The client's address (`CF-Connecting-IP`); the only key a public route can have.
    Ip,
}

/// A route's limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    /// The `[[ratelimits]]` binding's name.
    pub binding: String,
    /// Whose calls share one budget.
    pub per: RateKey,
    /// The binding's period (10 or 60 seconds): `Retry-After` on a 429.
    pub period_seconds: u32,
}

impl RateLimit {
    /// The key the binding counts under for this caller and request. `id` is `None` on a
    /// public route (which only limits per IP). An IPv6 client counts by its /64, the block one
    /// subscriber gets, so rotating addresses inside it buys no fresh budget. An unknown client
    /// IP shares one budget with every other unknown one rather than escaping the limit.
    pub fn key(&self, id: Option<&VerifiedIdentity>, facts: &RequestFacts) -> String {
        match (self.per, id) {
            (RateKey::App, Some(id)) => format!("app:{}", id.client_id),
            (RateKey::User, Some(id)) => format!("user:{}:{}", id.tenant_id, id.object_id),
            (RateKey::Tenant, Some(id)) => format!("tenant:{}", id.tenant_id),
            (RateKey::Ip, _) | (RateKey::App | RateKey::User | RateKey::Tenant, None) => {
                match facts.client_ip {
                    Some(IpAddr::V4(ip)) => format!("ip:{ip}"),
                    Some(IpAddr::V6(ip)) => {
                        let block = Ipv6Net::new(ip, 64).map(|net| net.trunc());
                        block.map_or_else(|_| format!("ip:{ip}"), |net| format!("ip:{net}"))
                    }
                    None => "ip:unknown".to_owned(),
                }
            }
        }
    }
}

/// Checks a route's `rate_limit`; `public` routes have no caller to key by.
pub(super) fn compile(
    raw: RawRateLimit,
    at: &str,
    public: bool,
    problems: &mut Vec<PolicyProblem>,
) -> Option<RateLimit> {
    let at = format!("{at}.rate_limit");
    let mut ok = true;
    if !is_binding_name(&raw.binding) {
        problems.push(PolicyProblem::new(
            format!("{at}.binding"),
            ProblemKind::Invalid,
            format!("{} is not a binding name", Quoted(&raw.binding)),
        ));
        ok = false;
    }
    let per = match raw.per.as_str() {
        "app" => RateKey::App,
        "user" => RateKey::User,
        "tenant" => RateKey::Tenant,
        "ip" => RateKey::Ip,
        other => {
            problems.push(PolicyProblem::new(
                format!("{at}.per"),
                ProblemKind::Invalid,
                format!("{} is not app, user, tenant or ip", Quoted(other)),
            ));
            return None;
        }
    };
    if public && per != RateKey::Ip {
        problems.push(PolicyProblem::new(
            format!("{at}.per"),
            ProblemKind::Conflict,
            "a public route has no verified caller: only ip applies",
        ));
        ok = false;
    }
    let period_seconds = raw.period_seconds.unwrap_or(60);
    if period_seconds != 10 && period_seconds != 60 {
        problems.push(PolicyProblem::new(
            format!("{at}.period_seconds"),
            ProblemKind::Invalid,
            format!("{period_seconds} is not 10 or 60 (the periods Workers rate limiting has)"),
        ));
        ok = false;
    }
    ok.then_some(RateLimit {
        binding: raw.binding,
        per,
        period_seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical_path::CanonicalPath;
    use crate::identity::tests_support::identity;
    use crate::time::UnixTime;

    fn limit(per: RateKey) -> RateLimit {
        RateLimit {
            binding: "L".into(),
            per,
            period_seconds: 60,
        }
    }

    #[test]
    fn keys_come_from_the_verified_caller_or_the_client_address() {
        let id = identity();
        let mut facts =
            RequestFacts::new("GET", CanonicalPath::parse("/").expect("ok"), UnixTime(0));
        let (tid, oid, app) = (id.tenant_id(), id.object_id(), id.client_id());
        assert_eq!(
            limit(RateKey::App).key(Some(&id), &facts),
            format!("app:{app}")
        );
        assert_eq!(
            limit(RateKey::User).key(Some(&id), &facts),
            format!("user:{tid}:{oid}")
        );
        assert_eq!(
            limit(RateKey::Tenant).key(Some(&id), &facts),
            format!("tenant:{tid}")
        );
        assert_eq!(limit(RateKey::Ip).key(Some(&id), &facts), "ip:unknown");
        facts.client_ip = "2001:db8:1:2:aaaa::1".parse().ok();
        assert_eq!(limit(RateKey::Ip).key(None, &facts), "ip:2001:db8:1:2::/64");
        facts.client_ip = "2001:db8:1:2:ffff:1:2:3".parse().ok();
        assert_eq!(
            limit(RateKey::Ip).key(None, &facts),
            "ip:2001:db8:1:2::/64",
            "another address of the same /64 is the same caller"
        );
        assert_eq!(
            limit(RateKey::App).key(None, &facts),
            "ip:2001:db8:1:2::/64"
        );
        facts.client_ip = "198.51.100.7".parse().ok();
        assert_eq!(limit(RateKey::Ip).key(None, &facts), "ip:198.51.100.7");
    }

    fn compiled(json: &str, public: bool) -> (Option<RateLimit>, Vec<String>) {
        let raw: RawRateLimit =
            super::super::read::parsed(json, super::super::read::rate_limit).expect("shape");
        let mut problems = Vec::new();
        let limit = compile(raw, "routes[0]", public, &mut problems);
        (limit, problems.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn a_limit_names_a_binding_a_key_and_a_period_workers_has() {
        let (ok, problems) = compiled(r#"{"binding":"PER_APP","per":"app"}"#, false);
        assert!(problems.is_empty());
        assert_eq!(
            ok.map(|l| (l.per, l.period_seconds)),
            Some((RateKey::App, 60))
        );
        let (ok, _) = compiled(r#"{"binding":"_x1","per":"ip","period_seconds":10}"#, true);
        assert_eq!(ok.map(|l| l.period_seconds), Some(10));
        for (json, public, fragment) in [
            (
                r#"{"binding":"1X","per":"app"}"#,
                false,
                "binding: \"1X\" is not a binding name",
            ),
            (
                r#"{"binding":"A-B","per":"app"}"#,
                false,
                "not a binding name",
            ),
            (r#"{"binding":"","per":"app"}"#, false, "not a binding name"),
            (
                r#"{"binding":"A","per":"token"}"#,
                false,
                "per: \"token\" is not app",
            ),
            (r#"{"binding":"A","per":"user"}"#, true, "only ip applies"),
            (
                r#"{"binding":"A","per":"app","period_seconds":30}"#,
                false,
                "30 is not 10 or 60",
            ),
        ] {
            let (limit, problems) = compiled(json, public);
            assert!(limit.is_none(), "{json}");
            assert_eq!(problems.len(), 1, "{json}: {problems:?}");
            assert!(problems[0].contains(fragment), "{json}: {problems:?}");
            assert!(
                problems[0].starts_with("routes[0].rate_limit"),
                "{problems:?}"
            );
        }
    }
}
