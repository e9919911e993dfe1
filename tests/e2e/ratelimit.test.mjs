// Per-caller rate limits end to end through workerd, with Miniflare's local Workers
// rate-limiting binding: keyed by the verified calling app, user, tenant or client IP, never by
// anything a client chooses; over the limit is 429 rate_limited with Retry-After, logged and
// counted; a missing binding refuses to start; report-only and shadow mode only report.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEnvironment } from "./support/environment.mjs";

const APP_B = "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
const USER_B = "2b3c4d5e-6f70-4812-9a3b-4c5d6e7f8091";

const POLICY = {
  routes: [
    { name: "search", path: "/search/**", require: { scopes: { any_of: ["items.read"] } }, rate_limit: { binding: "PER_APP", per: "app" } },
    { name: "profile", path: "/profile/**", require: { scopes: { any_of: ["items.read"] } }, rate_limit: { binding: "PER_USER", per: "user", period_seconds: 10 } },
    { name: "status", path: "/status", public: true, rate_limit: { binding: "PER_IP", per: "ip" } },
    { name: "trial", path: "/trial/**", report_only: true, rate_limit: { binding: "TRIAL", per: "tenant" } },
  ],
};
const LIMITS = {
  PER_APP: { namespace_id: "1001", simple: { limit: 3, period: 60 } },
  PER_USER: { namespace_id: "1002", simple: { limit: 2, period: 10 } },
  PER_IP: { namespace_id: "1003", simple: { limit: 2, period: 60 } },
  TRIAL: { namespace_id: "1004", simple: { limit: 1, period: 60 } },
};

let env;
let gateway;
before(async () => {
  env = await startEnvironment();
  gateway = await env.gatewayWith(
    { GATE_POLICY: JSON.stringify(POLICY), GATE_DEV_CLIENT_HEADERS: "true" },
    { ratelimits: LIMITS, metricsSpy: true },
  );
});
after(async () => {
  await env?.stop();
});

let rays = 0;
async function call(path, { token, headers = {}, gw = gateway } = {}) {
  const ray = `ratelimit-${++rays}`;
  const h = { "cf-ray": ray, ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  const res = await gw.fetch(path, { headers: h });
  const text = await res.text();
  return { status: res.status, retryAfter: res.headers.get("retry-after"), reason: text.startsWith("{") ? JSON.parse(text).reason : undefined, origin: res.headers.get("x-echo-origin") === "1", ray };
}

test("per calling app: the fourth call of one app is 429, another app still passes", async () => {
  const appA = await env.tenant.mint({});
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await call(`/search/${i}`, { token: appA })).status);
  assert.deepEqual(statuses, [200, 200, 200, 429]);
  const over = await call("/search/x", { token: appA });
  assert.deepEqual([over.status, over.reason, over.retryAfter, over.origin], [429, "rate_limited", "60", false]);
  // The same app with a fresh token is the same caller: the key is the verified app, not the token.
  assert.equal((await call("/search/y", { token: await env.tenant.mint({}) })).status, 429);
  const appB = await env.tenant.mint({ claims: { azp: APP_B } });
  assert.equal((await call("/search/z", { token: appB })).status, 200);
});

test("per user (tenant and object id), with the period as Retry-After", async () => {
  const userB = await env.tenant.mint({ claims: { oid: USER_B } });
  for (let i = 0; i < 2; i++) assert.equal((await call("/profile/me", { token: userB })).status, 200);
  const over = await call("/profile/me", { token: userB });
  assert.deepEqual([over.status, over.retryAfter], [429, "10"]);
  // Another user of the same app is not limited by user B's calls.
  assert.equal((await call("/profile/me", { token: await env.tenant.mint({}) })).status, 200);
});

test("per client IP on a public route", async () => {
  const from = (ip) => call("/status", { headers: { "X-Dev-Client-IP": ip } });
  assert.deepEqual([(await from("198.51.100.7")).status, (await from("198.51.100.7")).status, (await from("198.51.100.7")).status], [200, 200, 429]);
  assert.equal((await from("198.51.100.8")).status, 200);
});

test("report-only: over the limit is logged as would_deny and forwarded", async () => {
  const token = await env.tenant.mint({});
  assert.equal((await call("/trial/a", { token })).status, 200);
  const second = await call("/trial/b", { token });
  assert.deepEqual([second.status, second.origin], [200, true]);
  let line;
  for (let i = 0; i < 200 && !line; i++) {
    line = env.logs.map((l) => (l.startsWith("{") ? JSON.parse(l) : {})).find((l) => l.event === "decision" && l.request_id === second.ray);
    if (!line) await new Promise((r) => setTimeout(r, 25));
  }
  assert.deepEqual(line.report_only.map((f) => f.reason), ["rate_limited"]);
});

test("a refusal is logged and counted with the route and the calling app", async () => {
  const token = await env.tenant.mint({});
  let over;
  for (let i = 0; i < 5 && over?.status !== 429; i++) over = await call("/search/count", { token });
  assert.equal(over.status, 429);
  const parsed = () => env.logs.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  let line;
  for (let i = 0; i < 200 && !line; i++) {
    line = parsed().find((l) => l.event === "decision" && l.request_id === over.ray);
    if (!line) await new Promise((r) => setTimeout(r, 25));
  }
  assert.deepEqual([line.decision, line.reason, line.route, line.status], ["denied", "rate_limited", "search", 429]);
  const point = parsed().find((l) => l.event === "data_point" && l.blobs?.[1] === "rate_limited");
  assert.ok(point, "counted");
  assert.equal(point.blobs[2], "search");
});

test("a policy naming a binding that is not there refuses to start", async () => {
  const missing = await env.gatewayWith({ GATE_POLICY: JSON.stringify(POLICY) }, { ratelimits: { PER_APP: LIMITS.PER_APP } });
  const res = await call("/search/1", { token: await env.tenant.mint({}), gw: missing });
  assert.deepEqual([res.status, res.reason], [500, "config_invalid"]);
});

test("a limiter that does not answer fails the request closed: 503 rate_limit_unavailable", async () => {
  // A binding whose limit() never settles (the wrapped-binding way to fake one).
  const stalled = {
    name: "stalled-limiter",
    modules: true,
    script: "export default function () { return { limit() { return new Promise(() => {}); } }; }",
  };
  const gw = await env.gatewayWith(
    { GATE_POLICY: JSON.stringify({ routes: [POLICY.routes[0]] }) },
    { workers: [stalled], wrappedBindings: { PER_APP: { scriptName: "stalled-limiter" } } },
  );
  const started = Date.now();
  const res = await call("/search/1", { token: await env.tenant.mint({}), gw });
  assert.deepEqual([res.status, res.reason, res.origin], [503, "rate_limit_unavailable", false]);
  assert.ok(Date.now() - started < 5000, "answered within the limiter's deadline");
});
