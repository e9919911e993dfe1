//! Tokens Microsoft Entra ID (Azure AD, and Azure AD B2C) really issued, 2013–2017, with the
//! real keys that signed them, run through the core's own path: JWKS intake (`parse_jwks`), the
//! merged `KeySet`, `gate::intake` and `gate::verify` with the pure-Rust verifier, claim rules
//! from `from_bindings` and issuers from Entra's real metadata documents, at a fixed clock.
//!
//! The data (tests/data/real-entra/, provenance and licences there) comes from the test suites
//! of Microsoft's own identity libraries (MIT; a few items first published under Apache-2.0).
//! Nobody on this project minted those tokens,
//! so they check the parsers and the signature path against Entra's real output rather than
//! against our idea of it. The decisions this file pins (x5t-only headers, an issuer with a
//! trailing slash, `spn:` and first-party audiences, B2C) are written up in that README.

// Native only: the file system, pollster and the mock tenant are not there in the wasm test run.
#![cfg(not(target_arch = "wasm32"))]

use entra_gate_core::internal::{b64_decode, parse_token, tenant_segment};
use entra_gate_core::parse_metadata;
use entra_gate_core::ClaimRules;
use entra_gate_core::IssuerTemplate;
use entra_gate_core::KeySet;
use entra_gate_core::Reason;
use entra_gate_core::UnixTime;
use entra_gate_core::{
    binding, from_bindings, GateConfig, TenantSelector, DEFAULT_MAX_TOKEN_BYTES,
};
use entra_gate_core::{intake, verify, VerifyError};
use entra_gate_core::{parse_jwks, JwksLimits, KeySkip};
use entra_gate_core::{RustVerifier, SignatureVerifier};
use entra_gate_core::{TokenKind, TokenVersion, VerifiedIdentity};
use mock_tenant::{compact, standard_claims, Kind, SigningKey, Version};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// "Now" for the checks that must reach the lifetime rules: long after every token expired.
const LATER: i64 = 1_800_000_000;
const ORIGIN: &str = "https://origin.example";
/// The audience of a deployment whose own audience is not the token's (an ordinary API).
const SOME_API: &str = "api://entra-gate-real-entra-tests";
/// 32 bytes in base64, for the `GATE_SECRET` binding (a test value; it protects nothing).
const GATE_SECRET: &str = "q83vEjRWeJq8zs3vASNFZ4mrze8BI0VniavN7wEjRWc=";

type Keys = KeySet<<RustVerifier as SignatureVerifier>::PreparedKey>;

// ---------------------------------------------------------------------------------------------
// The table: one row per file, the outcome at the token's own time and long after.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Accept(TokenVersion, TokenKind),
    Deny(Reason),
}

/// Whether the walk gets as far as checking the signature (what a flipped signature gives).
#[derive(Debug, Clone, Copy, PartialEq)]
enum SignatureStep {
    /// The signature verified; the outcome comes from the claims.
    Verified,
    /// Refused before any key is used: a flipped signature changes nothing.
    NotReached,
}

struct Row {
    file: &'static str,
    /// `ENTRA_AUDIENCES`; `None`: the token's own `aud`.
    audiences: Option<&'static str>,
    /// At the token's own `iat`.
    at_issue: Outcome,
    signature: SignatureStep,
    /// At [`LATER`], with the signature intact.
    later: Reason,
    why: &'static str,
}

use Outcome::{Accept, Deny};
use SignatureStep::{NotReached, Verified};

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // Azure AD Graph audiences are first-party (refused in ENTRA_AUDIENCES and as graph_token),
    // so these two run under another API's audience; the header is refused first anyway.
    Row { file: "v1-2013-app-only-aad-graph-x5t-header", audiences: Some(SOME_API),
          at_issue: Deny(Reason::KidMissing), signature: NotReached, later: Reason::KidMissing,
          why: "header has x5t and no kid: refused by choice (README, Decisions 1); the signature itself verifies (x5t_only_headers_carry_valid_signatures)" },
    Row { file: "v1-2014-delegated-aad-graph-groups-overage-x5t-header", audiences: Some(SOME_API),
          at_issue: Deny(Reason::KidMissing), signature: NotReached, later: Reason::KidMissing,
          why: "x5t only, as above" },
    Row { file: "v1-2014-id-token-x5t-header", audiences: None,
          at_issue: Deny(Reason::KidMissing), signature: NotReached, later: Reason::KidMissing,
          why: "x5t only; an ID token too, but the header is refused before anything else is read" },
    Row { file: "v1-2015-delegated-outlook-office-com", audiences: None,
          at_issue: Accept(TokenVersion::V1, TokenKind::Delegated), signature: Verified, later: Reason::TokenExpired,
          why: "a genuine v1 delegated access token; accepted only by a deployment whose own audience is https://outlook.office.com (README, Decisions 4)" },
    Row { file: "v2-2015-id-token-issuer-trailing-slash", audiences: None,
          at_issue: Deny(Reason::IdToken), signature: Verified, later: Reason::IdToken,
          why: "no azp/appid: an ID token, refused before time and issuer; the /v2.0/ issuer alone is invalid_issuer (README, Decisions 2)" },
    Row { file: "v1-2016-delegated-spn-audience", audiences: None,
          at_issue: Accept(TokenVersion::V1, TokenKind::Delegated), signature: Verified, later: Reason::TokenExpired,
          why: "aud spn:<guid> matches only when configured literally (README, Decisions 3)" },
    Row { file: "v1-2016-id-token", audiences: None,
          at_issue: Deny(Reason::IdToken), signature: Verified, later: Reason::IdToken,
          why: "nonce claim, no appid" },
    Row { file: "b2c-2016-id-token", audiences: None,
          at_issue: Deny(Reason::IdToken), signature: Verified, later: Reason::IdToken,
          why: "B2C: key kid is a container name, accepted by intake; the token is an ID token (nonce) (README, Decisions 5)" },
    Row { file: "v2-2017-id-token", audiences: None,
          at_issue: Deny(Reason::IdToken), signature: Verified, later: Reason::IdToken,
          why: "no azp/appid, no nonce: still an ID token" },
    Row { file: "negative-graph-nonce-2017-delegated", audiences: Some(SOME_API),
          at_issue: Deny(Reason::GraphToken), signature: NotReached, later: Reason::GraphToken,
          why: "header nonce: refused before key lookup; as issued its signature does not verify with the published key (by Entra's design)" },
];

// ---------------------------------------------------------------------------------------------
// Loading the data (from the repository only, never from outside it).
// ---------------------------------------------------------------------------------------------

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/real-entra")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One real token and everything its file says about it.
struct Sample {
    file: &'static str,
    doc: Value,
}

impl Sample {
    fn load(file: &'static str) -> Self {
        Sample {
            file,
            doc: read_json(&data_dir().join(format!("{file}.json"))),
        }
    }

    fn token(&self) -> &str {
        self.doc["token"].as_str().expect("token")
    }

    fn header(&self) -> &Value {
        &self.doc["header"]
    }

    fn claims(&self) -> &Value {
        &self.doc["claims"]
    }

    fn claim(&self, name: &str) -> Option<&str> {
        self.claims()[name].as_str()
    }

    fn iat(&self) -> i64 {
        self.claims()["iat"].as_i64().expect("iat")
    }

    /// The key set as the tests publish it: the base64url copy where the source used standard
    /// base64 for `n` (see `as_committed_key_sets_with_standard_base64_are_refused`).
    fn jwks(&self) -> &Value {
        self.doc.get("jwks_normalized").unwrap_or(&self.doc["jwks"])
    }

    /// The name of the signing key: `kid`, or for the 2013/2014 headers `x5t` (same value).
    fn signing_kid(&self) -> &str {
        self.header()["kid"]
            .as_str()
            .or_else(|| self.header()["x5t"].as_str())
            .expect("kid or x5t")
    }

    /// `tid`, or for B2C (which has none) the tenant segment of `iss`.
    fn tenant(&self) -> String {
        self.claim("tid")
            .or_else(|| tenant_segment(self.claim("iss").expect("iss")))
            .expect("a tenant")
            .to_owned()
    }

    fn signature_verifies(&self) -> bool {
        self.doc["signature_verifies"]
            .as_bool()
            .expect("signature_verifies")
    }
}

fn all_samples() -> Vec<Sample> {
    ROWS.iter().map(|row| Sample::load(row.file)).collect()
}

/// The project's key path: the JWKS document through intake, then merged into a key set.
fn key_set(sample: &Sample) -> Keys {
    let intake = parse_jwks(sample.jwks().to_string().as_bytes(), &JwksLimits::default())
        .unwrap_or_else(|e| panic!("{}: {e}", sample.file));
    assert!(
        intake.skipped.is_empty(),
        "{}: intake skipped {:?}",
        sample.file,
        intake.skipped
    );
    let merged = KeySet::merge(vec![intake]);
    assert!(merged.conflicts.is_empty(), "{}", sample.file);
    merged.keys
}

/// Entra's real `common` metadata documents (v1, v2), through the core's metadata parser.
fn metadata_issuers(config: &GateConfig) -> (IssuerTemplate, IssuerTemplate) {
    let parse = |file: &str| {
        let doc = read_json(&data_dir().join("metadata").join(file));
        parse_metadata(
            doc["document"].to_string().as_bytes(),
            &config.authority,
            &TenantSelector::Common,
        )
        .unwrap_or_else(|e| panic!("{file}: {e}"))
        .issuer
    };
    (
        parse("entra-common-v1-openid-configuration.2024-02-02.json"),
        parse("entra-common-v2-openid-configuration.2024-02-02.json"),
    )
}

fn gate_config(tenant: &str, audiences: &str) -> Result<GateConfig, Vec<String>> {
    from_bindings(|name| match name {
        binding::TENANT_ID => Some(tenant.to_owned()),
        binding::AUDIENCES => Some(audiences.to_owned()),
        binding::ORIGIN_URL => Some(ORIGIN.to_owned()),
        // The KV record key, required by configuration; unused by these tests.
        "GATE_SECRET" => Some(GATE_SECRET.to_owned()),
        _ => None,
    })
    .map_err(|problems| problems.iter().map(ToString::to_string).collect())
}

/// A single-tenant deployment for the token's tenant: the issuers are what that tenant's own
/// metadata gives, i.e. the common documents' templates resolved for the tenant.
fn deployment(tenant: &str, audiences: &str) -> (GateConfig, ClaimRules) {
    let config = gate_config(tenant, audiences).expect("a valid configuration");
    let (v1, v2) = metadata_issuers(&config);
    let rules = ClaimRules::new(
        &config,
        config
            .accept_v1
            .then(|| IssuerTemplate::new(v1.resolve(tenant))),
        config
            .accept_v2
            .then(|| IssuerTemplate::new(v2.resolve(tenant))),
    );
    (config, rules)
}

/// The whole walk for one request, as the edge makes it.
fn walk(
    token: &str,
    keys: &Keys,
    config: &GateConfig,
    rules: &ClaimRules,
    now: i64,
) -> Result<VerifiedIdentity, VerifyError> {
    let authorization = format!("Bearer {token}");
    intake(Some(&authorization), config.max_token_bytes).and_then(|token| {
        pollster::block_on(verify(token, keys, &RustVerifier, rules, UnixTime(now)))
    })
}

fn reason_of(outcome: &Result<VerifiedIdentity, VerifyError>) -> Result<String, (Reason, String)> {
    outcome
        .as_ref()
        .map(|id| format!("accepted {:?} {:?}", id.version(), id.kind()))
        .map_err(|d| (d.reason(), d.to_string()))
}

/// One character in the middle of the signature segment replaced by another base64url
/// character: still strict base64url, same length, different bytes.
fn flip_signature_char(token: &str) -> String {
    let dot = token.rfind('.').expect("three segments");
    let (signing_input, signature) = (&token[..dot], &token[dot + 1..]);
    let mid = signature.len() / 2;
    let old = signature.as_bytes()[mid];
    let new = if old == b'A' { 'B' } else { 'A' };
    let flipped = format!("{}{new}{}", &signature[..mid], &signature[mid + 1..]);
    let (before, after) = (
        b64_decode(signature).expect("the original is base64url"),
        b64_decode(&flipped).expect("the flipped signature is still base64url"),
    );
    assert_eq!(before.len(), after.len(), "same length");
    assert_ne!(before, after, "the decoded signature changed");
    format!("{signing_input}.{flipped}")
}

fn deployment_for(row: &Row, sample: &Sample) -> (GateConfig, ClaimRules) {
    let audiences = row
        .audiences
        .map(str::to_owned)
        .unwrap_or_else(|| sample.claim("aud").expect("one aud").to_owned());
    deployment(&sample.tenant(), &audiences)
}

// ---------------------------------------------------------------------------------------------
// The data itself.
// ---------------------------------------------------------------------------------------------

#[test]
fn every_file_is_what_it_says_and_names_its_source() {
    let samples = all_samples();
    assert_eq!(samples.len(), 10);
    for s in &samples {
        let parts: Vec<&str> = s.token().split('.').collect();
        assert_eq!(parts.len(), 3, "{}", s.file);
        let decode = |segment: &str| -> Value {
            serde_json::from_slice(&b64_decode(segment).expect("base64url")).expect("JSON")
        };
        assert_eq!(&decode(parts[0]), s.header(), "{}: header", s.file);
        assert_eq!(&decode(parts[1]), s.claims(), "{}: claims", s.file);
        assert_eq!(s.doc["name"], s.file);
        for source in ["token_source", "key_source"] {
            let p = &s.doc[source];
            for field in ["repository", "path", "commit"] {
                assert!(
                    p[field].as_str().is_some_and(|v| !v.is_empty()),
                    "{}: {source}.{field}",
                    s.file
                );
            }
            // MIT, or Apache-2.0 where the cited 2014/2015 commit's file header says so (see
            // the README); both are in LICENSE.
            let licence = p["licence"].as_str().unwrap_or_default();
            assert!(
                licence == "MIT" || licence.starts_with("Apache-2.0 "),
                "{}: {source} licence {licence:?}",
                s.file
            );
            assert_eq!(p["commit"].as_str().map(str::len), Some(40), "{}", s.file);
        }
        assert_eq!(s.header()["alg"], "RS256", "{}", s.file);
    }
}

#[test]
fn entra_metadata_gives_the_issuer_templates() {
    let tid = "692adecf-ecfb-44fe-9a22-7c7f24306002";
    let config = gate_config(tid, SOME_API).expect("valid");
    let (v1, v2) = metadata_issuers(&config);
    assert_eq!(v1.as_str(), "https://sts.windows.net/{tenantid}/");
    assert_eq!(
        v2.as_str(),
        "https://login.microsoftonline.com/{tenantid}/v2.0"
    );
    // What a tenant's own metadata gives, and what the table's rules use.
    assert_eq!(v1.resolve(tid), format!("https://sts.windows.net/{tid}/"));
    assert_eq!(
        v2.resolve(tid),
        format!("https://login.microsoftonline.com/{tid}/v2.0")
    );
}

#[test]
fn every_published_key_passes_intake() {
    for s in &all_samples() {
        let keys = key_set(s);
        let jwks_len = s.jwks()["keys"].as_array().expect("keys").len();
        assert_eq!(keys.len(), jwks_len, "{}", s.file);
        let entry = keys
            .get(s.signing_kid())
            .unwrap_or_else(|| panic!("{}: no key {}", s.file, s.signing_kid()));
        assert_eq!(entry.key().modulus_bits(), 2048, "{}", s.file);
        assert_eq!(
            s.doc["matching_jwk"]["kid"].as_str(),
            Some(s.signing_kid()),
            "{}",
            s.file
        );
    }
}

/// Microsoft's 2014 fixture wrote `n` in standard base64 with padding; JWK requires base64url
/// (RFC 7518 §6.3.1.1) and Entra publishes base64url. Intake skips such a key as malformed
/// (one bad key never spoils the set), which is right: the tests publish the base64url copy.
#[test]
fn as_committed_key_sets_with_standard_base64_are_refused() {
    let mut seen = 0;
    for s in &all_samples() {
        if s.doc.get("jwks_normalized").is_none() {
            continue;
        }
        seen += 1;
        let committed = s.doc["jwks"].to_string();
        let intake = parse_jwks(committed.as_bytes(), &JwksLimits::default()).expect("a JWKS");
        assert!(intake.keys.is_empty(), "{}", s.file);
        assert!(
            !intake.skipped.is_empty()
                && intake
                    .skipped
                    .iter()
                    .all(|k| matches!(&k.why, KeySkip::Malformed { detail } if detail.contains("base64url"))),
            "{}: {:?}",
            s.file,
            intake.skipped
        );
    }
    assert_eq!(seen, 5);
}

/// RS256 over the token's own signing input with the published key its header names, through
/// the project's verifier on the key the project's intake vetted. It bypasses only the header
/// rules (kid, nonce) that the table exercises.
fn verifies_directly(sample: &Sample, token: &str) -> bool {
    let keys = key_set(sample);
    let key = keys.get(sample.signing_kid()).expect("vetted key").key();
    let dot = token.rfind('.').expect("dot");
    let signature = b64_decode(&token[dot + 1..]).expect("base64url");
    assert_eq!(signature.len(), key.signature_len(), "{}", sample.file);
    let verifier = RustVerifier;
    let prepared = pollster::block_on(verifier.prepare(key)).expect("prepare");
    pollster::block_on(verifier.verify_rs256(&prepared, &token.as_bytes()[..dot], &signature))
        .expect("no crypto fault")
}

/// The signature facts of every file, checked with the project's own verifier: what makes the
/// x5t-only refusals a choice rather than an accident, and the Graph refusal more than a
/// formality.
#[test]
fn signature_facts_hold_with_the_projects_verifier() {
    for s in &all_samples() {
        assert_eq!(
            verifies_directly(s, s.token()),
            s.signature_verifies(),
            "{}: signature_verifies",
            s.file
        );
        assert!(
            !verifies_directly(s, &flip_signature_char(s.token())),
            "{}: flipped",
            s.file
        );
    }
}

/// Decision 1: a header with `x5t` and no `kid` is refused as `kid_missing` before any key is
/// chosen, although its signature is valid under the published key whose `kid` equals the `x5t`.
#[test]
fn x5t_only_headers_carry_valid_signatures() {
    let x5t_only: Vec<Sample> = all_samples()
        .into_iter()
        .filter(|s| s.header().get("kid").is_none())
        .collect();
    assert_eq!(x5t_only.len(), 3);
    for s in &x5t_only {
        assert!(s.header()["x5t"].is_string(), "{}", s.file);
        assert!(
            verifies_directly(s, s.token()),
            "{}: the signature is valid",
            s.file
        );
        let denial =
            parse_token(s.token(), DEFAULT_MAX_TOKEN_BYTES).expect_err("refused at intake");
        assert_eq!(denial.reason(), Reason::KidMissing, "{}", s.file);
    }
}

// ---------------------------------------------------------------------------------------------
// The walk, per row.
// ---------------------------------------------------------------------------------------------

#[test]
fn every_real_token_gets_its_outcome_at_its_own_time() {
    let mut failures = Vec::new();
    for row in ROWS {
        let s = Sample::load(row.file);
        let (config, rules) = deployment_for(row, &s);
        let outcome = walk(s.token(), &key_set(&s), &config, &rules, s.iat());
        let ok = match (&row.at_issue, &outcome) {
            (Accept(version, kind), Ok(id)) => {
                id.version() == *version
                    && id.kind() == *kind
                    && Some(id.tenant_id()) == s.claim("tid")
                    && Some(id.client_id()) == s.claim("appid").or(s.claim("azp"))
                    && Some(id.audience()) == s.claim("aud")
                    && Some(id.issuer()) == s.claim("iss")
                    && id.kid() == s.signing_kid()
                    && Some(id.scopes().join(" ")) == s.claim("scp").map(str::to_owned)
                    && Some(id.object_id()) == s.claim("oid")
            }
            (Deny(reason), Err(denial)) => denial.reason() == *reason,
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{}: expected {:?}, got {:?} ({})",
                row.file,
                row.at_issue,
                reason_of(&outcome),
                row.why
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Long after expiry, with the signature intact: lifetime reasons only for tokens whose
/// signature verified, and kind-of-token reasons (ID token, Graph) still before time.
#[test]
fn long_after_expiry_the_reason_comes_after_the_signature() {
    let mut failures = Vec::new();
    for row in ROWS {
        let s = Sample::load(row.file);
        let (config, rules) = deployment_for(row, &s);
        let keys = key_set(&s);
        let intact = walk(s.token(), &keys, &config, &rules, LATER);
        if intact.as_ref().err().map(VerifyError::reason) != Some(row.later) {
            failures.push(format!(
                "{}: intact at {LATER}: expected {:?}, got {:?}",
                row.file,
                row.later,
                reason_of(&intact)
            ));
        }
        // The same moment with the signature tampered: invalid_signature, not token_expired,
        // wherever the signature step is reached. That proves the order: signature first.
        let expected = match row.signature {
            Verified => Reason::InvalidSignature,
            NotReached => row.later,
        };
        let tampered = walk(
            &flip_signature_char(s.token()),
            &keys,
            &config,
            &rules,
            LATER,
        );
        if tampered.as_ref().err().map(VerifyError::reason) != Some(expected) {
            failures.push(format!(
                "{}: tampered at {LATER}: expected {expected:?}, got {:?}",
                row.file,
                reason_of(&tampered)
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn one_flipped_signature_character_is_invalid_signature() {
    let mut failures = Vec::new();
    for row in ROWS {
        let s = Sample::load(row.file);
        let (config, rules) = deployment_for(row, &s);
        let expected = match (row.signature, row.at_issue) {
            (Verified, _) => Reason::InvalidSignature,
            (NotReached, Deny(reason)) => reason,
            (NotReached, Accept(..)) => unreachable!("{}: accepted without a signature", row.file),
        };
        let tampered = flip_signature_char(s.token());
        let outcome = walk(&tampered, &key_set(&s), &config, &rules, s.iat());
        if outcome.as_ref().err().map(VerifyError::reason) != Some(expected) {
            failures.push(format!(
                "{}: expected {expected:?}, got {:?}",
                row.file,
                reason_of(&outcome)
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn the_table_agrees_with_the_files() {
    for row in ROWS {
        let s = Sample::load(row.file);
        // A row that says the signature verified must be about a file whose signature verifies.
        if row.signature == Verified {
            assert!(s.signature_verifies(), "{}", row.file);
        }
        let kind = s.doc["token_kind"].as_str().expect("token_kind");
        if kind == "id_token" {
            assert!(
                matches!(row.at_issue, Deny(Reason::IdToken | Reason::KidMissing)),
                "{}: an ID token must never be accepted",
                row.file
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The decisions, each checked on its own.
// ---------------------------------------------------------------------------------------------

/// Decision 3: `spn:<guid>` matches only a literally configured `spn:<guid>`; a deployment that
/// names its client id (or its App ID URI) refuses it, as Microsoft.Identity.Web does.
#[test]
fn spn_audience_matches_only_literally() {
    let s = Sample::load("v1-2016-delegated-spn-audience");
    let aud = s.claim("aud").expect("aud");
    let guid = aud.strip_prefix("spn:").expect("spn: form");
    let keys = key_set(&s);
    for (audiences, expected) in [
        (aud.to_owned(), None),
        (guid.to_owned(), Some(Reason::InvalidAudience)),
        (format!("api://{guid}"), Some(Reason::InvalidAudience)),
    ] {
        let (config, rules) = deployment(&s.tenant(), &audiences);
        let outcome = walk(s.token(), &keys, &config, &rules, s.iat());
        assert_eq!(
            outcome.as_ref().err().map(VerifyError::reason),
            expected,
            "ENTRA_AUDIENCES={audiences}: {:?}",
            reason_of(&outcome)
        );
    }
}

/// Decision 4: a first-party token (Outlook) is accepted only by a deployment that names that
/// first-party audience as its own; any other API refuses it for its audience. Graph audiences
/// cannot even be configured.
#[test]
fn first_party_audiences() {
    let s = Sample::load("v1-2015-delegated-outlook-office-com");
    let (config, rules) = deployment(&s.tenant(), SOME_API);
    let outcome = walk(s.token(), &key_set(&s), &config, &rules, s.iat());
    assert_eq!(
        outcome.as_ref().err().map(VerifyError::reason),
        Some(Reason::InvalidAudience)
    );

    let graph = Sample::load("negative-graph-nonce-2017-delegated");
    let problems = gate_config(&graph.tenant(), graph.claim("aud").expect("aud"))
        .expect_err("Graph is never this API's audience");
    assert!(
        problems.iter().any(|p| p.starts_with(binding::AUDIENCES)),
        "{problems:?}"
    );
    // AAD Graph (the 2013/2014 tokens' audiences) can be configured today; see the README.
    for aad_graph in [
        "00000002-0000-0000-c000-000000000000",
        "https://graph.windows.net",
    ] {
        assert!(
            gate_config(&graph.tenant(), aad_graph).is_err(),
            "Azure AD Graph is first-party too: {aad_graph}"
        );
    }
}

/// A v2 access token minted by the test key with the given claim edits, and a key set holding
/// only that key (published as Entra's v1 document does, without an issuer).
fn minted_v2(tid: &str, iss: &str, aud: &str, now: i64, edit: Value) -> (String, Keys) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keys/test-key-1.pem");
    let pem = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let key = SigningKey::from_pem("test-key-1", &pem).expect("test key");
    let mut claims = standard_claims(Version::V2, Kind::User, tid, iss, aud, now, 3600);
    for (name, value) in edit.as_object().expect("object") {
        if value.is_null() {
            claims.remove(name);
        } else {
            claims.insert(name.clone(), value.clone());
        }
    }
    let header = json!({ "typ": "JWT", "alg": "RS256", "kid": "test-key-1" }).to_string();
    let token = compact(&header, &Value::Object(claims).to_string(), &key);
    let jwks = json!({ "keys": [key.public_jwk(None)] }).to_string();
    let intake = parse_jwks(jwks.as_bytes(), &JwksLimits::default()).expect("jwks");
    (token, KeySet::merge(vec![intake]).keys)
}

/// Decision 2: the issuer must equal the metadata's issuer exactly; `/v2.0/` is not `/v2.0`.
/// The real token is an ID token, refused for that first, so the issuer rule is checked on a
/// token minted with the real token's `iss`, `tid` and `aud` (and shown to come after the kind
/// check, as it does for the real token).
#[test]
fn v2_issuer_with_a_trailing_slash_is_invalid_issuer() {
    let s = Sample::load("v2-2015-id-token-issuer-trailing-slash");
    let (tid, iss, aud) = (
        s.tenant(),
        s.claim("iss").expect("iss").to_owned(),
        s.claim("aud").expect("aud").to_owned(),
    );
    let (config, rules) = deployment(&tid, &aud);
    let metadata_issuer = rules.issuers.v2.as_ref().expect("v2").resolve(&tid);
    assert_eq!(
        iss,
        format!("{metadata_issuer}/"),
        "one slash more than metadata"
    );

    let now = s.iat();
    let reason = |iss: &str, edit: Value| {
        let (token, keys) = minted_v2(&tid, iss, &aud, now, edit);
        walk(&token, &keys, &config, &rules, now)
            .err()
            .map(|d| d.reason())
    };
    assert_eq!(reason(&iss, json!({})), Some(Reason::InvalidIssuer));
    assert_eq!(
        reason(&metadata_issuer, json!({})),
        None,
        "the exact issuer passes"
    );
    // As for the real token: an ID token is refused as such before the issuer is looked at.
    assert_eq!(
        reason(&iss, json!({ "azp": null, "azpacr": null, "scp": null })),
        Some(Reason::IdToken)
    );
}

/// Decision 5: B2C is not an Entra ID workforce issuer. The real B2C token is an ID token; an
/// access token of the same shape (ver 1.0, no tid, `/v2.0/` issuer) is refused for its missing
/// tid, and with a tid for its issuer form.
#[test]
fn b2c_shaped_access_tokens_are_refused_for_their_issuer_form() {
    let s = Sample::load("b2c-2016-id-token");
    assert!(s.claim("tid").is_none(), "B2C 2016 tokens carry no tid");
    let (tid, iss, aud) = (
        s.tenant(),
        s.claim("iss").expect("iss").to_owned(),
        s.claim("aud").expect("aud").to_owned(),
    );
    let (config, rules) = deployment(&tid, &aud);
    let now = s.iat();
    let reason = |edit: Value| {
        let (token, keys) = minted_v2(&tid, &iss, &aud, now, edit);
        walk(&token, &keys, &config, &rules, now)
            .err()
            .map(|d| d.reason())
    };
    let b2c = json!({ "ver": "1.0", "acr": "b2c_1_signin" });
    let mut no_tid = b2c.clone();
    no_tid["tid"] = Value::Null;
    assert_eq!(reason(no_tid), Some(Reason::MalformedClaims));
    assert_eq!(reason(b2c), Some(Reason::InvalidIssuer));
    // Even labelled 2.0, the trailing slash keeps it out.
    assert_eq!(reason(json!({ "ver": "2.0" })), Some(Reason::InvalidIssuer));
}
