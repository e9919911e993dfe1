//! The attack corpus (tests/data/attack-corpus.json, made by scripts/gen-corpus.mjs) through the
//! whole verification walk: `gate::intake` then `gate::verify`, with the pure-Rust verifier, the
//! test keys published as the corpus's tenant publishes them, and a fixed clock. Every case must
//! get exactly its expected answer (status and reason; 200 = accepted).
//!
//! The same file runs through the built worker under workerd in tests/e2e/attack.test.mjs, as do
//! the path cases (tests/data/attack-corpus-paths.json) and the KV record cases
//! (tests/data/attack-corpus-kv.json) below.

// Native only: the file system, pollster and the mock tenant are not there in the wasm test run.
#![cfg(not(target_arch = "wasm32"))]

use entra_gate_core::refuse;
use entra_gate_core::sources;
use entra_gate_core::CanonicalPath;
use entra_gate_core::GateSecret;
use entra_gate_core::RustHmac;
use entra_gate_core::RustVerifier;
use entra_gate_core::UnixTime;
use entra_gate_core::VerifiedIdentity;
use entra_gate_core::{content_hash, seal_json, StoredKeySet, StoredSource};
use entra_gate_core::{intake, verify, VerifyError};
use entra_gate_core::{Reason, Stage};
use entra_gate_core::{RequestTarget, TargetError};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

#[path = "support/corpus_tenant.rs"]
mod corpus_tenant;
use corpus_tenant::{
    config, key_record, signing_keys, Prepared, NOW_SECONDS, OTHER_TID, TEST_SECRET,
};

pub struct Case {
    pub name: String,
    pub authorization: Option<String>,
    pub status: u16,
    pub reason: Option<String>,
}

pub fn corpus() -> Vec<Case> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/attack-corpus.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cases: Vec<Value> = serde_json::from_str(&text).expect("corpus JSON");
    cases
        .iter()
        .map(|c| Case {
            name: c["name"].as_str().expect("name").to_owned(),
            authorization: c["authorization"].as_str().map(str::to_owned),
            status: c["expect"]["status"].as_u64().expect("status") as u16,
            reason: c["expect"]["reason"].as_str().map(str::to_owned),
        })
        .collect()
}

fn reason_named(code: &str) -> Reason {
    *Reason::ALL
        .iter()
        .find(|r| r.code() == code)
        .unwrap_or_else(|| panic!("no reason {code:?}"))
}

/// The status and reason code the worker would answer with.
fn answer_for(outcome: &Result<VerifiedIdentity, VerifyError>) -> (u16, Option<&'static str>) {
    match outcome {
        Ok(_) => (200, None),
        Err(denial) => {
            let reason = denial.reason();
            (
                refuse(reason, "entra-gate", "req").status,
                Some(reason.code()),
            )
        }
    }
}

#[test]
fn every_corpus_case_gets_its_answer() {
    let config = config();
    let built = key_record(&signing_keys())
        .build::<Prepared>(&config)
        .expect("the test keys build a key set");
    assert!(built.notes.is_empty(), "{:?}", built.notes);
    assert_eq!(built.keys.len(), 3);
    let cases = corpus();
    assert!(cases.len() >= 300, "only {} cases", cases.len());

    let mut failures = Vec::new();
    for case in &cases {
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let outcome =
                intake(case.authorization.as_deref(), config.max_token_bytes).and_then(|token| {
                    pollster::block_on(verify(
                        token,
                        &built.keys,
                        &RustVerifier,
                        &built.rules,
                        UnixTime(NOW_SECONDS),
                    ))
                });
            let detail = match &outcome {
                Ok(id) => format!("accepted (kid {})", id.kid()),
                Err(denial) => denial.to_string(),
            };
            let (status, reason) = answer_for(&outcome);
            (status, reason.map(str::to_owned), detail)
        }));
        match run {
            Err(_) => failures.push(format!("{}: PANICKED", case.name)),
            Ok((status, reason, detail)) => {
                if (status, &reason) != (case.status, &case.reason) {
                    failures.push(format!(
                        "{}: expected {} {:?}, got {status} {reason:?} ({detail})",
                        case.name, case.status, case.reason
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus cases got another answer:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Each expectation names a real reason with the status the answer table gives it, and the
/// corpus reaches every reason a single-tenant deployment can give for a token.
#[test]
fn corpus_expectations_are_consistent_and_complete() {
    let cases = corpus();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for case in &cases {
        match &case.reason {
            None => assert_eq!(case.status, 200, "{}", case.name),
            Some(code) => {
                let reason = reason_named(code);
                assert_eq!(
                    refuse(reason, "entra-gate", "req").status,
                    case.status,
                    "{}",
                    case.name
                );
                *seen.entry(reason.code()).or_default() += 1;
            }
        }
    }
    let missing: Vec<_> = Reason::ALL
        .iter()
        .filter(|r| r.stage() == Stage::Token)
        // Needs an allow-list of tenants: not this deployment.
        .filter(|r| **r != Reason::TenantNotAllowed)
        .filter(|r| !seen.contains_key(r.code()))
        .collect();
    assert!(missing.is_empty(), "no corpus case for {missing:?}");
}

fn load_json(file: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("corpus JSON")
}

/// tests/data/attack-corpus-paths.json: every request target gets its answer, and what is
/// forwarded is exactly the canonical path the policy would match (one value for both).
#[test]
fn every_path_case_gets_its_answer() {
    let cases = load_json("attack-corpus-paths.json");
    assert!(cases.len() >= 40, "only {} path cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().expect("name");
        let target = case["target"].as_str().expect("target");
        let expect = &case["expect"];
        let got = RequestTarget::from_url(&format!("http://gateway.test{target}"));
        let (status, reason, forwarded) = match &got {
            Ok(t) => {
                let query = t
                    .query
                    .as_ref()
                    .map(|q| format!("?{q}"))
                    .unwrap_or_default();
                (200, None, Some(format!("{}{query}", t.path)))
            }
            Err(TargetError::Path(_)) => (400, Some(Reason::PathAmbiguous.code()), None),
            Err(TargetError::Unreadable) => (400, Some(Reason::RequestUnreadable.code()), None),
        };
        let want = (
            expect["status"].as_u64().map(|s| s as u16),
            expect["reason"].as_str(),
            expect["forwarded"].as_str().map(str::to_owned),
        );
        if (Some(status), reason, forwarded.clone()) != want {
            failures.push(format!("{name}: {target} expected {want:?}, got {got:?}"));
        }
        if let Ok(t) = &got {
            let again = CanonicalPath::parse(t.path.as_str());
            assert_eq!(again.as_ref(), Ok(&t.path), "{name}: not a fixed point");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// tests/data/attack-corpus-kv.json: key records someone who can write the JWKS namespace could
/// store, materialised for this deployment and sealed as each case says; only the believed ones
/// may open.
#[test]
fn every_kv_record_case_is_believed_or_refused_as_expected() {
    let config = config();
    let source = sources(&config).remove(0);
    let authority = config.authority.as_str().trim_end_matches('/').to_owned();
    let host = source
        .id
        .split_once('/')
        .map(|(host, _)| host.to_owned())
        .expect("set id");
    let secret = GateSecret::parse(TEST_SECRET).expect("test secret");
    let gateway = RustHmac::new(secret.as_bytes());
    let stranger = RustHmac::new(&[7u8; 32]);
    let other_key = format!("jwks:{host}/{OTHER_TID}");
    let cases = load_json("attack-corpus-kv.json");
    assert!(cases.len() >= 15, "only {} KV cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().expect("name");
        let json = materialize(&case["record"], &authority, &host, NOW_SECONDS).to_string();
        let sealed = |kv_key: &str, hmac: &RustHmac| {
            pollster::block_on(seal_json(kv_key, &json, hmac)).expect("sealed")
        };
        let text = match case["seal"].as_str().expect("seal") {
            "gateway" => sealed(&source.kv_key(), &gateway),
            "other-secret" => sealed(&source.kv_key(), &stranger),
            "other-key" => sealed(&other_key, &gateway),
            "none" => json.clone(),
            other => panic!("{name}: unknown seal {other}"),
        };
        let opened = pollster::block_on(StoredKeySet::open(
            text.as_bytes(),
            &source,
            &config,
            &gateway,
            UnixTime(NOW_SECONDS),
            None,
        ));
        let want = case["expect"]["believed"].as_bool().expect("believed");
        if opened.is_ok() != want {
            failures.push(format!("{name}: expected believed={want}, got {opened:?}"));
        }
        if let Ok(record) = opened {
            let built = record
                .build::<Prepared>(&config)
                .expect("a believed record builds");
            assert!(built.keys.get("attacker-key").is_none(), "{name}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The corpus's record templates (see scripts/corpus/kv-records.mjs): `{authority}` and `{host}`
/// in strings, `{"now": offset}` times, and `"{computed}"` for the true content hash.
fn materialize(template: &Value, authority: &str, host: &str, now: i64) -> Value {
    fn walk(value: &Value, authority: &str, host: &str, now: i64) -> Value {
        match value {
            Value::String(s) => {
                Value::String(s.replace("{authority}", authority).replace("{host}", host))
            }
            Value::Object(map) if map.len() == 1 && map.contains_key("now") => {
                Value::from(now + map["now"].as_i64().expect("offset"))
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), walk(v, authority, host, now)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| walk(v, authority, host, now))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    let mut record = walk(template, authority, host, now);
    if record["content_hash"] == "{computed}" {
        // The sources as the record reader reads them, inside an otherwise empty record.
        let shell = serde_json::json!({
            "format": 0, "set": "", "fetched_at": 0, "checked_at": 0, "content_hash": "",
            "sources": record["sources"].clone(),
        });
        let sources: Vec<StoredSource> = StoredKeySet::from_json(shell.to_string().as_bytes())
            .expect("sources")
            .sources;
        record["content_hash"] = Value::from(content_hash(&sources));
    }
    record
}
