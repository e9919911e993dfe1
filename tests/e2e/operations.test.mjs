// What an operator relies on, end to end through workerd: the decision line's fields (method,
// route, calling app, tenant; oid/uti only when asked), sampling of allowed-request lines
// (denials and report-only findings always written, counters always complete), and shadow mode
// (every refusal forwarded anonymously and logged as would_deny).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEnvironment } from "./support/environment.mjs";

/** What the mock tenant puts in every token (tools/mock-tenant/src/mint.rs). */
const OID = "5a1d5c3e-6a4b-4f1e-8a2d-0c9e8f7b6a51";
const CLIENT = "0f6e1f5b-0c6f-4a55-9d1e-5c1f3f2f0a11";
const UTI = "AbCdEfGhIjKlMnOpQrStUv";
/** What wrangler's [version_metadata] binding holds for the running version. */
const VERSION = { id: "6d0e6a1c-7b7e-4b7a-9c55-2f4f3f0b8e21", tag: "", timestamp: "2026-12-01T00:00:00Z" };

const POLICY = {
  routes: [
    { name: "items", path: "/items/**", methods: ["GET", "POST"], require: { scopes: { any_of: ["items.read"] } } },
    { name: "admin", path: "/admin/**", require: { roles: { any_of: ["Admin"] } } },
    { name: "audit", path: "/audit/**", report_only: true, require: { roles: { any_of: ["Auditor"] } } },
  ],
};

let env;
let token;
before(async () => {
  env = await startEnvironment({ GATE_POLICY: JSON.stringify(POLICY), CF_VERSION_METADATA: VERSION });
  token = await env.tenant.mint({});
});
after(async () => {
  await env?.stop();
});

let rays = 0;
async function call(gateway, { path = "/items/1", method = "GET", auth = token, ray = `ops-${++rays}` } = {}) {
  const headers = { "cf-ray": ray };
  if (auth) headers.authorization = `Bearer ${auth}`;
  const res = await gateway.fetch(path, { method, headers });
  return { status: res.status, origin: res.headers.get("x-echo-origin") === "1", body: await res.text(), ray };
}

const json = () => env.logs.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
const lineOf = (ray) => json().find((l) => l.event === "decision" && l.request_id === ray);
const pointsOf = (route) => json().filter((l) => l.event === "data_point" && l.blobs?.[0] === "decision" && l.blobs?.[2] === route);

/** Waits for `ray`'s decision line; workerd's stdout arrives in order, so earlier lines are in too. */
async function lineFor(ray) {
  for (let i = 0; i < 200; i++) {
    const line = lineOf(ray);
    if (line) return line;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no decision line for ${ray}`);
}

test("decision lines say who did what: method, route, calling app, tenant; no oid/uti unless asked", async () => {
  const post = await call(env.gateway, { method: "POST" });
  assert.equal(post.status, 200, post.body);
  const line = await lineFor(post.ray);
  assert.equal(line.method, "POST");
  assert.equal(line.route, "items");
  assert.equal(line.client, CLIENT);
  assert.equal(line.tenant, env.tenant.tenantId);
  assert.equal(line.decision, "allowed");
  assert.equal(line.shadow, undefined, "no shadow flag outside shadow mode");
  assert.ok(!("oid" in line) && !("uti" in line), `identifiers are opt-in: ${JSON.stringify(line)}`);

  const denied = await call(env.gateway, { path: "/admin/x", method: "DELETE" });
  assert.equal(denied.status, 403);
  const deniedLine = await lineFor(denied.ray);
  assert.deepEqual([deniedLine.method, deniedLine.route, deniedLine.client, deniedLine.reason], ["DELETE", "admin", CLIENT, "insufficient_role"]);

  const withIds = await env.gatewayWith({ GATE_LOG_IDENTIFIERS: "true" });
  const res = await call(withIds);
  assert.equal(res.status, 200);
  const idLine = await lineFor(res.ray);
  assert.equal(idLine.oid, OID);
  assert.equal(idLine.uti, UTI);
  // Identifiers, never the token.
  assert.ok(!JSON.stringify(json()).includes(token), "the token is never logged");
});

test("GATE_LOG_ALLOWED=none: no allowed lines, every denial and report-only finding, every request counted", async () => {
  const quiet = await env.gatewayWith({ GATE_LOG_ALLOWED: "none" }, { metricsSpy: true });
  const allowed = [];
  for (let i = 0; i < 5; i++) allowed.push(await call(quiet, { ray: `ops-none-allowed-${i}` }));
  assert.ok(allowed.every((r) => r.status === 200));
  const reportOnly = await call(quiet, { path: "/audit/log", ray: "ops-none-report-only" });
  assert.equal(reportOnly.status, 200, "report-only forwards");
  const missing = await call(quiet, { auth: null, ray: "ops-none-denied" });
  assert.equal(missing.status, 401);

  const deniedLine = await lineFor("ops-none-denied");
  assert.equal(deniedLine.reason, "token_missing");
  const finding = await lineFor("ops-none-report-only");
  assert.deepEqual(finding.report_only.map((f) => f.reason), ["insufficient_role"]);
  for (const { ray } of allowed) assert.equal(lineOf(ray), undefined, `${ray}: not logged`);

  // The counters are complete: five allowed data points on the items route, plus the denial.
  const points = pointsOf("items");
  const labels = points.map((p) => p.blobs[1]);
  assert.equal(labels.filter((l) => l === "allowed").length, 5, JSON.stringify(points));
  assert.equal(labels.filter((l) => l === "token_missing").length, 1);
  const point = points.find((p) => p.blobs[1] === "allowed");
  assert.deepEqual(point.blobs.slice(3), [env.tenant.tenantId, "GET", CLIENT, "allowed", "enforce", VERSION.id]);
  assert.equal(point.doubles[2], 200);
});

test("GATE_LOG_ALLOWED=50%: about half the allowed lines, all the denials", async () => {
  const sampled = await env.gatewayWith({ GATE_LOG_ALLOWED: "50%" });
  const n = 200;
  for (let i = 0; i < n; i++) await call(sampled, { ray: `ops-half-${i}` });
  await call(sampled, { auth: null, ray: "ops-half-denied" });
  await lineFor("ops-half-denied");
  const kept = json().filter((l) => l.event === "decision" && l.request_id.startsWith("ops-half-") && l.decision === "allowed").length;
  // Binomial(200, 0.5): mean 100, sd about 7; 50..150 fails by chance far less than once in 10^12 runs.
  assert.ok(kept > 50 && kept < 150, `kept ${kept} of ${n}`);

  const broken = await env.gatewayWith({ GATE_LOG_ALLOWED: "often" });
  const res = await call(broken, { ray: "ops-bad-setting" });
  assert.equal(res.status, 500, "a bad setting is a configuration problem, not a default");
  assert.ok(env.logs.some((l) => l.includes('"config_invalid"') && l.includes("GATE_LOG_ALLOWED")));
});

test("shadow mode: every refusal is forwarded without identity, logged and counted as would_deny", async () => {
  const shadow = await env.gatewayWith({ GATE_SHADOW_MODE: "true" }, { metricsSpy: true });

  const allowed = await call(shadow, { ray: "ops-shadow-allowed" });
  assert.ok(allowed.origin, "forwarded");
  const echoed = JSON.parse(allowed.body);
  assert.equal(echoed.headers["x-entra-object-id"], OID, "an allowed caller keeps its identity headers");
  assert.equal(echoed.headers.authorization, `Bearer ${token}`, "the origin keeps authenticating");
  const allowedLine = await lineFor("ops-shadow-allowed");
  assert.equal(allowedLine.decision, "allowed");
  assert.equal(allowedLine.shadow, true);

  const cases = [
    ["/admin/x", token, "insufficient_role", "admin"],
    ["/items/1", null, "token_missing", "items"],
    ["/items/1", `${token.slice(0, -4)}AAAA`, "invalid_signature", "items"],
    ["/elsewhere", token, "no_route", undefined],
  ];
  for (const [path, auth, reason, route] of cases) {
    const ray = `ops-shadow-${reason.replaceAll("_", "-")}`;
    const res = await call(shadow, { path, auth, ray });
    assert.equal(res.status, 200, `${reason}: forwarded, got ${res.status} ${res.body}`);
    assert.ok(res.origin, `${reason}: answered by the origin`);
    const seen = JSON.parse(res.body);
    const identity = Object.keys(seen.headers).filter((h) => h.startsWith("x-entra-") && h !== "x-entra-request-id");
    assert.deepEqual(identity, [], `${reason}: no identity headers for a caller the rules refuse`);
    assert.equal(seen.headers["x-entra-request-id"], ray);
    const line = await lineFor(ray);
    assert.equal(line.decision, "would_deny", JSON.stringify(line));
    assert.equal(line.reason, reason);
    assert.equal(line.shadow, true);
    assert.equal(line.status, 200);
    assert.equal(line.route ?? undefined, route);
  }
  const admin = pointsOf("admin").find((p) => p.blobs[1] === "insufficient_role");
  assert.ok(admin, "the shadowed refusal is counted");
  assert.deepEqual(admin.blobs.slice(4, 8), ["GET", CLIENT, "would_deny", "shadow"]);

  // An ambiguous path cannot be forwarded as anything: refused even in shadow mode.
  const ambiguous = await call(shadow, { path: "/items/..;/admin", ray: "ops-shadow-ambiguous" });
  assert.equal(ambiguous.origin, false);
  assert.equal((await lineFor("ops-shadow-ambiguous")).decision, "denied");
});
