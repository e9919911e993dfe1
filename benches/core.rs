//! The core's cost per request, natively: token → decision, stage by stage, with the pure-Rust
//! verifier (the worker uses WebCrypto instead; see BENCHMARKS.md for the edge numbers).
//!
//! `cargo bench --bench core` (scripts/bench.sh runs it briefly and reports the results).
//! The token is an Entra-shaped v2 delegated token minted with the mock tenant's code and signed
//! by tests/data/keys/test-key-1.pem; the key set is a v2 key document publishing that key with
//! Entra's `{tenantid}` issuer template; the policy is the worked example (examples/items-api/policy.toml).

// Native only: criterion, pollster and the mock tenant are not built for wasm32.
#[cfg(not(target_arch = "wasm32"))]
mod native {
    use criterion::{BatchSize, Criterion};
    use entra_gate_core::internal::{validate_claims, verify_signature};
    use entra_gate_core::{intake, verify, ClaimRules, RustVerifier, SignatureVerifier};
    use entra_gate_core::{parse_jwks, IssuerRules, IssuerTemplate, JwksLimits, KeySet};
    use entra_gate_core::{CanonicalPath, VerifiedIdentity};
    use entra_gate_core::{ChallengeContext, Deployment, Policy, RequestFacts, RouteChoice};
    use entra_gate_core::{SignedPayload, SigningAlgorithm, TokenCache, UnixTime, UntrustedToken};
    use mock_tenant::mint::standard_header;
    use mock_tenant::{compact, standard_claims, Kind, SigningKey, Version};
    use serde_json::{json, Value};
    use std::hint::black_box;
    use std::rc::Rc;

    const NOW: i64 = 1_800_000_000;
    const MAX_TOKEN_BYTES: usize = 16384;
    const TID: &str = "6e2c7f5a-3b1d-4c8e-9f0a-1b2c3d4e5f60";
    const AUDIENCE: &str = "api://entra-gate-dev";
    const V2_TEMPLATE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";

    type Keys = KeySet<<RustVerifier as SignatureVerifier>::PreparedKey>;

    struct Fixture {
        token: String,
        authorization: String,
        keys: Keys,
        rules: ClaimRules,
        signed: SignedPayload,
        identity: VerifiedIdentity,
        policy: Policy,
    }

    fn fixture() -> Fixture {
        let manifest = env!("CARGO_MANIFEST_DIR");
        let pem = std::fs::read_to_string(format!("{manifest}/tests/data/keys/test-key-1.pem"))
            .expect("tests/data/keys/test-key-1.pem");
        let key = SigningKey::from_pem("test-key-1", &pem).expect("test key");

        let v2_issuer = format!("https://login.microsoftonline.com/{TID}/v2.0");
        let header = Value::Object(standard_header(Version::V2, &key)).to_string();
        let claims = Value::Object(standard_claims(
            Version::V2,
            Kind::User,
            TID,
            &v2_issuer,
            AUDIENCE,
            NOW,
            3600,
        ))
        .to_string();
        let token = compact(&header, &claims, &key);

        let document = json!({ "keys": [key.public_jwk(Some(V2_TEMPLATE))] }).to_string();
        let intake = parse_jwks(document.as_bytes(), &JwksLimits::default()).expect("jwks");
        let keys: Keys = KeySet::merge(vec![intake]).keys;
        let rules = ClaimRules {
            audiences: vec![AUDIENCE.into()],
            issuers: IssuerRules {
                v1: Some(IssuerTemplate::new(format!(
                    "https://sts.windows.net/{TID}/"
                ))),
                v2: Some(IssuerTemplate::new(v2_issuer)),
            },
            clock_skew_seconds: 60,
            allow_consumer_accounts: false,
            allowed_tenants: None,
            extra_claims: Vec::new(),
        };

        let parsed = UntrustedToken::parse(&token, MAX_TOKEN_BYTES).expect("parses");
        let signed = pollster::block_on(verify_signature(
            parsed,
            SigningAlgorithm::Rs256,
            &keys,
            &RustVerifier,
        ))
        .expect("signature verifies");
        let identity = validate_claims(signed.clone(), &rules, UnixTime(NOW)).expect("valid");

        Fixture {
            authorization: format!("Bearer {token}"),
            token,
            keys,
            rules,
            signed,
            identity,
            policy: example_policy(),
        }
    }

    /// The worked example's policy file, as the build bundles it (JSON).
    fn example_policy() -> Policy {
        let manifest = env!("CARGO_MANIFEST_DIR");
        let path = format!("{manifest}/examples/items-api/policy.toml");
        let text = std::fs::read_to_string(path).expect("the example policy");
        let policy: toml::Table = toml::from_str(&text).expect("valid TOML");
        let audiences = [AUDIENCE.to_owned()];
        let deployment = Deployment {
            accept_v1: true,
            accept_v2: true,
            audiences: &audiences,
        };
        Policy::parse(&serde_json::to_string(&policy).expect("json"), deployment)
            .unwrap_or_else(|problems| panic!("example policy refused: {problems:?}"))
    }

    pub fn benches(c: &mut Criterion) {
        let f = fixture();
        let now = UnixTime(NOW);
        let mut group = c.benchmark_group("core");

        group.bench_function("token_parse", |b| {
            b.iter(|| UntrustedToken::parse(black_box(&f.token), MAX_TOKEN_BYTES).is_ok())
        });

        group.bench_function("signature_rs256_rust", |b| {
            b.iter_batched(
                || UntrustedToken::parse(&f.token, MAX_TOKEN_BYTES).expect("parses"),
                |token| {
                    let verified =
                        verify_signature(token, SigningAlgorithm::Rs256, &f.keys, &RustVerifier);
                    pollster::block_on(verified).is_ok()
                },
                BatchSize::SmallInput,
            )
        });

        group.bench_function("claims_validate", |b| {
            b.iter_batched(
                || f.signed.clone(),
                |signed| validate_claims(signed, &f.rules, now).is_ok(),
                BatchSize::SmallInput,
            )
        });

        group.bench_function("gate_intake_verify_rust", |b| {
            b.iter(|| {
                let token =
                    intake(Some(black_box(&f.authorization)), MAX_TOKEN_BYTES).expect("intake");
                pollster::block_on(verify(token, &f.keys, &RustVerifier, &f.rules, now)).is_ok()
            })
        });

        let mut facts = RequestFacts::new(
            "GET",
            CanonicalPath::parse("/api/items/42").expect("canonical"),
            now,
        );
        facts.client_ip = Some("203.0.113.7".parse().expect("ip"));
        facts.country = Some("NL".into());
        facts.asn = Some(13335);
        let ctx = ChallengeContext {
            authorization_uri: format!(
                "https://login.microsoftonline.com/{TID}/oauth2/v2.0/authorize"
            ),
            client_id: f.policy.api_client_id.clone(),
        };
        group.bench_function("policy_route_authorize", |b| {
            b.iter(|| match f.policy.route_for(black_box(&facts)) {
                RouteChoice::Route(route) => f
                    .policy
                    .authorize(route, &f.identity, &facts, &ctx)
                    .refusal
                    .is_none(),
                _ => false,
            })
        });

        // What a reused token costs instead of verification: hashing the whole token for the
        // map, comparing it byte for byte, the expiry check.
        let mut cache = TokenCache::new(4096, 8 << 20);
        cache.use_key_set("bench", "keys", |_| true);
        cache.insert("bench", &f.token, Rc::new(f.identity.clone()), now);
        group.bench_function("token_cache_hit", |b| {
            b.iter(|| cache.get(black_box(&f.token), now).is_some())
        });

        group.finish();
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    let mut criterion = criterion::Criterion::default().configure_from_args();
    native::benches(&mut criterion);
    criterion.final_summary();
}

#[cfg(target_arch = "wasm32")]
fn main() {}
