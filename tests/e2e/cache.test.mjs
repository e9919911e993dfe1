// The isolate's verified-token cache: a token presented again skips verification, but never
// outlives its exp or the key that signed it, and request-dependent rules still run.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEnvironment } from "./support/environment.mjs";

let env;
before(async () => {
  env = await startEnvironment();
});
after(async () => {
  await env?.stop();
});

const decisions = (since) =>
  env.logs.slice(since).filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).filter((e) => e.event === "decision");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const call = (gw, token, path = "/items") => gw.fetch(path, { headers: { authorization: `Bearer ${token}` } });

async function settle(since, count) {
  for (let i = 0; i < 200 && decisions(since).length < count; i++) await sleep(10);
  return decisions(since);
}

test("a token presented again is served from the cache", async () => {
  const gw = await env.gatewayWith({});
  const token = await env.tenant.mint({});
  const at = env.logs.length;
  for (let i = 0; i < 3; i++) assert.equal((await call(gw, token)).status, 200);
  const seen = await settle(at, 3);
  assert.deepEqual(seen.map((d) => d.cached), [false, true, true]);
  // The origin still gets the identity headers from the cached identity.
  const res = await call(gw, token);
  assert.equal((await res.json()).headers["x-entra-tenant-id"], env.tenant.tenantId);
});

test("a cached token stops working at its exp", async () => {
  const gw = await env.gatewayWith({ ENTRA_CLOCK_SKEW_SECONDS: "0" });
  const token = await env.tenant.mint({ lifetime: 2 });
  assert.equal((await call(gw, token)).status, 200);
  assert.equal((await call(gw, token)).status, 200);
  await sleep(3000);
  const at = env.logs.length;
  const res = await call(gw, token);
  assert.equal(res.status, 401);
  assert.equal((await res.json()).reason, "token_expired");
  assert.equal((await settle(at, 1))[0].cached, false);
});

test("a cached token stops working when its key leaves the key set", async () => {
  const gw = await env.gatewayWith({ ENTRA_KID_MISS_WINDOW_SECONDS: "1" });
  const token = await env.tenant.mint({ key: "mock-key-1" });
  assert.equal((await call(gw, token)).status, 200);
  assert.equal((await call(gw, token)).status, 200);
  // Entra withdraws mock-key-1; a miss on another kid makes this isolate refresh its keys.
  await env.tenant.publish("mock-key-1", false);
  try {
    await sleep(1100);
    const other = await env.tenant.mint({ key: "mock-key-unpublished" });
    assert.equal((await call(gw, other)).status, 401);
    const at = env.logs.length;
    const res = await call(gw, token);
    assert.equal(res.status, 401);
    assert.equal((await res.json()).reason, "unknown_kid");
    assert.equal((await settle(at, 1))[0].cached, false);
    // Tokens under the remaining key are unaffected.
    assert.equal((await call(gw, await env.tenant.mint({ key: "mock-key-2" }))).status, 200);
  } finally {
    await env.tenant.publish("mock-key-1", true);
  }
});

test("route rules still apply to a cached token", async () => {
  const policy = JSON.stringify({
    routes: [
      { path: "/items/**", require: { scopes: { any_of: ["items.read"] } } },
      { path: "/admin/**", require: { scopes: { any_of: ["admin"] } } },
    ],
  });
  const gw = await env.gatewayWith({ GATE_POLICY: policy });
  const token = await env.tenant.mint({});
  assert.equal((await call(gw, token, "/items/1")).status, 200);
  const res = await call(gw, token, "/admin/x");
  assert.equal(res.status, 403);
  assert.equal((await res.json()).reason, "insufficient_scope");
});
