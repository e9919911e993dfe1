// OAuth 2.0 Protected Resource Metadata (RFC 9728) end to end through workerd: the document at
// /.well-known/oauth-protected-resource, built from configuration and the policy, and the
// resource_metadata parameter of every challenge, which a client follows to find Entra and the
// scopes to ask for (as MCP clients do). GATE_RESOURCE_METADATA=false turns both off.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEnvironment, parseChallenge, AUDIENCE } from "./support/environment.mjs";

const WELL_KNOWN = "/.well-known/oauth-protected-resource";
/** Tests call the gateway as http://gateway.test (support/gateway.mjs). */
const SERVED_AT = "http://gateway.test";

const POLICY = {
  routes: [
    { name: "items", path: "/items/**", require: { scopes: { any_of: ["items.read", "items.write"] } } },
    { name: "admin", path: "/admin/**", require: { scopes: { all_of: ["admin.manage"] }, roles: { any_of: ["Admin"] } } },
  ],
};

let env;
before(async () => {
  env = await startEnvironment({ GATE_POLICY: JSON.stringify(POLICY) });
});
after(async () => {
  await env?.stop();
});

async function get(gateway, path, init = {}) {
  const res = await gateway.fetch(path, init);
  const text = await res.text();
  return { res, text };
}

test("the metadata document: resource, Entra as authorization server, the policy's scopes, no token needed", async () => {
  const { res, text } = await get(env.gateway, WELL_KNOWN);
  assert.equal(res.headers.get("x-echo-origin"), null, "answered by the gateway");
  assert.equal(res.status, 200, text);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  assert.deepEqual(JSON.parse(text), {
    resource: SERVED_AT,
    authorization_servers: [`${env.tenant.url}/${env.tenant.tenantId}/v2.0`],
    scopes_supported: [`${AUDIENCE}/items.read`, `${AUDIENCE}/items.write`, `${AUDIENCE}/admin.manage`],
    bearer_methods_supported: ["header"],
  });
  // A resource below the host (RFC 9728 §3.1: the path after the well-known one).
  const { text: below } = await get(env.gateway, `${WELL_KNOWN}/mcp/v1`);
  assert.equal(JSON.parse(below).resource, `${SERVED_AT}/mcp/v1`);
  assert.equal((await get(env.gateway, WELL_KNOWN, { method: "HEAD" })).res.status, 200);
});

test("every challenge points at the document, and the document names the resource the client called", async () => {
  const missing = await get(env.gateway, "/items/1");
  assert.equal(missing.res.status, 401);
  const bare = parseChallenge(missing.res.headers.get("www-authenticate"));
  assert.deepEqual(bare, { realm: "entra-gate", resource_metadata: `${SERVED_AT}${WELL_KNOWN}` });

  const scoped = await get(env.gateway, "/admin/x", { headers: { authorization: `Bearer ${await env.tenant.mint({})}` } });
  assert.equal(scoped.res.status, 403);
  const challenge = parseChallenge(scoped.res.headers.get("www-authenticate"));
  assert.equal(challenge.error, "insufficient_scope");
  assert.equal(challenge.scope, "admin.manage");
  assert.equal(challenge.resource_metadata, `${SERVED_AT}${WELL_KNOWN}`);

  // What a client does next (RFC 9728 §3.3): fetch the URL, check the resource is the one it called.
  const url = new URL(bare.resource_metadata);
  const { text } = await get(env.gateway, url.pathname);
  assert.equal(JSON.parse(text).resource, url.origin);

  // A refusal with no challenge gets no parameter either.
  const unmatched = await get(env.gateway, "/nowhere", { headers: { authorization: `Bearer ${await env.tenant.mint({})}` } });
  assert.equal(unmatched.res.status, 403);
  assert.equal(unmatched.res.headers.get("www-authenticate"), null);
});

test("only GET and HEAD are answered; other methods on the path go through the policy", async () => {
  const post = await get(env.gateway, WELL_KNOWN, { method: "POST" });
  assert.equal(post.res.status, 403);
  assert.equal(JSON.parse(post.text).reason, "no_route");
});

test("GATE_RESOURCE_METADATA=false: no document, no resource_metadata parameter", async () => {
  const off = await env.gatewayWith({ GATE_POLICY: JSON.stringify(POLICY), GATE_RESOURCE_METADATA: "false" });
  const document = await get(off, WELL_KNOWN);
  assert.equal(document.res.status, 403, "an ordinary path: no route");
  assert.equal(JSON.parse(document.text).reason, "no_route");
  const missing = await get(off, "/items/1");
  assert.deepEqual(parseChallenge(missing.res.headers.get("www-authenticate")), { realm: "entra-gate" });
  const broken = await env.gatewayWith({ GATE_RESOURCE_METADATA: "sometimes" });
  assert.equal((await get(broken, WELL_KNOWN)).res.status, 500, "an unreadable setting refuses to start");
});
