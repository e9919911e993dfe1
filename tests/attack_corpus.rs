//! The attack corpus (tests/data/attack-corpus.json, made by scripts/gen-corpus.mjs) through the
//! whole verification walk: `gate::intake` then `gate::verify`, with the pure-Rust verifier, the
//! test keys published as the corpus's tenant publishes them, and a fixed clock. Every case must
//! get exactly its expected answer (status and reason; 200 = accepted).
//!
//! The same file runs through the built worker under workerd in tests/e2e/attack.test.mjs.

// Native only: the file system, pollster and the mock tenant are not there in the wasm test run.
#![cfg(not(target_arch = "wasm32"))]

use entra_gate::core::answer;
use entra_gate::core::crypto::RustVerifier;
use entra_gate::core::gate::{intake, verify, Denial};
use entra_gate::core::identity::VerifiedIdentity;
use entra_gate::core::reason::{Reason, Stage};
use entra_gate::core::time::UnixTime;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

#[path = "support/corpus_tenant.rs"]
mod corpus_tenant;
use corpus_tenant::{config, key_record, signing_keys, Prepared, NOW_SECONDS};

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
fn answer_for(outcome: &Result<VerifiedIdentity, Denial>) -> (u16, Option<&'static str>) {
    match outcome {
        Ok(_) => (200, None),
        Err(denial) => {
            let reason = denial.reason();
            (
                answer::refuse(reason, "entra-gate", "req").status,
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
                Ok(id) => format!("accepted (kid {})", id.kid),
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
                    answer::refuse(reason, "entra-gate", "req").status,
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
