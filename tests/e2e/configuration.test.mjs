// Configuration and key-availability failures: never forwarded, never a 401 the client could
// misread, always a reason code.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEnvironment, closedPort } from "./support/environment.mjs";

let env;
before(async () => {
  env = await startEnvironment();
});
after(async () => {
  await env?.stop();
});

test("invalid configuration answers 500 config_invalid, lists every problem once, forwards nothing", async () => {
  const broken = await env.gatewayWith({
    ENTRA_TENANT_ID: "not-a-tenant",
    ENTRA_AUDIENCES: "",
    ORIGIN_URL: "http://origin.example.com",
    ENTRA_CLOCK_SKEW_SECONDS: "lots",
  });
  const token = await env.tenant.mint({});
  for (let i = 0; i < 2; i++) {
    const res = await broken.fetch("/items", { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 500);
    const problem = await res.json();
    assert.equal(problem.reason, "config_invalid");
    assert.equal(res.headers.get("www-authenticate"), null);
  }
  await new Promise((r) => setTimeout(r, 100));
  const lines = env.logs.filter((l) => l.includes('"config_invalid"') && l.includes("problems"));
  assert.equal(lines.length, 1, "one log line per isolate");
  const { problems } = JSON.parse(lines[0]);
  for (const binding of ["ENTRA_TENANT_ID", "ENTRA_AUDIENCES", "ORIGIN_URL", "ENTRA_CLOCK_SKEW_SECONDS"]) {
    assert.ok(problems.some((p) => p.startsWith(`${binding}:`)), `${binding} in ${problems}`);
  }
});

test("unreachable tenant metadata fails closed with 503 keys_unavailable and Retry-After", async () => {
  const port = await closedPort();
  const dark = await env.gatewayWith({ ENTRA_AUTHORITY: `http://127.0.0.1:${port}` });
  const res = await dark.fetch("/items", { headers: { authorization: `Bearer ${await env.tenant.mint({})}` } });
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("retry-after"), "30");
  assert.equal((await res.json()).reason, "keys_unavailable");
});

test("an https-less remote authority is refused by configuration", async () => {
  const res = await (await env.gatewayWith({ ENTRA_AUTHORITY: "http://login.microsoftonline.com" })).fetch("/x");
  assert.equal(res.status, 500);
  assert.equal((await res.json()).reason, "config_invalid");
});

test("an unreachable origin is a 502 origin_unreachable", async () => {
  const port = await closedPort();
  const gw = await env.gatewayWith({ ORIGIN_URL: `http://127.0.0.1:${port}` });
  const res = await gw.fetch("/items", { headers: { authorization: `Bearer ${await env.tenant.mint({})}` } });
  assert.equal(res.status, 502);
  assert.equal((await res.json()).reason, "origin_unreachable");
});

test("a REVOCATIONS binding that is not a KV namespace is a configuration error, not revocation off", async () => {
  const mistyped = await env.gatewayWith({ REVOCATIONS: "revocations" });
  const res = await mistyped.fetch("/items", { headers: { authorization: `Bearer ${await env.tenant.mint({})}` } });
  assert.equal(res.status, 500);
  assert.equal((await res.json()).reason, "config_invalid");
});
