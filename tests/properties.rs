//! Properties of the verification walk and of identity-header stripping, checked on generated
//! inputs (proptest):
//!
//! - accepted ⇒ valid: any token the gateway accepts carries a signature that an independent
//!   RS256 implementation (the `rsa` crate, not the project's `SignatureVerifier`) verifies
//!   under the key its `kid` names, and claims that an independent reading finds acceptable;
//! - decisions are deterministic: the same request, keys and time always get the same answer,
//!   whether the key set is fresh or has its keys prepared already;
//! - header stripping is total: every header whose name starts with the identity prefix, in any
//!   mix of case and with any suffix, is reserved; nothing else is; and every identity header
//!   the gateway sends is a reserved name.
//!
//! `PROPTEST_CASES` raises the case counts (defaults keep the debug-build test run short: each
//! generated token is signed with a 2048-bit key).

// Native only: the file system, pollster and the mock tenant are not there in the wasm test run.
#![cfg(not(target_arch = "wasm32"))]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use entra_gate_core::ClaimRules;
use entra_gate_core::KeySet;
use entra_gate_core::Reason;
use entra_gate_core::RustVerifier;
use entra_gate_core::UnixTime;
use entra_gate_core::{intake, verify};
use entra_gate_core::{IdentityHeaders, DEFAULT_PREFIX, FIXED_IDENTITY_HEADERS as FIXED};
use entra_gate_core::{TokenKind, TokenVersion, VerifiedIdentity};
use mock_tenant::mint::{standard_header, DEFAULT_CLIENT_ID};
use mock_tenant::{compact, standard_claims, Kind, SigningKey, Version};
use proptest::prelude::*;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::sha2::Sha256;
use rsa::signature::Verifier as _;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

#[path = "support/corpus_tenant.rs"]
mod corpus_tenant;
use corpus_tenant::{
    config, key_record, v1_issuer, v2_issuer, Prepared, API_CLIENT_ID, API_URI, KIDS,
    NOW_SECONDS as NOW, OTHER_TID, SKEW, TID,
};

const MAX_TOKEN_BYTES: usize = 16384;

/// The corpus tenant's signing keys, loaded once for all cases.
fn signing_keys() -> &'static [SigningKey] {
    static KEYS: OnceLock<Vec<SigningKey>> = OnceLock::new();
    KEYS.get_or_init(corpus_tenant::signing_keys)
}

/// A fresh key set (nothing prepared yet) and the claim rules, built by the worker's own path.
fn deployment() -> (KeySet<Prepared>, ClaimRules) {
    let built = key_record(signing_keys())
        .build::<Prepared>(&config())
        .expect("keys");
    (built.keys, built.rules)
}

fn decide(
    authorization: &str,
    keys: &KeySet<Prepared>,
    rules: &ClaimRules,
) -> Result<VerifiedIdentity, Reason> {
    intake(Some(authorization), MAX_TOKEN_BYTES)
        .and_then(|t| pollster::block_on(verify(t, keys, &RustVerifier, rules, UnixTime(NOW))))
        .map_err(|d| d.reason())
}

/// One member edit: remove it, or set it to a value.
#[derive(Debug, Clone)]
enum Edit {
    Remove,
    Set(Value),
}

fn claim_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!(true)),
        Just(json!(0)),
        Just(json!("attacker")),
        Just(json!(TID)),
        Just(json!(OTHER_TID)),
        Just(json!(API_URI)),
        Just(json!(format!("{API_URI}/"))),
        Just(json!(API_CLIENT_ID)),
        Just(json!([
            API_CLIENT_ID,
            "00000003-0000-0000-c000-000000000000"
        ])),
        Just(json!(v2_issuer(TID))),
        Just(json!(v1_issuer(TID))),
        Just(json!(v2_issuer(OTHER_TID))),
        Just(json!("1.0")),
        Just(json!("2.0")),
        Just(json!("app")),
        Just(json!("user")),
        Just(json!(["Items.Read"])),
        Just(json!(DEFAULT_CLIENT_ID)),
        (NOW - 7200..NOW + 7200).prop_map(|t| json!(t)),
        (-1e12f64..1e12).prop_map(|t| json!(t)),
        "[ -~]{0,12}".prop_map(|s| json!(s)),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        1 => Just(Edit::Remove),
        3 => claim_value().prop_map(Edit::Set),
    ]
}

const CLAIMS: [&str; 15] = [
    "aud", "iss", "iat", "nbf", "exp", "azp", "appid", "oid", "sub", "tid", "ver", "scp", "roles",
    "idtyp", "nonce",
];

/// Everything that makes one generated request.
#[derive(Debug, Clone)]
struct Recipe {
    version: Version,
    app: bool,
    signer: usize,
    header_kid: usize,
    alg: &'static str,
    header_extra: Option<(&'static str, Value)>,
    /// Up to three members of the claims edited (by index into CLAIMS).
    edits: Vec<(usize, Edit)>,
    /// Replace one character of the finished token (position modulo length, new character).
    tamper: Option<(usize, char)>,
    scheme: &'static str,
}

fn recipe() -> impl Strategy<Value = Recipe> {
    (
        (
            prop_oneof![Just(Version::V1), Just(Version::V2)],
            any::<bool>(),
        ),
        // Mostly test-key-1 and -2 under their own kid, so that many tokens get past the
        // signature; sometimes the other tenant's key, sometimes another key's kid.
        (
            prop_oneof![9 => Just(0usize), 9 => Just(1usize), 2 => Just(2usize)],
            prop_oneof![17 => Just(false), 3 => Just(true)],
        ),
        prop_oneof![
            8 => Just("RS256"),
            1 => Just("none"),
            1 => Just("HS256"),
            1 => Just("rs256"),
        ],
        proptest::option::weighted(
            0.2,
            (
                prop_oneof![
                    Just("nonce"),
                    Just("jku"),
                    Just("typ"),
                    Just("crit"),
                    Just("x5t"),
                ],
                claim_value(),
            ),
        ),
        proptest::collection::vec((0..CLAIMS.len(), edit()), 0..=3),
        proptest::option::weighted(
            0.2,
            (
                any::<usize>(),
                prop_oneof![
                    Just('A'),
                    Just('_'),
                    Just('-'),
                    Just('.'),
                    Just('='),
                    Just('+')
                ],
            ),
        ),
        prop_oneof![Just("Bearer "), Just("bearer  "), Just("BEARER ")],
    )
        .prop_map(
            |((version, app), (signer, other_kid), alg, header_extra, edits, tamper, scheme)| {
                Recipe {
                    version,
                    app,
                    signer,
                    header_kid: if other_kid { (signer + 1) % 3 } else { signer },
                    alg,
                    header_extra,
                    edits,
                    tamper,
                    scheme,
                }
            },
        )
}

fn build(recipe: &Recipe) -> String {
    let keys = signing_keys();
    let signer = &keys[recipe.signer];
    let aud = if recipe.version == Version::V1 {
        API_URI
    } else {
        API_CLIENT_ID
    };
    let kind = if recipe.app { Kind::App } else { Kind::User };
    let mut claims: Map<String, Value> =
        standard_claims(recipe.version, kind, TID, &v2_issuer(TID), aud, NOW, 3600);
    for (index, edit) in &recipe.edits {
        let name = CLAIMS[*index];
        match edit {
            Edit::Remove => {
                claims.remove(name);
            }
            Edit::Set(value) => {
                claims.insert(name.to_owned(), value.clone());
            }
        }
    }
    let mut header = standard_header(recipe.version, signer);
    header.insert("kid".into(), json!(KIDS[recipe.header_kid]));
    header.insert("alg".into(), json!(recipe.alg));
    if let Some((name, value)) = &recipe.header_extra {
        header.insert((*name).to_owned(), value.clone());
    }
    let mut token = compact(
        &Value::Object(header).to_string(),
        &Value::Object(claims).to_string(),
        signer,
    );
    if let Some((at, c)) = recipe.tamper {
        let at = at % token.len();
        token.replace_range(at..at + 1, &c.to_string());
    }
    format!("{}{token}", recipe.scheme)
}

/// The signature check and a reading of the claims that share no code with the gateway's.
fn independently_acceptable(authorization: &str, id: &VerifiedIdentity) -> Result<(), String> {
    let token = authorization
        .split_once(' ')
        .map(|(_, t)| t.trim_start_matches(' '))
        .ok_or("no scheme")?;
    let (input, signature) = token.rsplit_once('.').ok_or("no signature")?;
    let (header_b64, payload_b64) = input.split_once('.').ok_or("no payload")?;
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(header_b64)
            .map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let kid = header["kid"].as_str().ok_or("no kid")?;
    if header["alg"] != "RS256" {
        return Err(format!("alg {}", header["alg"]));
    }
    let key = signing_keys()
        .iter()
        .find(|k| k.kid == kid)
        .ok_or("kid of no key")?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|e| e.to_string())?;
    let signature = Signature::try_from(signature.as_slice()).map_err(|e| e.to_string())?;
    VerifyingKey::<Sha256>::new(key.public_key())
        .verify(input.as_bytes(), &signature)
        .map_err(|e| format!("rsa crate refuses the signature: {e}"))?;
    if kid == KIDS[2] {
        return Err("another tenant's key vouched for our tenant".into());
    }

    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(payload_b64)
            .map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let number = |name: &str| claims[name].as_f64();
    let exp = number("exp").ok_or("no numeric exp")?;
    if (NOW as f64) >= exp + SKEW as f64 {
        return Err(format!("expired: exp {exp}"));
    }
    if number("nbf").is_some_and(|nbf| nbf > (NOW + SKEW) as f64) {
        return Err("not yet valid".into());
    }
    if claims["tid"] != TID {
        return Err(format!("tid {}", claims["tid"]));
    }
    let (issuer, version) = match claims["ver"].as_str() {
        Some("1.0") => (v1_issuer(TID), TokenVersion::V1),
        Some("2.0") => (v2_issuer(TID), TokenVersion::V2),
        other => return Err(format!("ver {other:?}")),
    };
    if claims["iss"] != issuer.as_str() || id.issuer() != issuer || id.version() != version {
        return Err(format!("iss {}", claims["iss"]));
    }
    let auds: Vec<&str> = match &claims["aud"] {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        other => return Err(format!("aud {other}")),
    };
    let ours = |a: &str| a == API_CLIENT_ID || a == API_URI || a.strip_suffix('/') == Some(API_URI);
    if !auds.iter().any(|a| ours(a)) {
        return Err(format!("aud {auds:?}"));
    }
    if auds.iter().any(|a| a.starts_with("00000003-")) {
        return Err("Graph audience".into());
    }
    if claims.get("nonce").is_some() {
        return Err("ID token".into());
    }
    let client = claims
        .get("azp")
        .or_else(|| claims.get("appid"))
        .and_then(Value::as_str)
        .ok_or("no client")?;
    if id.client_id() != client || id.tenant_id() != TID {
        return Err("identity differs from the claims".into());
    }
    let kind = match (claims["idtyp"].as_str(), claims.get("scp")) {
        (Some("app"), _) | (None, None) => TokenKind::App,
        _ => TokenKind::Delegated,
    };
    if id.kind() != kind {
        return Err(format!("kind {:?}", id.kind()));
    }
    Ok(())
}

#[path = "support/proptest_cases.rs"]
mod proptest_cases;
use proptest_cases::cases;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(128)))]

    /// accepted ⇒ the signature verifies independently and the claims are acceptable; and the
    /// decision is the same on a fresh key set as on one with its keys already prepared.
    #[test]
    fn accepted_tokens_are_valid_and_decisions_deterministic(recipe in recipe()) {
        let authorization = build(&recipe);
        let (fresh, rules) = deployment();
        let first = decide(&authorization, &fresh, &rules);
        let second = decide(&authorization, &fresh, &rules);
        prop_assert_eq!(&first, &second, "same keys, same time, another answer");
        let (other, rules_again) = deployment();
        prop_assert_eq!(&first, &decide(&authorization, &other, &rules_again));
        if let Ok(id) = &first {
            if let Err(why) = independently_acceptable(&authorization, id) {
                return Err(TestCaseError::fail(format!("accepted, yet {why}: {authorization}")));
            }
        }
    }

    /// Arbitrary header values (corpus-shaped or not) never panic and always decide the same.
    #[test]
    fn any_header_value_decides_deterministically(value in "(Bearer |bearer |Basic |)[ -~]{0,300}") {
        let (keys, rules) = deployment();
        prop_assert_eq!(decide(&value, &keys, &rules), decide(&value, &keys, &rules));
    }

    /// Any case variant of the prefix followed by any suffix is reserved (and so stripped).
    #[test]
    fn every_spelling_of_the_prefix_is_reserved(
        prefix in prop_oneof![Just(DEFAULT_PREFIX.to_owned()), "X-[A-Za-z0-9]{1,12}-", "[A-Za-z]{1,8}-[A-Za-z]{1,8}-"],
        flips in proptest::collection::vec(any::<bool>(), 32),
        suffix in "\\PC{0,40}",
    ) {
        let Ok(headers) = IdentityHeaders::new(&prefix, "") else {
            return Ok(());
        };
        let variant: String = prefix
            .chars()
            .zip(flips.iter().cycle())
            .map(|(c, flip)| if *flip { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
            .collect();
        let name = format!("{variant}{suffix}");
        prop_assert!(headers.is_reserved(&name), "{} not reserved under {}", name, prefix);
        prop_assert!(headers.is_reserved(&variant));
        // A proper beginning of the prefix is not the prefix.
        for end in 0..prefix.len() {
            prop_assert!(!headers.is_reserved(&variant[..end]));
        }
    }

    /// Names that do not start with the prefix are never reserved.
    #[test]
    fn other_names_are_not_reserved(name in "[A-Za-z0-9!#$%&'*+.^_`|~-]{0,40}") {
        let headers = IdentityHeaders::default();
        let ours = name.len() >= DEFAULT_PREFIX.len()
            && name[..DEFAULT_PREFIX.len()].eq_ignore_ascii_case(DEFAULT_PREFIX);
        prop_assert_eq!(headers.is_reserved(&name), ours);
    }

    /// Every header the gateway sends for a caller is a reserved name, whatever the prefix and
    /// claim mappings, so a client can never pre-set one.
    #[test]
    fn every_identity_header_sent_is_reserved(
        prefix in prop_oneof![Just(DEFAULT_PREFIX.to_owned()), "X-[A-Za-z0-9]{1,12}-"],
        mapped in proptest::collection::vec(("[a-z_]{1,10}", "[A-Za-z0-9-]{1,10}"), 0..4),
        value in "\\PC{0,30}",
    ) {
        let mappings: Vec<String> = mapped.iter().map(|(c, h)| format!("{c}={h}")).collect();
        let Ok(headers) = IdentityHeaders::new(&prefix, &mappings.join(",")) else {
            return Ok(());
        };
        // A caller whose `sub` and mapped claims all carry the generated value, verified through
        // the real path (a signed token, rules that keep the mapped claims).
        let id = caller_with(&value, headers.mapped_claims());
        let sent = headers.for_identity(&id);
        prop_assert!(sent.len() >= 9);
        for (name, sent_value) in sent {
            prop_assert!(headers.is_reserved(&name), "{} escapes the strip", name);
            prop_assert!(sent_value.bytes().all(|b| (0x20..0x7f).contains(&b)));
        }
        for suffix in FIXED {
            prop_assert!(headers.is_reserved(&headers.name(suffix)));
        }
    }
}

/// A verified caller whose `sub` and every claim in `mapped` is `value`.
fn caller_with<'a>(value: &str, mapped: impl Iterator<Item = &'a str>) -> VerifiedIdentity {
    let (keys, mut rules) = deployment();
    let key = &signing_keys()[0];
    let mut claims = standard_claims(
        Version::V2,
        Kind::User,
        TID,
        &v2_issuer(TID),
        API_CLIENT_ID,
        NOW,
        3600,
    );
    // An empty `sub` is a malformed token; the value still reaches the mapped claims.
    if !value.is_empty() {
        claims.insert("sub".into(), json!(value));
    }
    // Claims the gateway itself reads keep their own (typed) values.
    const READ: [&str; 25] = [
        "iss",
        "aud",
        "exp",
        "nbf",
        "iat",
        "ver",
        "tid",
        "oid",
        "sub",
        "azp",
        "appid",
        "azpacr",
        "appidacr",
        "idtyp",
        "scp",
        "roles",
        "acrs",
        "amr",
        "auth_time",
        "xms_cc",
        "uti",
        "ipaddr",
        "nonce",
        "at_hash",
        "c_hash",
    ];
    for claim in mapped {
        if !READ.contains(&claim) && !rules.extra_claims.iter().any(|c| c == claim) {
            claims.insert(claim.into(), json!(value));
            rules.extra_claims.push(claim.to_owned());
        }
    }
    let header = Value::Object(standard_header(Version::V2, key)).to_string();
    let token = compact(&header, &Value::Object(claims).to_string(), key);
    decide(&format!("Bearer {token}"), &keys, &rules).expect("a valid caller")
}

/// The generator does reach acceptance (so the first property is not vacuous).
#[test]
fn the_unedited_recipe_is_accepted() {
    for (version, app, signer) in [
        (Version::V2, false, 0),
        (Version::V1, false, 1),
        (Version::V2, true, 1),
    ] {
        let recipe = Recipe {
            version,
            app,
            signer,
            header_kid: signer,
            alg: "RS256",
            header_extra: None,
            edits: Vec::new(),
            tamper: None,
            scheme: "Bearer ",
        };
        let authorization = build(&recipe);
        let (keys, rules) = deployment();
        let id = decide(&authorization, &keys, &rules).expect("accepted");
        independently_acceptable(&authorization, &id).expect("independently acceptable");
    }
}

/// A fair share of generated requests is accepted, so the accepted ⇒ valid property is
/// exercised on many tokens, not vacuously true.
#[test]
fn generated_requests_are_often_accepted() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let (keys, rules) = deployment();
    let strategy = recipe();
    let total = 64;
    let mut accepted = 0;
    for _ in 0..total {
        let recipe = strategy.new_tree(&mut runner).expect("recipe").current();
        let authorization = build(&recipe);
        if let Ok(id) = decide(&authorization, &keys, &rules) {
            independently_acceptable(&authorization, &id).expect("independently acceptable");
            accepted += 1;
        }
    }
    eprintln!("{accepted} of {total} generated requests accepted");
    assert!(
        accepted >= total / 16,
        "only {accepted} of {total} accepted"
    );
}
