//! Where allowed requests go: `ORIGIN_URL` (the simple case, and the default), and named
//! origins in `GATE_ORIGINS` that routes choose with `origin = "name"`: an http(s) URL, or a
//! Worker bound as a service (`[[services]]`), which has no public URL at all.
//!
//! Every origin gets the same forwarding: only the canonical path and the query come from the
//! request, so the destination host is never the client's choice (a service receives the
//! `scheme://host` the client called, which the binding does not route by).

use crate::endpoint::Endpoint;
use crate::forward::{join_url, origin_url};
use crate::json::{self, Value};
use crate::quoted::Quoted;
use std::borrow::Cow;

/// One destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An http(s) URL, its path prefix included.
    Url(Endpoint),
    /// A Worker bound as a service, by binding name.
    Service {
        /// The `[[services]]` binding.
        binding: String,
    },
}

/// The origins of one configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origins {
    /// `ORIGIN_URL`: routes that name no origin.
    pub default: Option<Origin>,
    /// `GATE_ORIGINS`, by name.
    pub named: Vec<(String, Origin)>,
}

/// Names in `GATE_ORIGINS`: short, lower case, safe in logs.
fn is_origin_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// A Workers binding name: what wrangler accepts as a JavaScript identifier.
pub fn is_binding_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Origins {
    /// Reads `GATE_ORIGINS` (a JSON object of name → URL or `{"service": "BINDING"}`) beside
    /// the default origin; every problem is returned, each naming its member.
    pub fn parse(
        default: Option<Endpoint>,
        named: Option<&str>,
        endpoint: impl Fn(&str) -> Result<Endpoint, String>,
    ) -> Result<Origins, Vec<String>> {
        let mut origins = Origins {
            default: default.map(Origin::Url),
            named: Vec::new(),
        };
        let Some(text) = named else {
            return Ok(origins);
        };
        // Strict like every other document: a name given twice is refused, never last-wins.
        let Ok(members) = json::parse_object(text.as_bytes()) else {
            return Err(vec![
                r#"not a JSON object of name -> "https://…" or {"service": "BINDING"}"#.into(),
            ]);
        };
        // In name order, as they were listed when read through a sorted map.
        let mut members: Vec<_> = members.into_iter().collect();
        members.sort_by(|(a, _), (b, _)| a.cmp(b));
        let mut problems = Vec::new();
        for (name, value) in members {
            let name = name.into_owned();
            if !is_origin_name(&name) {
                problems.push(format!(
                    "{}: a name is lower-case letters, digits, - and _ (at most 64)",
                    Quoted(&name)
                ));
                continue;
            }
            let origin = match &value {
                Value::String(url) => endpoint(url).map(Origin::Url),
                Value::Object(service) => match (service.get("service"), service.len()) {
                    (Some(Value::String(binding)), 1) if is_binding_name(binding) => {
                        Ok(Origin::Service {
                            binding: binding.to_string(),
                        })
                    }
                    (Some(Value::String(binding)), 1) => {
                        Err(format!("{} is not a binding name", Quoted(binding)))
                    }
                    _ => Err(r#"an object must be {"service": "BINDING"} and nothing else"#.into()),
                },
                Value::Null | Value::Bool(_) | Value::Number(_) | Value::Array(_) => {
                    Err("must be a URL or {\"service\": \"BINDING\"}".into())
                }
            };
            match origin {
                Ok(origin) => origins.named.push((name, origin)),
                Err(problem) => problems.push(format!("{name}: {problem}")),
            }
        }
        if problems.is_empty() {
            Ok(origins)
        } else {
            Err(problems)
        }
    }

    /// The origin of a route naming `name` (`None`: the default).
    pub fn for_route(&self, name: Option<&str>) -> Option<&Origin> {
        match name {
            None => self.default.as_ref(),
            Some(name) => self
                .named
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, origin)| origin),
        }
    }

    /// Every origin, the default first.
    pub fn all(&self) -> impl Iterator<Item = &Origin> {
        self.default
            .iter()
            .chain(self.named.iter().map(|(_, origin)| origin))
    }
}

impl Origin {
    /// The URL a request for `path` and `query` is sent to; `served_at` is where the client
    /// sent it (`scheme://host`), what a service receives as its host.
    pub fn destination(&self, served_at: &str, path: &str, query: Option<&str>) -> String {
        match self {
            Origin::Url(endpoint) => origin_url(endpoint, path, query),
            Origin::Service { .. } => join_url(served_at, path, query),
        }
    }

    /// The signed assertion's audience: a URL origin's `scheme://host[:port]`, or
    /// `service:<BINDING>` for a service, so an assertion one service receives is worth nothing
    /// to another (they all see the same host).
    pub fn audience(&self) -> Cow<'_, str> {
        match self {
            Origin::Url(endpoint) => Cow::Borrowed(endpoint.origin()),
            Origin::Service { binding } => Cow::Owned(format!("service:{binding}")),
        }
    }

    /// The service binding, for a service.
    pub fn service(&self) -> Option<&str> {
        match self {
            Origin::Url(_) => None,
            Origin::Service { binding } => Some(binding),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(text: &str) -> Result<Endpoint, String> {
        Endpoint::parse(text).map_err(|e| e.to_string())
    }

    #[test]
    fn named_origins_are_urls_or_services() {
        let origins = Origins::parse(
            endpoint("https://default.example/base").ok(),
            Some(r#"{"orders":"https://orders.example/v1","billing":{"service":"BILLING"}}"#),
            endpoint,
        )
        .expect("valid");
        let orders = origins.for_route(Some("orders")).expect("orders");
        assert_eq!(
            orders.destination("https://api.contoso.com", "/orders/7", Some("a=1")),
            "https://orders.example/v1/orders/7?a=1"
        );
        assert_eq!(orders.audience(), "https://orders.example");
        let billing = origins.for_route(Some("billing")).expect("billing");
        assert_eq!(billing.service(), Some("BILLING"));
        assert_eq!(
            billing.destination("https://api.contoso.com", "/billing/x", None),
            "https://api.contoso.com/billing/x"
        );
        assert_eq!(billing.audience(), "service:BILLING");
        let default = origins.for_route(None).expect("default");
        assert_eq!(
            default.destination("https://api.contoso.com", "/a", None),
            "https://default.example/base/a"
        );
        assert_eq!(origins.for_route(Some("nope")), None);
        let spelled = Origins::parse(
            None,
            Some(r#"{"orders-v2":"https://a.example","billing_eu":"https://b.example","r2":"https://c.example"}"#),
            endpoint,
        )
        .expect("lower case, digits, - and _");
        assert_eq!(spelled.named.len(), 3);
        assert_eq!(origins.all().count(), 3);
    }

    #[test]
    fn every_problem_is_named() {
        let problems = Origins::parse(
            None,
            Some(
                r#"{"Orders":"https://o.example","plain":"http://o.example","q":"https://o.example/?x=1",
                    "svc":{"service":"1X"},"extra":{"service":"A","url":"https://x"},"num":7}"#,
            ),
            |text| {
                let parsed = endpoint(text)?;
                if parsed.query().is_some() {
                    return Err("must not have a query".into());
                }
                Ok(parsed)
            },
        )
        .expect_err("refused");
        assert_eq!(problems.len(), 6, "{problems:#?}");
        for fragment in [
            "\"Orders\": a name is",
            "plain: ",
            "q: must not have a query",
            "svc: \"1X\" is not a binding name",
            "extra: an object must be",
            "num: must be a URL",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(fragment)),
                "{fragment}: {problems:#?}"
            );
        }
        assert!(Origins::parse(None, Some("[]"), endpoint).is_err());
        let twice = r#"{"orders":"https://a.example","orders":"https://b.example"}"#;
        assert!(
            Origins::parse(None, Some(twice), endpoint).is_err(),
            "a name twice"
        );
        assert!(Origins::parse(None, Some("{"), endpoint).is_err());
        assert_eq!(
            Origins::parse(None, None, endpoint).expect("nothing named"),
            Origins::default()
        );
    }
}
