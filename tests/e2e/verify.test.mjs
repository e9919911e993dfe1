// End to end through workerd: tokens minted by the mock tenant, verified by the built worker,
// forwarded to the echo origin or refused with a precise answer.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac, createPublicKey } from "node:crypto";
import { startEnvironment, parseChallenge, b64url, AUDIENCE, BARE_CHALLENGE } from "./support/environment.mjs";

let env;
before(async () => {
  env = await startEnvironment();
});
after(async () => {
  await env?.stop();
});

const OTHER_TENANT = "0b5a0c1d-2e3f-4a5b-8c7d-9e0f1a2b3c4d";

async function call(token, { path = "/items", method = "GET", headers = {}, body } = {}) {
  const h = { ...headers };
  if (token !== undefined) h.authorization = `Bearer ${token}`;
  return env.gateway.fetch(path, { method, headers: h, body });
}

async function expectRefusal(res, { status, reason, error }) {
  const text = await res.text();
  assert.equal(res.status, status, `status for ${reason}: ${text}`);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  const problem = JSON.parse(text);
  assert.equal(problem.reason, reason);
  assert.equal(problem.status, status);
  assert.ok(problem.title && problem.detail && problem.request_id, text);
  const challenge = parseChallenge(res.headers.get("www-authenticate"));
  assert.equal(challenge.realm, "entra-gate");
  assert.equal(challenge.error, error);
  if (error) assert.ok(challenge.error_description);
  return problem;
}

test("a valid v2 delegated token reaches the origin with exact identity headers", async () => {
  const token = await env.tenant.mint({});
  const res = await call(token, {
    path: "/items/42?expand=a&b=%2F",
    method: "POST",
    headers: {
      "content-type": "application/json",
      "X-Entra-Tenant-Id": "spoofed",
      "x-entra-roles": "Admin",
      "X-ENTRA-CUSTOM": "spoofed",
    },
    body: JSON.stringify({ hello: "world" }),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-echo-origin"), "1");
  const seen = await res.json();
  assert.equal(seen.method, "POST");
  assert.equal(seen.url, "/items/42?expand=a&b=%2F");
  assert.equal(seen.body, JSON.stringify({ hello: "world" }));
  assert.equal(seen.headers["content-type"], "application/json");
  assert.equal(seen.headers.authorization, undefined, "the token is not forwarded by default");
  const identity = Object.fromEntries(Object.entries(seen.headers).filter(([k]) => k.startsWith("x-entra-")));
  assert.match(identity["x-entra-request-id"], /^[0-9a-f]{24}$/);
  assert.equal(res.headers.get("x-request-id"), identity["x-entra-request-id"], "the client sees the same id");
  delete identity["x-entra-request-id"];
  assert.deepEqual(identity, {
    "x-entra-tenant-id": env.tenant.tenantId,
    "x-entra-object-id": "5a1d5c3e-6a4b-4f1e-8a2d-0c9e8f7b6a51",
    "x-entra-subject": "mF_9.B5f-4.1JqM-mock-subject",
    "x-entra-client-id": "0f6e1f5b-0c6f-4a55-9d1e-5c1f3f2f0a11",
    "x-entra-token-kind": "user",
    "x-entra-token-version": "2.0",
    "x-entra-scopes": "items.read items.write",
    "x-entra-roles": "",
    "x-entra-acrs": "",
    "x-entra-token-id": "AbCdEfGhIjKlMnOpQrStUv",
  });
  const spoofNames = seen.rawHeaders.filter((_, i) => i % 2 === 0).filter((n) => /custom|spoof/i.test(n));
  assert.deepEqual(spoofNames, []);
});

test("a valid v1 token is accepted with the v1 issuer and appid", async () => {
  const res = await call(await env.tenant.mint({ ver: "1.0" }));
  assert.equal(res.status, 200);
  const seen = await res.json();
  assert.equal(seen.headers["x-entra-token-version"], "1.0");
  assert.equal(seen.headers["x-entra-client-id"], "0f6e1f5b-0c6f-4a55-9d1e-5c1f3f2f0a11");
});

test("an app-only token is forwarded as kind app with its roles", async () => {
  const res = await call(await env.tenant.mint({ kind: "app", claims: { roles: ["Items.Ingest", "Items.Read"] } }));
  assert.equal(res.status, 200);
  const seen = await res.json();
  assert.equal(seen.headers["x-entra-token-kind"], "app");
  assert.equal(seen.headers["x-entra-roles"], "Items.Ingest Items.Read");
  assert.equal(seen.headers["x-entra-scopes"], "");
});

test("no token gets a bare challenge (RFC 6750 section 3.1)", async () => {
  for (const headers of [{}, { authorization: "Basic dXNlcjpwYXNz" }]) {
    const res = await env.gateway.fetch("/items", { headers });
    await expectRefusal(res, { status: 401, reason: "token_missing", error: undefined });
    assert.equal(res.headers.get("www-authenticate"), BARE_CHALLENGE);
  }
});

test("a malformed Authorization header is a 400 invalid_request", async () => {
  const res = await env.gateway.fetch("/items", { headers: { authorization: "Bearer a b" } });
  await expectRefusal(res, { status: 400, reason: "malformed_authorization", error: "invalid_request" });
});

async function hs256WithPublicKey(kid) {
  const jwks = await (await fetch(`${env.tenant.url}/${env.tenant.tenantId}/discovery/v2.0/keys`)).json();
  const jwk = jwks.keys.find((k) => k.kid === kid);
  const pem = createPublicKey({ key: { kty: "RSA", n: jwk.n, e: jwk.e }, format: "jwk" }).export({ type: "spki", format: "pem" });
  const good = await env.tenant.mint({});
  const payload = good.split(".")[1];
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT", kid }));
  const sig = createHmac("sha256", pem).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${sig}`;
}

const unsigned = (alg, payload) => `${b64url(JSON.stringify({ alg, typ: "JWT", kid: "mock-key-1" }))}.${payload}.`;

const BAD_TOKENS = [
  ["expired", () => env.tenant.mint({ lifetime: -3600 }), "token_expired"],
  ["not yet valid", () => env.tenant.mint({ claims: { nbf: Math.floor(Date.now() / 1000) + 3600 } }), "token_not_yet_valid"],
  ["wrong audience", () => env.tenant.mint({ aud: "api://someone-else" }), "invalid_audience"],
  ["wrong issuer", () => env.tenant.mint({ claims: { iss: `https://login.microsoftonline.com/${env.tenant.tenantId}/v2.0` } }), "invalid_issuer"],
  ["tid not matching the issuer", () => env.tenant.mint({ claims: { tid: OTHER_TENANT } }), "tenant_mismatch"],
  ["alg none", async () => unsigned("none", (await env.tenant.mint({})).split(".")[1]), "alg_not_allowed"],
  ["alg None", async () => unsigned("None", (await env.tenant.mint({})).split(".")[1]), "alg_not_allowed"],
  ["alg NONE", async () => unsigned("NONE", (await env.tenant.mint({})).split(".")[1]), "alg_not_allowed"],
  ["HS256 signed with the public key", () => hs256WithPublicKey("mock-key-1"), "alg_not_allowed"],
  ["unknown kid", () => env.tenant.mint({ key: "mock-key-unpublished" }), "unknown_kid"],
  ["signed by another key under a published kid", () => env.tenant.mint({ key: "mock-key-unpublished", header: { kid: "mock-key-1" } }), "invalid_signature"],
  ["tampered payload", async () => {
    const [h, , s] = (await env.tenant.mint({})).split(".");
    const other = (await env.tenant.mint({ claims: { scp: "admin" } })).split(".")[1];
    return `${h}.${other}.${s}`;
  }, "invalid_signature"],
  ["crit header", () => env.tenant.mint({ header: { crit: ["exp"] } }), "forbidden_header"],
  ["jku header", () => env.tenant.mint({ header: { jku: "http://127.0.0.1:9/keys" } }), "forbidden_header"],
  ["jwk header", () => env.tenant.mint({ header: { jwk: { kty: "RSA", n: "AQAB", e: "AQAB" } } }), "forbidden_header"],
  ["no kid", () => env.tenant.mint({ header: { kid: null } }), "kid_missing"],
  ["two segments", async () => (await env.tenant.mint({})).split(".").slice(0, 2).join("."), "malformed_jws"],
  ["four segments", async () => `${await env.tenant.mint({})}.e30`, "malformed_jws"],
  ["padded base64", async () => {
    const [h, p, s] = (await env.tenant.mint({})).split(".");
    return `${h}.${p}=.${s}`;
  }, "malformed_jws"],
  ["oversized", () => env.tenant.mint({ claims: { filler: "x".repeat(17000) } }), "token_too_large"],
  ["duplicate claim", () => env.tenant.mint({ raw_claims: claimsText({ dupExp: true }) }), "malformed_claims"],
  ["exp as a string", () => env.tenant.mint({ claims: { exp: String(Math.floor(Date.now() / 1000) + 3600) } }), "malformed_claims"],
  ["aud as a number", () => env.tenant.mint({ claims: { aud: 42 } }), "malformed_claims"],
  ["Graph audience", () => env.tenant.mint({ aud: "00000003-0000-0000-c000-000000000000" }), "graph_token"],
  ["Graph nonce header", () => env.tenant.mint({ header: { nonce: "AbC123" } }), "graph_token"],
  ["ID token", () => env.tenant.mint({ claims: { azp: null, azpacr: null, scp: null, nonce: "n-0S6_WzA2Mj" } }), "id_token"],
];

function claimsText({ dupExp }) {
  const now = Math.floor(Date.now() / 1000);
  const base = `"aud":"${AUDIENCE}","iss":"${env.tenant.url}/${env.tenant.tenantId}/v2.0","iat":${now},"exp":${now + 600}`;
  const rest = `"ver":"2.0","tid":"${env.tenant.tenantId}","oid":"5a1d5c3e-6a4b-4f1e-8a2d-0c9e8f7b6a51","sub":"s","azp":"0f6e1f5b-0c6f-4a55-9d1e-5c1f3f2f0a11","scp":"items.read"`;
  return `{${base},${rest}${dupExp ? `,"exp":${now + 999999}` : ""}}`;
}

for (const [name, make, reason] of BAD_TOKENS) {
  test(`refused: ${name} → 401 ${reason}`, async () => {
    const res = await call(await make());
    await expectRefusal(res, { status: 401, reason, error: "invalid_token" });
  });
}

test("the raw-claims control itself mints an accepted token when well formed", async () => {
  const res = await call(await env.tenant.mint({ raw_claims: claimsText({ dupExp: false }) }));
  assert.equal(res.status, 200);
});

test("a v1 token is refused when the API accepts v2 only", async () => {
  const v2only = await env.gatewayWith({ ENTRA_TOKEN_VERSIONS: "2.0" });
  const token = await env.tenant.mint({ ver: "1.0" });
  const res = await v2only.fetch("/items", { headers: { authorization: `Bearer ${token}` } });
  await expectRefusal(res, { status: 401, reason: "wrong_token_version", error: "invalid_token" });
});

test("multi-tenant (organizations) accepts another tenant and refuses personal accounts", async () => {
  const multi = await env.gatewayWith({ ENTRA_TENANT_ID: "organizations", ENTRA_ALLOW_ANY_TENANT: "true" });
  const other = await env.tenant.mint({ tid: OTHER_TENANT });
  let res = await multi.fetch("/items", { headers: { authorization: `Bearer ${other}` } });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).headers["x-entra-tenant-id"], OTHER_TENANT);
  const personal = await env.tenant.mint({ tid: "9188040d-6c67-4c5b-b112-36a304b66dad" });
  res = await multi.fetch("/items", { headers: { authorization: `Bearer ${personal}` } });
  await expectRefusal(res, { status: 401, reason: "consumer_tenant", error: "invalid_token" });
  // The single-tenant gateway refuses the same other-tenant token.
  res = await call(other);
  await expectRefusal(res, { status: 401, reason: "invalid_issuer", error: "invalid_token" });
});

test("logs carry reasons but never token material", async () => {
  const token = await env.tenant.mint({ lifetime: -10 });
  await (await call(token)).text();
  const [, payload, signature] = token.split(".");
  const text = env.logs.join("\n");
  assert.ok(text.includes('"reason":"token_expired"'));
  for (const line of env.logs.filter((l) => l.startsWith("{"))) JSON.parse(line);
  assert.ok(!text.includes(signature), "signature logged");
  assert.ok(!text.includes(payload), "payload logged");
  assert.ok(!text.includes("eyJ"), "something JWT-like logged");
});
