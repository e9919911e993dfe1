//! The whole verification walk (`gate::intake` then `gate::verify`), one table row per way a
//! request can go, with real RS256 tokens from the test keys and a fixed clock.
//!
//! Each row's data is chosen so that the check it names is the first one to fail: claims are
//! checked in a fixed order (kind of token, times, version, tenant, issuer, key issuer,
//! audience), so e.g. a tenant-mismatch row must carry a valid issuer, or it would be refused
//! as invalid_issuer first.

// Native only: the file system, pollster and the mock tenant are not there in the wasm test run.
#![cfg(not(target_arch = "wasm32"))]

use entra_gate_core::internal::b64_encode;
use entra_gate_core::ClaimRules;
use entra_gate_core::KeySet;
use entra_gate_core::UnixTime;
use entra_gate_core::{intake, verify, VerifyError};
use entra_gate_core::{parse_jwks, JwksLimits};
use entra_gate_core::{IssuerRules, IssuerTemplate};
use entra_gate_core::{Reason, Stage};
use entra_gate_core::{RustVerifier, SignatureVerifier};
use entra_gate_core::{TokenKind, TokenVersion, VerifiedIdentity};
use hmac::{Hmac, Mac};
use mock_tenant::mint::{standard_header, DEFAULT_CLIENT_ID};
use mock_tenant::{compact, standard_claims, Kind, SigningKey, Version};
use serde_json::{json, Map, Value};
use std::path::Path;

const NOW: i64 = 1_800_000_000;
const MAX_TOKEN_BYTES: usize = 16384;
const TID: &str = "3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b";
const OTHER_TID: &str = "8b7c6d5e-4f3a-4b2c-9d1e-0f1a2b3c4d5e";
const CONSUMER_TID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
const GRAPH: &str = "00000003-0000-0000-c000-000000000000";
/// The API's own client id: what v2 tokens name as their audience.
const API_CLIENT_ID: &str = "c0ffee00-1234-4abc-8def-0123456789ab";
const API_URI: &str = "api://contoso-api";
const V2_TEMPLATE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";

fn v1_issuer(tid: &str) -> String {
    format!("https://sts.windows.net/{tid}/")
}

fn v2_issuer(tid: &str) -> String {
    format!("https://login.microsoftonline.com/{tid}/v2.0")
}

type Keys = KeySet<<RustVerifier as SignatureVerifier>::PreparedKey>;

struct TestKeys {
    k1: SigningKey,
    k2: SigningKey,
    k3072: SigningKey,
    /// test-key-2's material under another kid, published as another tenant's key.
    foreign: SigningKey,
}

fn load_key(file: &str, kid: &str) -> SigningKey {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/keys")
        .join(file);
    let pem = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    SigningKey::from_pem(kid, &pem).expect("test key")
}

fn test_keys() -> TestKeys {
    TestKeys {
        k1: load_key("test-key-1.pem", "test-key-1"),
        k2: load_key("test-key-2.pem", "test-key-2"),
        k3072: load_key("test-key-3072.pem", "test-key-3072"),
        foreign: load_key("test-key-2.pem", "foreign-tenant-key"),
    }
}

/// Published as Entra does: a v1 document without issuers and a v2 document whose keys carry
/// one (the common template, this tenant's exact issuer, or another tenant's), merged by kid.
fn key_set(keys: &TestKeys) -> Keys {
    let v1 = json!({ "keys": [
        keys.k1.public_jwk(None),
        keys.k2.public_jwk(None),
        keys.k3072.public_jwk(None),
    ] });
    let v2 = json!({ "keys": [
        keys.k1.public_jwk(Some(V2_TEMPLATE)),
        keys.k2.public_jwk(Some(&v2_issuer(TID))),
        keys.k3072.public_jwk(Some(V2_TEMPLATE)),
        keys.foreign.public_jwk(Some(&v2_issuer(OTHER_TID))),
    ] });
    let intakes = [v1, v2]
        .iter()
        .map(|doc| parse_jwks(doc.to_string().as_bytes(), &JwksLimits::default()).expect("jwks"))
        .collect();
    let merged = KeySet::merge(intakes);
    assert!(merged.skipped.is_empty() && merged.conflicts.is_empty());
    assert_eq!(merged.keys.len(), 4);
    merged.keys
}

#[derive(Debug, Clone, Copy)]
enum Rules {
    /// Single tenant, exact issuers from its metadata, 60 s skew.
    Tenant,
    /// As Tenant, with no skew: the exact expiry instant.
    NoSkew,
    /// The API registered for v2 tokens only: the metadata gives no v1 issuer to accept.
    V2Only,
    /// Multi-tenant: `{tenantid}` issuer templates.
    MultiTenant,
    /// Multi-tenant with an allow-list holding only our tenant.
    AllowList,
}

impl Rules {
    fn build(self) -> ClaimRules {
        let (v1, v2) = match self {
            Rules::MultiTenant | Rules::AllowList => (
                Some(IssuerTemplate::new(v1_issuer("{tenantid}"))),
                Some(IssuerTemplate::new(V2_TEMPLATE)),
            ),
            Rules::V2Only => (None, Some(IssuerTemplate::new(v2_issuer(TID)))),
            _ => (
                Some(IssuerTemplate::new(v1_issuer(TID))),
                Some(IssuerTemplate::new(v2_issuer(TID))),
            ),
        };
        ClaimRules {
            audiences: vec![API_URI.into(), API_CLIENT_ID.into()],
            issuers: IssuerRules { v1, v2 },
            clock_skew_seconds: if matches!(self, Rules::NoSkew) { 0 } else { 60 },
            allow_consumer_accounts: false,
            allowed_tenants: matches!(self, Rules::AllowList).then(|| vec![TID.to_owned()]),
            extra_claims: Vec::new(),
        }
    }
}

/// A header and claims pair, starting from what Entra issues, edited member by member.
#[derive(Clone)]
struct Tok {
    header: Map<String, Value>,
    claims: Map<String, Value>,
}

impl Tok {
    fn new(ver: Version, kind: Kind, key: &SigningKey, tid: &str) -> Self {
        // v1 tokens name the App ID URI, v2 tokens the API's client id, as Entra does.
        let aud = if ver == Version::V1 {
            API_URI
        } else {
            API_CLIENT_ID
        };
        Tok {
            header: standard_header(ver, key),
            claims: standard_claims(ver, kind, tid, &v2_issuer(tid), aud, NOW, 3600),
        }
    }

    fn v1(key: &SigningKey) -> Self {
        Tok::new(Version::V1, Kind::User, key, TID)
    }

    fn v2(key: &SigningKey) -> Self {
        Tok::new(Version::V2, Kind::User, key, TID)
    }

    /// Sets members; unlike mock_tenant::mint::apply, `null` stays a JSON null.
    fn claims(mut self, set: Value) -> Self {
        self.claims.extend(set.as_object().expect("object").clone());
        self
    }

    fn without(mut self, names: &[&str]) -> Self {
        for name in names {
            self.claims.remove(*name);
        }
        self
    }

    fn header(mut self, set: Value) -> Self {
        self.header.extend(set.as_object().expect("object").clone());
        self
    }

    fn header_without(mut self, name: &str) -> Self {
        self.header.remove(name);
        self
    }

    fn times(self, iat: i64, nbf: i64, exp: i64) -> Self {
        self.claims(json!({ "iat": iat, "nbf": nbf, "exp": exp }))
    }

    fn header_json(&self) -> String {
        Value::Object(self.header.clone()).to_string()
    }

    fn claims_json(&self) -> String {
        Value::Object(self.claims.clone()).to_string()
    }

    fn sign(&self, key: &SigningKey) -> String {
        compact(&self.header_json(), &self.claims_json(), key)
    }

    /// `header.payload` without any signature work: for tokens that must fail before it.
    fn signing_input(&self) -> String {
        format!(
            "{}.{}",
            b64_encode(self.header_json().as_bytes()),
            b64_encode(self.claims_json().as_bytes())
        )
    }
}

fn bearer(token: &str) -> Option<String> {
    Some(format!("Bearer {token}"))
}

/// The identity fields a passing row checks.
#[derive(Debug, Clone, Copy)]
struct Who {
    version: TokenVersion,
    kind: TokenKind,
    tenant_id: &'static str,
    client_id: &'static str,
    audience: &'static str,
    kid: &'static str,
    roles: &'static [&'static str],
}

const fn who(
    version: TokenVersion,
    kind: TokenKind,
    audience: &'static str,
    kid: &'static str,
) -> Who {
    Who {
        version,
        kind,
        tenant_id: TID,
        client_id: DEFAULT_CLIENT_ID,
        audience,
        kid,
        roles: &[],
    }
}

impl Who {
    fn matches(&self, id: &VerifiedIdentity) -> bool {
        id.version() == self.version
            && id.kind() == self.kind
            && id.tenant_id() == self.tenant_id
            && id.client_id() == self.client_id
            && id.audience() == self.audience
            && id.kid() == self.kid
            && id.roles() == self.roles
    }
}

#[derive(Debug)]
enum Expect {
    Pass(Who),
    Deny(Reason),
}

struct Case {
    name: &'static str,
    rules: Rules,
    authorization: Option<String>,
    expect: Expect,
}

fn pass(name: &'static str, rules: Rules, authorization: Option<String>, who: Who) -> Case {
    Case {
        name,
        rules,
        authorization,
        expect: Expect::Pass(who),
    }
}

fn deny(name: &'static str, authorization: Option<String>, reason: Reason) -> Case {
    deny_under(name, Rules::Tenant, authorization, reason)
}

fn deny_under(
    name: &'static str,
    rules: Rules,
    authorization: Option<String>,
    reason: Reason,
) -> Case {
    Case {
        name,
        rules,
        authorization,
        expect: Expect::Deny(reason),
    }
}

fn hs256(signing_input: &str, secret: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        b64_encode(&mac.finalize().into_bytes())
    )
}

/// The largest `filler` claim that keeps the signed token within `cap` bytes.
fn filler_within(tok: &Tok, cap: usize, signature_len: usize) -> usize {
    let sig_b64 = b64_encode(&vec![0; signature_len]).len();
    let len = |n: usize| {
        tok.clone()
            .claims(json!({ "filler": "x".repeat(n) }))
            .signing_input()
            .len()
            + 1
            + sig_b64
    };
    // len grows with n, so bisect: len(lo) fits, len(hi) does not.
    let (mut lo, mut hi) = (0, cap);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if len(mid) <= cap {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

#[rustfmt::skip]
fn cases(k: &TestKeys) -> Vec<Case> {
    use Reason::*;
    use TokenKind::{App, Delegated};
    use TokenVersion::{V1, V2};
    let at = |seconds: i64| NOW + seconds;
    let signed = |tok: &Tok, key: &SigningKey| bearer(&tok.sign(key));
    // The baseline: a delegated v2 token from this tenant, signed by test-key-1; rows edit it.
    let v2 = Tok::v2(&k.k1);
    let claims = |set: Value| signed(&v2.clone().claims(set), &k.k1);
    let header = |set: Value| signed(&v2.clone().header(set), &k.k1);
    let times = |iat: i64, nbf: i64, exp: i64| signed(&v2.clone().times(at(iat), at(nbf), at(exp)), &k.k1);
    let good = v2.sign(&k.k1);
    let good_sig = good.rsplit('.').next().expect("signature").to_owned();
    // Another token's header and payload under the baseline's signature.
    let resigned = |tok: Tok| bearer(&format!("{}.{good_sig}", tok.signing_input()));
    let tenant = |ver: Version, key: &SigningKey, tid: &str| signed(&Tok::new(ver, Kind::User, key, tid), key);
    let raw_claims = |json: &str| bearer(&compact(&v2.header_json(), json, &k.k1));
    let big = filler_within(&v2, MAX_TOKEN_BYTES, 256);
    let ok_v2 = who(V2, Delegated, API_CLIENT_ID, "test-key-1");
    let ok_v1 = who(V1, Delegated, API_URI, "test-key-1");

    vec![
        // --- accepted tokens ---
        // v1: the client id comes from appid (not azp); test-key-1's issuer is the v2 template,
        // whose resolution is the v2 form of the v1 token's tenant issuer.
        pass("valid v1", Rules::Tenant, signed(&Tok::v1(&k.k1), &k.k1), ok_v1),
        pass("valid v2", Rules::Tenant, bearer(&good), ok_v2),
        pass("valid app-only v2", Rules::Tenant,
             signed(&Tok::new(Version::V2, Kind::App, &k.k2, TID), &k.k2),
             Who { roles: &["Items.Ingest"], ..who(V2, App, API_CLIENT_ID, "test-key-2") }),
        pass("valid v2, 3072-bit key", Rules::Tenant, signed(&Tok::v2(&k.k3072), &k.k3072),
             who(V2, Delegated, API_CLIENT_ID, "test-key-3072")),
        // test-key-2 carries this tenant's exact v2 issuer: still the v1 token's tenant.
        pass("v1 signed by a key with our exact v2 issuer", Rules::Tenant,
             signed(&Tok::v1(&k.k2), &k.k2), who(V1, Delegated, API_URI, "test-key-2")),
        // The origin sees the configured spelling of the audience, not the token's.
        pass("v1 App ID URI audience with trailing slash", Rules::Tenant,
             signed(&Tok::v1(&k.k1).claims(json!({ "aud": "api://contoso-api/" })), &k.k1),
             who(V1, Delegated, "api://contoso-api", "test-key-1")),
        pass("lower-case bearer scheme", Rules::Tenant, Some(format!("bearer {good}")), ok_v2),
        pass("token just under the size cap", Rules::Tenant,
             claims(json!({ "filler": "x".repeat(big) })), ok_v2),

        // --- time, with 60 s of skew ---
        pass("exp 59 s ago, inside the skew", Rules::Tenant, times(-3659, -3659, -59), ok_v2),
        deny("exp + skew == now", times(-3660, -3660, -60), TokenExpired),
        deny("expired an hour ago", times(-7200, -7200, -3600), TokenExpired),
        deny_under("exp == now without skew", Rules::NoSkew, times(-3600, -3600, 0), TokenExpired),
        pass("nbf at the edge of the skew", Rules::Tenant, times(-5, 60, 3600), ok_v2),
        deny("nbf beyond the skew", times(-5, 61, 3600), TokenNotYetValid),
        deny("iat beyond the skew", times(61, -5, 3600), InvalidIssuedAt),
        deny("iat after exp", times(30, -5, 20), InvalidIssuedAt),

        // --- audience, issuer, tenant, key issuer ---
        deny("wrong aud", claims(json!({ "aud": "api://someone-else" })), InvalidAudience),
        // The trailing-slash leniency is for App ID URIs only; GUID audiences match exactly.
        deny("GUID aud with a trailing slash", claims(json!({ "aud": format!("{API_CLIENT_ID}/") })), InvalidAudience),
        deny("wrong iss", claims(json!({ "iss": v2_issuer(OTHER_TID) })), InvalidIssuer),
        // Our exact issuer passes the issuer check; only the tid disagrees with it.
        deny("tid differs from the issuer's tenant", claims(json!({ "tid": OTHER_TID })), TenantMismatch),
        deny("tid is not a GUID", claims(json!({ "tid": "contoso.onmicrosoft.com" })), TenantMismatch),
        deny("tid is an upper-case GUID", claims(json!({ "tid": TID.to_uppercase() })), TenantMismatch),
        // foreign-tenant-key is published with another tenant's exact issuer.
        deny("v2 signed by another tenant's key", tenant(Version::V2, &k.foreign, TID), KeyIssuerMismatch),
        deny("v1 signed by another tenant's key", tenant(Version::V1, &k.foreign, TID), KeyIssuerMismatch),
        deny_under("v1 where only v2 is accepted", Rules::V2Only, signed(&Tok::v1(&k.k1), &k.k1), WrongTokenVersion),
        deny("unknown ver", claims(json!({ "ver": "3.0" })), WrongTokenVersion),
        deny_under("consumer tenant under issuer templates", Rules::MultiTenant,
                   tenant(Version::V2, &k.k1, CONSUMER_TID), ConsumerTenant),
        pass("multi-tenant: another tenant's v2 token", Rules::MultiTenant,
             tenant(Version::V2, &k.k1, OTHER_TID), Who { tenant_id: OTHER_TID, ..ok_v2 }),
        pass("multi-tenant: another tenant's v1 token", Rules::MultiTenant,
             tenant(Version::V1, &k.k1, OTHER_TID), Who { tenant_id: OTHER_TID, ..ok_v1 }),
        // test-key-2 is published with our tenant's exact issuer, so it cannot vouch for another.
        deny_under("multi-tenant: another tenant's token on our exact-issuer key", Rules::MultiTenant,
                   tenant(Version::V2, &k.k2, OTHER_TID), KeyIssuerMismatch),
        deny_under("multi-tenant: iss of one tenant, tid of another", Rules::MultiTenant,
                   claims(json!({ "tid": OTHER_TID })), InvalidIssuer),
        pass("allow-list: a listed tenant", Rules::AllowList,
             tenant(Version::V2, &k.k1, TID), ok_v2),
        deny_under("allow-list: an unlisted tenant", Rules::AllowList,
                   tenant(Version::V2, &k.k1, OTHER_TID), TenantNotAllowed),

        // --- kinds of token that are not ours ---
        deny("Graph token by aud", claims(json!({ "aud": GRAPH })), GraphToken),
        deny("Graph token by nonce header", header(json!({ "nonce": "AbCd" })), GraphToken),
        deny("ID token", signed(&v2.clone().without(&["azp", "azpacr", "scp"]).claims(json!({ "nonce": "n-0S6" })), &k.k1), IdToken),

        // --- algorithm and key selection ---
        // With a signature segment present the algorithm check is reached; for unsigned (empty
        // signature) tokens see unsigned_tokens() below.
        deny("alg none with a signature", resigned(v2.clone().header(json!({ "alg": "none" }))), AlgorithmNotAllowed),
        deny("alg None with a signature", resigned(v2.clone().header(json!({ "alg": "None" }))), AlgorithmNotAllowed),
        deny("alg NONE with a signature", resigned(v2.clone().header(json!({ "alg": "NONE" }))), AlgorithmNotAllowed),
        // Key confusion: the RSA public key's PEM used as an HMAC secret.
        deny("HS256 with the public PEM as secret",
             bearer(&hs256(&v2.clone().header(json!({ "alg": "HS256" })).signing_input(), k.k1.public_pem().as_bytes())),
             AlgorithmNotAllowed),
        deny("RS512", header(json!({ "alg": "RS512" })), AlgorithmNotAllowed),
        deny("alg rs256 (case differs)", header(json!({ "alg": "rs256" })), AlgorithmNotAllowed),
        deny("unknown kid", header(json!({ "kid": "no-such-key" })), UnknownKid),
        deny("kid differs in case", header(json!({ "kid": "TEST-KEY-1" })), UnknownKid),
        deny("missing kid", signed(&v2.clone().header_without("kid"), &k.k1), KidMissing),
        deny("signed by another published key than kid names", signed(&v2, &k.k2), InvalidSignature),
        deny("tampered payload", resigned(v2.clone().claims(json!({ "scp": "items.read admin" }))), InvalidSignature),
        // Two base64url characters fewer is one byte fewer, still canonical.
        deny("truncated signature", bearer(&good[..good.len() - 2]), InvalidSignature),

        // --- header members ---
        deny("crit header", header(json!({ "crit": ["exp"] })), ForbiddenHeader),
        deny("jku header", header(json!({ "jku": "https://attacker.example/keys" })), ForbiddenHeader),
        deny("jwk header", header(json!({ "jwk": k.k1.public_jwk(None) })), ForbiddenHeader),
        deny("x5c header", header(json!({ "x5c": ["MIIC"] })), ForbiddenHeader),
        deny("x5u header", header(json!({ "x5u": "https://attacker.example/cert" })), ForbiddenHeader),
        deny("typ JWE", header(json!({ "typ": "JWE" })), MalformedHeader),
        deny("header is an array", bearer(&compact(r#"["RS256","test-key-1"]"#, &v2.claims_json(), &k.k1)), MalformedHeader),

        // --- JWS shape and size ---
        deny("two segments", bearer(&v2.signing_input()), MalformedJws),
        deny("four segments", bearer(&format!("{good}.{good_sig}")), MalformedJws),
        // At the end, padding is valid b64token (RFC 6750) but not strict base64url (RFC 7515).
        deny("padded signature", bearer(&format!("{good}==")), MalformedJws),
        // Inside the token it is not strict b64token syntax either, but it is answered as the
        // malformed token it is (401 invalid_token), not as a malformed request.
        deny("padded payload", bearer(&format!("{}=.{good_sig}", v2.signing_input())), MalformedJws),
        deny("oversized", claims(json!({ "filler": "x".repeat(13_000) })), TokenTooLarge),

        // --- claims JSON ---
        deny("duplicate exp", raw_claims(&v2.claims_json().replacen('{', &format!(r#"{{"exp":{},"#, at(7200)), 1)), MalformedClaims),
        deny("exp as a string", claims(json!({ "exp": at(3600).to_string() })), MalformedClaims),
        deny("exp null", claims(json!({ "exp": null })), MalformedClaims),
        deny("no exp", signed(&v2.clone().without(&["exp"]), &k.k1), MalformedClaims),
        deny("aud as a number", claims(json!({ "aud": 42 })), MalformedClaims),
        deny("claims are an array", raw_claims(&json!([API_CLIENT_ID, TID]).to_string()), MalformedClaims),
        deny("oid is not a GUID", claims(json!({ "oid": "not-a-guid" })), MalformedClaims),

        // --- the Authorization header ---
        deny("no Authorization header", None, TokenMissing),
        deny("Basic credentials", Some("Basic xyz".into()), TokenMissing),
        deny("Bearer with two tokens", Some("Bearer a b".into()), MalformedAuthorization),
        // Two headers reach the worker joined by ", ": neither may be picked.
        deny("two Authorization headers", Some(format!("Bearer {good}, Bearer {good}")), MalformedAuthorization),
    ]
}

/// What the gateway makes of one row's request.
fn outcome(case: &Case, keys: &Keys) -> Result<VerifiedIdentity, VerifyError> {
    let rules = case.rules.build();
    intake(case.authorization.as_deref(), MAX_TOKEN_BYTES).and_then(|token| {
        pollster::block_on(verify(token, keys, &RustVerifier, &rules, UnixTime(NOW)))
    })
}

/// Runs one row; `Err` describes a mismatch.
fn run(case: &Case, keys: &Keys) -> Result<(), String> {
    match (&case.expect, &outcome(case, keys)) {
        (Expect::Pass(who), Ok(id)) if who.matches(id) => Ok(()),
        (Expect::Deny(reason), Err(denial)) if denial.reason() == *reason => Ok(()),
        (expect, outcome) => Err(format!(
            "{}: expected {expect:?}, got {:?}",
            case.name,
            outcome.as_ref().map_err(|d| (d.reason(), d.to_string()))
        )),
    }
}

#[test]
fn every_row_gets_its_outcome() {
    let keys = test_keys();
    let set = key_set(&keys);
    let failures: Vec<String> = cases(&keys)
        .iter()
        .filter_map(|c| run(c, &set).err())
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_token_path_reason_has_a_row() {
    let keys = test_keys();
    let table = cases(&keys);
    let missing: Vec<_> = Reason::ALL
        .iter()
        // Keys, configuration, origin and policy reasons never come from verifying a token.
        .filter(|r| r.stage() == Stage::Token)
        .filter(|r| {
            !table
                .iter()
                .any(|c| matches!(c.expect, Expect::Deny(d) if d == **r))
        })
        .collect();
    assert!(missing.is_empty(), "no row for {missing:?}");
}

/// `alg: none` tokens as an attacker sends them: the signature segment left empty.
fn unsigned_tokens(k: &TestKeys) -> Vec<Case> {
    ["none", "None", "NONE"]
        .into_iter()
        .map(|alg| {
            let tok = Tok::v2(&k.k1).header(json!({ "alg": alg }));
            let authorization = bearer(&format!("{}.", tok.signing_input()));
            deny(
                "unsigned alg none",
                authorization,
                Reason::AlgorithmNotAllowed,
            )
        })
        .collect()
}

/// Unsigned tokens (empty signature segment) are refused for their algorithm, whatever its
/// spelling, not merely as malformed.
#[test]
fn unsigned_tokens_are_named_for_their_algorithm() {
    let keys = test_keys();
    let set = key_set(&keys);
    let failures: Vec<String> = unsigned_tokens(&keys)
        .iter()
        .filter_map(|c| run(c, &set).err())
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// `groups` are kept as lower-case object ids; an overage (`_claim_names.groups` in a JWT,
/// `hasgroups` in implicit-flow tokens) is remembered, whatever else the token lists.
#[test]
fn groups_and_their_overage_are_read() {
    let k = test_keys();
    let keys = key_set(&k);
    let read = |set: Value| {
        let token = Tok::v2(&k.k1).claims(set).sign(&k.k1);
        let case = deny("groups", bearer(&token), Reason::MalformedClaims);
        outcome(&case, &keys).expect("verifies")
    };
    let listed = read(json!({"groups": ["8D9E3B4A-1F2C-4E5D-9A6B-7C8D9E0F1A2B", "sales"]}));
    assert_eq!(
        listed.groups(),
        ["8d9e3b4a-1f2c-4e5d-9a6b-7c8d9e0f1a2b", "sales"]
    );
    assert!(!listed.groups_overage());
    let none = read(json!({}));
    assert!(none.groups().is_empty() && !none.groups_overage());
    let distributed = read(json!({
        "_claim_names": {"groups": "src1"},
        "_claim_sources": {"src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}}
    }));
    assert!(distributed.groups_overage());
    assert!(read(json!({"hasgroups": true})).groups_overage());
    let other_names = read(json!({"_claim_names": {"roles": "src1"}}));
    assert!(
        !other_names.groups_overage(),
        "only a left-out groups claim is an overage"
    );
}
