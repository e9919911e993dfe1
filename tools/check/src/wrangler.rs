//! The bindings one wrangler environment gives the Worker, read from `wrangler.toml` the way
//! wrangler reads it: `vars` and `kv_namespaces` are not inherited, so `--env NAME` sees only
//! `[env.NAME.vars]` and `[[env.NAME.kv_namespaces]]`; `build` is inherited unless the
//! environment has its own.

use std::collections::BTreeMap;
use toml::{Table, Value};

/// What the Worker would be bound to.
#[derive(Debug, Default)]
pub struct Environment {
    /// `[vars]`, each as the text the Worker reads (tables and arrays as JSON).
    pub vars: BTreeMap<String, String>,
    /// KV namespace binding names.
    pub kv: Vec<String>,
    /// Analytics Engine dataset binding names.
    pub analytics: Vec<String>,
    /// `build.command`, which names the bundled policy file.
    pub build_command: Option<String>,
    /// Service binding names (`[[services]]`).
    pub services: Vec<String>,
    /// Rate-limiting binding names (`[[ratelimits]]`, or `[[unsafe.bindings]]` of type
    /// `ratelimit`).
    pub ratelimits: Vec<String>,
    /// Each rate-limiting binding's `simple.period`, where given.
    pub ratelimit_periods: Vec<(String, i64)>,
    /// `observability.logs.invocation_logs` (inherited like `observability`); `None`: unset,
    /// which wrangler takes as on.
    pub invocation_logs: Option<bool>,
}

/// Reads `text` (a `wrangler.toml`) for environment `env` (`None`: the top level).
pub fn environment(text: &str, env: Option<&str>) -> Result<Environment, String> {
    let root: Table = text
        .parse()
        .map_err(|e| format!("wrangler.toml is not TOML: {e}"))?;
    let scope = match env {
        None => &root,
        Some(name) => root
            .get("env")
            .and_then(Value::as_table)
            .and_then(|envs| envs.get(name))
            .and_then(Value::as_table)
            .ok_or_else(|| format!("wrangler.toml has no [env.{name}]"))?,
    };
    let vars = match scope.get("vars") {
        None => BTreeMap::new(),
        Some(Value::Table(vars)) => vars
            .iter()
            .map(|(name, value)| (name.clone(), as_worker_text(value)))
            .collect(),
        Some(_) => return Err("vars is not a table".into()),
    };
    let build_command = [scope, &root]
        .into_iter()
        .find_map(|table| table.get("build"))
        .and_then(|build| build.get("command"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    // `[[ratelimits]]`, and the older `[[unsafe.bindings]]` of type `ratelimit`: read once.
    let limiters: Vec<&Value> = scope
        .get("ratelimits")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(
            scope
                .get("unsafe")
                .and_then(|u| u.get("bindings"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("ratelimit")),
        )
        .collect();
    let named = |b: &&Value| b.get("name").and_then(Value::as_str).map(str::to_owned);
    let ratelimits = limiters.iter().filter_map(named).collect();
    let ratelimit_periods = limiters
        .iter()
        .filter_map(|b| Some((named(b)?, b.get("simple")?.get("period")?.as_integer()?)))
        .collect();
    let invocation_logs = [scope, &root]
        .into_iter()
        .find_map(|table| table.get("observability"))
        .and_then(|o| o.get("logs"))
        .and_then(|l| l.get("invocation_logs"))
        .and_then(Value::as_bool);
    Ok(Environment {
        build_command,
        ratelimits,
        ratelimit_periods,
        invocation_logs,
        services: binding_names(scope, "services"),
        vars,
        kv: binding_names(scope, "kv_namespaces"),
        analytics: binding_names(scope, "analytics_engine_datasets"),
    })
}

fn binding_names(scope: &Table, key: &str) -> Vec<String> {
    scope
        .get(key)
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|entry| entry.get("binding").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// A `[vars]` value as the Worker's `Env::text` reads it: strings as they are, everything else
/// as its JSON.
fn as_worker_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
[observability.logs]
invocation_logs = false
[build]
command = "bash scripts/build.sh"
[vars]
ENTRA_TENANT_ID = "top"
ENTRA_CLOCK_SKEW_SECONDS = 30
GATE_SHADOW_MODE = true
[vars.GATE_POLICY]
default = "deny"
[[kv_namespaces]]
binding = "JWKS"
[env.production.vars]
ENTRA_TENANT_ID = "prod"
[[env.production.kv_namespaces]]
binding = "JWKS"
id = "abc"
[[env.production.analytics_engine_datasets]]
binding = "GATE_METRICS"
[env.production.build]
command = "bash scripts/build.sh --policy prod.toml"
[[env.production.services]]
binding = "BILLING"
service = "billing-worker"
[[env.production.ratelimits]]
name = "PER_APP"
namespace_id = "1001"
simple = { limit = 100, period = 60 }
[[env.production.unsafe.bindings]]
name = "PER_IP"
type = "ratelimit"
namespace_id = "1002"
simple = { limit = 10, period = 10 }
[[env.production.unsafe.bindings]]
name = "OTHER"
type = "something"
[env.staging]
name = "staging"
"#;

    #[test]
    fn the_top_level_reads_vars_as_the_worker_does() {
        let top = environment(TOML, None).expect("reads");
        assert_eq!(top.vars["ENTRA_TENANT_ID"], "top");
        assert_eq!(top.vars["ENTRA_CLOCK_SKEW_SECONDS"], "30");
        assert_eq!(top.vars["GATE_SHADOW_MODE"], "true");
        assert_eq!(top.vars["GATE_POLICY"], r#"{"default":"deny"}"#);
        assert_eq!(top.kv, ["JWKS"]);
        assert!(top.analytics.is_empty());
        assert_eq!(top.build_command.as_deref(), Some("bash scripts/build.sh"));
    }

    #[test]
    fn an_environment_inherits_no_vars_and_no_bindings() {
        let prod = environment(TOML, Some("production")).expect("reads");
        assert_eq!(prod.vars.len(), 1, "{:?}", prod.vars);
        assert_eq!(prod.vars["ENTRA_TENANT_ID"], "prod");
        assert_eq!(prod.kv, ["JWKS"]);
        assert_eq!(prod.analytics, ["GATE_METRICS"]);
        assert_eq!(prod.ratelimits, ["PER_APP", "PER_IP"]);
        assert_eq!(
            prod.ratelimit_periods,
            [("PER_APP".to_owned(), 60), ("PER_IP".to_owned(), 10)]
        );
        assert_eq!(
            prod.invocation_logs,
            Some(false),
            "inherited from the top level"
        );
        assert_eq!(prod.services, ["BILLING"]);
        assert_eq!(
            prod.build_command.as_deref(),
            Some("bash scripts/build.sh --policy prod.toml")
        );
        let staging = environment(TOML, Some("staging")).expect("reads");
        assert!(staging.vars.is_empty());
        assert_eq!(
            staging.build_command.as_deref(),
            Some("bash scripts/build.sh"),
            "build is inherited"
        );
        assert!(environment(TOML, Some("test")).is_err());
        assert!(environment("not = [toml", None).is_err());
    }
}
