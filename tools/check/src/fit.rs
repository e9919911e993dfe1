//! Warnings about how the policy fits the rest of wrangler.toml, in what the Worker cannot see
//! for itself: a rate limit's period against its binding's, and Cloudflare's invocation logs
//! (which record URLs with their query) where routes take tokens in the query.

use crate::wrangler::Environment;
use entra_gate_core::{binding, GateConfig};

pub fn warnings(environment: &Environment, config: &GateConfig) -> Vec<String> {
    let mut found = Vec::new();
    for (i, route) in config.policy.routes.iter().enumerate() {
        let Some(limit) = &route.rate_limit else {
            continue;
        };
        let bound = environment
            .ratelimit_periods
            .iter()
            .find(|(name, _)| *name == limit.binding);
        if let Some((name, period)) = bound {
            if *period != i64::from(limit.period_seconds) {
                found.push(format!(
                    "{}: routes[{i}].rate_limit.period_seconds is {} but {name}'s period is \
                     {period}: Retry-After would be wrong",
                    binding::POLICY,
                    limit.period_seconds
                ));
            }
        }
    }
    let query_tokens = config.policy.routes.iter().any(|r| r.query_token);
    if query_tokens && environment.invocation_logs != Some(false) {
        found.push(
            "observability.logs.invocation_logs: on, and a route takes tokens in the query: \
             Cloudflare's invocation logs record URLs with their query; set it to false"
                .to_owned(),
        );
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use entra_gate_core::from_bindings;

    fn config(policy: &str) -> GateConfig {
        let pairs = [
            (binding::TENANT_ID, "72f988bf-86f1-41af-91ab-2d7cd011db47"),
            (binding::AUDIENCES, "api://orders"),
            (binding::ORIGIN_URL, "https://origin.example.com"),
            (
                binding::SECRET,
                "Y2hlY2stc2gtc3RhbmQtaW4tc2VjcmV0LW5vdC11c2Vk",
            ),
            (binding::POLICY, policy),
        ];
        from_bindings(|name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
        .expect("valid")
    }

    #[test]
    fn a_period_that_differs_from_the_binding_is_named() {
        let environment = Environment {
            ratelimit_periods: vec![("PER_APP".into(), 10)],
            invocation_logs: Some(false),
            ..Environment::default()
        };
        let limited = |period: u32| {
            config(&format!(
                r#"{{"routes":[{{"path":"/a","rate_limit":{{"binding":"PER_APP","per":"app","period_seconds":{period}}}}}]}}"#
            ))
        };
        assert!(warnings(&environment, &limited(10)).is_empty());
        let found = warnings(&environment, &limited(60));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("GATE_POLICY: routes[0].rate_limit.period_seconds is 60"));
    }

    #[test]
    fn query_tokens_want_invocation_logs_off() {
        let policy = config(r#"{"routes":[{"path":"/hub/**","query_token":true}]}"#);
        let off = Environment {
            invocation_logs: Some(false),
            ..Environment::default()
        };
        assert!(warnings(&off, &policy).is_empty());
        for on in [None, Some(true)] {
            let environment = Environment {
                invocation_logs: on,
                ..Environment::default()
            };
            let found = warnings(&environment, &policy);
            assert_eq!(found.len(), 1, "{on:?}");
            assert!(found[0].starts_with("observability.logs.invocation_logs"));
        }
        let without = config(r#"{"routes":[{"path":"/a"}]}"#);
        assert!(warnings(&Environment::default(), &without).is_empty());
    }
}
