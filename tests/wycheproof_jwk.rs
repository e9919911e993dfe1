//! Wycheproof's JSON Web Key vectors through JWKS intake and the signature stage.
//!
//! Wycheproof asks of a general JOSE library which tokens verify under which key sets. The
//! gateway is narrower: RS256 only, from RSA keys that pass intake. So most "valid" vectors
//! (HMAC) are refused here by design, and the table below states the outcome the gateway must
//! give for each case. The payloads are not claim sets, so the walk stops after the signature.

// Native only: the file system, pollster and the mock tenant are not there in the wasm test run
// (tests/webcrypto_wycheproof.rs covers the vectors under V8).
#![cfg(not(target_arch = "wasm32"))]

use entra_gate_core::internal::verify_signature;
use entra_gate_core::KeySet;
use entra_gate_core::Reason;
use entra_gate_core::RustVerifier;
use entra_gate_core::SigningAlgorithm;
use entra_gate_core::UntrustedToken;
use entra_gate_core::{parse_jwks, JwksLimits};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

use Reason::{AlgorithmNotAllowed as Alg, MalformedJws, UnknownKid};

/// One case: what intake skipped from its group's key set, and what the token gets.
struct Row {
    tc: u64,
    skipped: &'static [&'static str],
    outcome: Result<(), Reason>,
}

const fn row(tc: u64, skipped: &'static [&'static str], outcome: Result<(), Reason>) -> Row {
    Row {
        tc,
        skipped,
        outcome,
    }
}

const PRIVATE: &str = "private_material";

// The algorithm check runs before the key lookup, so every non-RS256 token is `alg_not_allowed`
// whatever its key set holds; the skip column shows that the keys would not have served anyway.
const TABLE: &[Row] = &[
    // Mixed set, HMAC token: the oct key carries `k` (secret material), the EC key is not RSA.
    row(1, &[PRIVATE, "not_rsa"], Err(Alg)),
    // HS256 "valid" and its tampered twin: HMAC is never accepted, the secret keys never taken.
    row(2, &[PRIVATE, PRIVATE], Err(Alg)),
    row(3, &[PRIVATE, PRIVATE], Err(Alg)),
    // Duplicate kid: both copies are secret keys, skipped as such before kid uniqueness matters.
    row(4, &[PRIVATE, PRIVATE], Err(Alg)),
    // The one case the gateway accepts: RS256 from a 2048-bit, use=sig, alg=RS256 public key.
    row(5, &[], Ok(())),
    // The same key published with use=enc is not a signing key, so its kid is unknown.
    row(6, &["not_for_signatures"], Err(UnknownKid)),
    // An Infineon (ROCA, CVE-2017-15361) modulus is refused at intake: kid unknown.
    row(7, &["roca_fingerprint"], Err(UnknownKid)),
    // 1024-bit key refused at intake; the token itself has an empty payload, which the parser
    // refuses before any key is looked up (an access token always has claims).
    row(8, &["modulus_size"], Err(MalformedJws)),
    // e = 1 (signature equals the padded message) refused at intake; empty payload as above.
    row(9, &["exponent_not_65537"], Err(MalformedJws)),
    // HMAC with short, long and empty secrets: all refused by algorithm; the keys are secret.
    row(10, &[PRIVATE], Err(Alg)),
    row(11, &[PRIVATE], Err(Alg)),
    row(12, &[PRIVATE], Err(Alg)),
    row(13, &[PRIVATE], Err(Alg)),
    row(14, &[PRIVATE], Err(Alg)),
    row(15, &[PRIVATE], Err(Alg)),
    row(16, &[PRIVATE], Err(Alg)),
    row(17, &[PRIVATE], Err(Alg)),
    row(18, &[PRIVATE], Err(Alg)),
    // EC keys (public sets) with mismatched alg/curve, wrong use, off-curve point, wrong curve:
    // never RSA, and ES256 tokens are refused by algorithm.
    row(19, &["not_rsa"], Err(Alg)),
    row(20, &["not_rsa"], Err(Alg)),
    row(21, &["not_rsa"], Err(Alg)),
    row(22, &["not_rsa"], Err(Alg)),
    row(23, &["not_rsa"], Err(Alg)),
    // kty says RSA but the members are EC's: its alg (ES256) is caught before the missing `n`.
    row(24, &["wrong_algorithm"], Err(Alg)),
    // AES keys offered for HS256: secret material, and HMAC is refused anyway.
    row(25, &[PRIVATE], Err(Alg)),
    row(26, &[PRIVATE], Err(Alg)),
];

fn load() -> Value {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/wycheproof/json_web_key_test.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("json_web_key_test.json")
}

/// Per tcId: the group's skip codes, the kids that survived intake, and the token's outcome.
type Actual = (Vec<&'static str>, Vec<String>, Result<(), Reason>);

fn actual_outcomes() -> BTreeMap<u64, Actual> {
    let doc = load();
    let mut out = BTreeMap::new();
    for group in doc["testGroups"].as_array().expect("testGroups") {
        // A verifier only ever sees the public half; groups without one offer their private set,
        // which is what a misconfigured tenant could publish.
        let set = group.get("public").unwrap_or(&group["private"]);
        let intake = parse_jwks(set.to_string().as_bytes(), &JwksLimits::default())
            .expect("every group is a JWK set");
        let skipped: Vec<_> = intake.skipped.iter().map(|s| s.why.code()).collect();
        let keys = KeySet::from_keys(intake.keys);
        let kids: Vec<String> = keys.kids().map(str::to_owned).collect();
        for case in group["tests"].as_array().expect("tests") {
            let tc = case["tcId"].as_u64().expect("tcId");
            let jws = case["jws"].as_str().expect("compact jws");
            let outcome = match UntrustedToken::parse(jws, 16384) {
                Err(e) => Err(e.reason()),
                Ok(token) => pollster::block_on(verify_signature(
                    token,
                    SigningAlgorithm::Rs256,
                    &keys,
                    &RustVerifier,
                ))
                .map(|_| ())
                .map_err(|e| e.reason()),
            };
            let previous = out.insert(tc, (skipped.clone(), kids.clone(), outcome));
            assert!(previous.is_none(), "tcId {tc} twice");
        }
    }
    assert_eq!(Some(out.len() as u64), doc["numberOfTests"].as_u64());
    out
}

#[test]
fn every_case_has_the_intended_outcome() {
    let actual = actual_outcomes();
    let table: BTreeMap<u64, &Row> = TABLE.iter().map(|r| (r.tc, r)).collect();
    assert_eq!(
        table.len(),
        TABLE.len(),
        "a tcId appears twice in the table"
    );
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        table.keys().collect::<Vec<_>>(),
        "the table covers exactly the file's cases"
    );
    let mut wrong = Vec::new();
    for (tc, (skipped, _, outcome)) in &actual {
        let row = table[tc];
        if skipped != row.skipped || *outcome != row.outcome {
            wrong.push(format!(
                "tcId {tc}: skipped {skipped:?}, outcome {outcome:?}; table says {:?}, {:?}",
                row.skipped, row.outcome
            ));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn only_the_sound_rsa_key_is_ever_usable() {
    // Stronger than the outcomes: tc 8 and 9 stop at the parser, so check directly that no key
    // but the plain RS256 one survives intake in any group.
    for (tc, (_, kids, _)) in actual_outcomes() {
        let expected: &[&str] = if tc == 5 { &["kid-rsa-sign"] } else { &[] };
        assert_eq!(kids, expected, "tcId {tc}");
    }
}
