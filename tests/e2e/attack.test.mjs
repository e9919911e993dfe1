// The attack corpus (tests/data/attack-corpus.json, made by scripts/gen-corpus.mjs) through the
// built worker under workerd. The corpus is signed with the test keys, not the mock tenant's, so
// this file serves the corpus tenant's discovery and key documents itself (node:http on
// 127.0.0.1): the worker's authority is this server, while the issuers in the metadata are
// Entra's real ones (the worker requires only the tenant segment to match, and the key documents
// to be on the authority). Every case must get exactly its expected status and reason, none a
// 5xx; the jku/x5u canary server must never be called; and after the whole corpus (unknown kids,
// bad signatures, ...) a fresh valid token is still accepted: no negative cache locks anyone out.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startEchoOrigin } from "./support/echo-origin.mjs";
import { startGateway, TEST_SECRET } from "./support/gateway.mjs";
import { raw } from "./support/raw-http.mjs";
import { contentHash, seal, unseal } from "../../scripts/kv-record.mjs";
import {
  CORPUS,
  loadCorpus,
  loadPathCases,
  loadKvCases,
  loadKeys,
  jwksDocuments,
  compact,
  obj,
  headerPairs,
  claimPairs,
  v1Issuer,
  v2Issuer,
} from "../../scripts/gen-corpus.mjs";

const TID = CORPUS.tenantId;
const cases = loadCorpus();
const pathCases = loadPathCases();
const kvCases = loadKvCases();
const keys = loadKeys();
let tenant, canary, origin, gateway;
const logs = [];

function listen(server, port = 0) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server.address().port));
  });
}

/** Discovery and key documents for the corpus tenant, with a hit count per path. */
async function startCorpusTenant() {
  const hits = {};
  const docs = jwksDocuments(keys);
  let base;
  const routes = () => ({
    [`/${TID}/v2.0/.well-known/openid-configuration`]: { issuer: v2Issuer(TID), jwks_uri: `${base}/${TID}/discovery/v2.0/keys` },
    [`/${TID}/.well-known/openid-configuration`]: { issuer: v1Issuer(TID), jwks_uri: `${base}/${TID}/discovery/keys` },
    [`/${TID}/discovery/v2.0/keys`]: docs.v2,
    [`/${TID}/discovery/keys`]: docs.v1,
  });
  const server = http.createServer((req, res) => {
    hits[req.url] = (hits[req.url] ?? 0) + 1;
    const body = routes()[req.url];
    res.writeHead(body ? 200 : 404, { "content-type": "application/json" });
    res.end(body ? JSON.stringify(body) : "{}");
  });
  base = `http://127.0.0.1:${await listen(server)}`;
  return { url: base, hits, close: () => new Promise((r) => server.close(r)) };
}

/** The jku/x5u target: counts every request it ever gets. */
async function startCanary() {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(jwksDocuments(keys).v2));
  });
  try {
    await listen(server, CORPUS.canaryPort);
  } catch (e) {
    throw new Error(`the jku/x5u canary needs 127.0.0.1:${CORPUS.canaryPort} (scripts/gen-corpus.mjs canaryPort): ${e.message}`);
  }
  return { seen, close: () => new Promise((r) => server.close(r)) };
}

before(async () => {
  canary = await startCanary();
  tenant = await startCorpusTenant();
  origin = await startEchoOrigin();
  gateway = await startGateway(corpusBindings(), { logs });
});

/** The corpus's deployment (tests/support/corpus_tenant.rs configures the native runs alike). */
const corpusBindings = () => ({
  ENTRA_TENANT_ID: TID,
  ENTRA_AUDIENCES: `${CORPUS.apiUri},${CORPUS.apiClientId}`,
  ORIGIN_URL: origin.url,
  ENTRA_AUTHORITY: tenant.url,
});

after(async () => {
  await gateway?.stop();
  await origin?.close();
  await tenant?.close();
  await canary?.close();
});

async function send(authorization) {
  const headers = authorization === null ? {} : { authorization };
  const res = await gateway.fetch("/items/1", { headers });
  const text = await res.text();
  return { res, text };
}

/** What the gateway answered: status and reason (null when the origin answered). */
async function answer(authorization) {
  const { res, text } = await send(authorization);
  const fromOrigin = res.headers.get("x-echo-origin") === "1";
  let reason = null;
  if (!fromOrigin) {
    assert.equal(res.headers.get("content-type"), "application/problem+json", `${res.status} ${text}`);
    const problem = JSON.parse(text);
    assert.equal(problem.status, res.status);
    reason = problem.reason;
    if (res.status === 401 || res.status === 400) {
      assert.ok(res.headers.get("www-authenticate")?.startsWith('Bearer realm="entra-gate"'), text);
    }
  }
  return { status: res.status, reason, text };
}

const firstPass = new Map();

test("the corpus is the generator's (tests/data/attack-corpus.json has cases)", () => {
  assert.ok(cases.length >= 300, `only ${cases.length} cases`);
});

for (const { name, authorization, expect } of cases) {
  test(`corpus: ${name} → ${expect.status} ${expect.reason ?? "accepted"}`, async () => {
    const got = await answer(authorization);
    firstPass.set(name, { status: got.status, reason: got.reason });
    assert.ok(got.status < 500, `${got.status} ${got.text}`);
    assert.deepEqual({ status: got.status, reason: got.reason }, expect, got.text);
  });
}

test("the whole corpus again, in reverse order: every answer as the first time", async () => {
  const changed = [];
  for (const { name, authorization } of [...cases].reverse()) {
    const { status, reason } = await answer(authorization);
    const before = firstPass.get(name);
    if (before.status !== status || before.reason !== reason) {
      changed.push(`${name}: ${before.status} ${before.reason} then ${status} ${reason}`);
    }
  }
  assert.deepEqual(changed, []);
});

test("jku and x5u were never fetched", () => {
  assert.deepEqual(canary.seen, []);
  const fetched = Object.keys(tenant.hits);
  assert.ok(fetched.every((path) => path.startsWith(`/${TID}/`)), `unexpected fetches: ${fetched}`);
});

test("after the corpus, fresh valid tokens from both keys are still accepted", async () => {
  for (const kid of ["test-key-1", "test-key-2"]) {
    const claims = obj(claimPairs({ uti: JSON.stringify(`after-corpus-${kid}`) }));
    const token = compact(obj(headerPairs(kid)), claims, keys[kid]);
    const { res, text } = await send(`Bearer ${token}`);
    assert.equal(res.status, 200, `${kid}: ${text}`);
  }
});

test("every log line is one JSON object (no kid or claim split a line)", () => {
  const lines = logs.filter((l) => l.trim().startsWith("{"));
  assert.ok(lines.length >= cases.length, `only ${lines.length} log lines`);
  for (const line of lines) JSON.parse(line);
  assert.ok(!logs.some((l) => l.startsWith("X-Entra-Roles")), "a kid split a log line");
  const decisions = lines.map((l) => JSON.parse(l)).filter((l) => l.event === "decision");
  assert.ok(decisions.length >= cases.length);
  assert.ok(decisions.every((d) => d.status < 500), "a 5xx was logged");
});

// ---------------------------------------------------------------------------------------------
// Paths (tests/data/attack-corpus-paths.json): sent raw, so the target reaches workerd byte for
// byte; what the origin sees is the canonical path the policy matched.

const baseline = () => `Bearer ${compact(obj(headerPairs("test-key-1")), obj(claimPairs()), keys["test-key-1"])}`;

for (const { name, target, expect } of pathCases) {
  test(`corpus path: ${name} → ${expect.status} ${expect.reason ?? expect.forwarded}`, async () => {
    const res = await raw(gateway, target, { headers: [["Authorization", baseline()]] });
    const fromOrigin = res.headers["x-echo-origin"] === "1";
    if (expect.forwarded === null) {
      assert.equal(fromOrigin, false, `${target} reached the origin`);
      assert.equal(res.status, expect.status, res.text);
      assert.equal(JSON.parse(res.text).reason, expect.reason);
    } else {
      assert.ok(fromOrigin, `${target}: ${res.status} ${res.text}`);
      assert.equal(JSON.parse(res.text).url, expect.forwarded, target);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// KV records (tests/data/attack-corpus-kv.json): each stored in a fresh gateway's JWKS namespace
// before its first request. A record not believed is logged once and the keys come from the
// tenant instead (the request still passes, and KV then holds the gateway's own record); a
// believed one is read without complaint.

/** The record templates' placeholders (scripts/corpus/kv-records.mjs), for this deployment. */
function materialize(template, { authority, host, now }) {
  const walk = (value) => {
    if (typeof value === "string") return value.replaceAll("{authority}", authority).replaceAll("{host}", host);
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === "object") {
      const keys = Object.keys(value);
      if (keys.length === 1 && keys[0] === "now") return now + value.now;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    }
    return value;
  };
  const record = walk(template);
  if (record.content_hash === "{computed}") record.content_hash = contentHash(record.sources);
  return record;
}

for (const { name, seal: how, record: template, expect } of kvCases) {
  test(`corpus KV record: ${name} → ${expect.believed ? "believed" : "refused, keys from Entra"}`, async () => {
    const host = new URL(tenant.url).host;
    const key = `jwks:${host}/${TID}`;
    const record = materialize(template, { authority: tenant.url, host, now: Math.floor(Date.now() / 1000) });
    const text = {
      gateway: () => seal(key, record, TEST_SECRET),
      "other-secret": () => seal(key, record, Buffer.alloc(32, 7).toString("base64")),
      "other-key": () => seal(`jwks:${host}/${CORPUS.otherTenantId}`, record, TEST_SECRET),
      none: () => JSON.stringify(record),
    }[how]();
    const own = [];
    const gw = await startGateway(corpusBindings(), { logs: own });
    try {
      await (await gw.kv()).put(key, text);
      const res = await gw.fetch("/items/1", { headers: { authorization: baseline() } });
      assert.equal(res.status, 200, await res.text());
      const rejected = own.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).filter((e) => e.event === "kv_record_rejected");
      if (expect.believed) {
        assert.deepEqual(rejected, []);
      } else {
        assert.equal(rejected.length, 1, JSON.stringify(rejected));
        const stored = unseal(key, await (await gw.kv()).get(key), TEST_SECRET);
        assert.ok(stored.genuine, "the gateway replaced it with its own sealed record");
        assert.ok(!stored.json.includes("attacker-key"));
      }
    } finally {
      await gw.stop();
    }
  });
}
