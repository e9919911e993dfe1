//! `entra-gate-check [--env NAME] [--config PATH] [--dev-vars PATH] [--var NAME:VALUE]... [--json]`:
//! loads one wrangler environment (with `--var` as `wrangler dev --var` / `deploy --var` give it) with the Worker's own configuration loader and prints every problem the Worker
//! would answer `500 config_invalid` for, plus warnings for legal but risky settings. Exit
//! status 1 on problems, 2 on bad usage or an unreadable file.
//!
//! `entra-gate-check bundle-policy FILE`: the policy file as the ES module `scripts/build.sh`
//! bundles into the Worker (exit status 2 if it cannot be read or is not TOML).

mod dev_vars;
mod fit;
mod policy_file;
mod warnings;
mod wrangler;

use entra_gate_core::{
    binding, from_bindings_and_policy_file, kv_binding_problems, rate_limit_binding_problems,
    service_binding_problems, KvBinding, PolicyFile,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Stands in for a secret that lives in Cloudflare (`wrangler secret put`), so the rest of the
/// configuration can be checked; its absence is a warning, not a problem.
const STAND_IN_SECRET: &str = "Y2hlY2stc2gtc3RhbmQtaW4tc2VjcmV0LW5vdC11c2Vk";

struct Options {
    env: Option<String>,
    config: PathBuf,
    dev_vars: Option<PathBuf>,
    /// `--var NAME:VALUE`, as wrangler takes them: these win over `[vars]` and `.dev.vars`.
    vars: Vec<(String, String)>,
    json: bool,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        env: None,
        config: PathBuf::from("wrangler.toml"),
        dev_vars: None,
        vars: Vec::new(),
        json: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |what: &str| args.next().ok_or(format!("{arg} needs {what}"));
        match arg.as_str() {
            "--env" => options.env = Some(value("a name")?),
            "--config" => options.config = PathBuf::from(value("a path")?),
            "--dev-vars" => options.dev_vars = Some(PathBuf::from(value("a path")?)),
            "--var" => {
                let pair = value("NAME:VALUE")?;
                let (name, text) = pair
                    .split_once(':')
                    .ok_or(format!("--var {pair:?} is not NAME:VALUE"))?;
                options.vars.push((name.to_owned(), text.to_owned()));
            }
            "--json" => options.json = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

/// wrangler's rule: `.dev.vars.<env>` for an environment if present, else `.dev.vars`.
fn dev_vars_path(options: &Options) -> Option<PathBuf> {
    if let Some(path) = &options.dev_vars {
        return Some(path.clone());
    }
    let dir = options.config.parent()?;
    let named = options
        .env
        .as_ref()
        .map(|env| dir.join(format!(".dev.vars.{env}")));
    named
        .filter(|p| p.exists())
        .or_else(|| Some(dir.join(".dev.vars")).filter(|p| p.exists()))
}

fn bundle_policy(path: Option<String>) -> ExitCode {
    let Some(path) = path else {
        eprintln!("entra-gate-check: bundle-policy needs a file");
        return ExitCode::from(2);
    };
    match policy_file::read(Path::new(&path)) {
        Ok(json) => {
            print!("{}", policy_file::module(&path, &json));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("entra-gate-check: policy file {e}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("bundle-policy") {
        return bundle_policy(std::env::args().nth(2));
    }
    let options = match options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("entra-gate-check: {e}");
            return ExitCode::from(2);
        }
    };
    let text = match std::fs::read_to_string(&options.config) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("entra-gate-check: {}: {e}", options.config.display());
            return ExitCode::from(2);
        }
    };
    let environment = match wrangler::environment(&text, options.env.as_deref()) {
        Ok(environment) => environment,
        Err(e) => {
            eprintln!("entra-gate-check: {e}");
            return ExitCode::from(2);
        }
    };
    let mut vars: BTreeMap<String, String> = environment.vars.clone();
    let mut warnings = Vec::new();
    if vars.contains_key(binding::SECRET) {
        warnings.push(format!(
            "{}: in [vars] it is plain text in wrangler.toml; use wrangler secret put",
            binding::SECRET
        ));
    }
    // The previous key may be public (then [vars] is fine); a private one is a secret.
    if vars
        .get(binding::ASSERTION_PREVIOUS_KEY)
        .is_some_and(|jwk| jwk.contains("\"d\""))
    {
        warnings.push(format!(
            "{}: a private key in [vars] is plain text in wrangler.toml; publish only its \
             public part (drop d) or use wrangler secret put",
            binding::ASSERTION_PREVIOUS_KEY
        ));
    }
    // Secrets (.dev.vars) override vars of the same name, as in `wrangler dev`.
    if let Some(path) = dev_vars_path(&options) {
        match std::fs::read_to_string(&path) {
            Ok(text) => vars.extend(dev_vars::parse(&text)),
            Err(e) => warnings.push(format!("{}: unreadable ({e})", path.display())),
        }
    }
    vars.extend(options.vars.iter().cloned());
    if !vars.contains_key(binding::SECRET) {
        warnings.push(format!(
            "{}: not found locally; before deploying: openssl rand -base64 32 | npx wrangler \
             secret put {}{}",
            binding::SECRET,
            binding::SECRET,
            options
                .env
                .as_ref()
                .map(|e| format!(" --env {e}"))
                .unwrap_or_default()
        ));
        vars.insert(binding::SECRET.into(), STAND_IN_SECRET.into());
    }

    let kv = |name: &str| {
        if environment.kv.iter().any(|k| k == name) {
            KvBinding::Namespace
        } else if vars.contains_key(name) || environment.analytics.iter().any(|a| a == name) {
            KvBinding::Other
        } else {
            KvBinding::Absent
        }
    };
    let mut problems: Vec<String> = Vec::new();
    // The file the build command bundles, read as the build reads it (relative to the
    // repository root, where scripts/check.sh runs).
    let policy_path = environment
        .build_command
        .as_deref()
        .and_then(policy_file::from_build_command);
    let policy_json = policy_path.as_ref().and_then(|path| {
        policy_file::read(Path::new(path))
            .map_err(|e| problems.push(format!("{}: {e}", binding::POLICY_FILE)))
            .ok()
    });
    let bundled = policy_path
        .as_deref()
        .zip(policy_json.as_deref())
        .map(|(path, json)| PolicyFile { path, json });
    let loaded = from_bindings_and_policy_file(|name| vars.get(name).cloned(), bundled);
    let config = match loaded {
        Ok(config) => {
            problems.extend(
                rate_limit_binding_problems(&config, |name| {
                    environment.ratelimits.iter().any(|r| r == name)
                })
                .iter()
                .map(ToString::to_string),
            );
            problems.extend(
                service_binding_problems(&config, |name| {
                    environment.services.iter().any(|s| s == name)
                })
                .iter()
                .map(ToString::to_string),
            );
            Some(config)
        }
        Err(found) => {
            problems.extend(found.iter().map(ToString::to_string));
            None
        }
    };
    problems.extend(
        kv_binding_problems(kv(binding::JWKS_KV), kv(binding::REVOCATIONS_KV))
            .iter()
            .map(ToString::to_string),
    );
    warnings.extend(warnings::warnings(&vars, bundled, config.as_ref()));
    if let Some(config) = &config {
        warnings.extend(fit::warnings(&environment, config));
    }

    let scope = options
        .env
        .as_ref()
        .map_or_else(|| "the top level".to_owned(), |e| format!("[env.{e}]"));
    if options.json {
        let report = serde_json::json!({ "problems": problems, "warnings": warnings });
        println!("{report}");
    } else {
        for problem in &problems {
            println!("problem: {problem}");
        }
        for warning in &warnings {
            println!("warning: {warning}");
        }
        println!(
            "{}: {} problem(s), {} warning(s) in {} of {}",
            if problems.is_empty() { "ok" } else { "FAILED" },
            problems.len(),
            warnings.len(),
            scope,
            options.config.display()
        );
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
