// The per-route policy end to end through workerd: a realistic GATE_POLICY, tokens minted by the
// mock tenant, the client's network given with the X-Dev-* headers (GATE_DEV_CLIENT_HEADERS), and
// for every kind of answer its status, challenge and reason; plus the revocation list in KV and a
// broken policy that must stop the gateway.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startEnvironment, parseChallenge, AUDIENCE, BARE_CHALLENGE } from "./support/environment.mjs";
import { startGateway } from "./support/gateway.mjs";

const API_CLIENT_ID = "c0ffee00-1234-4abc-8def-0123456789ab";
/** What the mock tenant puts in azp / appid. */
const CLIENT = "0f6e1f5b-0c6f-4a55-9d1e-5c1f3f2f0a11";
const OTHER_CLIENT = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
const APP_ORIGIN = "https://app.contoso.example";

const hh = (hour) => `${String(((hour % 24) + 24) % 24).padStart(2, "0")}:00`;
const utcHour = new Date().getUTCHours();

// Routes are tried in order, the first match wins: specific routes come before broad ones.
/** Group object ids. */
const FINANCE = "8d9e3b4a-1f2c-4e5d-9a6b-7c8d9e0f1a2b";
const AUDITORS = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
const SALES = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";

const POLICY = {
  default: "deny",
  optional_claims: ["acrs", "auth_time", "ipaddr", "groups"],
  api_client_id: API_CLIENT_ID,
  cors: {
    allowed_origins: [APP_ORIGIN],
    allowed_methods: ["GET", "POST", "DELETE"],
    allowed_headers: ["authorization", "content-type"],
    max_age_seconds: 300,
  },
  routes: [
    { name: "health", path: "/health", methods: ["GET"], public: true },
    { name: "docs", path: "/docs/**", public: true, conditions: { country: { not_in: ["KP"] } } },
    { name: "ingest", path: "/ingest/**", methods: ["POST"], require: { token_kind: "app", roles: { any_of: ["Items.Ingest"] } } },
    { name: "partner", path: "/partner/**", require: { apps: [CLIENT], client_auth: "secret" } },
    { name: "finance", path: "/finance/**", require: { groups: { any_of: [FINANCE.toUpperCase(), AUDITORS] } } },
    { name: "items-export", path: "/items/export", methods: ["GET"], require: { scopes: { all_of: ["items.read", "items.export"] } } },
    { name: "items-read", path: "/items/**", methods: ["GET", "HEAD"], require: { scopes: { any_of: ["items.read"] }, roles: { any_of: ["Items.Read"] } } },
    { name: "items-write", path: "/items/**", methods: ["POST", "PUT", "PATCH", "DELETE"], require: { scopes: { any_of: ["items.write"] } } },
    { name: "admin", path: "/admin/**", require: { token_kind: "user", scopes: { all_of: ["items.read", "admin.manage"] } } },
    { name: "reports", path: "/reports/**", require: { token_kind: "user" }, step_up: { auth_context: "c1" } },
    { name: "payroll", path: "/payroll/**", step_up: { mfa: true } },
    { name: "account", path: "/account/**", step_up: { max_age_seconds: 300 } },
    { name: "internal", path: "/internal/**", conditions: { ip: { in: ["10.0.0.0/8", "2001:db8::/32"] } } },
    { name: "eu", path: "/eu/**", conditions: { all: [{ country: { in: ["NL", "BE", "DE"] } }, { not: { asn: { in: [64496] } } }] } },
    // A one-hour window three hours from now, and one around now (UTC).
    { name: "closed", path: "/closed/**", conditions: { time: { from: hh(utcHour + 3), to: hh(utcHour + 4) } } },
    { name: "open", path: "/open/**", conditions: { time: { from: hh(utcHour - 1), to: hh(utcHour + 2) } } },
    { name: "bound", path: "/bound/**", conditions: { ipaddr_matches_client: true } },
    { name: "audit", path: "/audit/**", report_only: true, require: { scopes: { any_of: ["audit.read"] } } },
  ],
};

let env;
before(async () => {
  env = await startEnvironment({ GATE_POLICY: JSON.stringify(POLICY), GATE_DEV_CLIENT_HEADERS: "true" });
});
after(async () => {
  await env?.stop();
});

const mint = (request = {}) => env.tenant.mint(request);
const now = () => Math.floor(Date.now() / 1000);

let rays = 0;
/** A request through the gateway; every one gets its own cf-ray, which the gateway uses as its request id. */
async function call(token, { path = "/items/1", method = "GET", headers = {}, gateway = env.gateway } = {}) {
  const h = { "cf-ray": `policy-e2e-${++rays}`, ...headers };
  if (token !== undefined) h.authorization = `Bearer ${token}`;
  const res = await gateway.fetch(path, { method, headers: h });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, ray: h["cf-ray"] };
}

/** A request the origin answered: its echo of what it received. */
function reached(res) {
  assert.equal(res.status, 200, res.text);
  assert.equal(res.headers.get("x-echo-origin"), "1");
  return JSON.parse(res.text);
}

/**
 * A refusal: status, reason, and the challenge: `error` a string for `error="…"`, `null` for a
 * bare `Bearer realm="…"` challenge, undefined (left out) for no WWW-Authenticate at all.
 */
function refused(res, { status, reason, error }) {
  assert.equal(res.status, status, `status for ${reason}: ${res.text}`);
  assert.equal(res.headers.get("x-echo-origin"), null, "answered by the gateway");
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  const problem = JSON.parse(res.text);
  assert.equal(problem.reason, reason);
  assert.equal(problem.status, status);
  assert.equal(problem.request_id, res.ray);
  const header = res.headers.get("www-authenticate");
  if (error === undefined) {
    assert.equal(header, null, `no challenge for ${reason}`);
    return { problem, challenge: null };
  }
  const challenge = parseChallenge(header);
  assert.equal(challenge.realm, "entra-gate");
  if (error === null) {
    assert.equal(header, BARE_CHALLENGE);
    return { problem, challenge };
  }
  assert.equal(challenge.error, error);
  assert.ok(challenge.error_description);
  return { problem, challenge };
}

/**
 * What the gateway logged about one request: its outcome, reason, detail, route and report-only
 * findings. Accepts both log shapes the worker has had: separate `allowed` / `denied` /
 * `would_deny` lines, or one `decision` line per request with a `report_only` list.
 */
async function logged(ray) {
  // The worker's stdout reaches `env.logs` asynchronously.
  for (let i = 0; i < 80; i++) {
    const lines = env.logs
      .filter((l) => l.startsWith("{") && l.includes(`"request_id":"${ray}"`))
      .map((l) => JSON.parse(l));
    const decision = lines.find((l) => l.event === "decision");
    if (decision) {
      return {
        outcome: decision.decision,
        reason: decision.reason ?? undefined,
        detail: decision.detail ?? undefined,
        route: decision.route ?? undefined,
        wouldDeny: (decision.report_only ?? []).map((f) => ({ route: decision.route, ...f })),
      };
    }
    const final = lines.find((l) => l.event === "allowed" || l.event === "denied");
    if (final) {
      return {
        outcome: final.event,
        reason: final.reason,
        detail: final.detail,
        route: lines.find((l) => l.route)?.route,
        wouldDeny: lines.filter((l) => l.event === "would_deny").map(({ route, reason, detail }) => ({ route, reason, detail })),
      };
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing logged for ${ray}`);
}

// --- Allowed ------------------------------------------------------------------------------------

test("an allowed request reaches the origin with the identity headers", async () => {
  const seen = reached(await call(await mint({}), { path: "/items/42?x=1", headers: { "X-Entra-Scopes": "admin.manage" } }));
  assert.equal(seen.url, "/items/42?x=1");
  // The identity comes from the token (the spoofed X-Entra-Scopes is gone).
  assert.deepEqual(
    {
      tenant: seen.headers["x-entra-tenant-id"],
      oid: seen.headers["x-entra-object-id"],
      client: seen.headers["x-entra-client-id"],
      kind: seen.headers["x-entra-token-kind"],
      ver: seen.headers["x-entra-token-version"],
      scopes: seen.headers["x-entra-scopes"],
      roles: seen.headers["x-entra-roles"],
    },
    {
      tenant: env.tenant.tenantId,
      oid: "5a1d5c3e-6a4b-4f1e-8a2d-0c9e8f7b6a51",
      client: CLIENT,
      kind: "user",
      ver: "2.0",
      scopes: "items.read items.write",
      roles: "",
    },
  );
  assert.equal(seen.rawHeaders.filter((v) => v === "admin.manage").length, 0, "spoofed value forwarded");
  assert.equal(seen.headers.authorization, undefined);
  // Another method on the same path falls to the write route, which the token also satisfies.
  assert.equal(reached(await call(await mint({}), { path: "/items/42", method: "PATCH" })).method, "PATCH");
});

// --- Requirements -------------------------------------------------------------------------------

test("a missing scope is 403 insufficient_scope naming the scopes the route accepts", async () => {
  for (const [path, method, token, scope] of [
    ["/admin/users", "GET", await mint({}), "items.read admin.manage"],
    ["/items/export", "GET", await mint({}), "items.read items.export"],
    ["/items/1", "DELETE", await mint({ claims: { scp: "items.read" } }), "items.write"],
  ]) {
    const { challenge } = refused(await call(token, { path, method }), { status: 403, reason: "insufficient_scope", error: "insufficient_scope" });
    assert.equal(challenge.scope, scope, `${method} ${path}`);
  }
  // An app token with neither the scope nor the role can never hold a scope: it is told about
  // the role instead, with no scope hint.
  const { challenge } = refused(await call(await mint({ kind: "app" }), { path: "/items/1" }), {
    status: 403,
    reason: "insufficient_role",
    error: "insufficient_scope",
  });
  assert.equal(challenge.scope, undefined);
});

test("scopes or roles: a delegated token by scope, an app-only token by app role", async () => {
  reached(await call(await mint({}), { path: "/items/7" }));
  const seen = reached(await call(await mint({ kind: "app", claims: { roles: ["Items.Read"] } }), { path: "/items/7" }));
  assert.equal(seen.headers["x-entra-token-kind"], "app");
});

test("a missing app role is 403 insufficient_role", async () => {
  const token = await mint({ kind: "app", claims: { roles: ["Items.Read"] } });
  const { challenge } = refused(await call(token, { path: "/ingest/batch", method: "POST" }), {
    status: 403,
    reason: "insufficient_role",
    error: "insufficient_scope",
  });
  assert.equal(challenge.scope, undefined);
  reached(await call(await mint({ kind: "app" }), { path: "/ingest/batch", method: "POST" }));
});

test("the wrong kind of token is 403 token_kind_not_allowed", async () => {
  refused(await call(await mint({}), { path: "/ingest/batch", method: "POST" }), {
    status: 403,
    reason: "token_kind_not_allowed",
    error: "insufficient_scope",
  });
  refused(await call(await mint({ kind: "app", claims: { roles: ["Items.Ingest", "Items.Read"] } }), { path: "/admin/users" }), {
    status: 403,
    reason: "token_kind_not_allowed",
    error: "insufficient_scope",
  });
});

test("groups: a member passes, a non-member is insufficient_group, an overage token is groups_overage", async () => {
  reached(await call(await mint({ claims: { groups: [SALES, FINANCE] } }), { path: "/finance/q3" }));
  reached(await call(await mint({ claims: { groups: [AUDITORS.toUpperCase()] } }), { path: "/finance/q3" }));
  refused(await call(await mint({ claims: { groups: [SALES] } }), { path: "/finance/q3" }), {
    status: 403,
    reason: "insufficient_group",
    error: "insufficient_scope",
  });
  refused(await call(await mint({}), { path: "/finance/q3" }), { status: 403, reason: "insufficient_group", error: "insufficient_scope" });
  // More groups than a token holds: Entra leaves them out and points at Graph instead. That is
  // not "not a member", and the answer says what to do about it.
  const overage = {
    _claim_names: { groups: "src1" },
    _claim_sources: { src1: { endpoint: "https://graph.microsoft.com/v1.0/users/x/getMemberObjects" } },
  };
  for (const claims of [overage, { hasgroups: true }]) {
    const res = await call(await mint({ claims }), { path: "/finance/q3" });
    const { problem } = refused(res, { status: 403, reason: "groups_overage" });
    assert.match(problem.detail, /app roles/);
    assert.match(problem.detail, /Microsoft Graph/);
  }
  // An overage matters only where groups are asked for.
  reached(await call(await mint({ claims: overage }), { path: "/items/7" }));
});

test("the calling application must be listed and authenticate strongly enough", async () => {
  reached(await call(await mint({}), { path: "/partner/orders" }));
  reached(await call(await mint({ claims: { azpacr: "2" } }), { path: "/partner/orders" }));
  // v1: appid and appidacr.
  reached(await call(await mint({ ver: "1.0" }), { path: "/partner/orders" }));
  refused(await call(await mint({ claims: { azp: OTHER_CLIENT } }), { path: "/partner/orders" }), {
    status: 403,
    reason: "client_not_allowed",
    error: "insufficient_scope",
  });
  for (const azpacr of ["0", null]) {
    refused(await call(await mint({ claims: { azpacr } }), { path: "/partner/orders" }), {
      status: 403,
      reason: "client_auth_too_weak",
      error: "insufficient_scope",
    });
  }
});

// --- Step-up ------------------------------------------------------------------------------------

test("a missing authentication context is a 401 claims challenge for a capable client", async () => {
  const token = await mint({ claims: { xms_cc: ["cp1"], acrs: null } });
  const { challenge } = refused(await call(token, { path: "/reports/q3" }), {
    status: 401,
    reason: "step_up_required",
    error: "insufficient_claims",
  });
  assert.ok(challenge.authorization_uri.startsWith(env.tenant.url), challenge.authorization_uri);
  assert.equal(challenge.authorization_uri, `${env.tenant.url}/${env.tenant.tenantId}/oauth2/v2.0/authorize`);
  assert.equal(challenge.client_id, API_CLIENT_ID);
  assert.equal(challenge.cc_type, "authcontext");
  const claims = JSON.parse(Buffer.from(challenge.claims, "base64").toString("utf8"));
  assert.deepEqual(claims, { access_token: { acrs: { essential: true, value: "c1" } } });
  // The token the client gets after stepping up passes.
  reached(await call(await mint({ claims: { xms_cc: ["cp1"], acrs: ["c1"] } }), { path: "/reports/q3" }));
  // Another context does not.
  refused(await call(await mint({ claims: { xms_cc: ["cp1"], acrs: ["c2"] } }), { path: "/reports/q3" }), {
    status: 401,
    reason: "step_up_required",
    error: "insufficient_claims",
  });
});

test("step-up a client cannot perform is 403 without a challenge", async () => {
  refused(await call(await mint({}), { path: "/reports/q3" }), { status: 403, reason: "step_up_unsupported_client" });
  refused(await call(await mint({ kind: "app" }), { path: "/account/profile" }), { status: 403, reason: "step_up_app_only" });
});

test("mfa: a v1 token whose amr lacks mfa is 401 insufficient_user_authentication", async () => {
  reached(await call(await mint({ ver: "1.0" }), { path: "/payroll/slips" }));
  for (const token of [await mint({ ver: "1.0", claims: { amr: ["pwd"] } }), await mint({})]) {
    const { challenge } = refused(await call(token, { path: "/payroll/slips" }), {
      status: 401,
      reason: "mfa_required",
      error: "insufficient_user_authentication",
    });
    assert.equal(challenge.acr_values, "mfa");
  }
});

test("max age: an old auth_time is 401 insufficient_user_authentication with max_age", async () => {
  reached(await call(await mint({ claims: { auth_time: now() - 10 } }), { path: "/account/profile" }));
  for (const token of [await mint({ claims: { auth_time: now() - 3600 } }), await mint({})]) {
    const { challenge } = refused(await call(token, { path: "/account/profile" }), {
      status: 401,
      reason: "auth_too_old",
      error: "insufficient_user_authentication",
    });
    assert.equal(challenge.max_age, "300");
  }
});

// --- Conditions ---------------------------------------------------------------------------------

test("client IP ranges, v4 and v6", async () => {
  const token = await mint({});
  for (const ip of ["10.1.2.3", "2001:db8::5"]) {
    reached(await call(token, { path: "/internal/metrics", headers: { "X-Dev-Client-IP": ip } }));
  }
  for (const ip of ["192.0.2.1", "2001:db9::1"]) {
    refused(await call(token, { path: "/internal/metrics", headers: { "X-Dev-Client-IP": ip } }), { status: 403, reason: "condition_ip" });
  }
});

test("country and network (ASN)", async () => {
  const token = await mint({});
  reached(await call(token, { path: "/eu/data", headers: { "X-Dev-Country": "nl", "X-Dev-ASN": "1136" } }));
  refused(await call(token, { path: "/eu/data", headers: { "X-Dev-Country": "US", "X-Dev-ASN": "1136" } }), {
    status: 403,
    reason: "condition_country",
  });
  refused(await call(token, { path: "/eu/data", headers: { "X-Dev-Country": "NL", "X-Dev-ASN": "64496" } }), {
    status: 403,
    reason: "condition_asn",
  });
  // No X-Dev-Country: the country is Miniflare's placeholder `request.cf` ("US"), not on the list.
  // (A country that is unknown altogether: tests/e2e/boundary.test.mjs, with `cf: {}`.)
  refused(await call(token, { path: "/eu/data" }), { status: 403, reason: "condition_country" });
});

test("UTC time windows", async () => {
  const token = await mint({});
  refused(await call(token, { path: "/closed/desk" }), { status: 403, reason: "condition_time" });
  reached(await call(token, { path: "/open/desk" }));
});

test("the token's ipaddr must be the client's address", async () => {
  const token = await mint({ ver: "1.0" }); // ipaddr 203.0.113.7
  reached(await call(token, { path: "/bound/session", headers: { "X-Dev-Client-IP": "203.0.113.7" } }));
  refused(await call(token, { path: "/bound/session", headers: { "X-Dev-Client-IP": "198.51.100.1" } }), {
    status: 403,
    reason: "condition_ipaddr",
  });
  refused(await call(await mint({}), { path: "/bound/session", headers: { "X-Dev-Client-IP": "203.0.113.7" } }), {
    status: 403,
    reason: "condition_ipaddr",
  });
});

test("without GATE_DEV_CLIENT_HEADERS the X-Dev-* headers are ignored", async (t) => {
  const prod = await env.gatewayWith({ GATE_DEV_CLIENT_HEADERS: "false" });
  t.after(() => prod.stop());
  const token = await mint({});
  refused(await call(token, { gateway: prod, path: "/internal/metrics", headers: { "X-Dev-Client-IP": "10.1.2.3" } }), {
    status: 403,
    reason: "condition_ip",
  });
  refused(await call(token, { gateway: prod, path: "/eu/data", headers: { "X-Dev-Country": "NL" } }), {
    status: 403,
    reason: "condition_country",
  });
});

// --- Report-only --------------------------------------------------------------------------------

test("report-only lets the request through and logs would_deny", async () => {
  const res = await call(await mint({}), { path: "/audit/log" });
  const seen = reached(res);
  assert.equal(seen.headers["x-entra-scopes"], "items.read items.write");
  const log = await logged(res.ray);
  assert.equal(log.outcome, "allowed", JSON.stringify(log));
  assert.equal(log.wouldDeny.length, 1, JSON.stringify(log));
  assert.equal(log.wouldDeny[0].route, "audit");
  assert.equal(log.wouldDeny[0].reason, "insufficient_scope");
  assert.ok(log.wouldDeny[0].detail);
  // A caller who satisfies the route leaves no finding.
  const ok = await call(await mint({ claims: { scp: "audit.read" } }), { path: "/audit/log" });
  reached(ok);
  const okLog = await logged(ok.ray);
  assert.equal(okLog.outcome, "allowed");
  assert.deepEqual(okLog.wouldDeny, []);
});

// --- Public routes, unmatched routes, default ---------------------------------------------------

test("a public route needs no token, and spoofed identity headers are still stripped", async () => {
  const res = await call(undefined, {
    path: "/health",
    headers: { "X-Entra-Tenant-Id": "spoofed", "x-entra-scopes": "admin.manage", "X-ENTRA-ROLES": "Admin" },
  });
  const seen = reached(res);
  for (const name of ["x-entra-tenant-id", "x-entra-object-id", "x-entra-client-id", "x-entra-scopes", "x-entra-roles", "x-entra-token-kind"]) {
    assert.equal(seen.headers[name], undefined, `${name} on a public route`);
  }
  for (const value of ["spoofed", "admin.manage", "Admin"]) {
    assert.ok(!seen.rawHeaders.includes(value), `spoofed ${value} forwarded`);
  }
  // A token, even a bad one, is neither checked nor forwarded.
  const withToken = reached(await call("not.a.token", { path: "/health" }));
  assert.equal(withToken.headers.authorization, undefined);
  // Its conditions still apply.
  reached(await call(undefined, { path: "/docs/intro", headers: { "X-Dev-Country": "NL" } }));
  refused(await call(undefined, { path: "/docs/intro", headers: { "X-Dev-Country": "KP" } }), { status: 403, reason: "condition_country" });
  // Its method filter too: POST /health matches no route.
  refused(await call(undefined, { path: "/health", method: "POST" }), { status: 403, reason: "no_route" });
});

test("an unmatched route is 403 no_route, with or without a token", async () => {
  refused(await call(await mint({}), { path: "/nowhere" }), { status: 403, reason: "no_route" });
  refused(await call(undefined, { path: "/nowhere" }), { status: 403, reason: "no_route" });
  refused(await call(await mint({}), { path: "/items/1", method: "OPTIONS" }), { status: 403, reason: "no_route" });
});

test('default "authenticated" lets any valid token through unmatched routes', async (t) => {
  const gw = await env.gatewayWith({ GATE_POLICY: JSON.stringify({ ...POLICY, default: "authenticated" }) });
  t.after(() => gw.stop());
  reached(await call(await mint({ kind: "app" }), { gateway: gw, path: "/nowhere" }));
  refused(await call(undefined, { gateway: gw, path: "/nowhere" }), { status: 401, reason: "token_missing", error: null });
  // Matched routes keep their rules.
  refused(await call(await mint({}), { gateway: gw, path: "/admin/users" }), {
    status: 403,
    reason: "insufficient_scope",
    error: "insufficient_scope",
  });
});

// --- CORS ---------------------------------------------------------------------------------------

test("CORS preflights are answered by the gateway", async () => {
  const preflight = (origin, method) =>
    call(undefined, { path: "/items/1", method: "OPTIONS", headers: { Origin: origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": "authorization" } });
  const ok = await preflight(APP_ORIGIN, "DELETE");
  assert.equal(ok.status, 204, ok.text);
  assert.equal(ok.headers.get("x-echo-origin"), null, "not forwarded");
  assert.equal(ok.headers.get("access-control-allow-origin"), APP_ORIGIN);
  assert.equal(ok.headers.get("access-control-allow-methods"), "GET, POST, DELETE");
  assert.equal(ok.headers.get("access-control-allow-headers"), "authorization, content-type");
  assert.equal(ok.headers.get("access-control-max-age"), "300");
  assert.equal(ok.headers.get("vary"), "Origin");
  assert.equal(ok.headers.get("www-authenticate"), null);
  assert.equal(ok.headers.get("x-request-id"), ok.ray);

  const other = await preflight("https://evil.example", "GET");
  refused(other, { status: 403, reason: "cors_not_allowed" });
  assert.equal(other.headers.get("access-control-allow-origin"), null);

  // An allowed origin asking for a method that is not allowed: refused, but readable by the app.
  const put = await preflight(APP_ORIGIN, "PUT");
  refused(put, { status: 403, reason: "cors_not_allowed" });
  assert.equal(put.headers.get("access-control-allow-origin"), APP_ORIGIN);
});

test("the gateway's own refusals carry CORS headers for an allowed origin only", async () => {
  const mine = await call(undefined, { path: "/items/1", headers: { Origin: APP_ORIGIN } });
  refused(mine, { status: 401, reason: "token_missing", error: null });
  assert.equal(mine.headers.get("www-authenticate"), BARE_CHALLENGE);
  assert.equal(mine.headers.get("access-control-allow-origin"), APP_ORIGIN);
  assert.equal(mine.headers.get("vary"), "Origin");
  const theirs = await call(await mint({}), { path: "/admin/users", headers: { Origin: "https://evil.example" } });
  refused(theirs, { status: 403, reason: "insufficient_scope", error: "insufficient_scope" });
  assert.equal(theirs.headers.get("access-control-allow-origin"), null);
});

// --- Revocation ---------------------------------------------------------------------------------

test("revoked tokens, users and applications are 401 token_revoked", async (t) => {
  const gw = await startGateway(
    {
      ENTRA_TENANT_ID: env.tenant.tenantId,
      ENTRA_AUDIENCES: AUDIENCE,
      ORIGIN_URL: env.origin.url,
      ENTRA_AUTHORITY: env.tenant.url,
      GATE_POLICY: JSON.stringify(POLICY),
      GATE_DEV_CLIENT_HEADERS: "true",
      // Re-read the list on every request, so entries count at once.
      GATE_REVOCATION_REFRESH_SECONDS: "0",
    },
    { logs: env.logs, kvNamespaces: ["REVOCATIONS"] },
  );
  t.after(() => gw.stop());
  const kv = await gw.kv("REVOCATIONS");
  const revokedUser = "6b2e7d4f-1c3a-4e5b-9a8d-7f6e5d4c3b2a";
  const revokedApp = "d4c3b2a1-9f8e-4d7c-8b6a-5e4f3a2b1c0d";
  await kv.put("uti:revoked-uti-0001", "1", { expirationTtl: 3600 });
  await kv.put(`user:${env.tenant.tenantId}:${revokedUser}`, "1", { expirationTtl: 3600 });
  await kv.put(`app:${revokedApp}`, "1", { expirationTtl: 3600 });

  const expectRevoked = async (token, by, path = "/items/1") => {
    const res = await call(token, { gateway: gw, path });
    refused(res, { status: 401, reason: "token_revoked", error: "invalid_token" });
    const log = await logged(res.ray);
    assert.equal(log.reason, "token_revoked");
    assert.match(log.detail, new RegExp(`\\b${by} entry$`), JSON.stringify(log));
  };
  await expectRevoked(await mint({ claims: { uti: "revoked-uti-0001" } }), "uti");
  await expectRevoked(await mint({ claims: { oid: revokedUser } }), "user");
  await expectRevoked(await mint({ kind: "app", claims: { azp: revokedApp, roles: ["Items.Read"] } }), "app");
  await expectRevoked(await mint({ ver: "1.0", claims: { appid: revokedApp } }), "app");
  // Checked before the route's rules: a revoked token learns nothing about them.
  await expectRevoked(await mint({ claims: { uti: "revoked-uti-0001" } }), "uti", "/admin/users");

  // Everyone else passes.
  reached(await call(await mint({ claims: { uti: "fine-uti-0001" } }), { gateway: gw }));
  // An entry added now counts on the next request.
  const later = await mint({ claims: { uti: "revoked-later-0001" } });
  reached(await call(later, { gateway: gw }));
  await kv.put("uti:revoked-later-0001", "1");
  await expectRevoked(later, "uti");
  // Public routes never look at a token.
  reached(await call(later, { gateway: gw, path: "/health" }));
});

// --- Configuration ------------------------------------------------------------------------------

test("a broken policy: 500 config_invalid for every request, every problem logged with its path, nothing forwarded", async (t) => {
  let originRequests = 0;
  const origin = http.createServer((req, res) => {
    originRequests++;
    res.end("origin");
  });
  await new Promise((r) => origin.listen(0, "127.0.0.1", r));
  t.after(() => new Promise((r) => origin.close(r)));

  const broken = {
    default: "allow",
    cors: { allowed_origins: ["https://app.example.com/path"] },
    routes: [
      { path: "health", public: true },
      { path: "/a", methods: ["FETCH"] },
      { path: "/b", require: { scopes: { any_of: [] } } },
      { path: "/c", step_up: { mfa: true } },
      { path: "/net/**", conditions: { ip: { in: ["10.0.0.0/33"] } } },
      { path: "/net/x" },
      { path: "/d", step_up: { auth_context: "c1" } },
      { path: "/e", require: { token_kind: "app" }, step_up: { max_age_seconds: 60 } },
    ],
  };
  const gw = await env.gatewayWith({
    GATE_POLICY: JSON.stringify(broken),
    ENTRA_TOKEN_VERSIONS: "2.0",
    ORIGIN_URL: `http://127.0.0.1:${origin.address().port}`,
  });
  t.after(() => gw.stop());
  const token = await mint({});
  const requests = [
    { path: "/health" },
    { path: "/net/x" },
    { path: "/items/1", headers: { Origin: APP_ORIGIN } },
    { path: "/items/1", method: "OPTIONS", headers: { Origin: "https://app.example.com", "Access-Control-Request-Method": "GET" } },
  ];
  for (const request of requests) {
    for (const bearer of [undefined, token]) {
      const res = await call(bearer, { gateway: gw, ...request });
      assert.equal(res.status, 500, res.text);
      assert.equal(JSON.parse(res.text).reason, "config_invalid");
      assert.equal(res.headers.get("www-authenticate"), null);
      assert.equal(res.headers.get("access-control-allow-origin"), null);
    }
  }
  assert.equal(originRequests, 0, "nothing reached the origin");

  await new Promise((r) => setTimeout(r, 100));
  const lines = env.logs.filter((l) => l.includes('"event":"config_invalid"') && l.includes("GATE_POLICY"));
  assert.equal(lines.length, 1, "one config_invalid line for the isolate");
  const { problems, reason } = JSON.parse(lines[0]);
  assert.equal(reason, "config_invalid");
  const expected = [
    'GATE_POLICY: default: "allow" is not deny or authenticated',
    'GATE_POLICY: cors.allowed_origins: "https://app.example.com/path" is not an origin',
    "GATE_POLICY: routes[0].path: must start with /",
    'GATE_POLICY: routes[1].methods: "FETCH" is not an HTTP method',
    "GATE_POLICY: routes[2].require.scopes.any_of: empty (can never hold)",
    "GATE_POLICY: routes[3].step_up.mfa: amr is only in v1 tokens",
    'GATE_POLICY: routes[4].conditions.ip: "10.0.0.0/33" is not a CIDR range or address',
    "GATE_POLICY: routes[5]: never reached, routes[4] (/net/**) matches first",
    "GATE_POLICY: routes[6].step_up.auth_context: needs the optional claim acrs",
    "GATE_POLICY: routes[6].step_up.auth_context: the claims challenge needs api_client_id",
    "GATE_POLICY: routes[7].step_up: app-only route",
    "GATE_POLICY: routes[7].step_up.max_age_seconds: needs the optional claim auth_time",
  ];
  for (const start of expected) {
    assert.ok(problems.some((p) => p.startsWith(start)), `${start}\n  missing from\n${problems.join("\n")}`);
  }
  assert.equal(problems.length, expected.length, problems.join("\n"));
});
