// The policy file bundled at build time (scripts/build.sh --policy FILE), end to end through
// workerd: the shipped policy.toml and the worked example each decide as their comments say, a
// GATE_POLICY binding overrides the bundled file (an environment's override), and a broken
// file refuses every request with problems that name the file.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { startEnvironment } from "./support/environment.mjs";
import { buildWithPolicy } from "./support/build.mjs";

const ROOT = resolve(import.meta.dirname, "../..");
const EXAMPLE_POLICY = "examples/items-api/policy.toml";
/** The rate-limiting binding examples/items-api/wrangler.toml declares. */
const EXAMPLE_LIMITS = { SEARCH_PER_APP: { namespace_id: "1001", simple: { limit: 100, period: 60 } } };
/** Its GATE_ORIGINS, pointed at the test's echo origin under a prefix. */
let EXAMPLE_ORIGINS;
/** A policy file with two problems, written under target/ for this test. */
const BROKEN_POLICY = "target/e2e-builds/broken-policy.toml";

let env;
let example;
let broken;
let tokens;
before(async () => {
  mkdirSync(resolve(ROOT, "target/e2e-builds"), { recursive: true });
  writeFileSync(
    resolve(ROOT, BROKEN_POLICY),
    'default = "allow"\n\n[[routes]]\nname = "a"\npath = "items"\n',
  );
  [example, broken] = [await buildWithPolicy(EXAMPLE_POLICY, "example"), await buildWithPolicy(BROKEN_POLICY, "broken")];
  env = await startEnvironment();
  EXAMPLE_ORIGINS = JSON.stringify({ reports: `${env.origin.url}/reports-service` });
  tokens = {
    reader: await env.tenant.mint({ claims: { scp: "items.read" } }),
    bare: await env.tenant.mint({ claims: { scp: null } }),
    itemsApp: await env.tenant.mint({ kind: "app", claims: { roles: ["Items.Read"] } }),
  };
});
after(async () => {
  await env?.stop();
});

let rays = 0;
async function call(gateway, path, { token, method = "GET" } = {}) {
  const ray = `policy-file-${++rays}`;
  const headers = { "cf-ray": ray };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await gateway.fetch(path, { method, headers });
  const body = await res.text();
  return { status: res.status, origin: res.headers.get("x-echo-origin") === "1", reason: body.startsWith("{") ? JSON.parse(body).reason : undefined, body, ray };
}

test("the shipped policy.toml: any token with a scope or role on any path, none without", async () => {
  // env.gateway runs build/, which scripts/build.sh made from policy.toml.
  for (const token of [tokens.reader, tokens.itemsApp]) {
    const res = await call(env.gateway, "/any/path/at/all", { token, method: "DELETE" });
    assert.equal(res.status, 200, res.body);
    assert.ok(res.origin);
  }
  const bare = await call(env.gateway, "/any/path", { token: tokens.bare });
  assert.deepEqual([bare.status, bare.reason, bare.origin], [403, "no_permissions", false]);
  assert.equal((await call(env.gateway, "/health")).status, 401, "nothing is public");
});

test("the worked example, bundled: its routes decide, everything else is no_route", async () => {
  const gw = await env.gatewayWith({ GATE_ORIGINS: EXAMPLE_ORIGINS }, { build: example, ratelimits: EXAMPLE_LIMITS });
  const health = await call(gw, "/health");
  assert.deepEqual([health.status, health.origin], [200, true], "public without a token");
  const read = await call(gw, "/api/items/42", { token: tokens.reader });
  assert.deepEqual([read.status, read.origin], [200, true], read.body);
  const write = await call(gw, "/api/items/42", { token: tokens.reader, method: "DELETE" });
  assert.deepEqual([write.status, write.reason], [403, "insufficient_scope"]);
  const unmatched = await call(gw, "/other", { token: tokens.reader });
  assert.deepEqual([unmatched.status, unmatched.reason, unmatched.origin], [403, "no_route", false]);
  const search = await call(gw, "/api/search", { token: tokens.reader });
  assert.deepEqual([search.status, search.origin], [200, true], search.body);
  const report = await call(gw, "/api/reports/q3", { token: tokens.reader });
  assert.equal(JSON.parse(report.body).url, "/reports-service/api/reports/q3", "the reports origin");
});

test("the worked example without the rate-limiting binding its policy names refuses to start", async () => {
  const gw = await env.gatewayWith({ GATE_ORIGINS: EXAMPLE_ORIGINS }, { build: example });
  const res = await call(gw, "/health");
  assert.deepEqual([res.status, res.reason], [500, "config_invalid"]);
});

test("a GATE_POLICY binding overrides the bundled file", async () => {
  const gw = await env.gatewayWith({ GATE_POLICY: JSON.stringify({ default: "authenticated" }) }, { build: example });
  const unmatched = await call(gw, "/other", { token: tokens.reader });
  assert.deepEqual([unmatched.status, unmatched.origin], [200, true], "the binding's policy, not the example's");
  assert.equal((await call(gw, "/health")).status, 401, "the example's public route is gone with it");
});

test("a broken policy file refuses every request, and the log names the file and each problem", async () => {
  const gw = await env.gatewayWith({}, { build: broken });
  const res = await call(gw, "/items", { token: tokens.reader });
  assert.deepEqual([res.status, res.reason, res.origin], [500, "config_invalid", false]);
  let line;
  for (let i = 0; i < 200 && !line; i++) {
    line = env.logs.find((l) => l.includes('"event":"config_invalid"') && l.includes("broken-policy.toml"));
    if (!line) await new Promise((r) => setTimeout(r, 25));
  }
  assert.ok(line, "a config_invalid line");
  const problems = JSON.parse(line).problems;
  assert.deepEqual(problems, [
    `policy file: ${BROKEN_POLICY}: default: "allow" is not deny or authenticated`,
    `policy file: ${BROKEN_POLICY}: routes[0].path: must start with /`,
  ]);
  // The binding still wins over a broken file: an environment can override its way out.
  const overridden = await env.gatewayWith({ GATE_POLICY: JSON.stringify({ default: "authenticated" }) }, { build: broken });
  assert.equal((await call(overridden, "/items", { token: tokens.reader })).status, 200);
});
