//! The policy file: TOML in the repository, bundled into the Worker as JSON text by
//! `scripts/build.sh --policy FILE` (through `entra-gate-check bundle-policy`), and read by the
//! check from the same file with the same conversion, so both see one document.

use std::path::Path;

/// What `scripts/build.sh` bundles when its command names no `--policy`.
pub const DEFAULT_PATH: &str = "policy.toml";

/// The policy file a wrangler `build.command` bundles: `None` when the command is not the
/// project's build script (then no file is bundled and only `GATE_POLICY` can set a policy).
pub fn from_build_command(command: &str) -> Option<String> {
    let mut words = command.split_whitespace();
    words.by_ref().find(|w| w.ends_with("scripts/build.sh"))?;
    while let Some(word) = words.next() {
        if word == "--policy" {
            return words.next().map(str::to_owned);
        }
        if let Some(path) = word.strip_prefix("--policy=") {
            return Some(path.to_owned());
        }
    }
    Some(DEFAULT_PATH.to_owned())
}

/// The file's TOML as the JSON document the Worker's policy loader reads.
pub fn to_json(toml_text: &str) -> Result<String, String> {
    let table: toml::Table = toml_text.parse().map_err(|e| format!("not TOML: {e}"))?;
    serde_json::to_string(&table).map_err(|e| e.to_string())
}

/// Reads and converts the file at `path`.
pub fn read(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    to_json(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The ES module that takes the place of `src/edge/policy.mjs` in the bundle: the file's path
/// (to name it in problems) and its JSON, as string literals (a JSON string is a JavaScript
/// string literal).
pub fn module(path: &str, json: &str) -> String {
    let quote = |text: &str| serde_json::Value::from(text).to_string();
    format!(
        "export function bundledPolicyPath() {{\n  return {};\n}}\n\n\
         export function bundledPolicyJson() {{\n  return {};\n}}\n",
        quote(path),
        quote(json)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_command_names_the_file() {
        let cases = [
            ("bash scripts/build.sh", Some(DEFAULT_PATH)),
            (
                "bash scripts/build.sh --policy policy/prod.toml",
                Some("policy/prod.toml"),
            ),
            (
                "bash ../scripts/build.sh --out x --policy=p.toml",
                Some("p.toml"),
            ),
            ("bash scripts/build.sh --policy", None),
            ("npm run build --policy p.toml", None),
            ("", None),
        ];
        for (command, expected) in cases {
            assert_eq!(
                from_build_command(command).as_deref(),
                expected,
                "{command}"
            );
        }
    }

    #[test]
    fn toml_becomes_the_json_the_worker_reads() {
        let json =
            to_json("default = \"deny\"\n[[routes]]\nname = \"a\"\npath = \"/a\"\npublic = true\n")
                .expect("converts");
        assert_eq!(
            json,
            r#"{"default":"deny","routes":[{"name":"a","path":"/a","public":true}]}"#
        );
        assert!(to_json("default = ").is_err());
    }

    #[test]
    fn the_module_quotes_what_it_carries() {
        let module = module("p\"1.toml", r#"{"a":"b\\c"}"#);
        assert_eq!(
            module,
            r#"export function bundledPolicyPath() {
  return "p\"1.toml";
}

export function bundledPolicyJson() {
  return "{\"a\":\"b\\\\c\"}";
}
"#
        );
    }
}
