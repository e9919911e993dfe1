// Several backends behind one gateway, end to end through workerd: routes choose named origins
// from GATE_ORIGINS (two echo servers and a second Worker bound as a service), each with the
// same forwarding rules (the canonical path, identity headers, no client-chosen host, the
// origin timeout); ORIGIN_URL stays the default; unknown names and missing bindings refuse to
// start, in the Worker and in scripts/check.sh alike.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEnvironment } from "./support/environment.mjs";
import { startEchoOrigin } from "./support/echo-origin.mjs";
import { generateKeyPairSync } from "node:crypto";
import { createLocalJWKSet, jwtVerify } from "jose";

/** A Worker backend: answers with what it received, as the echo origins do. */
const BILLING_WORKER = {
  name: "billing",
  modules: true,
  compatibilityDate: "2026-08-01",
  script: `export default {
    async fetch(request) {
      const headers = Object.fromEntries(request.headers);
      const url = new URL(request.url);
      return Response.json(
        { worker: "billing", method: request.method, url: url.pathname + url.search, host: url.host, headers, body: await request.text() },
        { headers: { "x-echo-origin": "1" } },
      );
    },
  };`,
};

const POLICY = {
  routes: [
    { name: "orders", path: "/orders/**", origin: "orders" },
    { name: "billing", path: "/billing/**", origin: "billing" },
    { name: "items", path: "/items/**" },
  ],
};

let env;
let orders;
let gateway;
let token;
before(async () => {
  env = await startEnvironment();
  orders = await startEchoOrigin();
  const origins = { orders: `${orders.url}/v2`, billing: { service: "BILLING" } };
  gateway = await env.gatewayWith(
    { GATE_POLICY: JSON.stringify(POLICY), GATE_ORIGINS: JSON.stringify(origins) },
    { workers: [BILLING_WORKER], serviceBindings: { BILLING: "billing" } },
  );
  token = await env.tenant.mint({});
});
after(async () => {
  await env?.stop();
  await orders?.close();
});

async function call(path, { method = "GET", gw = gateway, body } = {}) {
  const res = await gw.fetch(path, { method, headers: { authorization: `Bearer ${token}` }, body });
  const text = await res.text();
  return { status: res.status, text, json: text.startsWith("{") ? JSON.parse(text) : undefined };
}

test("each route reaches its own origin with the canonical path and the caller's identity", async () => {
  const toOrders = await call("/orders//7/../8?x=1");
  assert.equal(toOrders.status, 200, toOrders.text);
  assert.equal(toOrders.json.url, "/v2/orders/8?x=1", "the named origin's prefix, the canonical path");
  assert.equal(toOrders.json.headers["x-entra-tenant-id"], env.tenant.tenantId);

  const toDefault = await call("/items/1");
  assert.equal(toDefault.status, 200);
  assert.equal(toDefault.json.url, "/items/1", "ORIGIN_URL, the default");
  assert.equal(toDefault.json.worker, undefined);
});

test("a Worker bound as a service is an origin: the request arrives through the binding", async () => {
  const res = await call("/billing/invoices/%61?y=2", { method: "POST", body: "{}" });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.worker, "billing");
  assert.deepEqual([res.json.method, res.json.url, res.json.body], ["POST", "/billing/invoices/a?y=2", "{}"]);
  assert.equal(res.json.host, "gateway.test", "the host the client called");
  assert.equal(res.json.headers["x-entra-tenant-id"], env.tenant.tenantId);
  assert.equal(res.json.headers.authorization, undefined, "the token stays at the gateway");
});

test("a route naming an unknown origin, or a service that is not bound, refuses to start", async () => {
  const unknown = await env.gatewayWith({
    GATE_POLICY: JSON.stringify({ routes: [{ path: "/a/**", origin: "ordres" }] }),
    GATE_ORIGINS: JSON.stringify({ orders: orders.url }),
  });
  assert.deepEqual([(await call("/a/1", { gw: unknown })).status, (await call("/a/1", { gw: unknown })).json.reason], [500, "config_invalid"]);
  const unbound = await env.gatewayWith({
    GATE_POLICY: JSON.stringify(POLICY),
    GATE_ORIGINS: JSON.stringify({ orders: orders.url, billing: { service: "BILLING" } }),
  });
  assert.equal((await call("/orders/1", { gw: unbound })).status, 500);
  let line;
  for (let i = 0; i < 200 && !line; i++) {
    line = env.logs.find((l) => l.includes('"event":"config_invalid"') && l.includes("no service binding"));
    if (!line) await new Promise((r) => setTimeout(r, 25));
  }
  assert.deepEqual(JSON.parse(line).problems, ['GATE_ORIGINS: billing: no service binding "BILLING" ([[services]] in wrangler.toml)']);
});

test("an origin that does not answer in time is 504 whichever origin it is", async () => {
  const silent = await import("node:net").then(({ createServer }) => {
    const server = createServer(() => {});
    return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
  });
  try {
    const gw = await env.gatewayWith({
      GATE_POLICY: JSON.stringify(POLICY),
      GATE_ORIGINS: JSON.stringify({ orders: `http://127.0.0.1:${silent.address().port}`, billing: { service: "BILLING" } }),
      GATE_ORIGIN_TIMEOUT_SECONDS: "1",
    }, { workers: [BILLING_WORKER], serviceBindings: { BILLING: "billing" } });
    const res = await call("/orders/1", { gw });
    assert.deepEqual([res.status, res.json.reason], [504, "origin_timeout"]);
    assert.equal((await call("/billing/1", { gw })).status, 200, "other origins unaffected");
  } finally {
    silent.close();
  }
});

test("the signed assertion names the origin it was made for: a URL's origin, or service:<BINDING>", async () => {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = { ...privateKey.export({ format: "jwk" }), kid: "origins-test" };
  const gw = await env.gatewayWith(
    {
      GATE_POLICY: JSON.stringify(POLICY),
      GATE_ORIGINS: JSON.stringify({ orders: `${orders.url}/v2`, billing: { service: "BILLING" } }),
      GATE_ASSERTION_KEY: JSON.stringify(jwk),
    },
    { workers: [BILLING_WORKER], serviceBindings: { BILLING: "billing" } },
  );
  const keys = createLocalJWKSet(JSON.parse(await (await gw.fetch("/.well-known/entra-gate/jwks.json")).text()));
  const verify = (assertion, audience) => jwtVerify(assertion, keys, { algorithms: ["EdDSA"], issuer: "entra-gate", audience });
  const billing = await call("/billing/x?q=1", { gw });
  const { payload } = await verify(billing.json.headers["x-entra-assertion"], "service:BILLING");
  assert.equal(payload.htu, "/billing/x?q=1", "what the service receives");
  const toOrders = await call("/orders/1", { gw });
  const forOrders = await verify(toOrders.json.headers["x-entra-assertion"], new URL(orders.url).origin);
  assert.equal(forOrders.payload.htu, "/v2/orders/1");
  // Not worth anything to the other origin.
  await assert.rejects(verify(billing.json.headers["x-entra-assertion"], new URL(orders.url).origin));
});
