use entra_gate::core::crypto::RustVerifier;
use entra_gate::core::jwks::{parse_jwks, JwksLimits};
use entra_gate::core::jws::{verify_signature, SigningAlgorithm};
use entra_gate::core::keyset::KeySet;
use entra_gate::core::token::UntrustedToken;
use serde_json::Value;
use std::path::Path;

#[test]
fn explore() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/wycheproof/json_web_key_test.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for g in doc["testGroups"].as_array().unwrap() {
        let set = g.get("public").unwrap_or(&g["private"]);
        let intake = parse_jwks(set.to_string().as_bytes(), &JwksLimits::default());
        let intake = match intake { Ok(i) => i, Err(e) => { eprintln!("group {} jwks err {e:?}", g["comment"]); continue } };
        let skips: Vec<_> = intake.skipped.iter().map(|s| (s.kid.clone(), s.why.code(), s.why.to_string())).collect();
        let keys = KeySet::from_keys(intake.keys);
        for t in g["tests"].as_array().unwrap() {
            let jws = t["jws"].as_str().unwrap();
            let out = match UntrustedToken::parse(jws, 16384) {
                Err(e) => format!("parse {:?} {e:?}", e.reason()),
                Ok(tok) => match pollster::block_on(verify_signature(tok, SigningAlgorithm::Rs256, &keys, &RustVerifier)) {
                    Ok(p) => format!("OK kid={}", p.kid),
                    Err(e) => format!("{:?} {e:?}", e.reason()),
                },
            };
            eprintln!("tc {} {} [{}] keys={:?} skips={:?} => {out}", t["tcId"], t["result"], g["comment"], keys, skips);
        }
    }
}
