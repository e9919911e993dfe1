//! Settings that are legal but risky: the Worker runs with them, an operator should know.

use entra_gate_core::{binding, GateConfig, Origin, PolicyFile, TenantSelector};
use std::collections::BTreeMap;

const ZERO_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// The shipped wrangler.toml's stand-ins: the nil GUID, and hosts under `.invalid` (a name
/// reserved never to resolve, RFC 2606).
fn is_placeholder(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["placeholder", "<your", ".invalid/", ".invalid:"]
        .iter()
        .any(|marker| lower.contains(marker))
        || lower.contains(ZERO_GUID)
        || lower.ends_with(".invalid")
}

/// Warnings for the bindings `vars` (after `.dev.vars`), the bundled policy file and, when they
/// load, the configuration. Settings are read from the loaded configuration, never parsed again
/// here: the check warns about exactly what the Worker would run with.
pub fn warnings(
    vars: &BTreeMap<String, String>,
    policy_file: Option<PolicyFile<'_>>,
    config: Option<&GateConfig>,
) -> Vec<String> {
    let mut found = Vec::new();
    for (name, value) in vars {
        if is_placeholder(value) {
            found.push(format!(
                "{name}: holds a placeholder; put the real value in"
            ));
        }
    }
    match (policy_file, vars.contains_key(binding::POLICY)) {
        (Some(file), false) if is_placeholder(file.json) => found.push(format!(
            "{}: {}: holds a placeholder; put the real value in",
            binding::POLICY_FILE,
            file.path
        )),
        (Some(file), true) => found.push(format!(
            "{}: set, so the bundled policy file {} is not used",
            binding::POLICY,
            file.path
        )),
        (None, false) => found.push(format!(
            "{}: unset and no policy file, so every path is open to any valid token with a \
             scope or role",
            binding::POLICY
        )),
        (Some(_) | None, _) => {}
    }
    if vars.contains_key(binding::ASSERTION_KEY) {
        found.push(format!(
            "{}: a private key in [vars] is plain text in wrangler.toml; use wrangler secret put",
            binding::ASSERTION_KEY
        ));
    }
    let Some(config) = config else {
        return found;
    };
    if config.dev_client_headers {
        found.push(format!(
            "{}: clients choose their own IP, country and ASN (development only)",
            binding::DEV_CLIENT_HEADERS
        ));
    }
    if config.shadow {
        found.push(format!(
            "{}: nothing is enforced, every request is forwarded",
            binding::SHADOW_MODE
        ));
    }
    let multi_tenant = !matches!(config.tenant, TenantSelector::Tenant(_));
    if multi_tenant && config.allowed_tenants.is_none() {
        found.push(format!(
            "{}: any app registered in any tenant can get a token for this API",
            binding::ALLOW_ANY_TENANT
        ));
    }
    if config.allow_consumer_accounts {
        found.push(format!(
            "{}: personal Microsoft accounts may call",
            binding::ALLOW_CONSUMER_ACCOUNTS
        ));
    }
    let steps_up = config.policy.routes.iter().any(|r| r.step_up.is_some());
    if steps_up && config.challenge.client_id.is_none() {
        found.push(format!(
            "{}: step-up routes but no api_client_id: claims challenges carry no client_id",
            binding::POLICY
        ));
    }
    if let Some(Origin::Url(url)) = &config.origins.default {
        if url.as_str().starts_with("http://") {
            found.push(format!(
                "{}: plain http (loopback only; fine for local development)",
                binding::ORIGIN_URL
            ));
        }
    }
    for (name, origin) in &config.origins.named {
        if let Origin::Url(url) = origin {
            if url.as_str().starts_with("http://") {
                found.push(format!(
                    "{}: {name}: plain http (loopback only; fine for local development)",
                    binding::ORIGINS
                ));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use entra_gate_core::from_bindings;

    const SECRET: &str = "Y2hlY2stc2gtc3RhbmQtaW4tc2VjcmV0LW5vdC11c2Vk";

    fn warned(extra: &[(&str, &str)]) -> Vec<String> {
        let mut vars: BTreeMap<String, String> = [
            (binding::TENANT_ID, "72f988bf-86f1-41af-91ab-2d7cd011db47"),
            (binding::AUDIENCES, "api://orders"),
            (binding::ORIGIN_URL, "https://origin.example.com"),
            (binding::SECRET, SECRET),
            (binding::POLICY, r#"{"default":"authenticated"}"#),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = from_bindings(|name| vars.get(name).cloned()).expect("valid");
        warnings(&vars, None, Some(&config))
    }

    fn names(found: &[String]) -> Vec<&str> {
        found.iter().filter_map(|w| w.split(':').next()).collect()
    }

    #[test]
    fn a_plain_configuration_has_nothing_to_warn_about() {
        assert_eq!(warned(&[]), Vec::<String>::new());
    }

    #[test]
    fn each_risky_setting_is_named() {
        let cases: [(&[(&str, &str)], &str); 8] = [
            (
                &[(binding::DEV_CLIENT_HEADERS, "TRUE")],
                binding::DEV_CLIENT_HEADERS,
            ),
            (&[(binding::SHADOW_MODE, "true")], binding::SHADOW_MODE),
            (
                &[
                    (binding::TENANT_ID, "organizations"),
                    (binding::ALLOW_ANY_TENANT, "true"),
                ],
                binding::ALLOW_ANY_TENANT,
            ),
            (
                &[
                    (binding::TENANT_ID, "common"),
                    (
                        binding::ALLOWED_TENANTS,
                        "72f988bf-86f1-41af-91ab-2d7cd011db47",
                    ),
                    (binding::ALLOW_CONSUMER_ACCOUNTS, "true"),
                ],
                binding::ALLOW_CONSUMER_ACCOUNTS,
            ),
            (
                &[(
                    binding::POLICY,
                    r#"{"routes":[{"name":"r","path":"/r","step_up":{"mfa":true}}]}"#,
                )],
                binding::POLICY,
            ),
            (
                &[(binding::ORIGIN_URL, "http://127.0.0.1:8080")],
                binding::ORIGIN_URL,
            ),
            (
                &[(binding::AUDIENCES, "00000000-0000-0000-0000-000000000000")],
                binding::AUDIENCES,
            ),
            (
                &[(binding::ORIGIN_URL, "https://origin.replace.invalid")],
                binding::ORIGIN_URL,
            ),
        ];
        for (extra, expected) in cases {
            let found = warned(extra);
            assert_eq!(names(&found), [expected], "{extra:?}: {found:?}");
        }
    }

    #[test]
    fn step_up_with_a_client_id_and_an_allow_list_are_fine() {
        let policy = r#"{"api_client_id":"6e74172b-be56-4843-9ff4-e66a39bb12e3",
            "routes":[{"name":"r","path":"/r","step_up":{"mfa":true}}]}"#;
        assert_eq!(warned(&[(binding::POLICY, policy)]), Vec::<String>::new());
        let listed = [
            (binding::TENANT_ID, "organizations"),
            (
                binding::ALLOWED_TENANTS,
                "72f988bf-86f1-41af-91ab-2d7cd011db47",
            ),
        ];
        assert_eq!(warned(&listed), Vec::<String>::new());
    }

    #[test]
    fn what_needs_no_configuration_is_warned_about_even_when_it_does_not_load() {
        let vars: BTreeMap<String, String> =
            [(binding::ASSERTION_KEY.to_string(), "{}".to_string())].into();
        assert_eq!(
            names(&warnings(&vars, None, None)),
            [binding::POLICY, binding::ASSERTION_KEY]
        );
    }

    #[test]
    fn the_policy_file_is_named_when_overridden_or_a_placeholder() {
        let vars: BTreeMap<String, String> = BTreeMap::new();
        let file = |json| PolicyFile {
            path: "policy.toml",
            json,
        };
        assert!(warnings(&vars, Some(file(r#"{"default":"deny"}"#)), None).is_empty());
        let placeholder = file(r#"{"api_client_id":"00000000-0000-0000-0000-000000000000"}"#);
        assert_eq!(
            warnings(&vars, Some(placeholder), None),
            ["policy file: policy.toml: holds a placeholder; put the real value in"]
        );
        let overridden: BTreeMap<String, String> =
            [(binding::POLICY.to_string(), "{}".to_string())].into();
        assert_eq!(
            warnings(&overridden, Some(file("{}")), None),
            ["GATE_POLICY: set, so the bundled policy file policy.toml is not used"]
        );
    }
}
