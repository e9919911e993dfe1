// Replay: a request the walk forwarded is answered again from JavaScript, without entering wasm,
// for the very same request (method, URL, Authorization, header names, Connection) while
// nothing else could change the decision (core/src/replay.rs has the rules). Everything a
// client or origin sees must be what the walk would have produced, and the walk must run again
// for anything outside the key.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startEnvironment } from "./support/environment.mjs";
import { raw } from "./support/raw-http.mjs";

let env;
before(async () => {
  env = await startEnvironment();
});
after(async () => {
  await env?.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const decisions = (since) =>
  env.logs.slice(since).filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).filter((e) => e.event === "decision");

async function settle(since, count) {
  for (let i = 0; i < 200 && decisions(since).length < count; i++) await sleep(10);
  return decisions(since);
}

const call = (gw, token, { path = "/items", method = "GET", headers = {} } = {}) =>
  gw.fetch(path, { method, headers: { authorization: `Bearer ${token}`, ...headers } });

/** Calls `n` times; returns each answer's status and decision line (in order). */
async function calls(gw, token, n, options) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const at = env.logs.length;
    const res = await call(gw, token, options);
    const body = await res.text();
    const [line] = await settle(at, 1);
    out.push({ status: res.status, line, body, requestId: res.headers.get("x-request-id") });
  }
  return out;
}

test("a repeated request is replayed: the same origin request, a new request id, the decision line marked", async () => {
  const gw = await env.gatewayWith({});
  const token = await env.tenant.mint({});
  const [first, remembered, second, third] = await calls(gw, token, 4, { headers: { "x-keep": "1" } });
  assert.deepEqual([first.status, remembered.status, second.status, third.status], [200, 200, 200, 200]);
  assert.equal(first.line.replayed, undefined, "the first request walks");
  assert.equal(remembered.line.replayed, undefined, "the second walks too, from the cache");
  assert.equal(remembered.line.cached, true);
  assert.equal(second.line.replayed, true);
  assert.equal(third.line.replayed, true);
  assert.equal(second.line.cached, true);
  for (const { line, requestId, body } of [first, remembered, second, third]) {
    const seen = JSON.parse(body);
    assert.equal(line.request_id, requestId, "the answer's X-Request-Id is the line's");
    assert.equal(seen.headers["x-entra-request-id"], requestId, "and the origin's");
    assert.equal(seen.headers["x-entra-tenant-id"], env.tenant.tenantId);
    assert.equal(seen.headers.authorization, undefined, "Authorization is still dropped");
    assert.equal(seen.headers["x-keep"], "1");
    assert.equal(seen.url, "/items");
    assert.equal(typeof line.ms, "number");
  }
  assert.equal(new Set([first, remembered, second, third].map((c) => c.requestId)).size, 4, "a request id per request");
  // Everything but the request id, status and time is the walk's own line.
  const comparable = ({ request_id, ms, replayed, ...rest }) => rest;
  assert.deepEqual(comparable(second.line), comparable(remembered.line));
});

test("a valid CF-Ray is a replay's request id too", async () => {
  const gw = await env.gatewayWith({});
  const token = await env.tenant.mint({});
  const ray = "8f1e2d3c4b5a6978-AMS";
  const [, , replayed] = await calls(gw, token, 3, { headers: { "cf-ray": ray } });
  assert.equal(replayed.line.replayed, true);
  assert.equal(replayed.requestId, ray);
  const [, bad] = await calls(gw, token, 2, { headers: { "cf-ray": "not a ray!" } });
  assert.equal(bad.line.replayed, true);
  assert.match(bad.requestId, /^[0-9a-f]{24}$/);
});

test("another path, method or token walks, and its route's rules apply", async () => {
  const policy = JSON.stringify({
    routes: [
      { path: "/items/**", methods: ["GET"], require: { scopes: { any_of: ["items.read"] } } },
      { path: "/admin/**", require: { scopes: { any_of: ["admin"] } } },
    ],
  });
  const gw = await env.gatewayWith({ GATE_POLICY: policy });
  const token = await env.tenant.mint({});
  const [, , replayed] = await calls(gw, token, 3, { path: "/items/1" });
  assert.equal(replayed.line.replayed, true);
  const [admin] = await calls(gw, token, 1, { path: "/admin/x" });
  assert.equal(admin.status, 403);
  assert.equal(admin.line.replayed, undefined);
  const [post] = await calls(gw, token, 1, { path: "/items/1", method: "POST" });
  assert.equal(post.status, 403, "no route for POST: the default refuses");
  assert.equal(JSON.parse(post.body).reason, "no_route");
  assert.equal(post.line.replayed, undefined);
  const [query] = await calls(gw, token, 1, { path: "/items/1?x=1" });
  assert.equal(query.status, 200);
  assert.equal(query.line.replayed, undefined, "another URL is another key");
  const [other] = await calls(gw, await env.tenant.mint({ lifetime: 1800 }), 1, { path: "/items/1" });
  assert.equal(other.line.replayed, undefined);
  assert.equal(other.line.cached, false);
});

test("other header names or Connection walk; spoofed identity headers are dropped either way", async () => {
  const gw = await env.gatewayWith({});
  const token = await env.tenant.mint({});
  await calls(gw, token, 3);
  const spoofed = { "X-Entra-Tenant-Id": "spoof", "X-Entra-Roles": "Admin" };
  const [walked, replayed] = await calls(gw, token, 2, { headers: spoofed });
  assert.equal(walked.line.replayed, undefined, "new header names: the walk runs");
  assert.equal(replayed.line.replayed, true);
  for (const { body } of [walked, replayed]) {
    const seen = JSON.parse(body);
    assert.equal(seen.headers["x-entra-tenant-id"], env.tenant.tenantId);
    assert.ok(!/spoof|Admin/.test(JSON.stringify(seen.rawHeaders)), "no spoofed value reaches the origin");
  }
  // Connection as the client wrote it (fetch would not send it): raw HTTP to the socket.
  const viaRaw = async (connection) => {
    const at = env.logs.length;
    const res = await raw(gw, "/items", {
      headers: [["Authorization", `Bearer ${token}`], ["Connection", connection], ["X-Secret", "hop"]],
    });
    const [line] = await settle(at, 1);
    return { seen: JSON.parse(res.text), line };
  };
  const first = await viaRaw("keep-alive, X-Secret");
  const again = await viaRaw("keep-alive, X-Secret");
  assert.equal(first.line.replayed, undefined);
  assert.equal(again.line.replayed, true);
  for (const { seen } of [first, again]) assert.equal(seen.headers["x-secret"], undefined, "Connection named it");
  const other = await viaRaw("keep-alive");
  assert.equal(other.line.replayed, undefined, "another Connection value is another key");
  assert.equal(other.seen.headers["x-secret"], "hop", "now an end-to-end header");
});

test("a replay stops at the token's exp", async () => {
  const gw = await env.gatewayWith({ ENTRA_CLOCK_SKEW_SECONDS: "0" });
  const token = await env.tenant.mint({ lifetime: 2 });
  const [, , replayed] = await calls(gw, token, 3);
  assert.equal(replayed.line.replayed, true);
  await sleep(3000);
  const [late] = await calls(gw, token, 1);
  assert.equal(late.status, 401);
  assert.equal(JSON.parse(late.body).reason, "token_expired");
  assert.equal(late.line.replayed, undefined);
});

test("a replay stops when its key leaves the key set", async () => {
  const gw = await env.gatewayWith({ ENTRA_KID_MISS_WINDOW_SECONDS: "1" });
  const token = await env.tenant.mint({ key: "mock-key-1" });
  const [, , replayed] = await calls(gw, token, 3);
  assert.equal(replayed.line.replayed, true);
  await env.tenant.publish("mock-key-1", false);
  try {
    await sleep(1100);
    // A miss on another kid makes the isolate refresh its keys: new content forgets replays.
    const other = await env.tenant.mint({ key: "mock-key-unpublished" });
    assert.equal((await call(gw, other)).status, 401);
    const [refused] = await calls(gw, token, 1);
    assert.equal(refused.status, 401);
    assert.equal(JSON.parse(refused.body).reason, "unknown_kid");
    assert.equal(refused.line.replayed, undefined);
  } finally {
    await env.tenant.publish("mock-key-1", true);
  }
});

test("a route that reads the client's network is never replayed: another IP is refused", async () => {
  const policy = JSON.stringify({
    routes: [{ path: "/internal/**", conditions: { ip: { in: ["10.0.0.0/8"] } } }],
  });
  const gw = await env.gatewayWith({ GATE_POLICY: policy, GATE_DEV_CLIENT_HEADERS: "true" });
  const token = await env.tenant.mint({});
  const inside = { path: "/internal/x", headers: { "X-Dev-Client-IP": "10.1.2.3" } };
  const thrice = await calls(gw, token, 3, inside);
  assert.deepEqual(thrice.map((c) => [c.status, c.line.replayed]), [[200, undefined], [200, undefined], [200, undefined]]);
  const [outside] = await calls(gw, token, 1, { path: "/internal/x", headers: { "X-Dev-Client-IP": "192.0.2.1" } });
  assert.equal(outside.status, 403);
  assert.equal(JSON.parse(outside.body).reason, "condition_ip");
});

test("what reads or adds per request turns replay off: CORS, shadow mode, a timeout, step-up age, report-only, a public route", async () => {
  const settings = [
    ["CORS", { GATE_POLICY: JSON.stringify({ default: "authenticated", cors: { allowed_origins: ["https://app.example.com"] } }) }, "/items"],
    ["shadow mode", { GATE_SHADOW_MODE: "true" }, "/items"],
    ["origin timeout", { GATE_ORIGIN_TIMEOUT_SECONDS: "5" }, "/items"],
    ["recent sign-in", { GATE_POLICY: JSON.stringify({ optional_claims: ["auth_time"], routes: [{ path: "/account/**", step_up: { max_age_seconds: 3600 } }] }) }, "/account/x"],
    ["report-only", { GATE_POLICY: JSON.stringify({ routes: [{ path: "/audit/**", report_only: true, require: { scopes: { any_of: ["items.read"] } } }] }) }, "/audit/x"],
    ["public", { GATE_POLICY: JSON.stringify({ routes: [{ path: "/health", public: true }] }) }, "/health"],
  ];
  for (const [what, bindings, path] of settings) {
    const gw = await env.gatewayWith(bindings);
    const token = await env.tenant.mint({ claims: { auth_time: Math.floor(Date.now() / 1000) - 60 } });
    const thrice = await calls(gw, token, 3, { path });
    assert.deepEqual(thrice.map((c) => c.status), [200, 200, 200], what);
    assert.deepEqual(thrice.map((c) => c.line.replayed), [undefined, undefined, undefined], what);
    await gw.stop();
  }
});

test("a replay whose origin fails is refused as a forward is: 502 origin_unreachable, denied line", async () => {
  const origin = http.createServer((req, res) => res.end("ok"));
  await new Promise((r) => origin.listen(0, "127.0.0.1", r));
  const gw = await env.gatewayWith({ ORIGIN_URL: `http://127.0.0.1:${origin.address().port}` });
  const token = await env.tenant.mint({});
  const [, , replayed] = await calls(gw, token, 3);
  assert.equal(replayed.line.replayed, true);
  origin.closeAllConnections();
  await new Promise((r) => origin.close(r));
  const [failed] = await calls(gw, token, 1);
  assert.equal(failed.status, 502);
  const problem = JSON.parse(failed.body);
  assert.equal(problem.reason, "origin_unreachable");
  assert.equal(failed.line.decision, "denied");
  assert.equal(failed.line.reason, "origin_unreachable");
  assert.equal(failed.line.replayed, true);
  assert.equal(failed.line.request_id, failed.requestId);
  assert.equal(failed.line.tenant, env.tenant.tenantId, "the line still says who called");
});

test("GATE_LOG_ALLOWED=none: a replay writes no allowed line", async () => {
  const gw = await env.gatewayWith({ GATE_LOG_ALLOWED: "none" });
  const token = await env.tenant.mint({});
  const at = env.logs.length;
  for (let i = 0; i < 3; i++) assert.equal((await call(gw, token)).status, 200);
  await sleep(200);
  assert.equal(decisions(at).length, 0);
});
