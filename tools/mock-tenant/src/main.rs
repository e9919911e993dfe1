//! `mock-tenant`: a local Entra tenant for development and tests.
//!
//! ```text
//! mock-tenant serve --state DIR [--port N] [--tenant GUID] [--port-file FILE]
//! mock-tenant mint  --state DIR --authority URL [--ver 1|2] [--kind user|app] [--aud AUD]
//!                   [--tid GUID] [--key KID] [--lifetime SECONDS]
//!                   [--claim NAME=VALUE]... [--header NAME=VALUE]...
//!                   [--raw-header JSON] [--raw-claims JSON]
//! mock-tenant keygen --kid KID [--bits N]      (prints a PKCS#8 PEM private key)
//! ```
//! `--claim`/`--header` values are read as JSON when they parse as JSON (numbers, arrays,
//! `null` to remove), else as strings.

use mock_tenant::server::MockServer;
use mock_tenant::{MintRequest, SigningKey, TenantState};
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-tenant: {e}");
            ExitCode::from(2)
        }
    }
}

struct Options {
    values: Vec<(String, String)>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut values = Vec::new();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let name = flag
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument {flag:?}"))?;
            let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
            values.push((name.to_owned(), value.clone()));
        }
        Ok(Options { values })
    }

    fn one(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.values
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn state_dir(&self) -> Result<PathBuf, String> {
        self.one("state")
            .map(PathBuf::from)
            .ok_or_else(|| "--state DIR is required".into())
    }
}

fn json_or_string(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

fn pairs(options: &Options, flag: &str) -> Result<serde_json::Map<String, Value>, String> {
    options
        .all(flag)
        .map(|pair| {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("--{flag} wants NAME=VALUE, got {pair:?}"))?;
            Ok((name.to_owned(), json_or_string(value)))
        })
        .collect()
}

fn run(args: &[String]) -> Result<(), String> {
    let (command, rest) = args
        .split_first()
        .ok_or("usage: mock-tenant serve|mint|keygen ...")?;
    let options = Options::parse(rest)?;
    match command.as_str() {
        "serve" => {
            let state = TenantState::load_or_create(&options.state_dir()?, options.one("tenant"))?;
            let port: u16 = options
                .one("port")
                .unwrap_or("0")
                .parse()
                .map_err(|_| "--port is not a port")?;
            let tenant_id = state.tenant_id.clone();
            let server = MockServer::bind(state, port)?;
            if let Some(file) = options.one("port-file") {
                let port = server.base_url.rsplit(':').next().unwrap_or_default();
                std::fs::write(file, port).map_err(|e| format!("{file}: {e}"))?;
            }
            println!("mock tenant {tenant_id} listening on {}", server.base_url);
            server.run();
            Ok(())
        }
        "mint" => {
            let state = TenantState::load_or_create(&options.state_dir()?, None)?;
            let authority = options
                .one("authority")
                .ok_or("--authority URL is required")?;
            let request = MintRequest {
                ver: serde_json::from_value(Value::String(
                    options.one("ver").unwrap_or("2.0").to_owned(),
                ))
                .map_err(|_| "--ver is 1 or 2")?,
                kind: serde_json::from_value(Value::String(
                    options.one("kind").unwrap_or("user").to_owned(),
                ))
                .map_err(|_| "--kind is user or app")?,
                tid: options.one("tid").map(str::to_owned),
                aud: options.one("aud").map(str::to_owned),
                key: options.one("key").map(str::to_owned),
                lifetime: options
                    .one("lifetime")
                    .map(|l| l.parse().map_err(|_| "--lifetime is seconds"))
                    .transpose()?,
                claims: pairs(&options, "claim")?,
                header: pairs(&options, "header")?,
                raw_header: options.one("raw-header").map(str::to_owned),
                raw_claims: options.one("raw-claims").map(str::to_owned),
            };
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or_default();
            println!("{}", state.mint(&request, authority, now)?);
            Ok(())
        }
        "keygen" => {
            let kid = options.one("kid").ok_or("--kid is required")?;
            let bits: usize = options
                .one("bits")
                .unwrap_or("2048")
                .parse()
                .map_err(|_| "--bits is a number")?;
            print!("{}", SigningKey::generate(kid, bits)?.to_pem()?);
            Ok(())
        }
        other => Err(format!("unknown command {other:?}")),
    }
}
