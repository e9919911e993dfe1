// Forwarding end to end through workerd: what the origin receives (identity headers, the signed
// assertion, nothing a client could spoof, nothing connection-level), that the destination is
// always the configured origin, how origin failures and every other refusal are answered, and
// what the decision log says.
//
// Two ways in: `gateway.fetch` (Miniflare's dispatchFetch) for ordinary requests, and `raw`
// (node:http straight to workerd's socket) when the exact request line and header lines matter:
// repeated headers, a Host of our choosing, absolute-form targets, unnormalised paths, and
// connection-level headers that dispatchFetch's client would rewrite or refuse.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { jwtVerify, createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader } from "jose";
import { raw } from "./support/raw-http.mjs";
import { startEnvironment, parseChallenge, b64url, closedPort } from "./support/environment.mjs";

const JWKS_PATH = "/.well-known/entra-gate/jwks.json";
/** What the mock tenant puts in every token (tools/mock-tenant/src/mint.rs). */
const OID = "5a1d5c3e-6a4b-4f1e-8a2d-0c9e8f7b6a51";
const SUB = "mF_9.B5f-4.1JqM-mock-subject";
const CLIENT = "0f6e1f5b-0c6f-4a55-9d1e-5c1f3f2f0a11";
const UTI = "AbCdEfGhIjKlMnOpQrStUv";
const RANDOM_ID = /^[0-9a-f]{24}$/;

let env;
/** A loopback server that must never be reached: the "other host" of every SSRF attempt. */
let trap;
/** Sockets of the origin that never answers, closed at the end. */
const silentSockets = new Set();
let silentOrigin;
/** An origin that answers at once, then streams its body in pieces over about 2.5 s. */
let trickleOrigin;
const TRICKLE_PIECES = 5;
/** Everything secret this file produced, so the log test can look for it. */
const secrets = { tokens: [], assertions: [], privateKeys: [] };

before(async () => {
  env = await startEnvironment();
  trap = await startTrap();
  silentOrigin = net.createServer((socket) => {
    silentSockets.add(socket);
    socket.on("error", () => {});
  });
  await new Promise((r) => silentOrigin.listen(0, "127.0.0.1", r));
  trickleOrigin = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    let sent = 0;
    const timer = setInterval(() => {
      res.write(`piece ${sent}\n`);
      if (++sent === TRICKLE_PIECES) {
        clearInterval(timer);
        res.end();
      }
    }, 500);
    req.on("close", () => clearInterval(timer));
  });
  await new Promise((r) => trickleOrigin.listen(0, "127.0.0.1", r));
});
after(async () => {
  trickleOrigin?.closeAllConnections?.();
  await new Promise((r) => trickleOrigin?.close(r) ?? r());
  for (const s of silentSockets) s.destroy();
  await new Promise((r) => silentOrigin?.close(r) ?? r());
  await trap?.close();
  await env?.stop();
});

// ---------------------------------------------------------------------------------------------
// Helpers

async function startTrap() {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits += 1;
    res.end("trap");
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    host: `127.0.0.1:${server.address().port}`,
    hits: () => hits,
    close: () => new Promise((r) => server.close(r)),
  };
}

async function mint(request = {}) {
  const token = await env.tenant.mint(request);
  secrets.tokens.push(token);
  return token;
}

const bearer = (token) => ({ authorization: `Bearer ${token}` });

/** A fresh valid CF-Ray value (hex and a dash, as Cloudflare sends them). */
const ray = () => `${randomBytes(8).toString("hex")}-LHR`;

/** Gateways are started once per configuration and shared by the tests that need them. */
const gateways = new Map();
function gatewayNamed(name, bindings) {
  if (!gateways.has(name)) gateways.set(name, env.gatewayWith(bindings));
  return gateways.get(name);
}
const brokenKeyGateway = () =>
  gatewayNamed("rsa-assertion-key", { GATE_ASSERTION_KEY: JSON.stringify(rsaPrivateJwk()) });
const downGateway = async () => gatewayNamed("down", { ORIGIN_URL: `http://127.0.0.1:${await closedPort()}` });
const slowGateway = () =>
  gatewayNamed("slow", {
    ORIGIN_URL: `http://127.0.0.1:${silentOrigin.address().port}`,
    GATE_ORIGIN_TIMEOUT_SECONDS: "1",
  });

/** What the echo origin saw; fails unless the answer really came from the echo origin. */
async function echoed(res) {
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.equal(res.headers.get("x-echo-origin"), "1", "answered by the echo origin");
  return JSON.parse(text);
}
function echoedRaw(res) {
  assert.equal(res.status, 200, res.text);
  assert.equal(res.headers["x-echo-origin"], "1", "answered by the echo origin");
  return JSON.parse(res.text);
}

/** The origin's headers whose names start with `prefix` (node lower-cases names). */
function withPrefix(seen, prefix) {
  const p = prefix.toLowerCase();
  return Object.fromEntries(Object.entries(seen.headers).filter(([k]) => k.startsWith(p)));
}

/** Header names as they arrived on the wire, lower-cased, repeats kept. */
const rawNames = (seen) => seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());

/** The identity headers a default minted v2 delegated token produces, lower-cased names. */
function defaultIdentity(prefix = "x-entra-") {
  return {
    [`${prefix}tenant-id`]: env.tenant.tenantId,
    [`${prefix}object-id`]: OID,
    [`${prefix}subject`]: SUB,
    [`${prefix}client-id`]: CLIENT,
    [`${prefix}token-kind`]: "user",
    [`${prefix}token-version`]: "2.0",
    [`${prefix}scopes`]: "items.read items.write",
    [`${prefix}roles`]: "",
    [`${prefix}acrs`]: "",
    [`${prefix}token-id`]: UTI,
  };
}

/** The identity headers the origin saw, minus the request id (checked separately). */
function identityOf(seen, prefix = "x-entra-") {
  const found = withPrefix(seen, prefix);
  delete found[`${prefix}request-id`];
  return found;
}

function rsaPrivateJwk() {
  return generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
}

function ed25519Jwk(kid) {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const jwk = { ...privateKey.export({ format: "jwk" }), kid };
  secrets.privateKeys.push(jwk.d);
  return { jwk, publicJwk: { ...publicKey.export({ format: "jwk" }), kid, alg: "EdDSA" } };
}

/**
 * Checks a refusal as RFC 9457 (problem body) and RFC 6750 (challenge): `challenge` is
 * undefined for no WWW-Authenticate at all, null for a bare Bearer challenge, or the error code.
 */
async function expectProblem(res, { status, reason, challenge }) {
  const text = await res.text();
  assert.equal(res.status, status, `${reason}: ${text}`);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  const problem = JSON.parse(text);
  assert.deepEqual(Object.keys(problem).sort(), ["detail", "reason", "request_id", "status", "title", "type"]);
  assert.equal(problem.status, res.status, "body status is the HTTP status");
  assert.equal(problem.reason, reason);
  for (const field of ["type", "title", "detail", "request_id"]) {
    assert.equal(typeof problem[field], "string", field);
    assert.ok(problem[field].length > 0, field);
  }
  assert.equal(res.headers.get("x-request-id"), problem.request_id, "header and body name the same request");

  const header = res.headers.get("www-authenticate");
  if (challenge === undefined) {
    assert.equal(header, null, `${reason} needs no challenge`);
    return { problem };
  }
  // A repeated header would be joined with ", " and fail to parse as one challenge.
  assert.match(header, /^Bearer( |$)/);
  const params = parseChallenge(header);
  assert.equal(params.realm, "entra-gate");
  if (challenge === null) {
    // RFC 6750 section 3.1: no error; RFC 9728 section 5.1: where the resource's metadata is.
    assert.deepEqual(Object.keys(params), ["realm", "resource_metadata"], "a bare challenge");
  } else {
    assert.equal(params.error, challenge);
    assert.ok(params.error_description, "an error comes with its description");
  }
  return { problem, params };
}

/** Polls the shared log until `done(lines)` holds (the worker's stdout arrives asynchronously). */
async function waitForLogs(done, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!done(env.logs)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const decisions = () =>
  env.logs.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).filter((l) => l.event === "decision");

// ---------------------------------------------------------------------------------------------
// 1. Identity headers

test("identity headers: the fixed set, exact, with lists encoded and the request id echoed", async () => {
  const authTime = Math.floor(Date.now() / 1000) - 300;
  const token = await mint({
    claims: { roles: ["A b", "50%", "é", "x"], acrs: ["c1", "c3"], auth_time: authTime },
  });
  const body = JSON.stringify({ hello: "world" });
  const res = await env.gateway.fetch("/items/42?expand=a&b=%2F", {
    method: "POST",
    headers: { ...bearer(token), "content-type": "application/json" },
    body,
  });
  const requestId = res.headers.get("x-request-id");
  const seen = await echoed(res);
  assert.equal(seen.method, "POST");
  assert.equal(seen.url, "/items/42?expand=a&b=%2F");
  assert.equal(seen.body, body, "the body streams through");

  assert.match(requestId, RANDOM_ID);
  assert.equal(seen.headers["x-entra-request-id"], requestId, "the origin and the client see the same id");
  assert.deepEqual(identityOf(seen), {
    ...defaultIdentity(),
    // One space between values; a space, % or non-ASCII byte inside a value percent-encoded.
    "x-entra-roles": "A%20b 50%25 %C3%A9 x",
    "x-entra-acrs": "c1 c3",
    "x-entra-auth-time": String(authTime),
  });
  // Each identity header arrives exactly once.
  const names = rawNames(seen).filter((n) => n.startsWith("x-entra-"));
  assert.equal(new Set(names).size, names.length, names.join());
});

test("identity headers: Auth-Time and Token-Id only when the token has auth_time and uti", async () => {
  let seen = await echoed(await env.gateway.fetch("/items", { headers: bearer(await mint({})) }));
  assert.deepEqual(identityOf(seen), defaultIdentity(), "no auth_time in the token, no Auth-Time header");

  seen = await echoed(await env.gateway.fetch("/items", { headers: bearer(await mint({ claims: { uti: null } })) }));
  const expected = defaultIdentity();
  delete expected["x-entra-token-id"];
  assert.deepEqual(identityOf(seen), expected);
});

test("identity headers: a valid CF-Ray is the request id, anything else gets a random one", async () => {
  const cfRay = ray();
  const token = await mint({});
  let res = await env.gateway.fetch("/items", { headers: { ...bearer(token), "cf-ray": cfRay } });
  assert.equal(res.headers.get("x-request-id"), cfRay);
  assert.equal((await echoed(res)).headers["x-entra-request-id"], cfRay);

  for (const invalid of ["not_a_ray", "a".repeat(65), "8f2a 1b3c", "8f2a/../x"]) {
    res = await env.gateway.fetch("/items", { headers: { ...bearer(token), "cf-ray": invalid } });
    const id = res.headers.get("x-request-id");
    assert.match(id, RANDOM_ID, `cf-ray ${JSON.stringify(invalid)} is not used`);
    assert.equal((await echoed(res)).headers["x-entra-request-id"], id);
  }
});

test("identity headers: a claim with CR, LF or control bytes cannot split a header", async () => {
  const token = await mint({
    claims: { sub: "a\r\nX-Injected: 1", roles: ["r\nX-Injected-Role: 2", "ok"], uti: "u\u0000v\u007f" },
  });
  const seen = await echoed(await env.gateway.fetch("/items", { headers: bearer(token) }));
  assert.equal(seen.headers["x-entra-subject"], "a%0D%0AX-Injected: 1");
  assert.equal(seen.headers["x-entra-roles"], "r%0AX-Injected-Role:%202 ok");
  assert.equal(seen.headers["x-entra-token-id"], "u%00v%7F");
  const names = rawNames(seen);
  assert.ok(!names.includes("x-injected") && !names.includes("x-injected-role"), names.join());
});

test("identity headers: GATE_CLAIM_HEADERS mappings add <prefix><Name> headers when the claim is present", async () => {
  const mapped = await gatewayNamed("claim-headers", { GATE_CLAIM_HEADERS: "preferred_username=Username,groups=Groups" });
  // The default user token carries preferred_username "user@mock.example".
  const token = await mint({ claims: { groups: ["g1", "g 2", "ü"] } });
  let seen = await echoed(
    await mapped.fetch("/items", { headers: { ...bearer(token), "X-Entra-Username": "spoofed", "x-entra-groups": "Admins" } }),
  );
  assert.deepEqual(identityOf(seen), {
    ...defaultIdentity(),
    "x-entra-username": "user@mock.example",
    "x-entra-groups": "g1 g%202 %C3%BC",
  });

  // Without the claims: no mapped headers, and the spoofed ones are still gone.
  const without = await mint({ claims: { preferred_username: null } });
  seen = await echoed(
    await mapped.fetch("/items", { headers: { ...bearer(without), "X-Entra-Username": "spoofed", "x-entra-groups": "Admins" } }),
  );
  assert.deepEqual(identityOf(seen), defaultIdentity());
});

test("identity headers: a custom prefix renames every header and reserves that prefix", async () => {
  const caller = await gatewayNamed("custom-prefix", { GATE_IDENTITY_HEADER_PREFIX: "X-Caller-" });
  const res = await caller.fetch("/items", {
    headers: {
      ...bearer(await mint({})),
      "X-Caller-Tenant-Id": "spoofed",
      "x-caller-roles": "Admin",
      "X-CALLER-ANYTHING": "spoofed",
      "X-Caller-Request-Id": "spoofed",
    },
  });
  const requestId = res.headers.get("x-request-id");
  const seen = await echoed(res);
  assert.deepEqual(identityOf(seen, "x-caller-"), defaultIdentity("x-caller-"));
  assert.equal(seen.headers["x-caller-request-id"], requestId);
  assert.deepEqual(withPrefix(seen, "x-entra-"), {}, "the default prefix is not used at all");
});

// ---------------------------------------------------------------------------------------------
// 2. What a client cannot send through

test("spoofed identity headers never reach the origin, whatever their case or count", async () => {
  const token = await mint({});
  const spoofs = [
    ["X-Entra-Tenant-Id", "spoof-1"],
    ["x-entra-tenant-id", "spoof-2"],
    ["X-ENTRA-TENANT-ID", "spoof-3"],
    ["X-Entra-Roles", "Admin"],
    ["x-entra-roles", "Admin"],
    ["x-Entra-Anything", "spoof"],
    ["X-Entra-Request-Id", "spoof"],
    ["X-Entra-Auth-Time", "1"],
    ["X-Entra-Assertion", "eyJhbGciOiJub25lIn0.e30."],
  ];
  const check = (seen) => {
    assert.deepEqual(identityOf(seen), defaultIdentity(), "only the gateway's own values");
    const names = rawNames(seen).filter((n) => n.startsWith("x-entra-"));
    assert.equal(new Set(names).size, names.length, `each identity header once: ${names.join()}`);
    assert.ok(!seen.rawHeaders.some((v) => /spoof|Admin|eyJ/.test(v)), "no spoofed value anywhere");
  };
  // Header lines exactly as written, repeats and all.
  check(echoedRaw(await raw(env.gateway, "/items", { headers: [...spoofs, ["Authorization", `Bearer ${token}`]] })));
  // dispatchFetch with header pairs (a Headers object joins repeats into one value).
  check(await echoed(await env.gateway.fetch("/items", { headers: [...spoofs, ["authorization", `Bearer ${token}`]] })));
});

test("connection-level headers, and headers Connection names, are not forwarded", async () => {
  const token = await mint({});
  const res = await raw(env.gateway, "/items", {
    headers: [
      ["Authorization", `Bearer ${token}`],
      ["Connection", "keep-alive, X-Secret"],
      ["X-Secret", "for-the-next-hop-only"],
      ["Keep-Alive", "timeout=5"],
      ["Proxy-Authorization", "Basic cHJveHk6c2VjcmV0"],
      ["Proxy-Connection", "keep-alive"],
      ["TE", "trailers"],
      ["Upgrade", "websocket"],
      ["X-Keep", "end-to-end"],
    ],
  });
  const seen = echoedRaw(res);
  for (const name of ["x-secret", "keep-alive", "proxy-authorization", "proxy-connection", "te", "upgrade"]) {
    assert.equal(seen.headers[name], undefined, `${name} forwarded`);
  }
  assert.ok(!/x-secret/i.test(seen.headers.connection ?? ""), "the client's Connection is not forwarded");
  assert.equal(seen.headers["x-keep"], "end-to-end", "ordinary headers pass");
  assert.equal(seen.headers.authorization, undefined);
});

test("Authorization is dropped by default and forwarded with GATE_FORWARD_AUTHORIZATION=true", async () => {
  const token = await mint({});
  let seen = await echoed(await env.gateway.fetch("/items", { headers: bearer(token) }));
  assert.equal(seen.headers.authorization, undefined);

  const forwarding = await gatewayNamed("forward-authorization", { GATE_FORWARD_AUTHORIZATION: "true" });
  seen = echoedRaw(
    await raw(forwarding, "/items", {
      headers: [
        ["Authorization", `Bearer ${token}`],
        ["Proxy-Authorization", "Basic cHJveHk6c2VjcmV0"],
      ],
    }),
  );
  assert.equal(seen.headers.authorization, `Bearer ${token}`);
  assert.equal(seen.headers["proxy-authorization"], undefined, "still a connection-level header");
});

// ---------------------------------------------------------------------------------------------
// 3. The signed identity assertion

const signingKey = ed25519Jwk("e2e-gate-1");
const signerGateway = () => gatewayNamed("signer", { GATE_ASSERTION_KEY: JSON.stringify(signingKey.jwk) });

/** The gateway's published key set, fetched through the gateway. */
async function publishedJwks(gateway) {
  const res = await gateway.fetch(JWKS_PATH);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.equal(res.headers.get("content-type"), "application/jwk-set+json");
  return { jwks: JSON.parse(text), text };
}

test("assertion: the public key set is published without its private part", async () => {
  const { jwks, text } = await publishedJwks(await signerGateway());
  assert.equal(jwks.keys.length, 1);
  const [key] = jwks.keys;
  assert.equal(key.d, undefined);
  assert.ok(!text.includes(signingKey.jwk.d), "the private scalar appears nowhere");
  assert.deepEqual(
    { kty: key.kty, crv: key.crv, x: key.x, kid: key.kid, alg: key.alg },
    { kty: "OKP", crv: "Ed25519", x: signingKey.jwk.x, kid: "e2e-gate-1", alg: "EdDSA" },
  );
});

test("assertion: verifies with jose against the published keys and binds caller and request", async () => {
  const signer = await signerGateway();
  const { jwks } = await publishedJwks(signer);
  const localKeys = createLocalJWKSet(jwks);
  // As the README tells an origin to do: the key set fetched over HTTP from the gateway.
  const remoteKeys = createRemoteJWKSet(new URL(JWKS_PATH, signer.url));
  const options = { algorithms: ["EdDSA"], issuer: "entra-gate", audience: env.origin.url };

  const cfRay = ray();
  const res = await signer.fetch("/orders/7?q=a%20b&x=1", {
    method: "PUT",
    headers: { ...bearer(await mint({ claims: { roles: ["Orders.Write"] } })), "cf-ray": cfRay, "X-Entra-Assertion": "forged" },
    body: "{}",
  });
  const seen = await echoed(res);
  const assertion = seen.headers["x-entra-assertion"];
  secrets.assertions.push(assertion);
  assert.notEqual(assertion, "forged");

  const now = Math.floor(Date.now() / 1000);
  for (const keys of [localKeys, remoteKeys]) {
    const { payload, protectedHeader } = await jwtVerify(assertion, keys, options);
    assert.deepEqual(protectedHeader, { alg: "EdDSA", typ: "JWT", kid: "e2e-gate-1" });
    assert.equal(payload.iss, "entra-gate");
    assert.equal(payload.aud, env.origin.url, "the origin's scheme://host:port");
    assert.equal(payload.exp - payload.iat, 60);
    assert.ok(Math.abs(payload.iat - now) <= 30, `iat ${payload.iat} is now (${now})`);
    assert.equal(payload.jti, cfRay, "jti is the request id");
    assert.equal(payload.jti, res.headers.get("x-request-id"));
    assert.equal(payload.jti, seen.headers["x-entra-request-id"]);
    assert.equal(payload.htm, "PUT");
    assert.equal(payload.htm, seen.method);
    assert.equal(payload.htu, "/orders/7?q=a%20b&x=1");
    assert.equal(payload.htu, seen.url, "what the origin received");
    assert.deepEqual(
      {
        tid: payload.tid, oid: payload.oid, sub: payload.sub, azp: payload.azp, idtyp: payload.idtyp,
        ver: payload.ver, scp: payload.scp, roles: payload.roles, acrs: payload.acrs, uti: payload.uti,
      },
      {
        tid: env.tenant.tenantId, oid: OID, sub: SUB, azp: CLIENT, idtyp: "user",
        ver: "2.0", scp: ["items.read", "items.write"], roles: ["Orders.Write"], acrs: [], uti: UTI,
      },
    );
  }

  // A v1 app-only token: the client id comes from appid, the kind is app.
  const app = await echoed(await signer.fetch("/ingest", { headers: bearer(await mint({ ver: "1.0", kind: "app" })) }));
  secrets.assertions.push(app.headers["x-entra-assertion"]);
  const { payload } = await jwtVerify(app.headers["x-entra-assertion"], localKeys, options);
  assert.deepEqual(
    { azp: payload.azp, idtyp: payload.idtyp, ver: payload.ver, scp: payload.scp, roles: payload.roles, htm: payload.htm, htu: payload.htu },
    { azp: CLIENT, idtyp: "app", ver: "1.0", scp: [], roles: ["Items.Ingest"], htm: "GET", htu: "/ingest" },
  );
});

test("assertion: tampering, another key, another audience or issuer are all rejected", async () => {
  const signer = await signerGateway();
  const keys = createLocalJWKSet((await publishedJwks(signer)).jwks);
  const options = { algorithms: ["EdDSA"], issuer: "entra-gate", audience: env.origin.url };
  const seen = await echoed(await signer.fetch("/items", { headers: bearer(await mint({})) }));
  const assertion = seen.headers["x-entra-assertion"];
  secrets.assertions.push(assertion);
  await jwtVerify(assertion, keys, options); // the untouched one is good
  const [header, payload, signature] = assertion.split(".");

  /** Replaces the character at `i` with a different base64url character. */
  const flip = (s, i) => s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
  const claims = JSON.parse(Buffer.from(payload, "base64url"));
  const otherCaller = b64url(JSON.stringify({ ...claims, oid: "00000000-0000-4000-8000-000000000000" }));

  for (const [what, forged] of [
    ["a character flipped in the payload", `${header}.${flip(payload, Math.floor(payload.length / 2))}.${signature}`],
    ["a re-encoded payload naming another caller", `${header}.${otherCaller}.${signature}`],
    ["a character flipped in the signature", `${header}.${payload}.${flip(signature, 10)}`],
    ["no signature", `${header}.${payload}.`],
  ]) {
    await assert.rejects(jwtVerify(forged, keys, options), `${what} must be rejected`);
  }
  await assert.rejects(
    jwtVerify(`${header}.${otherCaller}.${signature}`, keys, options),
    { code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" },
  );

  // Another Ed25519 key under the same kid: the signature does not verify.
  const impostor = createLocalJWKSet({ keys: [ed25519Jwk("e2e-gate-1").publicJwk] });
  await assert.rejects(jwtVerify(assertion, impostor, options), { code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" });
  // Meant for another origin, or from another issuer.
  await assert.rejects(jwtVerify(assertion, keys, { ...options, audience: "http://127.0.0.1:1" }), {
    code: "ERR_JWT_CLAIM_VALIDATION_FAILED",
  });
  await assert.rejects(jwtVerify(assertion, keys, { ...options, issuer: "someone-else" }), {
    code: "ERR_JWT_CLAIM_VALIDATION_FAILED",
  });
});

test("assertion: GATE_ASSERTION_ISSUER names the issuer", async () => {
  const key = ed25519Jwk("e2e-gate-issuer");
  const gw = await gatewayNamed("signer-issuer", {
    GATE_ASSERTION_KEY: JSON.stringify(key.jwk),
    GATE_ASSERTION_ISSUER: "contoso-edge",
  });
  const keys = createLocalJWKSet((await publishedJwks(gw)).jwks);
  const seen = await echoed(await gw.fetch("/items", { headers: bearer(await mint({})) }));
  const assertion = seen.headers["x-entra-assertion"];
  secrets.assertions.push(assertion);
  const { payload } = await jwtVerify(assertion, keys, { algorithms: ["EdDSA"], issuer: "contoso-edge", audience: env.origin.url });
  assert.equal(payload.iss, "contoso-edge");
  await assert.rejects(jwtVerify(assertion, keys, { algorithms: ["EdDSA"], issuer: "entra-gate", audience: env.origin.url }));
});

test("assertion: a rotation without downtime, old and new assertions both verify during the overlap", async () => {
  const options = { algorithms: ["EdDSA"], issuer: "entra-gate", audience: env.origin.url };
  const old = ed25519Jwk("e2e-rotate-1");
  const next = ed25519Jwk("e2e-rotate-2");
  const assertionFrom = async (gw) => {
    const seen = await echoed(await gw.fetch("/items", { headers: bearer(await mint({})) }));
    secrets.assertions.push(seen.headers["x-entra-assertion"]);
    return seen.headers["x-entra-assertion"];
  };
  const kidsOf = async (gw) => (await publishedJwks(gw)).jwks.keys.map((k) => k.kid);

  // Before: the old key signs and is the only one published.
  const before = await gatewayNamed("rotate-before", { GATE_ASSERTION_KEY: JSON.stringify(old.jwk) });
  const oldAssertion = await assertionFrom(before);
  assert.deepEqual(await kidsOf(before), ["e2e-rotate-1"]);

  // 1. The next key published ahead (public part only), the old one still signing: origins
  //    that pin a key set pick the new key up before anything is signed with it.
  const ahead = await gatewayNamed("rotate-ahead", {
    GATE_ASSERTION_KEY: JSON.stringify(old.jwk),
    GATE_ASSERTION_PREVIOUS_KEY: JSON.stringify(next.publicJwk),
  });
  assert.deepEqual(await kidsOf(ahead), ["e2e-rotate-1", "e2e-rotate-2"]);
  assert.equal(decodeProtectedHeader(await assertionFrom(ahead)).kid, "e2e-rotate-1");

  // 2. The switch: the new key signs, the old one is still published.
  const overlap = await gatewayNamed("rotate-overlap", {
    GATE_ASSERTION_KEY: JSON.stringify(next.jwk),
    GATE_ASSERTION_PREVIOUS_KEY: JSON.stringify(old.publicJwk),
  });
  const { jwks, text } = await publishedJwks(overlap);
  assert.deepEqual(jwks.keys.map((k) => k.kid), ["e2e-rotate-2", "e2e-rotate-1"]);
  assert.ok(!text.includes(old.jwk.d) && !text.includes(next.jwk.d), "no private part published");
  const newAssertion = await assertionFrom(overlap);
  assert.equal(decodeProtectedHeader(newAssertion).kid, "e2e-rotate-2");
  // An origin holding the overlap's key set accepts both: a request signed just before the
  // switch and one signed after.
  const overlapKeys = createLocalJWKSet(jwks);
  await jwtVerify(oldAssertion, overlapKeys, options);
  await jwtVerify(newAssertion, overlapKeys, options);
  // One still holding the key set from before the switch fails on the new kid: why step 1
  // (or a key set fetched again on an unknown kid, as createRemoteJWKSet does) comes first.
  await assert.rejects(jwtVerify(newAssertion, createLocalJWKSet((await publishedJwks(before)).jwks), options), {
    code: "ERR_JWKS_NO_MATCHING_KEY",
  });
  await jwtVerify(newAssertion, createRemoteJWKSet(new URL(JWKS_PATH, overlap.url)), options);

  // 3. After the overlap: the old key is gone, and its assertions with it.
  const after = await gatewayNamed("rotate-after", { GATE_ASSERTION_KEY: JSON.stringify(next.jwk) });
  const afterKeys = createLocalJWKSet((await publishedJwks(after)).jwks);
  await jwtVerify(await assertionFrom(after), afterKeys, options);
  await assert.rejects(jwtVerify(oldAssertion, afterKeys, options), { code: "ERR_JWKS_NO_MATCHING_KEY" });
});

test("assertion: without GATE_ASSERTION_KEY there is no assertion and no key set", async () => {
  const token = await mint({});
  const seen = await echoed(await env.gateway.fetch("/items", { headers: { ...bearer(token), "X-Entra-Assertion": "forged" } }));
  assert.equal(seen.headers["x-entra-assertion"], undefined);

  // The key-set path is an ordinary path: it needs a token, and then goes to the origin.
  await expectProblem(await env.gateway.fetch(JWKS_PATH), { status: 401, reason: "token_missing", challenge: null });
  const forwarded = await echoed(await env.gateway.fetch(JWKS_PATH, { headers: bearer(token) }));
  assert.equal(forwarded.url, JWKS_PATH);
});

test("assertion: an unusable GATE_ASSERTION_KEY is a 500 config_invalid", async () => {
  const token = await mint({});
  const ed = ed25519Jwk("e2e-bad");
  const x25519 = generateKeyPairSync("x25519").privateKey.export({ format: "jwk" });
  const cases = [
    ["an RSA private JWK", () => brokenKeyGateway()],
    ["a 16-byte d", () => gatewayNamed("short-d", { GATE_ASSERTION_KEY: JSON.stringify({ ...ed.jwk, d: b64url(randomBytes(16)) }) })],
    ["a public key only", () => gatewayNamed("public-only", { GATE_ASSERTION_KEY: JSON.stringify(ed.publicJwk) })],
    ["an X25519 key", () => gatewayNamed("x25519", { GATE_ASSERTION_KEY: JSON.stringify(x25519) })],
  ];
  for (const [what, start] of cases) {
    const gw = await start();
    for (const path of ["/items", JWKS_PATH]) {
      const res = await gw.fetch(path, { headers: bearer(token) });
      await expectProblem(res, { status: 500, reason: "config_invalid" }).catch((e) => {
        e.message = `${what}, ${path}: ${e.message}`;
        throw e;
      });
    }
  }
  await waitForLogs(
    (lines) => lines.filter((l) => l.includes('"event":"config_invalid"') && l.includes("GATE_ASSERTION_KEY")).length >= cases.length,
    "config_invalid lines naming GATE_ASSERTION_KEY",
  );
});

// ---------------------------------------------------------------------------------------------
// 4. The destination is always the configured origin

/** The request either reached the echo origin on its own host, or was refused: never elsewhere. */
/** Refused with 400 path_ambiguous, never forwarded. */
const REFUSED = Symbol("refused");

function stayedOnOrigin(res, target) {
  if (res.headers["x-echo-origin"] === "1") {
    const seen = JSON.parse(res.text);
    assert.equal(seen.headers.host, new URL(env.origin.url).host, `${target}: the origin's own Host`);
    return seen;
  }
  assert.ok(res.status >= 400, `${target}: neither forwarded nor refused (${res.status})`);
  return undefined;
}

test("SSRF: Host header games and absolute-form targets cannot choose the destination", async () => {
  const token = await mint({});
  const auth = ["Authorization", `Bearer ${token}`];
  const before = trap.hits();
  for (const host of [trap.host, "evil.example", "127.0.0.1", "localhost:1"]) {
    const seen = stayedOnOrigin(
      await raw(env.gateway, "/items?x=1", { headers: [["Host", host], ["X-Forwarded-Host", trap.host], auth] }),
      `Host: ${host}`,
    );
    assert.ok(seen, `Host: ${host} is an ordinary request`);
    assert.equal(seen.url, "/items?x=1");
  }
  for (const target of [`http://${trap.host}/abs?q=1`, "http://evil.example/abs", `http://${trap.host}`]) {
    stayedOnOrigin(await raw(env.gateway, target, { headers: [["Host", trap.host], auth] }), target);
  }
  assert.equal(trap.hits(), before, "the other host was never contacted");
});

test("SSRF: dot segments, encoded slashes, double slashes and backslashes stay on the origin", async () => {
  const token = await mint({});
  const t = trap.host;
  // [request target as sent, what the origin must see]. REFUSED: 400 path_ambiguous, nothing
  // forwarded; null: refused by the runtime or the gateway, either is fine.
  const cases = [
    ["/a/%2e%2e/b", "/b"],
    ["/a/%2E./%2e/b", "/b"],
    ["/x/../../../y?z", "/y?z"],
    ["/a\\..\\b", "/b"],
    ["/..%2f..%2fetc/passwd", REFUSED],
    ["/%2e%2e%2f%2e%2e%2fetc", REFUSED],
    [`/%2F%2F${t}/x`, REFUSED],
    [`//${t}/x`, `/${t}/x`],
    [`///${t}/x`, `/${t}/x`],
    [`/\\${t}\\x`, `/${t}/x`],
    [`/%5C%5C${t}/x`, REFUSED],
    [`/http://${t}/x`, `/http:/${t}/x`],
    [`/@${t}/x`, `/@${t}/x`],
    [`/x?next=//${t}/&u=http://${t}/`, `/x?next=//${t}/&u=http://${t}/`],
    [`\\\\${t}/x`, null],
    [`${t}/x`, null],
  ];
  const before = trap.hits();
  for (const [target, expected] of cases) {
    const res = await raw(env.gateway, target, { headers: [["Authorization", `Bearer ${token}`]] });
    const seen = stayedOnOrigin(res, target);
    if (expected === REFUSED) {
      assert.equal(seen, undefined, `${target} must not be forwarded`);
      assert.equal(res.status, 400, target);
      assert.equal(JSON.parse(res.text).reason, "path_ambiguous", target);
    } else if (expected !== null) {
      assert.ok(seen, `${target} should be forwarded: ${res.status} ${res.text}`);
      assert.equal(seen.url, expected, target);
    }
  }
  assert.equal(trap.hits(), before, "the other host was never contacted");
});

test("SSRF: an origin's redirect is passed to the client, not followed", async () => {
  const redirector = http.createServer((req, res) => {
    res.writeHead(302, { location: `http://${trap.host}/stolen` });
    res.end();
  });
  await new Promise((r) => redirector.listen(0, "127.0.0.1", r));
  try {
    const gw = await gatewayNamed("redirecting-origin", { ORIGIN_URL: `http://127.0.0.1:${redirector.address().port}` });
    const before = trap.hits();
    const res = await gw.fetch("/items", { headers: bearer(await mint({})), redirect: "manual" });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), `http://${trap.host}/stolen`);
    await res.arrayBuffer();
    assert.equal(trap.hits(), before);
  } finally {
    await new Promise((r) => redirector.close(r));
  }
});

test("SSRF: a path prefix on ORIGIN_URL is kept and cannot be climbed out of", async () => {
  const token = await mint({});
  for (const origin of [`${env.origin.url}/base`, `${env.origin.url}/base/`]) {
    const gw = await gatewayNamed(`prefix ${origin}`, { ORIGIN_URL: origin });
    for (const [target, expected] of [
      ["/x/y?q=1&r=%2F", "/base/x/y?q=1&r=%2F"],
      ["/", "/base/"],
      ["/%2e%2e/%2e%2e/etc?x", "/base/etc?x"],
      ["/../admin", "/base/admin"],
      ["/..%2fadmin", REFUSED],
      ["/%2e%2e;/admin", REFUSED],
      [`//${trap.host}/x`, `/base/${trap.host}/x`],
    ]) {
      const answer = await raw(gw, target, { headers: [["Authorization", `Bearer ${token}`]] });
      if (expected === REFUSED) {
        assert.equal(answer.status, 400, `${origin} + ${target}`);
        assert.equal(answer.headers["x-echo-origin"], undefined);
        continue;
      }
      const seen = echoedRaw(answer);
      assert.equal(seen.url, expected, `${origin} + ${target}`);
      assert.equal(seen.headers.host, new URL(env.origin.url).host);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// 5. Origin failures

test("origin down: 502 origin_unreachable, promptly", async () => {
  const gw = await downGateway();
  const started = Date.now();
  const res = await gw.fetch("/items", { headers: bearer(await mint({})) });
  await expectProblem(res, { status: 502, reason: "origin_unreachable" });
  assert.ok(Date.now() - started < 5000, "no hang");
});

test("the origin timeout bounds the wait for an answer, not the body that follows it", async () => {
  const gw = await gatewayNamed("trickle", {
    ORIGIN_URL: `http://127.0.0.1:${trickleOrigin.address().port}`,
    GATE_ORIGIN_TIMEOUT_SECONDS: "1",
  });
  const started = Date.now();
  const res = await gw.fetch("/download", { headers: bearer(await mint({})) });
  assert.equal(res.status, 200);
  const body = await res.text();
  const elapsed = Date.now() - started;
  const expected = Array.from({ length: TRICKLE_PIECES }, (_, i) => `piece ${i}\n`).join("");
  assert.equal(body, expected, "the whole body arrived");
  assert.ok(elapsed >= 2000, `the body took longer than the 1 s timeout (${elapsed} ms)`);
});

test("origin silent: 504 origin_timeout after GATE_ORIGIN_TIMEOUT_SECONDS=1", async () => {
  const gw = await slowGateway();
  const token = await mint({});
  const started = Date.now();
  const res = await gw.fetch("/items", { method: "POST", headers: bearer(token), body: "payload" });
  const elapsed = Date.now() - started;
  await expectProblem(res, { status: 504, reason: "origin_timeout" });
  assert.ok(elapsed >= 900, `waited the timeout (${elapsed} ms)`);
  assert.ok(elapsed < 5000, `answered in about a second (${elapsed} ms)`);
  assert.ok(silentSockets.size >= 1, "the gateway did connect to the silent origin");
});

// ---------------------------------------------------------------------------------------------
// 6. Every refusal is a well-formed RFC 6750 challenge (where one is due) and RFC 9457 problem

test("refusals: RFC 6750 challenges and RFC 9457 problem bodies, request ids matching", async () => {
  const good = await mint({});
  const [h, p] = good.split(".");
  const otherSignature = (await mint({ claims: { scp: "admin" } })).split(".")[2];
  const cases = [
    ["no token", () => env.gateway.fetch("/items"), { status: 401, reason: "token_missing", challenge: null }],
    ["another scheme", () => env.gateway.fetch("/items", { headers: { authorization: "Basic dXNlcjpwYXNz" } }), { status: 401, reason: "token_missing", challenge: null }],
    ["a signature from another token", () => env.gateway.fetch("/items", { headers: bearer(`${h}.${p}.${otherSignature}`) }), { status: 401, reason: "invalid_signature", challenge: "invalid_token" }],
    ["not a JWS", () => env.gateway.fetch("/items", { headers: bearer("abc.def") }), { status: 401, reason: "malformed_jws", challenge: "invalid_token" }],
    ["expired", async () => env.gateway.fetch("/items", { headers: bearer(await mint({ lifetime: -3600 })) }), { status: 401, reason: "token_expired", challenge: "invalid_token" }],
    ["malformed Authorization", () => env.gateway.fetch("/items", { headers: { authorization: "Bearer a b" } }), { status: 400, reason: "malformed_authorization", challenge: "invalid_request" }],
    ["Authorization twice", () => env.gateway.fetch("/items", { headers: [["authorization", `Bearer ${good}`], ["authorization", `Bearer ${good}`]] }), { status: 400, reason: "malformed_authorization", challenge: "invalid_request" }],
    ["origin down", async () => (await downGateway()).fetch("/items", { headers: bearer(good) }), { status: 502, reason: "origin_unreachable" }],
    ["origin silent", async () => (await slowGateway()).fetch("/items", { headers: bearer(good) }), { status: 504, reason: "origin_timeout" }],
    ["invalid configuration", async () => (await brokenKeyGateway()).fetch("/items", { headers: bearer(good) }), { status: 500, reason: "config_invalid" }],
  ];
  for (const [what, send, expected] of cases) {
    const res = await send();
    const { problem } = await expectProblem(res, expected);
    assert.equal(res.headers.get("cache-control"), "no-store", what);
    assert.ok(!JSON.stringify(problem).includes("eyJ"), `${what}: no token material in the answer`);
  }
});

// ---------------------------------------------------------------------------------------------
// 7. The decision log (last: it also inspects everything the tests above made the worker log)

test("logs: one decision line per request, JSON throughout, no token or assertion material", async () => {
  const signer = await signerGateway();
  const good = await mint({});
  const [h, p] = good.split(".");
  const badSignature = `${h}.${p}.${(await mint({ lifetime: 60 })).split(".")[2]}`;
  // A unique CF-Ray per request makes it the request id, so every request's line can be found
  // (the key-set answer carries no X-Request-Id of its own).
  const requests = [
    ["allowed", () => env.gateway, "/items", bearer(good), { decision: "allowed", status: 200, reason: null }],
    ["allowed with an assertion", () => signer, "/items?a=1", bearer(good), { decision: "allowed", status: 200, reason: null }],
    ["key set", () => signer, JWKS_PATH, {}, { decision: "jwks", status: 200, reason: null }],
    ["no token", () => env.gateway, "/items", {}, { decision: "denied", status: 401, reason: "token_missing" }],
    ["bad signature", () => env.gateway, "/items", bearer(badSignature), { decision: "denied", status: 401, reason: "invalid_signature" }],
    ["malformed", () => env.gateway, "/items", { authorization: "Bearer a b" }, { decision: "denied", status: 400, reason: "malformed_authorization" }],
    ["origin down", downGateway, "/items", bearer(good), { decision: "denied", status: 502, reason: "origin_unreachable" }],
    ["origin silent", slowGateway, "/items", bearer(good), { decision: "denied", status: 504, reason: "origin_timeout" }],
    ["invalid configuration", brokenKeyGateway, "/items", bearer(good), { decision: "denied", status: 500, reason: "config_invalid" }],
  ];
  const sent = [];
  for (const [what, gateway, path, headers, expected] of requests) {
    const id = ray();
    const res = await (await gateway()).fetch(path, { headers: { ...headers, "cf-ray": id } });
    const text = await res.text();
    assert.equal(res.status, expected.status, `${what}: ${text}`);
    const assertion = res.status === 200 && text.startsWith("{") ? JSON.parse(text).headers?.["x-entra-assertion"] : undefined;
    if (assertion) secrets.assertions.push(assertion);
    sent.push({ what, id, expected });
  }

  const linesFor = (id) => decisions().filter((d) => d.request_id === id);
  await waitForLogs(() => sent.every(({ id }) => linesFor(id).length > 0), "a decision line for every request");
  await new Promise((r) => setTimeout(r, 250)); // room for a duplicate to show up
  for (const { what, id, expected } of sent) {
    const lines = linesFor(id);
    assert.equal(lines.length, 1, `${what}: exactly one decision line, got ${JSON.stringify(lines)}`);
    const [line] = lines;
    assert.deepEqual({ decision: line.decision, status: line.status, reason: line.reason }, expected, what);
    if (expected.reason) assert.equal(typeof line.detail, "string", `${what}: a refusal says why`);
    if (expected.decision === "allowed") {
      assert.deepEqual({ tenant: line.tenant, client: line.client, kind: line.kind, ver: line.ver }, {
        tenant: env.tenant.tenantId, client: CLIENT, kind: "user", ver: "2.0",
      });
    }
  }

  // Across everything this file made the worker do: JSON lines only, one decision per request
  // id, and nothing secret.
  const jsonLines = env.logs.filter((l) => l.startsWith("{"));
  for (const line of jsonLines) assert.doesNotThrow(() => JSON.parse(line), line);
  const ids = decisions().map((d) => d.request_id);
  assert.ok(ids.length >= 40, `decision lines were logged (${ids.length})`);
  assert.equal(new Set(ids).size, ids.length, "no request id has two decision lines");

  const text = env.logs.join("\n");
  assert.ok(!text.includes("eyJ"), "nothing JWT-like is logged");
  assert.ok(secrets.tokens.length >= 10 && secrets.assertions.length >= 4, "the checks below have material to look for");
  for (const token of secrets.tokens) {
    const [, payload, signature] = token.split(".");
    assert.ok(!text.includes(payload), "a token payload was logged");
    if (signature) assert.ok(!text.includes(signature), "a token signature was logged");
  }
  for (const assertion of secrets.assertions) {
    for (const segment of assertion.split(".")) assert.ok(!text.includes(segment), "an assertion segment was logged");
  }
  for (const d of secrets.privateKeys) assert.ok(!text.includes(d), "an assertion private key was logged");
});

test("underscore look-alikes of identity headers are stripped too", async () => {
  const gateway = await gatewayNamed("plain", {});
  const seen = echoedRaw(
    await raw(gateway, "/items", {
      headers: [
        ["Authorization", `Bearer ${await mint({})}`],
        ["X-Entra_Tenant-Id", "spoof"],
        ["X_Entra_Roles", "Admin"],
        ["x_ENTRA-Custom", "spoof"],
      ],
    }),
  );
  const names = rawNames(seen);
  assert.ok(!names.some((n) => n.replaceAll("_", "-").startsWith("x-entra-") && n.includes("_")), names.join(","));
  assert.equal(seen.headers["x-entra-roles"], "");
});

test("assertion: htu is the path and query as the origin receives them, ORIGIN_URL prefix included", async () => {
  const gateway = await gatewayNamed("signer-prefixed", {
    GATE_ASSERTION_KEY: JSON.stringify(signingKey.jwk),
    ORIGIN_URL: `${env.origin.url}/base`,
  });
  const seen = await echoed(await gateway.fetch("/x?y=1", { headers: bearer(await mint({})) }));
  assert.equal(seen.url, "/base/x?y=1");
  const { payload } = await jwtVerify(seen.headers["x-entra-assertion"], createLocalJWKSet((await publishedJwks(gateway)).jwks), {
    algorithms: ["EdDSA"],
  });
  assert.equal(payload.htu, seen.url);
});

test("the key set answer carries the request id", async () => {
  const gateway = await signerGateway();
  const id = ray();
  const res = await gateway.fetch(JWKS_PATH, { headers: { "cf-ray": id } });
  await res.text();
  assert.equal(res.headers.get("x-request-id"), id);
});
