//! The policy document read from JSON into its raw types: every unknown member refused (a typo
//! must never silently drop a rule), required members reported missing, wrong types reported,
//! each with its path in the document (`routes[2].require.scopes`).
//!
//! The first problem ends the reading, as it did with serde: shape problems are fixed one at a
//! time; the rules' problems ([`super::compile`]) are all listed together.

use super::condition::{RawCondition, RawSet, RawTime};
use super::document::{
    RawClaimMatch, RawCors, RawNeed, RawPolicy, RawRateLimit, RawRequire, RawRoute, RawStepUp,
};
use crate::json::read;
use crate::json::{JsonError, Object, Value};

/// An object of the document being read, with its path for messages.
struct Members<'a> {
    object: Object<'a>,
    at: String,
}

impl<'a> Members<'a> {
    /// `value` must be an object with no member outside `allowed`.
    fn new(value: Value<'a>, at: String, allowed: &[&str]) -> Result<Self, JsonError> {
        let object = read::object(&at, value)?;
        read::only(&object, &at, allowed)?;
        Ok(Members { object, at })
    }

    /// The path of a member of this object.
    fn path(&self, name: &str) -> String {
        if self.at == "the policy" {
            name.to_owned()
        } else {
            format!("{}.{name}", self.at)
        }
    }

    /// A member that may be absent or `null` (serde's `Option<T>`).
    fn optional<T>(
        &mut self,
        name: &str,
        read: impl FnOnce(Value<'a>, String) -> Result<T, JsonError>,
    ) -> Result<Option<T>, JsonError> {
        match self.object.take(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => read(value, self.path(name)).map(Some),
        }
    }

    /// A member that may be absent but not `null` (serde's `#[serde(default)]` on a non-option).
    fn defaulted<T: Default>(
        &mut self,
        name: &str,
        read: impl FnOnce(Value<'a>, String) -> Result<T, JsonError>,
    ) -> Result<T, JsonError> {
        match self.object.take(name) {
            None => Ok(T::default()),
            Some(value) => read(value, self.path(name)),
        }
    }

    /// A member that must be present.
    fn required<T>(
        &mut self,
        name: &str,
        read: impl FnOnce(Value<'a>, String) -> Result<T, JsonError>,
    ) -> Result<T, JsonError> {
        match self.object.take(name) {
            None => Err(JsonError::missing(name, &self.at)),
            Some(value) => read(value, self.path(name)),
        }
    }
}

fn string(value: Value<'_>, at: String) -> Result<String, JsonError> {
    read::string(&at, value).map(|s| s.into_owned())
}

fn strings(value: Value<'_>, at: String) -> Result<Vec<String>, JsonError> {
    read::strings(&at, value).map(|list| list.into_iter().map(|s| s.into_owned()).collect())
}

fn boolean(value: Value<'_>, at: String) -> Result<bool, JsonError> {
    read::boolean(&at, &value)
}

fn integer(value: Value<'_>, at: String) -> Result<u32, JsonError> {
    read::u32(&at, &value)
}

fn list<'a, T>(
    value: Value<'a>,
    at: String,
    item: impl Fn(Value<'a>, String) -> Result<T, JsonError>,
) -> Result<Vec<T>, JsonError> {
    read::array(&at, value)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| item(v, format!("{at}[{i}]")))
        .collect()
}

/// The whole document.
pub fn policy(value: Value<'_>) -> Result<RawPolicy, JsonError> {
    let mut m = Members::new(
        value,
        "the policy".to_owned(),
        &[
            "default",
            "optional_claims",
            "api_client_id",
            "cors",
            "allow_tokens_without_permissions",
            "case_insensitive_paths",
            "routes",
        ],
    )?;
    Ok(RawPolicy {
        default: m.optional("default", string)?,
        optional_claims: m.defaulted("optional_claims", strings)?,
        api_client_id: m.optional("api_client_id", string)?,
        cors: m.optional("cors", cors)?,
        allow_tokens_without_permissions: m
            .defaulted("allow_tokens_without_permissions", boolean)?,
        case_insensitive_paths: m.defaulted("case_insensitive_paths", boolean)?,
        routes: m.defaulted("routes", |v, at| list(v, at, route))?,
    })
}

fn route(value: Value<'_>, at: String) -> Result<RawRoute, JsonError> {
    let mut m = Members::new(
        value,
        at,
        &[
            "name",
            "methods",
            "path",
            "public",
            "report_only",
            "require",
            "step_up",
            "conditions",
            "allow_tokens_without_permissions",
            "query_token",
            "websocket",
            "rate_limit",
            "origin",
        ],
    )?;
    Ok(RawRoute {
        name: m.optional("name", string)?,
        methods: m.optional("methods", strings)?,
        path: m.required("path", string)?,
        public: m.defaulted("public", boolean)?,
        report_only: m.defaulted("report_only", boolean)?,
        require: m.optional("require", require)?,
        step_up: m.optional("step_up", step_up)?,
        conditions: m.optional("conditions", condition)?,
        allow_tokens_without_permissions: m
            .optional("allow_tokens_without_permissions", boolean)?,
        query_token: m.defaulted("query_token", boolean)?,
        websocket: m.defaulted("websocket", boolean)?,
        rate_limit: m.optional("rate_limit", rate_limit)?,
        origin: m.optional("origin", string)?,
    })
}

/// A route's `rate_limit`.
pub fn rate_limit(value: Value<'_>, at: String) -> Result<RawRateLimit, JsonError> {
    let mut m = Members::new(value, at, &["binding", "per", "period_seconds"])?;
    Ok(RawRateLimit {
        binding: m.required("binding", string)?,
        per: m.required("per", string)?,
        period_seconds: m.optional("period_seconds", integer)?,
    })
}

fn require(value: Value<'_>, at: String) -> Result<RawRequire, JsonError> {
    let mut m = Members::new(
        value,
        at,
        &[
            "scopes",
            "roles",
            "token_kind",
            "apps",
            "client_auth",
            "tenants",
            "groups",
            "claims",
        ],
    )?;
    Ok(RawRequire {
        scopes: m.optional("scopes", need)?,
        roles: m.optional("roles", need)?,
        token_kind: m.optional("token_kind", string)?,
        apps: m.optional("apps", strings)?,
        client_auth: m.optional("client_auth", string)?,
        tenants: m.optional("tenants", strings)?,
        groups: m.optional("groups", need)?,
        claims: m.defaulted("claims", |v, at| list(v, at, claim_match))?,
    })
}

fn need(value: Value<'_>, at: String) -> Result<RawNeed, JsonError> {
    let mut m = Members::new(value, at, &["any_of", "all_of"])?;
    Ok(RawNeed {
        any_of: m.optional("any_of", strings)?,
        all_of: m.optional("all_of", strings)?,
    })
}

fn claim_match(value: Value<'_>, at: String) -> Result<RawClaimMatch, JsonError> {
    let mut m = Members::new(value, at, &["name", "one_of"])?;
    Ok(RawClaimMatch {
        name: m.required("name", string)?,
        one_of: m.required("one_of", strings)?,
    })
}

fn step_up(value: Value<'_>, at: String) -> Result<RawStepUp, JsonError> {
    let mut m = Members::new(value, at, &["auth_context", "mfa", "max_age_seconds"])?;
    Ok(RawStepUp {
        auth_context: m.optional("auth_context", string)?,
        mfa: m.defaulted("mfa", boolean)?,
        max_age_seconds: m.optional("max_age_seconds", integer)?,
    })
}

fn cors(value: Value<'_>, at: String) -> Result<RawCors, JsonError> {
    let mut m = Members::new(
        value,
        at,
        &[
            "allowed_origins",
            "allowed_methods",
            "allowed_headers",
            "max_age_seconds",
        ],
    )?;
    Ok(RawCors {
        allowed_origins: m.required("allowed_origins", strings)?,
        allowed_methods: m.optional("allowed_methods", strings)?,
        allowed_headers: m.optional("allowed_headers", strings)?,
        max_age_seconds: m.optional("max_age_seconds", integer)?,
    })
}

/// The kinds of condition, each the one member of its object.
const CONDITIONS: [&str; 8] = [
    "all",
    "any",
    "not",
    "ip",
    "country",
    "asn",
    "time",
    "ipaddr_matches_client",
];

/// A condition: an object with exactly one member, whose name is the kind.
pub fn condition(value: Value<'_>, at: String) -> Result<RawCondition, JsonError> {
    let object = read::object(&at, value)?;
    let mut members = object.into_iter();
    let (Some((kind, inner)), None) = (members.next(), members.next()) else {
        return Err(JsonError::other(format!(
            "invalid condition at {at}: expected an object with exactly one member, one of {}",
            CONDITIONS.join(", ")
        )));
    };
    let inner_at = format!("{at}.{kind}");
    Ok(match kind.as_ref() {
        "all" => RawCondition::All(list(inner, inner_at, condition)?),
        "any" => RawCondition::Any(list(inner, inner_at, condition)?),
        "not" => RawCondition::Not(Box::new(condition(inner, inner_at)?)),
        "ip" => RawCondition::Ip(set(inner, inner_at, string)?),
        "country" => RawCondition::Country(set(inner, inner_at, string)?),
        "asn" => RawCondition::Asn(set(inner, inner_at, integer)?),
        "time" => RawCondition::Time(time(inner, inner_at)?),
        "ipaddr_matches_client" => {
            RawCondition::IpaddrMatchesClient(read::boolean(&inner_at, &inner)?)
        }
        other => return Err(JsonError::unknown_variant(other, &at, &CONDITIONS)),
    })
}

fn set<'a, T>(
    value: Value<'a>,
    at: String,
    item: impl Fn(Value<'a>, String) -> Result<T, JsonError> + Copy,
) -> Result<RawSet<T>, JsonError> {
    let mut m = Members::new(value, at, &["in", "not_in"])?;
    Ok(RawSet {
        in_: m.optional("in", |v, at| list(v, at, item))?,
        not_in: m.optional("not_in", |v, at| list(v, at, item))?,
    })
}

fn time(value: Value<'_>, at: String) -> Result<RawTime, JsonError> {
    let mut m = Members::new(value, at, &["days", "from", "to"])?;
    Ok(RawTime {
        days: m.optional("days", strings)?,
        from: m.optional("from", string)?,
        to: m.optional("to", string)?,
    })
}

/// Reads test documents as the loader does.
#[cfg(test)]
pub fn parsed<T>(
    text: &str,
    read: impl FnOnce(Value<'_>, String) -> Result<T, JsonError>,
) -> Result<T, JsonError> {
    crate::json::parse(text.as_bytes()).and_then(|v| read(v, "the test document".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Result<RawPolicy, String> {
        crate::json::parse(text.as_bytes())
            .and_then(policy)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn paths_name_where_the_problem_is() {
        assert_eq!(
            doc(r#"{"routes":[{"path":"/a"},{"name":"x"}]}"#).err(),
            Some("missing field `path` in routes[1]".to_owned())
        );
        assert_eq!(
            doc(r#"{"routes":[{"path":"/a","require":{"scopes":{"one_of":[]}}}]}"#).err(),
            Some(
                "unknown field `one_of` in routes[0].require.scopes, expected one of `any_of`, `all_of`"
                    .to_owned()
            )
        );
        assert_eq!(
            doc(r#"{"route":[]}"#)
                .err()
                .map(|e| e.starts_with("unknown field `route` in the policy")),
            Some(true)
        );
        assert_eq!(
            doc(r#"{"routes":[{"path":"/a","methods":"GET"}]}"#).err(),
            Some("invalid type at routes[0].methods: expected an array, found a string".to_owned())
        );
        assert_eq!(
            doc(r#"{"routes":[{"path":"/a","conditions":{"all":[{"asn":{"in":[1,"x"]}}]}}]}"#)
                .err(),
            Some(
                "invalid type at routes[0].conditions.all[0].asn.in[1]: expected a number, found a string"
                    .to_owned()
            )
        );
        assert!(
            doc(r#"{"routes":[{"path":"/a","conditions":{"ip":{},"asn":{}}}]}"#)
                .is_err_and(|e| e.starts_with("invalid condition at routes[0].conditions"))
        );
        assert!(doc(r#"{"routes":[{"path":"/a","conditions":{}}]}"#).is_err());
        assert!(
            doc(r#"{"routes":[{"path":"/a","conditions":{"region":{}}}]}"#)
                .is_err_and(|e| e.starts_with("unknown variant `region` in routes[0].conditions"))
        );
        assert!(doc(r#"{"routes":[{"path":"/a","rate_limit":{"binding":"B","per":"app","period_seconds":-1}}]}"#)
            .is_err_and(|e| e.contains("routes[0].rate_limit.period_seconds")));
    }

    #[test]
    fn null_reads_as_absent_only_where_serde_read_it_so() {
        let ok = doc(r#"{"default":null,"cors":null,"api_client_id":null}"#).expect("options");
        assert!(ok.default.is_none() && ok.cors.is_none() && ok.api_client_id.is_none());
        for not_optional in [
            r#"{"routes":null}"#,
            r#"{"optional_claims":null}"#,
            r#"{"case_insensitive_paths":null}"#,
            r#"{"routes":[{"path":null}]}"#,
            r#"{"routes":[{"path":"/a","public":null}]}"#,
        ] {
            assert!(doc(not_optional).is_err(), "{not_optional}");
        }
        let route = doc(
            r#"{"routes":[{"path":"/a","methods":null,"allow_tokens_without_permissions":null}]}"#,
        )
        .expect("route");
        assert!(route.routes.first().is_some_and(|r| r.methods.is_none()));
    }

    #[test]
    fn every_member_is_read() {
        let full = r#"{"default":"deny","optional_claims":["acrs"],"api_client_id":"x",
            "cors":{"allowed_origins":["*"],"allowed_methods":["GET"],"allowed_headers":["h"],"max_age_seconds":5},
            "allow_tokens_without_permissions":true,"case_insensitive_paths":true,
            "routes":[{"name":"n","methods":["GET"],"path":"/p","public":false,"report_only":true,
              "require":{"scopes":{"any_of":["a"]},"roles":{"all_of":["r"]},"token_kind":"user",
                "apps":["a"],"client_auth":"secret","tenants":["t"],"groups":{"any_of":["g"]},
                "claims":[{"name":"c","one_of":["v"]}]},
              "step_up":{"auth_context":"c1","mfa":true,"max_age_seconds":60},
              "conditions":{"not":{"any":[{"ip":{"in":["10.0.0.0/8"]}},{"country":{"not_in":["XX"]}},
                {"asn":{"in":[13335]}},{"time":{"days":["mon"],"from":"08:00","to":"17:00"}},
                {"ipaddr_matches_client":true}]}},
              "allow_tokens_without_permissions":false,"query_token":true,"websocket":true,
              "rate_limit":{"binding":"B","per":"app","period_seconds":10},"origin":"o"}]}"#;
        let p = doc(full).expect("reads");
        let r = p.routes.first().expect("a route");
        assert!(p.allow_tokens_without_permissions && p.case_insensitive_paths);
        assert_eq!(p.cors.as_ref().and_then(|c| c.max_age_seconds), Some(5));
        assert!(r.report_only && r.query_token && r.websocket && !r.public);
        assert_eq!(r.allow_tokens_without_permissions, Some(false));
        assert_eq!(
            r.rate_limit.as_ref().and_then(|l| l.period_seconds),
            Some(10)
        );
        assert_eq!(r.step_up.as_ref().and_then(|s| s.max_age_seconds), Some(60));
        assert_eq!(r.require.as_ref().map(|q| q.claims.len()), Some(1));
        assert!(matches!(r.conditions, Some(RawCondition::Not(_))));
    }
}
