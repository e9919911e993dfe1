#!/usr/bin/env node
// Generates tests/data/attack-corpus.json: attacks on the token path as data, one case per line
// of attack, each with the exact answer the gateway must give (status and reason code).
//
//   node scripts/gen-corpus.mjs           # (re)writes the corpus
//   node scripts/gen-corpus.mjs --check   # exits 1 if the file differs from what would be written
//
// Deterministic: tokens are signed with the test keys (tests/data/keys, RS256 = RSASSA-PKCS1-v1_5,
// which has no randomness) or HMAC, over fixed claims with fixed timestamps, so a regeneration
// is byte-identical. The timestamps are chosen so the corpus is valid against a real clock for
// years (iat/nbf 1700000000 = Nov 2023, exp 2100000000 = Jul 2036; the "future" cases use
// 2050000000 = Dec 2034): the e2e run (tests/e2e/attack.test.mjs) uses workerd's real clock,
// the native run (tests/attack_corpus.rs) a fixed one (1800000000).
//
// The deployment the expectations assume (both runs configure exactly this) is CORPUS below:
// a single tenant, audiences API_URI and API_CLIENT_ID, v1 and v2 tokens, 60 s skew, the
// 16384-byte cap, no policy. Keys: test-key-1 and test-key-2 published with the tenant's v2
// issuer, and test-key-2's material again as "foreign-tenant-key" with another tenant's issuer.
//
// Each expectation comes from reading the code's order of checks (bearer::extract,
// UntrustedToken::parse, jws::verify_signature, claims::validate); every signed case is signed
// correctly unless the signature is the thing under attack, so the named check is the one that
// fires. Expected status 200 with reason null means the token must be accepted.
import { createHmac, createPrivateKey, createPublicKey, sign } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const ROOT = resolve(import.meta.dirname, "..");
export const CORPUS_PATH = resolve(ROOT, "tests/data/attack-corpus.json");
export const PATHS_PATH = resolve(ROOT, "tests/data/attack-corpus-paths.json");
export const KV_PATH = resolve(ROOT, "tests/data/attack-corpus-kv.json");

export const CORPUS = {
  tenantId: "3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b",
  otherTenantId: "8b7c6d5e-4f3a-4b2c-9d1e-0f1a2b3c4d5e",
  consumerTenantId: "9188040d-6c67-4c5b-b112-36a304b66dad",
  apiUri: "api://contoso-api",
  apiClientId: "c0ffee00-1234-4abc-8def-0123456789ab",
  clientId: "0f6e1f5b-0c6f-4a55-9d1e-5c1f3f2f0a11",
  objectId: "5a1d5c3e-6a4b-4f1e-8a2d-0c9e8f7b6a51",
  iat: 1700000000,
  exp: 2100000000,
  future: 2050000000,
  maxTokenBytes: 16384,
  /** jku/x5u cases point here; the e2e test listens on it and asserts it is never called. */
  canaryPort: 47391,
};
const C = CORPUS;
export const v2Issuer = (tid) => `https://login.microsoftonline.com/${tid}/v2.0`;
export const v1Issuer = (tid) => `https://sts.windows.net/${tid}/`;

/** The signing keys: kid → Node private key. */
export function loadKeys() {
  const pem = (file) => createPrivateKey(readFileSync(resolve(ROOT, "tests/data/keys", file), "utf8"));
  return {
    "test-key-1": pem("test-key-1.pem"),
    "test-key-2": pem("test-key-2.pem"),
    "foreign-tenant-key": pem("test-key-2.pem"),
  };
}

/** The JWKS documents as the tenant publishes them (v1 without issuers, v2 with). */
export function jwksDocuments(keys = loadKeys()) {
  const jwk = (kid, issuer) => {
    const { n, e } = createPublicKey(keys[kid]).export({ format: "jwk" });
    return { kty: "RSA", use: "sig", kid, x5t: kid, n, e, ...(issuer ? { issuer } : {}) };
  };
  return {
    v1: { keys: [jwk("test-key-1"), jwk("test-key-2")] },
    v2: {
      keys: [
        jwk("test-key-1", v2Issuer(C.tenantId)),
        jwk("test-key-2", v2Issuer(C.tenantId)),
        jwk("foreign-tenant-key", v2Issuer(C.otherTenantId)),
      ],
    },
  };
}

const b64 = (bytes) => Buffer.from(bytes).toString("base64url");
const bytes = (text) => (Buffer.isBuffer(text) ? text : Buffer.from(text, "utf8"));

/** `b64(header).b64(payload)`, both given as exact JSON text (or raw bytes). */
export const signingInput = (header, payload) => `${b64(bytes(header))}.${b64(bytes(payload))}`;

export function rs256(input, key) {
  return b64(sign("sha256", Buffer.from(input), key));
}

/** A compact JWS over the exact header and payload text, signed with `kid`'s key. */
export function compact(header, payload, key) {
  const input = signingInput(header, payload);
  return `${input}.${rs256(input, key)}`;
}

/** JSON text of an object given as [name, raw JSON value text] pairs, in order. */
export const obj = (pairs) => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`;
const j = (value) => JSON.stringify(value);

export const headerPairs = (kid = "test-key-1") => [
  ["typ", j("JWT")],
  ["alg", j("RS256")],
  ["kid", j(kid)],
];

/** A delegated v2 token as Entra issues it (with an app role too, so `roles` is present). */
export const claimPairs = (overrides = {}) => {
  const base = [
    ["aud", j(C.apiClientId)],
    ["iss", j(v2Issuer(C.tenantId))],
    ["iat", j(C.iat)],
    ["nbf", j(C.iat)],
    ["exp", j(C.exp)],
    ["azp", j(C.clientId)],
    ["azpacr", j("1")],
    ["name", j("Corpus User")],
    ["oid", j(C.objectId)],
    ["preferred_username", j("user@corpus.example")],
    ["rh", j("0.corpus.")],
    ["roles", j(["Items.Read"])],
    ["scp", j("items.read items.write")],
    ["sub", j("corpus-subject-0001")],
    ["tid", j(C.tenantId)],
    ["uti", j("CorpusUti0000000000001")],
    ["ver", j("2.0")],
  ];
  return edit(base, overrides);
};

/** A v1 token: App ID URI audience, sts.windows.net issuer, appid instead of azp. */
const v1ClaimPairs = (overrides = {}) =>
  edit(
    claimPairs({ aud: j(C.apiUri), iss: j(v1Issuer(C.tenantId)), azp: undefined, azpacr: undefined, ver: j("1.0") }),
    { appid: j(C.clientId), appidacr: j("1"), ...overrides },
  );

/** Replaces members in place (raw JSON text), removes those set to undefined, appends new ones. */
function edit(pairs, overrides) {
  const out = [];
  const seen = new Set();
  for (const [k, v] of pairs) {
    if (k in overrides) {
      seen.add(k);
      if (overrides[k] !== undefined) out.push([k, overrides[k]]);
    } else out.push([k, v]);
  }
  for (const [k, v] of Object.entries(overrides)) if (!seen.has(k) && v !== undefined) out.push([k, v]);
  return out;
}

const nested = (depth, open = "[", close = "]") => `${open.repeat(depth)}${close.repeat(depth)}`;
const nestedObjects = (depth) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

export function buildCorpus(keys = loadKeys()) {
  const cases = [];
  const add = (name, authorization, status, reason = null) => cases.push({ name, authorization, expect: { status, reason } });
  const bearer = (token) => `Bearer ${token}`;
  const ok = (name, authorization) => add(name, authorization, 200);
  const deny = (name, authorization, reason) => add(name, authorization, 401, reason);
  const k1 = keys["test-key-1"];

  const H = obj(headerPairs());
  const P = obj(claimPairs());
  const good = compact(H, P, k1);
  const [goodH, goodP, goodS] = good.split(".");
  // Signed as given (header pairs, claim overrides), with test-key-1 unless told otherwise.
  const tok = ({ header = headerPairs(), claims = {}, raw, key = k1 } = {}) =>
    compact(Array.isArray(header) ? obj(header) : header, raw ?? obj(claimPairs(claims)), key);
  const withHeader = (overrides, key = k1) => tok({ header: edit(headerPairs(), overrides), key });
  // A changed payload under the baseline's header and signature.
  const keptSignature = (payload) => `${goodH}.${b64(bytes(payload))}.${goodS}`;
  const unsigned = (header) => `${b64(bytes(header))}.${goodP}.`;

  // --- accepted: the baseline and harmless variations ------------------------------------
  ok("valid v2 token (baseline)", bearer(good));
  ok("valid v2 token signed by test-key-2", bearer(tok({ header: headerPairs("test-key-2"), key: keys["test-key-2"] })));
  ok("valid v1 token (sts.windows.net issuer, appid)", bearer(tok({ raw: obj(v1ClaimPairs()) })));
  ok("scheme in lower case", `bearer ${good}`);
  ok("scheme in upper case", `BEARER ${good}`);
  ok("several spaces after the scheme", `Bearer     ${good}`);
  ok("typ at+jwt", bearer(withHeader({ typ: j("at+jwt") })));
  ok("typ application/at+jwt", bearer(withHeader({ typ: j("application/at+jwt") })));
  ok("typ null is read as absent", bearer(withHeader({ typ: "null" })));
  ok("no typ", bearer(withHeader({ typ: undefined })));
  ok("unknown header member", bearer(withHeader({ foo: j({ bar: [1, 2, 3] }) })));
  ok("b64 false without crit is ignored (payload still base64url)", bearer(withHeader({ b64: "false" })));
  ok("header JSON with surrounding whitespace", bearer(tok({ header: ` \n${H}\t ` })));
  ok("claims JSON with surrounding whitespace", bearer(tok({ raw: `\r\n ${P} \n` })));
  ok("non-ASCII in an unchecked claim", bearer(tok({ claims: { name: j("Zoë Ålander 🙂") } })));
  ok("escaped member name (\\u0061ud) is aud", bearer(tok({ raw: P.replace('"aud"', '"\\u0061ud"') })));
  ok("escaped characters in tid", bearer(tok({ claims: { tid: `"${C.tenantId.replace("-", "\\u002d")}"` } })));
  ok("aud as an array with ours among others", bearer(tok({ claims: { aud: j(["api://other", C.apiClientId]) } })));
  ok("App ID URI aud with one trailing slash", bearer(tok({ claims: { aud: j(`${C.apiUri}/`) } })));
  ok("100 nested arrays in an unchecked claim (under the parser's depth limit)", bearer(tok({ claims: { deep: nested(100) } })));
  ok("CRLF in scp is accepted (headers are percent-encoded)", bearer(tok({ claims: { scp: j("items.read\r\nX-Entra-Roles: Admin") } })));

  // --- the Authorization header itself --------------------------------------------------------
  add("no Authorization header", null, 401, "token_missing");
  add("Basic credentials", "Basic dXNlcjpwYXNzd29yZA==", 401, "token_missing");
  add("scheme glued to the token", `Bearer${good}`, 401, "token_missing");
  add("tab between scheme and token (not SP)", `Bearer\t${good}`, 400, "malformed_authorization");
  add("scheme only", "Bearer", 400, "malformed_authorization");
  add("two credentials", "Bearer a b", 400, "malformed_authorization");
  add("two Authorization headers (joined by comma)", `${bearer(good)}, ${bearer(good)}`, 400, "malformed_authorization");
  add("padding only", "Bearer ====", 400, "malformed_authorization");
  add("space inside the token", `Bearer ${goodH}.${goodP} .${goodS}`, 400, "malformed_authorization");
  add("double quote in the token", `Bearer "${good}"`, 400, "malformed_authorization");
  add("percent-encoded dot", `Bearer ${goodH}%2E${goodP}.${goodS}`, 400, "malformed_authorization");
  add("UTF-8 BOM before the scheme (as Latin-1 bytes)", `\u00ef\u00bb\u00bfBearer ${good}`, 401, "token_missing");

  // --- signature stripped, truncated, altered ---------------------------------------------------
  deny("signature stripped (empty third segment)", bearer(`${goodH}.${goodP}.`), "invalid_signature");
  deny("signature segment removed (two segments)", bearer(`${goodH}.${goodP}`), "malformed_jws");
  deny("signature truncated by one byte (2 chars)", bearer(good.slice(0, -2)), "invalid_signature");
  deny("signature truncated by one char (impossible base64 length)", bearer(good.slice(0, -1)), "malformed_jws");
  deny("signature truncated to half", bearer(`${goodH}.${goodP}.${goodS.slice(0, 170)}`), "invalid_signature");
  deny("signature one byte longer", bearer(`${goodH}.${goodP}.${b64(Buffer.concat([Buffer.from(goodS, "base64url"), Buffer.from([0])]))}`), "invalid_signature");
  const flipped = Buffer.from(goodS, "base64url");
  flipped[100] ^= 1;
  deny("signature with one bit flipped", bearer(`${goodH}.${goodP}.${b64(flipped)}`), "invalid_signature");
  deny("signature of 256 zero bytes", bearer(`${goodH}.${goodP}.${b64(Buffer.alloc(256))}`), "invalid_signature");
  deny("signature of another token", bearer(`${goodH}.${goodP}.${tok({ claims: { sub: j("other") } }).split(".")[2]}`), "invalid_signature");
  deny("signed by test-key-2 under kid test-key-1", bearer(tok({ key: keys["test-key-2"] })), "invalid_signature");

  // --- alg ---------------------------------------------------------------------------------------
  for (const alg of ["none", "None", "NONE", "nOnE"]) {
    const header = obj(edit(headerPairs(), { alg: j(alg) }));
    deny(`alg ${alg}, unsigned`, bearer(unsigned(header)), "alg_not_allowed");
    deny(`alg ${alg}, original signature kept`, bearer(`${b64(header)}.${goodP}.${goodS}`), "alg_not_allowed");
  }
  for (const alg of ["", "rs256", "RS256 ", " RS256", "RS384", "RS512", "PS256", "ES256", "EdDSA", "HS384", "RSA-OAEP"]) {
    deny(`alg ${JSON.stringify(alg)}`, bearer(withHeader({ alg: j(alg) })), "alg_not_allowed");
  }
  deny("alg missing", bearer(withHeader({ alg: undefined })), "malformed_header");
  deny("alg null", bearer(withHeader({ alg: "null" })), "malformed_header");
  deny("alg a number", bearer(withHeader({ alg: "256" })), "malformed_header");
  deny("alg an array", bearer(withHeader({ alg: j(["RS256"]) })), "malformed_header");
  deny("alg none with a Graph nonce (alg is checked first)", bearer(unsigned(obj(edit(headerPairs(), { alg: j("none"), nonce: j("abc") })))), "alg_not_allowed");

  // HS256 key confusion: the verifier must never take an HMAC over a public key (or a guess).
  const pub = createPublicKey(k1);
  const jwk = pub.export({ format: "jwk" });
  const secrets = [
    ["an empty key", Buffer.alloc(0)],
    ['"secret"', Buffer.from("secret")],
    ['"password"', Buffer.from("password")],
    ["the public key as SPKI PEM", Buffer.from(pub.export({ type: "spki", format: "pem" }))],
    ["the public key as PKCS#1 PEM", Buffer.from(pub.export({ type: "pkcs1", format: "pem" }))],
    ["the public key as SPKI DER", pub.export({ type: "spki", format: "der" })],
    ["the public key as PKCS#1 DER", pub.export({ type: "pkcs1", format: "der" })],
    ["the JWK n as text", Buffer.from(jwk.n)],
    ["the JWK n as bytes", Buffer.from(jwk.n, "base64url")],
    ["the JWK as JSON text", Buffer.from(JSON.stringify(jwk))],
  ];
  for (const [what, secret] of secrets) {
    const input = signingInput(obj(edit(headerPairs(), { alg: j("HS256") })), P);
    deny(`HS256 signed with ${what}`, bearer(`${input}.${b64(createHmac("sha256", secret).update(input).digest())}`), "alg_not_allowed");
  }
  {
    const input = signingInput(obj([["alg", j("HS256")]]), P);
    const mac = b64(createHmac("sha256", Buffer.from(pub.export({ type: "spki", format: "pem" }))).update(input).digest());
    deny("HS256 with the public PEM and no kid (kid is checked first)", bearer(`${input}.${mac}`), "kid_missing");
  }

  // --- header members that would make the verifier fetch or trust a key ---------------------------
  const k2jwk = createPublicKey(keys["test-key-2"]).export({ format: "jwk" });
  deny("embedded jwk (the signer's own key)", bearer(withHeader({ jwk: j({ kty: "RSA", ...k2jwk }) }, keys["test-key-2"])), "forbidden_header");
  deny("embedded jwk with kid test-key-1", bearer(withHeader({ jwk: j({ kty: "RSA", kid: "test-key-1", n: k2jwk.n, e: k2jwk.e }) }, keys["test-key-2"])), "forbidden_header");
  deny("jwk null", bearer(withHeader({ jwk: "null" })), "forbidden_header");
  const canary = `127.0.0.1:${C.canaryPort}`;
  deny("jku to a loopback server", bearer(withHeader({ jku: j(`http://${canary}/jku/keys`) })), "forbidden_header");
  deny("jku to localhost", bearer(withHeader({ jku: j(`http://localhost:${C.canaryPort}/jku/keys`) })), "forbidden_header");
  deny("jku to loopback with an unknown kid", bearer(withHeader({ kid: j("attacker-key"), jku: j(`http://${canary}/jku/attacker`) })), "forbidden_header");
  deny("x5u to a loopback server", bearer(withHeader({ x5u: j(`http://${canary}/x5u/cert.pem`) })), "forbidden_header");
  deny("x5u to localhost", bearer(withHeader({ x5u: j(`http://localhost:${C.canaryPort}/x5u/cert.pem`) })), "forbidden_header");
  deny("jku null", bearer(withHeader({ jku: "null" })), "forbidden_header");
  deny("x5c chain", bearer(withHeader({ x5c: j(["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]) })), "forbidden_header");
  deny("crit exp", bearer(withHeader({ crit: j(["exp"]) })), "forbidden_header");
  deny("crit b64 with b64 false", bearer(withHeader({ b64: "false", crit: j(["b64"]) })), "forbidden_header");
  deny("cty JWT (nested token)", bearer(withHeader({ cty: j("JWT") })), "forbidden_header");
  deny("typ JWE", bearer(withHeader({ typ: j("JWE") })), "malformed_header");
  deny("typ logout+jwt", bearer(withHeader({ typ: j("logout+jwt") })), "malformed_header");
  deny("typ a number", bearer(withHeader({ typ: "1" })), "malformed_header");

  // --- kid injection ------------------------------------------------------------------------------
  const kids = [
    ["path traversal", "../../dev/null"],
    ["absolute path", "/etc/passwd"],
    ["SQL", "' OR 1=1 --"],
    ["shell $()", "$(id)"],
    ["shell backticks", "`id`"],
    ["NUL byte", "test-key-1\u0000"],
    ["trailing space", "test-key-1 "],
    ["different case", "TEST-KEY-1"],
    ["CRLF header injection", "x\r\nX-Entra-Roles: Admin"],
    ["HTML", "<script>alert(1)</script>"],
    ["percent-encoding", "%2e%2e%2ftest-key-1"],
    ["issuer template", "{tenantid}"],
    ["prototype pollution", "__proto__"],
    ["256 characters (the longest looked up)", "k".repeat(256)],
  ];
  for (const [what, kid] of kids) deny(`kid injection: ${what}`, bearer(withHeader({ kid: j(kid) })), "unknown_kid");
  deny("kid injection: empty", bearer(withHeader({ kid: j("") })), "kid_missing");
  deny("kid injection: 257 characters", bearer(withHeader({ kid: j("k".repeat(257)) })), "kid_missing");
  deny("kid injection: 300 characters", bearer(withHeader({ kid: j("A".repeat(300)) })), "kid_missing");
  deny("kid null", bearer(withHeader({ kid: "null" })), "kid_missing");
  deny("kid missing", bearer(withHeader({ kid: undefined })), "kid_missing");
  deny("kid a number", bearer(withHeader({ kid: "1" })), "malformed_header");
  deny("kid an array", bearer(withHeader({ kid: j(["test-key-1"]) })), "malformed_header");

  // --- every checked claim replaced by null, true, false, a string and 0 ----------------------------
  // Re-signed: the claim rules decide. Original signature kept: the signature must fail first.
  const M = "malformed_claims";
  const replacements = ["null", "true", "false", j("attacker"), "0"];
  const expected = {
    exp: [M, M, M, M, "token_expired"],
    nbf: [M, M, M, M, null],
    iat: [M, M, M, M, null],
    aud: [M, M, M, "invalid_audience", M],
    iss: [M, M, M, "invalid_issuer", M],
    tid: [M, M, M, "tenant_mismatch", M],
    oid: [M, M, M, M, M],
    sub: [M, M, M, null, M],
    azp: [M, M, M, null, M],
    ver: [M, M, M, "wrong_token_version", M],
    scp: [M, M, M, null, M],
    roles: [M, M, M, M, M],
  };
  for (const [claim, reasons] of Object.entries(expected)) {
    replacements.forEach((value, i) => {
      const payload = obj(claimPairs({ [claim]: value }));
      const label = `${claim} = ${value}`;
      if (reasons[i] === null) ok(`${label}, re-signed`, bearer(tok({ raw: payload })));
      else deny(`${label}, re-signed`, bearer(tok({ raw: payload })), reasons[i]);
      deny(`${label}, original signature`, bearer(keptSignature(payload)), "invalid_signature");
    });
  }
  const removed = {
    exp: M, nbf: null, iat: null, aud: M, iss: M, tid: M, oid: M, sub: M,
    azp: "id_token", ver: "wrong_token_version", scp: null, roles: null,
  };
  for (const [claim, reason] of Object.entries(removed)) {
    const payload = obj(claimPairs({ [claim]: undefined }));
    if (reason === null) ok(`${claim} removed, re-signed`, bearer(tok({ raw: payload })));
    else deny(`${claim} removed, re-signed`, bearer(tok({ raw: payload })), reason);
  }
  deny("sub empty", bearer(tok({ claims: { sub: j("") } })), M);
  deny("oid an upper-case GUID", bearer(tok({ claims: { oid: j(C.objectId.toUpperCase()) } })), M);
  deny("idtyp unknown", bearer(tok({ claims: { idtyp: j("device") } })), M);
  deny("aud an empty array", bearer(tok({ claims: { aud: "[]" } })), "invalid_audience");
  deny("aud an array with a number", bearer(tok({ claims: { aud: j([C.apiClientId, 1]) } })), M);
  deny("aud a nested array", bearer(tok({ claims: { aud: j([[C.apiClientId]]) } })), M);
  deny("aud an object", bearer(tok({ claims: { aud: j({ aud: C.apiClientId }) } })), M);
  deny("aud GUID with a trailing slash", bearer(tok({ claims: { aud: j(`${C.apiClientId}/`) } })), "invalid_audience");
  deny("aud GUID in upper case", bearer(tok({ claims: { aud: j(C.apiClientId.toUpperCase()) } })), "invalid_audience");
  deny("aud App ID URI in upper case", bearer(tok({ claims: { aud: j(C.apiUri.toUpperCase()) } })), "invalid_audience");
  deny("aud App ID URI with two trailing slashes", bearer(tok({ claims: { aud: j(`${C.apiUri}//`) } })), "invalid_audience");
  deny("roles with a number", bearer(tok({ claims: { roles: j(["Items.Read", 7]) } })), M);
  deny("scp an array", bearer(tok({ claims: { scp: j(["items.read"]) } })), M);

  // --- duplicate members ------------------------------------------------------------------------
  const dup = (name, value) => P.replace("{", `{${j(name)}:${value},`);
  deny("duplicate exp (first expired)", bearer(tok({ raw: dup("exp", "1600000000") })), M);
  deny("duplicate exp (same value)", bearer(tok({ raw: dup("exp", j(C.exp)) })), M);
  deny("duplicate aud", bearer(tok({ raw: dup("aud", j("api://attacker")) })), M);
  deny("duplicate tid", bearer(tok({ raw: dup("tid", j(C.otherTenantId)) })), M);
  deny("duplicate iss", bearer(tok({ raw: dup("iss", j(v2Issuer(C.otherTenantId))) })), M);
  deny("duplicate roles", bearer(tok({ raw: dup("roles", j(["Admin"])) })), M);
  deny("duplicate exp spelled with an escape (\\u0065xp)", bearer(tok({ raw: P.replace("{", '{"\\u0065xp":1600000000,') })), M);
  deny("duplicate alg in the header", bearer(tok({ header: H.replace("{", '{"alg":"none",') })), "malformed_header");
  deny("duplicate kid in the header", bearer(tok({ header: H.replace("{", '{"kid":"test-key-2",') })), "malformed_header");
  deny("duplicate typ in the header", bearer(tok({ header: H.replace("{", '{"typ":"JWE",') })), "malformed_header");

  // --- deep nesting -----------------------------------------------------------------------------
  // A member the gateway reads is parsed into a type, under serde_json's depth limit (128): too
  // deep is malformed. Members it does not read are skipped by serde_json's iterative skipper
  // (no recursion, no depth limit, bounded by the size cap): harmless, so accepted.
  deny("200 nested arrays in roles (a checked claim)", bearer(tok({ claims: { roles: nested(200) } })), M);
  deny("200 nested arrays in aud (a checked claim)", bearer(tok({ claims: { aud: nested(200) } })), M);
  ok("200 nested arrays in an unchecked claim (skipped, not parsed)", bearer(tok({ claims: { deep: nested(200) } })));
  ok("200 nested objects in an unchecked claim (skipped, not parsed)", bearer(tok({ claims: { deep: nestedObjects(200) } })));
  ok("5000 nested arrays in an unchecked claim (near the size cap)", bearer(tok({ claims: { deep: nested(5000) } })));
  ok("200 nested arrays in an unchecked header member", bearer(withHeader({ deep: nested(200) })));
  ok("5000 nested arrays in an unchecked header member", bearer(withHeader({ deep: nested(5000) })));
  deny("5000 nested arrays in kid", bearer(withHeader({ kid: nested(5000) })), "malformed_header");
  // The payload is not parsed before the signature verifies.
  deny("200 nested arrays in a claim, original signature", bearer(keptSignature(obj(claimPairs({ deep: nested(200) })))), "invalid_signature");

  // --- numbers ----------------------------------------------------------------------------------
  ok("exp 1e308 (finite, far future)", bearer(tok({ claims: { exp: "1e308" } })));
  ok("exp 2100000000.5 (fractional NumericDate)", bearer(tok({ claims: { exp: "2100000000.5" } })));
  ok("exp in exponent notation (2.1e9)", bearer(tok({ claims: { exp: "2.1e9" } })));
  ok("exp beyond u64 (18446744073709551616)", bearer(tok({ claims: { exp: "18446744073709551616" } })));
  ok("nbf -1e308", bearer(tok({ claims: { nbf: "-1e308" } })));
  ok("iat fractional", bearer(tok({ claims: { iat: "1700000000.999" } })));
  deny("exp 1e309 (overflows a double)", bearer(tok({ claims: { exp: "1e309" } })), M);
  deny("exp -1e308", bearer(tok({ claims: { exp: "-1e308" } })), "token_expired");
  deny("exp -0", bearer(tok({ claims: { exp: "-0" } })), "token_expired");
  deny("exp 1e-300", bearer(tok({ claims: { exp: "1e-300" } })), "token_expired");
  deny("exp in 2020", bearer(tok({ claims: { exp: "1600000000" } })), "token_expired");
  deny("exp 1600000000.5", bearer(tok({ claims: { exp: "1600000000.5" } })), "token_expired");
  deny("exp as a numeric string", bearer(tok({ claims: { exp: j(String(C.exp)) } })), M);
  deny("exp in an array", bearer(tok({ claims: { exp: j([C.exp]) } })), M);
  deny("exp an object", bearer(tok({ claims: { exp: "{}" } })), M);
  deny("exp with a leading zero (invalid JSON)", bearer(tok({ claims: { exp: "02100000000" } })), M);
  deny("exp with a plus sign (invalid JSON)", bearer(tok({ claims: { exp: "+2100000000" } })), M);
  deny("exp hexadecimal (invalid JSON)", bearer(tok({ claims: { exp: "0x7d2b7500" } })), M);
  deny("exp NaN (invalid JSON)", bearer(tok({ claims: { exp: "NaN" } })), M);
  deny("exp Infinity (invalid JSON)", bearer(tok({ claims: { exp: "Infinity" } })), M);
  deny("nbf 1e308", bearer(tok({ claims: { nbf: "1e308" } })), "token_not_yet_valid");
  deny("nbf in 2034", bearer(tok({ claims: { nbf: j(C.future) } })), "token_not_yet_valid");
  deny("iat 1e308", bearer(tok({ claims: { iat: "1e308" } })), "invalid_iat");
  deny("iat in 2034", bearer(tok({ claims: { iat: j(C.future) } })), "invalid_iat");
  deny("iat -1", bearer(tok({ claims: { iat: "-1" } })), "invalid_iat");
  deny("iat after exp", bearer(tok({ claims: { iat: j(C.future), exp: j(C.future - 1) } })), "invalid_iat");
  deny("auth_time 1e308", bearer(tok({ claims: { auth_time: "1e308" } })), M);
  deny("auth_time a string", bearer(tok({ claims: { auth_time: j("1700000000") } })), M);

  // --- encodings: UTF-8, BOMs, control characters ------------------------------------------------
  const withBytes = (text, marker, insert) => {
    const [before, after] = text.split(marker);
    return Buffer.concat([Buffer.from(before), insert, Buffer.from(marker), Buffer.from(after)]);
  };
  const subMarker = '-0001"';
  deny("invalid UTF-8 (0xFF) in sub", bearer(tok({ raw: withBytes(P, subMarker, Buffer.from([0xff])) })), M);
  deny("invalid UTF-8 (0xFF) in an unchecked claim", bearer(tok({ raw: withBytes(P, 'User"', Buffer.from([0xff])) })), M);
  deny("overlong UTF-8 (0xC0 0xAF) in an unchecked claim", bearer(tok({ raw: withBytes(P, 'User"', Buffer.from([0xc0, 0xaf])) })), M);
  deny("UTF-16 surrogate encoded in UTF-8 (0xED 0xA0 0x80) in an unchecked claim", bearer(tok({ raw: withBytes(P, 'User"', Buffer.from([0xed, 0xa0, 0x80])) })), M);
  deny("invalid UTF-8 (0xFF) in an unchecked header member", bearer(tok({ header: withBytes(obj(edit(headerPairs(), { x5t: j("abc") })), 'abc"', Buffer.from([0xff])) })), "malformed_header");
  deny("invalid UTF-8 (0xFF) in kid", bearer(tok({ header: withBytes(H, 'key-1"', Buffer.from([0xff])) })), "malformed_header");
  deny("lone surrogate escape in sub", bearer(tok({ claims: { sub: '"abc\\ud800"' } })), M);
  deny("raw control character (TAB) in sub", bearer(tok({ claims: { sub: '"a\tb"' } })), M);
  deny("raw NUL byte in an unchecked claim", bearer(tok({ claims: { name: '"a\u0000b"' } })), M);
  deny("UTF-8 BOM before the claims", bearer(tok({ raw: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(P)]) })), M);
  deny("UTF-8 BOM before the header", bearer(tok({ header: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(H)]) })), "malformed_header");
  deny("claims in UTF-16BE with a BOM", bearer(tok({ raw: Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(P, "utf16le").swap16()]) })), M);
  deny("header in UTF-16LE with a BOM", bearer(tok({ header: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(H, "utf16le")]) })), "malformed_header");

  // --- segments and JSON shape -----------------------------------------------------------------
  deny("four segments", bearer(`${good}.${goodS}`), "malformed_jws");
  deny("five segments (JWE shape)", bearer(`${goodH}.${goodP}.${goodP}.${goodP}.${goodS}`), "malformed_jws");
  deny("trailing dot", bearer(`${good}.`), "malformed_jws");
  deny("empty header segment", bearer(`.${goodP}.${goodS}`), "malformed_jws");
  deny("empty payload segment", bearer(`${goodH}..${goodS}`), "malformed_jws");
  deny("all segments empty", "Bearer ..", "malformed_jws");
  deny("a single dot", "Bearer .", "malformed_jws");
  deny("no dot at all", bearer(goodP), "malformed_jws");
  deny("header not JSON", bearer(tok({ header: "RS256" })), "malformed_header");
  deny("header an array", bearer(tok({ header: j(["RS256", "test-key-1"]) })), "malformed_header");
  deny("header null", bearer(tok({ header: "null" })), "malformed_header");
  deny("header empty object", bearer(tok({ header: "{}" })), "malformed_header");
  deny("header with trailing garbage", bearer(tok({ header: `${H}x` })), "malformed_header");
  deny("claims an empty object", bearer(tok({ raw: "{}" })), M);
  deny("claims null", bearer(tok({ raw: "null" })), M);
  deny("claims an array", bearer(tok({ raw: j([C.apiClientId, C.tenantId]) })), M);
  deny("claims a string", bearer(tok({ raw: j(P) })), M);
  deny("claims with trailing garbage", bearer(tok({ raw: `${P}x` })), M);
  deny("claims twice", bearer(tok({ raw: `${P}${P}` })), M);
  deny("claims only whitespace", bearer(tok({ raw: "   " })), M);

  // --- base64url strictness ----------------------------------------------------------------------
  deny("padded header", bearer(`${b64(H + " ")}=.${goodP}.${goodS}`), "malformed_jws");
  deny("padded payload", bearer(`${goodH}.${goodP}=.${goodS}`), "malformed_jws");
  deny("padded signature", bearer(`${good}==`), "malformed_jws");
  deny("= inside the payload", bearer(`${goodH}.${goodP.slice(0, 8)}=${goodP.slice(8)}.${goodS}`), "malformed_jws");
  const standardSig = Buffer.from(goodS, "base64url").toString("base64").replace(/=+$/, "");
  if (!/[+/]/.test(standardSig)) throw new Error("the baseline signature has no + or / in standard base64");
  deny("signature in standard base64 (+ and /)", bearer(`${goodH}.${goodP}.${standardSig}`), "malformed_jws");
  const standardHeader = obj(edit(headerPairs(), { pad: j("\u00fb\u00ff\u00fe") }));
  const stdH = Buffer.from(standardHeader).toString("base64").replace(/=+$/, "");
  if (!/[+/]/.test(stdH)) throw new Error("header has no + or / in standard base64");
  deny("header in standard base64 (+ and /)", bearer(`${stdH}.${goodP}.${rs256(`${stdH}.${goodP}`, k1)}`), "malformed_jws");
  deny("tilde in the signature", bearer(`${good.slice(0, -1)}~`), "malformed_jws");
  // 256 bytes = 342 chars; the last char carries 2 bits, so its low 4 bits must be zero.
  const last = goodS.at(-1);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const sloppy = alphabet[alphabet.indexOf(last) | 1];
  deny("signature with non-canonical trailing bits", bearer(`${good.slice(0, -1)}${sloppy}`), "malformed_jws");
  const hLast = goodH.at(-1);
  if (goodH.length % 4 !== 0) {
    const nonCanonical = alphabet[alphabet.indexOf(hLast) | 1];
    if (nonCanonical !== hLast) deny("header with non-canonical trailing bits", bearer(`${goodH.slice(0, -1)}${nonCanonical}.${goodP}.${goodS}`), "malformed_jws");
  }

  // --- size cap ------------------------------------------------------------------------------------
  const sized = (length) => {
    // Filler in the claims and, to reach lengths base64 cannot, a pad member in the header.
    for (let pad = 0; pad < 4; pad++) {
      const header = obj(edit(headerPairs(), pad ? { pad: j("p".repeat(pad)) } : {}));
      const fixed = signingInput(header, obj(claimPairs({ filler: j("") }))).length + 1 + 342;
      for (let n = Math.max(0, Math.floor(((length - fixed) * 3) / 4) - 4); n < length; n++) {
        const t = tok({ header, claims: { filler: j("x".repeat(n)) } });
        if (t.length === length) return t;
        if (t.length > length) break;
      }
    }
    throw new Error(`no token of exactly ${length} bytes`);
  };
  const atCap = sized(C.maxTokenBytes);
  ok("exactly at the 16384-byte cap", bearer(atCap));
  deny("one byte over the cap", bearer(sized(C.maxTokenBytes + 1)), "token_too_large");
  deny("twice the cap", bearer(sized(2 * C.maxTokenBytes)), "token_too_large");
  ok("at the cap with 58 spaces after the scheme (header value = cap + 64)", `Bearer${" ".repeat(58)}${atCap}`);
  deny("at the cap with 59 spaces after the scheme (header value over cap + 64)", `Bearer${" ".repeat(59)}${atCap}`, "token_too_large");
  add("over the cap and not b64token syntax", `Bearer ${"a b".repeat(6000)}`, 401, "token_too_large");

  // --- Graph and first-party tokens, ID tokens -----------------------------------------------------
  deny("Graph audience (GUID)", bearer(tok({ claims: { aud: j("00000003-0000-0000-c000-000000000000") } })), "graph_token");
  deny("Graph audience (URL)", bearer(tok({ claims: { aud: j("https://graph.microsoft.com") } })), "graph_token");
  deny("Graph audience (URL, trailing slash, upper case)", bearer(tok({ claims: { aud: j("HTTPS://GRAPH.MICROSOFT.COM/") } })), "graph_token");
  deny("Graph audience among ours", bearer(tok({ claims: { aud: j([C.apiClientId, "https://graph.microsoft.us"]) } })), "graph_token");
  deny("Graph nonce in the header", bearer(withHeader({ nonce: j("AbCdEf123") })), "graph_token");
  deny("Graph nonce in the header, null", bearer(withHeader({ nonce: "null" })), "graph_token");
  deny("Azure AD Graph audience (first-party, like Graph)", bearer(tok({ claims: { aud: j("00000002-0000-0000-c000-000000000000") } })), "graph_token");
  deny("Azure AD Graph audience by URI", bearer(tok({ claims: { aud: j("https://graph.windows.net/") } })), "graph_token");
  deny("ID token (nonce claim)", bearer(tok({ claims: { nonce: j("n-0S6_WzA2Mj") } })), "id_token");
  deny("ID token (at_hash)", bearer(tok({ claims: { at_hash: j("77QmUPtjPfzWtF2AnpK9RQ") } })), "id_token");
  deny("ID token (c_hash)", bearer(tok({ claims: { c_hash: j("LDktKdoQak3Pk0cnXxCltA") } })), "id_token");
  deny("ID token (nonce null still marks it)", bearer(tok({ claims: { nonce: "null" } })), "id_token");
  deny("ID token shape (aud = client, no azp, no scp)", bearer(tok({ claims: { aud: j(C.clientId), azp: undefined, azpacr: undefined, scp: undefined } })), "id_token");

  // --- tenants, issuers, keys ---------------------------------------------------------------------
  const other = C.otherTenantId;
  deny("another tenant's token", bearer(tok({ claims: { tid: j(other), iss: j(v2Issuer(other)) } })), "invalid_issuer");
  deny("tid of another tenant under our issuer", bearer(tok({ claims: { tid: j(other) } })), "tenant_mismatch");
  deny("tid not a GUID", bearer(tok({ claims: { tid: j("contoso.onmicrosoft.com") } })), "tenant_mismatch");
  deny("tid an upper-case GUID", bearer(tok({ claims: { tid: j(C.tenantId.toUpperCase()) } })), "tenant_mismatch");
  deny("tid in braces", bearer(tok({ claims: { tid: j(`{${C.tenantId}}`) } })), "tenant_mismatch");
  deny("tid of personal accounts", bearer(tok({ claims: { tid: j(C.consumerTenantId) } })), "consumer_tenant");
  deny("iss with a trailing slash", bearer(tok({ claims: { iss: j(`${v2Issuer(C.tenantId)}/`) } })), "invalid_issuer");
  deny("iss in upper case", bearer(tok({ claims: { iss: j(v2Issuer(C.tenantId).toUpperCase()) } })), "invalid_issuer");
  deny("iss as the issuer template", bearer(tok({ claims: { iss: j(v2Issuer("{tenantid}")) } })), "invalid_issuer");
  deny("iss on another host", bearer(tok({ claims: { iss: j(`https://login.attacker.example/${C.tenantId}/v2.0`) } })), "invalid_issuer");
  deny("v1 issuer on a v2 token", bearer(tok({ claims: { iss: j(v1Issuer(C.tenantId)) } })), "invalid_issuer");
  deny("v2 issuer on a v1 token", bearer(tok({ raw: obj(v1ClaimPairs({ iss: j(v2Issuer(C.tenantId)) })) })), "invalid_issuer");
  deny("ver 1.0 on a v2 token", bearer(tok({ claims: { ver: j("1.0") } })), "invalid_issuer");
  deny("ver 2", bearer(tok({ claims: { ver: j("2") } })), "wrong_token_version");
  deny("ver 2.0 with a trailing space", bearer(tok({ claims: { ver: j("2.0 ") } })), "wrong_token_version");
  deny("ver a number", bearer(tok({ claims: { ver: "2.0" } })), M);
  // RFC 7519 §4 / RFC 7515 §4: repeated members are rejected, whichever member it is, so no two
  // readers can take different values from one token.
  deny("duplicate unchecked claim (name)", bearer(tok({ raw: P.replace("{", '{"name":"first",') })), M);
  deny("duplicate unchecked claim spelled with an escape", bearer(tok({ raw: P.replace("{", '{"n\\u0061me":"first",') })), M);
  add("duplicate unchecked header member (x5t)", bearer(tok({ header: H.replace("{", '{"x5t":"a","x5t":"b",') })), 401, "malformed_header");
  const foreign = keys["foreign-tenant-key"];
  deny("signed by another tenant's key (key issuer mismatch)", bearer(tok({ header: headerPairs("foreign-tenant-key"), key: foreign })), "key_issuer_mismatch");
  deny("v1 token signed by another tenant's key", bearer(tok({ header: headerPairs("foreign-tenant-key"), raw: obj(v1ClaimPairs()), key: foreign })), "key_issuer_mismatch");
  deny("the other tenant's token on its own key (issuer first)", bearer(tok({ header: headerPairs("foreign-tenant-key"), claims: { tid: j(other), iss: j(v2Issuer(other)) }, key: foreign })), "invalid_issuer");

  const names = new Set();
  for (const c of cases) {
    if (names.has(c.name)) throw new Error(`duplicate case name: ${c.name}`);
    names.add(c.name);
  }
  return cases;
}

export const render = (cases) => `${JSON.stringify(cases, null, 1)}\n`;

export function loadCorpus() {
  return JSON.parse(readFileSync(CORPUS_PATH, "utf8"));
}

export const loadPathCases = () => JSON.parse(readFileSync(PATHS_PATH, "utf8"));
export const loadKvCases = () => JSON.parse(readFileSync(KV_PATH, "utf8"));

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { buildPathCases } = await import("./corpus/paths.mjs");
  const { buildKvCases } = await import("./corpus/kv-records.mjs");
  const keys = loadKeys();
  const files = [
    [CORPUS_PATH, render(buildCorpus(keys))],
    [PATHS_PATH, render(uniqueNames(buildPathCases()))],
    [KV_PATH, render(uniqueNames(buildKvCases({ CORPUS, docs: jwksDocuments(keys), v1Issuer, v2Issuer })))],
  ];
  let stale = false;
  for (const [path, text] of files) {
    if (process.argv.includes("--check")) {
      let current = "";
      try {
        current = readFileSync(path, "utf8");
      } catch {}
      if (current !== text) {
        const want = JSON.parse(text);
        let have = [];
        try {
          have = JSON.parse(current);
        } catch {}
        const first = want.findIndex((c, i) => JSON.stringify(c) !== JSON.stringify(have[i]));
        console.error(`${path} is out of date (first difference at case ${first}: ${want[first]?.name ?? "(end)"}); run node scripts/gen-corpus.mjs`);
        stale = true;
      } else {
        console.log(`attack corpus up to date: ${path} (${JSON.parse(text).length} cases)`);
      }
    } else {
      writeFileSync(path, text);
      console.log(`wrote ${path}: ${JSON.parse(text).length} cases, ${text.length} bytes`);
    }
  }
  if (stale) process.exit(1);
}

function uniqueNames(cases) {
  const names = new Set();
  for (const c of cases) {
    if (names.has(c.name)) throw new Error(`duplicate case name: ${c.name}`);
    names.add(c.name);
  }
  return cases;
}
