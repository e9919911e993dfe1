//! Settings that are legal but risky: the Worker runs with them, an operator should know.

use entra_gate_core::{binding, GateConfig, TenantSelector};
use std::collections::BTreeMap;

const ZERO_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// Warnings for the bindings `vars` (after `.dev.vars`) and, when they load, the configuration.
pub fn warnings(vars: &BTreeMap<String, String>, config: Option<&GateConfig>) -> Vec<String> {
    let mut found = Vec::new();
    let is_true = |name: &str| {
        vars.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    };
    for (name, value) in vars {
        let lower = value.to_ascii_lowercase();
        if lower.contains(ZERO_GUID) || lower.contains("placeholder") || lower.contains("<your") {
            found.push(format!(
                "{name}: holds a placeholder; put the real value in"
            ));
        }
    }
    if is_true(binding::DEV_CLIENT_HEADERS) {
        found.push(format!(
            "{}: clients choose their own IP, country and ASN (development only)",
            binding::DEV_CLIENT_HEADERS
        ));
    }
    if is_true(binding::SHADOW_MODE) {
        found.push(format!(
            "{}: nothing is enforced, every request is forwarded",
            binding::SHADOW_MODE
        ));
    }
    if is_true(binding::ALLOW_ANY_TENANT) {
        found.push(format!(
            "{}: any app registered in any tenant can get a token for this API",
            binding::ALLOW_ANY_TENANT
        ));
    }
    if vars.contains_key(binding::ASSERTION_KEY) {
        found.push(format!(
            "{}: a private key in [vars] is plain text in wrangler.toml; use wrangler secret put",
            binding::ASSERTION_KEY
        ));
    }
    if !vars.contains_key(binding::POLICY) {
        found.push(format!(
            "{}: unset, so every path is open to any valid token with a scope or role",
            binding::POLICY
        ));
    }
    if let Some(config) = config {
        if matches!(config.tenant, TenantSelector::Common) && config.allow_consumer_accounts {
            found.push(format!(
                "{}: personal Microsoft accounts may call",
                binding::ALLOW_CONSUMER_ACCOUNTS
            ));
        }
        let steps_up = vars
            .get(binding::POLICY)
            .is_some_and(|p| p.contains("step_up"));
        if steps_up && config.challenge.client_id.is_none() {
            found.push(format!(
                "{}: step-up routes but no api_client_id: claims challenges carry no client_id",
                binding::POLICY
            ));
        }
        if config.origin.as_str().starts_with("http://") {
            found.push(format!(
                "{}: plain http (loopback only; fine for local development)",
                binding::ORIGIN_URL
            ));
        }
    }
    found
}
