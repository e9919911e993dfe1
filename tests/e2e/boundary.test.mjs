// The gateway's boundary end to end ("The path we check is the path we send"): the built worker
// under workerd, tokens from the mock tenant, and an origin that records every request it gets.
//
// 1. One canonical path: every spelling of a path reaches the route its canonical form names,
//    the origin receives exactly that form, and spellings origins read in different ways are
//    refused 400 path_ambiguous, never forwarded.
// 2. Headers that would make the origin serve another path, method or host never reach it, and
//    a client's Connection header can drop only its own headers.
// 3. Conditions are three-valued: a fact the request does not carry never satisfies a rule,
//    not even under `not`.
// 4. Secure defaults: tokens without permissions, multi-tenant without an allow-list, and a
//    missing or weak GATE_SECRET are refused, not quietly accepted.
// 5. Revocation fails closed in time: a copy of the list serves while reads fail, until it is
//    too old; failed reads back off; a listing cut short is never adopted. KV is a fake whose
//    list() the test controls (support/fake-kv.mjs).
//
// Requests whose exact request target matters go through `raw` (node:http straight to workerd's
// socket): dispatchFetch parses its URL in the test process, which would resolve dot segments
// and backslashes before the request ever left. What the gateway gets is then workerd's own
// parse of the target (it too turns `\` into `/` and resolves `.` and `..` segments, encoded
// ones included); everything after that is the gateway's canonical form.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { randomBytes } from "node:crypto";
import { startEnvironment, parseChallenge, AUDIENCE } from "./support/environment.mjs";
import { startFakeKv, startCustomGateway } from "./support/fake-kv.mjs";
import { raw as rawHttp } from "./support/raw-http.mjs";

/** Routes are tried in order: the admin route must win for every spelling of /api/admin/…. */
const ADMIN_POLICY = {
  routes: [
    { name: "admin", path: "/api/admin/**", require: { roles: { any_of: ["Admin"] } } },
    { name: "api", path: "/api/**" },
  ],
};

let env;
/** Records every request it answers; answers like support/echo-origin.mjs. */
let origin;
/** Gateways started outside `env` (custom Miniflare options), and fake KVs: stopped in `after`. */
const extras = [];

before(async () => {
  env = await startEnvironment();
  origin = await startRecordingOrigin();
});
after(async () => {
  for (const extra of extras.reverse()) await extra.stop();
  await origin?.close();
  await env?.stop();
});

// ---------------------------------------------------------------------------------------------
// Helpers

async function startRecordingOrigin() {
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const request = { method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders };
      seen.push(request);
      res.writeHead(200, { "content-type": "application/json", "x-echo-origin": "1" });
      res.end(JSON.stringify({ ...request, body: Buffer.concat(chunks).toString("utf8") }));
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** How many requests it has answered so far. */
    count: () => seen.length,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(r);
      }),
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A fresh CF-Ray (hex and a dash, as Cloudflare sends them): the gateway's request id. */
const ray = () => `${randomBytes(8).toString("hex")}-AMS`;

const mint = (request = {}) => env.tenant.mint(request);

/** Gateways are started once per configuration and shared by the tests that need them. */
const gateways = new Map();
function gatewayNamed(name, bindings) {
  if (!gateways.has(name)) gateways.set(name, env.gatewayWith({ ORIGIN_URL: origin.url, ...bindings }));
  return gateways.get(name);
}
const adminGateway = () => gatewayNamed("admin policy", { GATE_POLICY: JSON.stringify(ADMIN_POLICY) });

/** The bindings `env` gives its gateways, for gateways started with `startCustomGateway`. */
const baseBindings = () => ({
  ENTRA_TENANT_ID: env.tenant.tenantId,
  ENTRA_AUDIENCES: AUDIENCE,
  ORIGIN_URL: origin.url,
  ENTRA_AUTHORITY: env.tenant.url,
});
async function customGateway(bindings, options = {}) {
  const gw = await startCustomGateway({ ...baseBindings(), ...bindings }, { logs: env.logs, ...options });
  extras.push(gw);
  return gw;
}
const customs = new Map();
function customGatewayNamed(name, bindings, options) {
  if (!customs.has(name)) customs.set(name, customGateway(bindings, options));
  return customs.get(name);
}

/** Raw HTTP (support/raw-http.mjs) with a fresh CF-Ray, so the decision line can be found. */
async function raw(gateway, target, { method = "GET", headers = [] } = {}) {
  const given = headers.find(([n]) => n.toLowerCase() === "cf-ray");
  const id = given ? given[1] : ray();
  const answer = await rawHttp(gateway, target, { method, headers: given ? headers : [["CF-Ray", id], ...headers] });
  return { ...answer, ray: id };
}

/** A request through dispatchFetch with a fresh CF-Ray; answers like `raw`. */
async function call(gateway, path, { token, headers = {}, method = "GET" } = {}) {
  const id = ray();
  const h = { "cf-ray": id, ...headers };
  if (token !== undefined) h.authorization = `Bearer ${token}`;
  const res = await gateway.fetch(path, { method, headers: h });
  return { status: res.status, headers: Object.fromEntries(res.headers), text: await res.text(), ray: id };
}

const bearer = (token) => ["Authorization", `Bearer ${token}`];

/** What the origin saw; fails unless the answer came from the origin. */
function reached(res, what = "") {
  assert.equal(res.status, 200, `${what}: ${res.text}`);
  assert.equal(res.headers["x-echo-origin"], "1", `${what}: answered by the origin`);
  return JSON.parse(res.text);
}

/**
 * A refusal by the gateway: status, reason, and the challenge (`error` a string for
 * `error="…"`, undefined for no WWW-Authenticate at all).
 */
function refused(res, { status, reason, error }, what = "") {
  assert.equal(res.status, status, `${what}: ${res.text}`);
  assert.equal(res.headers["x-echo-origin"], undefined, `${what}: answered by the gateway`);
  assert.equal(res.headers["content-type"], "application/problem+json", what);
  const problem = JSON.parse(res.text);
  assert.equal(problem.reason, reason, what);
  assert.equal(problem.status, status, what);
  assert.equal(problem.request_id, res.ray, what);
  const header = res.headers["www-authenticate"];
  if (error === undefined) {
    assert.equal(header, undefined, `${what}: no challenge for ${reason}`);
  } else {
    const challenge = parseChallenge(header);
    assert.equal(challenge.error, error, what);
  }
  return problem;
}

/** The decision line for one request id (the worker's stdout reaches `env.logs` asynchronously). */
async function decisionFor(id) {
  for (let i = 0; i < 200; i++) {
    const line = env.logs.find(
      (l) => l.startsWith("{") && l.includes(`"request_id":"${id}"`) && l.includes('"event":"decision"'),
    );
    if (line) return JSON.parse(line);
    await sleep(25);
  }
  throw new Error(`no decision line for ${id}`);
}

/** Log lines (parsed) of `event` logged after position `mark` in `env.logs`. */
function eventsSince(mark, event) {
  return env.logs
    .slice(mark)
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l))
    .filter((l) => l.event === event);
}

async function waitForEvents(mark, event, count = 1, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = eventsSince(mark, event);
    if (found.length >= count) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} ${event} line(s)`);
    await sleep(25);
  }
}

// ---------------------------------------------------------------------------------------------
// 1. One canonical path

// Every one of these is /api/admin/x to some origin stack (nginx merges slashes, frameworks
// decode unreserved escapes and resolve dot segments; workerd's URL parser itself turns `\` into
// `/` and resolves `.`/`..`, also encoded, before the worker sees the URL). The token has scopes
// but not the Admin role, so the admin route must refuse every one: a spelling that fell through
// to /api/** would be forwarded to an origin that serves /api/admin/x.
const ADMIN_SPELLINGS = [
  "/api/admin/x",
  "//api/admin/x",
  "/api//admin/x",
  "///api///admin///x",
  "/api/%61dmin/x",
  "/api/%61%64%6D%69%6E/x",
  "/%61pi/admin/x",
  "/api/./admin/x",
  "/api/items/../admin/x",
  "/api/items/%2e%2e/admin/x",
  "/api/items/%2E%2e/admin/x",
  "/api/items/.%2e/admin/x",
  "/api/admin/./x",
  "/api\\admin\\x",
  "/api\\items\\..\\admin\\x",
  "/api/admin",
];

test("path: every spelling of /api/admin/x is judged by the admin route and never forwarded", async () => {
  const gw = await adminGateway();
  const token = await mint({});
  const before = origin.count();
  for (const target of ADMIN_SPELLINGS) {
    const res = await raw(gw, target, { headers: [bearer(token)] });
    refused(res, { status: 403, reason: "insufficient_role", error: "insufficient_scope" }, target);
    const line = await decisionFor(res.ray);
    assert.equal(line.route, "admin", `${target}: decided by the admin route`);
    assert.equal(line.reason, "insufficient_role", target);
  }
  assert.equal(origin.count(), before, "nothing reached the origin");
});

test("path: the origin receives the canonical path the route matched, not the spelling sent", async () => {
  const gw = await adminGateway();
  // With the Admin role the same spellings pass: the origin must get the one path the admin
  // route matched, so what was checked is what is served.
  const admin = await mint({ claims: { roles: ["Admin"] } });
  for (const target of ADMIN_SPELLINGS.filter((t) => t !== "/api/admin")) {
    const res = await raw(gw, target, { headers: [bearer(admin)] });
    assert.equal(reached(res, target).url, "/api/admin/x", target);
    const line = await decisionFor(res.ray);
    assert.deepEqual([line.route, line.decision, line.status], ["admin", "allowed", 200], target);
  }
  // Paths for the api route: unreserved escapes decoded, other escapes kept with upper-case hex,
  // slashes merged, dots resolved, a trailing slash kept; the query is passed on as sent.
  const token = await mint({});
  const cases = [
    ["/api//items/%7Ex", "/api/items/~x"],
    ["/api/items/%c3%a9?q=%2F&r=a//b&s=%2e%2e", "/api/items/%C3%A9?q=%2F&r=a//b&s=%2e%2e"],
    ["/api/%69tems/%41%5a%2D%5F%2E", "/api/items/AZ-_."],
    ["/api/./items/x/../y/", "/api/items/y/"],
    ["/api/items/%2e", "/api/items/"],
    ["/api/items//", "/api/items/"],
    // `%25` stays encoded: decoding it would let an origin that decodes again see `%2e%2e`.
    ["/api/items/%252e%252e/admin", "/api/items/%252e%252e/admin"],
    ["/api/items/a%20b%22", "/api/items/a%20b%22"],
    ["/api/items/a:b@c!$&'()*+,=", "/api/items/a:b@c!$&'()*+,="],
  ];
  for (const [target, expected] of cases) {
    const res = await raw(gw, target, { headers: [bearer(token)] });
    assert.equal(reached(res, target).url, expected, target);
    const line = await decisionFor(res.ray);
    assert.deepEqual([line.route, line.decision], ["api", "allowed"], target);
  }
});

// Spellings origins read in different ways: no canonical form exists, so there is nothing the
// gateway could both check and send. Refused before any token is looked at (also without one,
// and also for a caller who would pass every route).
const AMBIGUOUS = [
  "/api/items/..;/admin/x", // Tomcat / Jetty: /api/admin/x
  "/api/admin;x=1/y",
  "/api/items%3B/admin/x",
  "/api/items/..%3B/admin/x",
  "/api/admin%2Fx", // Spring, ASP.NET: /api/admin/x
  "/api/admin%2fx",
  "/api/%2e%2e%2fadmin",
  "/api/items/..%2F..%2Fadmin",
  "/api/a%5Cb", // IIS: /api/a/b
  "/api/%5c..%5cadmin",
  "/api/%00/admin",
  "/api/admin%00.json",
  "/api/%0d%0a/x",
  "/api/%09x",
  "/api/%7F",
  "/api/%C0%AE%C0%AE/admin/x", // overlong `.`: the IIS and Tomcat traversal bugs
  "/api/%FF/x",
  "/api/%E2%82/x",
  "/api/%zz",
  "/api/%4",
];

test("path: ambiguous paths are 400 path_ambiguous, with or without a token, never forwarded", async () => {
  const gw = await adminGateway();
  const admin = await mint({ claims: { roles: ["Admin"] } });
  const before = origin.count();
  for (const target of AMBIGUOUS) {
    for (const headers of [[bearer(admin)], []]) {
      const res = await raw(gw, target, { headers });
      refused(res, { status: 400, reason: "path_ambiguous" }, target);
      const line = await decisionFor(res.ray);
      assert.equal(line.reason, "path_ambiguous", target);
      assert.equal(line.route, null, `${target}: no route was consulted`);
      assert.match(line.detail, /^path refused: /, target);
    }
  }
  assert.equal(origin.count(), before, "nothing reached the origin");
});

test("path: route literals match case-sensitively unless case_insensitive_paths is true", async () => {
  const token = await mint({});
  const before = origin.count();
  // Default: /API/Admin/x is not /api/admin/x, and not /api/** either; with default deny it
  // matches nothing.
  const strict = await adminGateway();
  for (const target of ["/API/Admin/x", "/Api/items", "/API/%61dmin/x"]) {
    const res = await raw(strict, target, { headers: [bearer(token)] });
    refused(res, { status: 403, reason: "no_route" }, target);
    assert.equal((await decisionFor(res.ray)).route, null, target);
  }
  assert.equal(origin.count(), before, "nothing reached the origin");

  // For origins that route without regard to case (ASP.NET Core, IIS), every casing of the admin
  // path is the admin route; the path is forwarded with the case it was sent in.
  const folding = await gatewayNamed("case-insensitive", {
    GATE_POLICY: JSON.stringify({ ...ADMIN_POLICY, case_insensitive_paths: true }),
  });
  for (const target of ["/API/Admin/x", "/api/ADMIN", "/Api/%61DMIN/x", "//API/items/../ADMIN/x"]) {
    const res = await raw(folding, target, { headers: [bearer(token)] });
    refused(res, { status: 403, reason: "insufficient_role", error: "insufficient_scope" }, target);
    assert.equal((await decisionFor(res.ray)).route, "admin", target);
  }
  assert.equal(origin.count(), before, "nothing reached the origin");
  const res = await raw(folding, "/Api/Items/%41", { headers: [bearer(token)] });
  assert.equal(reached(res).url, "/Api/Items/A");
  assert.equal((await decisionFor(res.ray)).route, "api");
});

test("path: with a path prefix on ORIGIN_URL nothing leaves the prefix", async () => {
  const token = await mint({});
  const open = await gatewayNamed("prefix /base", { ORIGIN_URL: `${origin.url}/base` });
  const before = origin.count();
  for (const [target, expected] of [
    ["/x", "/base/x"],
    ["/", "/base/"],
    ["/../../etc/passwd", "/base/etc/passwd"],
    ["/%2e%2e/%2e%2e/etc", "/base/etc"],
    ["/.%2e/x", "/base/x"],
    ["/x/%2E%2E/%2E%2E/%2E%2E/y", "/base/y"],
    ["//x", "/base/x"],
    ["/a/..", "/base/"],
    ["/\\..\\..\\x", "/base/x"],
    ["/x?u=/../../y", "/base/x?u=/../../y"],
  ]) {
    const seen = reached(await raw(open, target, { headers: [bearer(token)] }), target);
    assert.equal(seen.url, expected, target);
  }
  const forwarded = origin.count() - before;
  for (const target of ["/%2e%2e%2fx", "/..%2F..%2Fx", "/..;/x", "/%2e%2e%3b/x", "/..%5Cx", "/%C0%AE%C0%AE/x"]) {
    refused(await raw(open, target, { headers: [bearer(token)] }), { status: 400, reason: "path_ambiguous" }, target);
  }
  assert.equal(origin.count() - before, forwarded, "the refused paths were not forwarded");

  // With routes: climbing cannot reach the admin route's path unjudged, nor leave /base.
  const routed = await gatewayNamed("prefix /base/ with routes", {
    ORIGIN_URL: `${origin.url}/base/`,
    GATE_POLICY: JSON.stringify(ADMIN_POLICY),
  });
  refused(await raw(routed, "/api/items/../../../api/admin/x", { headers: [bearer(token)] }), {
    status: 403,
    reason: "insufficient_role",
    error: "insufficient_scope",
  });
  refused(await raw(routed, "/api/../../x", { headers: [bearer(token)] }), { status: 403, reason: "no_route" });
  assert.equal(reached(await raw(routed, "/api/items/../../api/x", { headers: [bearer(token)] })).url, "/base/api/x");
});

// ---------------------------------------------------------------------------------------------
// 2. Override and Connection header hygiene

const OVERRIDES = [
  ["X-Original-URL", "/api/admin/x"],
  ["x-rewrite-url", "/api/admin/x"],
  ["X-ORIGINAL-URI", "/api/admin/x"],
  ["X-HTTP-Method-Override", "DELETE"],
  ["x-http-method", "DELETE"],
  ["X-Method-Override", "PUT"],
  ["X-Forwarded-Prefix", "/api/admin"],
  ["x-forwarded-uri", "/api/admin/x"],
  ["X-Forwarded-Path", "/api/admin/x"],
  ["X-Forwarded-Host", "evil.example"],
  ["x-FORWARDED-host", "evil.example"],
  ["Forwarded", "for=198.51.100.1;host=evil.example;proto=http"],
  ["FORWARDED", "host=evil.example"],
];

/** Headers Cloudflare (or a proxy before it) sets about the client, which origins rely on. */
const PLATFORM = [
  ["X-Forwarded-For", "203.0.113.9"],
  ["CF-Connecting-IP", "203.0.113.9"],
  ["X-Request-Id", "client-request-1"],
  ["True-Client-IP", "203.0.113.9"],
  ["X-Real-IP", "203.0.113.9"],
  ["X-Forwarded-Proto", "https"],
  ["CF-IPCountry", "NL"],
  ["CDN-Loop", "cloudflare"],
];

test("headers: override headers and GATE_STRIP_HEADERS never reach the origin; others pass", async () => {
  const gw = await gatewayNamed("strip headers", { GATE_STRIP_HEADERS: "X-Internal-Route, X-Debug" });
  const token = await mint({});
  const res = await raw(gw, "/items/1", {
    headers: [
      bearer(token),
      ...OVERRIDES,
      ["X-Internal-Route", "admin"],
      ["x-debug", "1"],
      ["X-DEBUG", "2"],
      // Only the exact names: look-alikes are ordinary headers.
      ["X-Debugger", "kept"],
      ["X-Original-URL-Note", "kept"],
      ["X-Keep", "end-to-end"],
    ],
  });
  const seen = reached(res);
  assert.equal(seen.method, "GET");
  assert.equal(seen.url, "/items/1");
  const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
  for (const [name] of OVERRIDES) assert.ok(!names.includes(name.toLowerCase()), `${name} forwarded`);
  for (const name of ["x-internal-route", "x-debug"]) assert.ok(!names.includes(name), `${name} forwarded`);
  assert.ok(!seen.rawHeaders.some((v) => /evil\.example|\/api\/admin|DELETE|PUT/.test(v)), "no override value anywhere");
  assert.equal(seen.headers.host, new URL(origin.url).host, "the origin's own Host");
  assert.equal(seen.headers["x-debugger"], "kept");
  assert.equal(seen.headers["x-original-url-note"], "kept");
  assert.equal(seen.headers["x-keep"], "end-to-end");
});

test("headers: Connection removes only the client's own headers, never platform or identity ones", async () => {
  const gw = await gatewayNamed("strip headers", { GATE_STRIP_HEADERS: "X-Internal-Route, X-Debug" });
  const token = await mint({});
  const spoofedTenant = ["X-Entra-Tenant-Id", "spoofed-tenant"];
  // The same request twice, with and without a Connection header naming every header: the
  // platform headers must reach the origin the same either way. (The comparison is what the
  // origin can observe: workerd itself drops CF-Connecting-IP from every subrequest, so it is
  // absent in both; Miniflare passes the client's X-Forwarded-For and friends through as sent.)
  const common = [bearer(token), ...PLATFORM, spoofedTenant, ["X-Custom", "for-the-next-hop"]];
  const connection = ["Connection", [...PLATFORM.map(([n]) => n), "X-Entra-Tenant-Id", "X-Entra-Request-Id", "X-Custom"].join(", ")];
  const plain = reached(await raw(gw, "/items", { headers: common }), "without Connection");
  const namedRes = await raw(gw, "/items", { headers: [...common, connection] });
  const named = reached(namedRes, "with Connection");

  const platformSeen = (seen) => Object.fromEntries(PLATFORM.map(([n]) => [n, seen.headers[n.toLowerCase()]]));
  assert.deepEqual(platformSeen(named), platformSeen(plain), "Connection removed a platform header");
  assert.equal(named.headers["x-forwarded-for"], "203.0.113.9");
  assert.equal(named.headers["x-request-id"], "client-request-1");
  assert.equal(named.headers["true-client-ip"], "203.0.113.9");

  // The client's own header named by Connection is gone (it was meant for the next hop only).
  assert.equal(plain.headers["x-custom"], "for-the-next-hop");
  assert.equal(named.headers["x-custom"], undefined, "X-Custom forwarded despite Connection");
  assert.ok(!/x-custom|x-entra/i.test(named.headers.connection ?? ""), "the client's Connection forwarded");

  // The gateway's own headers are there, with its values, whatever Connection said.
  assert.equal(named.headers["x-entra-tenant-id"], env.tenant.tenantId);
  assert.equal(named.headers["x-entra-request-id"], namedRes.ray);
  assert.equal(named.headers["x-entra-scopes"], "items.read items.write");
  assert.ok(!named.rawHeaders.includes("spoofed-tenant"), "the spoofed value was forwarded");
});

// ---------------------------------------------------------------------------------------------
// 3. Three-valued conditions

const CONDITION_POLICY = {
  routes: [
    { name: "not-kp", path: "/geo/**", conditions: { not: { country: { in: ["KP"] } } } },
    { name: "not-private", path: "/net/**", conditions: { ip: { not_in: ["10.0.0.0/8"] } } },
    { name: "nl-or-office", path: "/either/**", conditions: { any: [{ country: { in: ["NL"] } }, { ip: { in: ["10.0.0.0/8"] } }] } },
    { name: "not-asn", path: "/asn/**", conditions: { not: { asn: { in: [64496] } } } },
  ],
};

// Miniflare with `cf: false` (what support/gateway.mjs uses) does not leave the facts unknown:
// it gives every request a placeholder request.cf (country "US", an ASN) and sets
// CF-Connecting-IP to the socket's address (127.0.0.1). These gateways get `cf: {}`, a
// request.cf with no country and no ASN, as for a request Cloudflare could not place; an unknown
// client IP is a CF-Connecting-IP that is not an address (Miniflare keeps a header it is sent).
const conditionGateway = (dev) =>
  customGatewayNamed(
    `conditions dev=${dev}`,
    { GATE_POLICY: JSON.stringify(CONDITION_POLICY), GATE_DEV_CLIENT_HEADERS: dev },
    { cf: {} },
  );
const NO_CLIENT_IP = { "CF-Connecting-IP": "unknown" };

const ALLOWED = null;
const COUNTRY_UNKNOWN = ["condition_country", "country unknown"];
const COUNTRY_REFUSED = ["condition_country", "country not allowed"];
const IP_UNKNOWN = ["condition_ip", "client IP unknown"];
const IP_REFUSED = ["condition_ip", "client IP not allowed"];
const ASN_UNKNOWN = ["condition_asn", "network (ASN) unknown"];
const ASN_REFUSED = ["condition_asn", "network (ASN) not allowed"];

/**
 * Rows of [path, request headers, route, outcome]: `ALLOWED` (forwarded), or the [reason, detail]
 * of a 403. The decision line must name the route and the detail.
 */
async function expectConditions(gw, rows) {
  const token = await mint({});
  for (const [path, headers, route, outcome] of rows) {
    const what = `${path} ${JSON.stringify(headers)}`;
    const before = origin.count();
    const res = await call(gw, path, { token, headers });
    if (outcome === ALLOWED) {
      reached(res, what);
    } else {
      refused(res, { status: 403, reason: outcome[0] }, what);
      assert.equal(origin.count(), before, `${what}: not forwarded`);
    }
    const line = await decisionFor(res.ray);
    assert.equal(line.route, route, what);
    assert.equal(line.detail, outcome?.[1] ?? null, what);
  }
}

test("conditions: not over an unknown country (or ASN) does not hold", async () => {
  await expectConditions(await conditionGateway("true"), [
    ["/geo/x", {}, "not-kp", COUNTRY_UNKNOWN],
    ["/geo/x", { "X-Dev-Country": "KP" }, "not-kp", COUNTRY_REFUSED],
    ["/geo/x", { "X-Dev-Country": "NL" }, "not-kp", ALLOWED],
    ["/asn/x", {}, "not-asn", ASN_UNKNOWN],
    ["/asn/x", { "X-Dev-ASN": "64496" }, "not-asn", ASN_REFUSED],
    ["/asn/x", { "X-Dev-ASN": "1136" }, "not-asn", ALLOWED],
  ]);
});

test("conditions: not_in over an unknown client IP does not hold", async () => {
  await expectConditions(await conditionGateway("true"), [
    ["/net/x", NO_CLIENT_IP, "not-private", IP_UNKNOWN],
    ["/net/x", { "X-Dev-Client-IP": "10.1.2.3" }, "not-private", IP_REFUSED],
    ["/net/x", { "X-Dev-Client-IP": "192.0.2.1" }, "not-private", ALLOWED],
  ]);
});

test("conditions: any holds when one known fact holds; unknown beats false", async () => {
  await expectConditions(await conditionGateway("true"), [
    // Only the IP known, and in the range: allowed although the country is unknown.
    ["/either/x", { "X-Dev-Client-IP": "10.1.2.3" }, "nl-or-office", ALLOWED],
    ["/either/x", { "X-Dev-Country": "NL", ...NO_CLIENT_IP }, "nl-or-office", ALLOWED],
    // The IP known and outside, the country unknown: refused, naming the unknown fact.
    ["/either/x", { "X-Dev-Client-IP": "192.0.2.1" }, "nl-or-office", COUNTRY_UNKNOWN],
    ["/either/x", NO_CLIENT_IP, "nl-or-office", COUNTRY_UNKNOWN],
    // Both known, both false.
    ["/either/x", { "X-Dev-Client-IP": "192.0.2.1", "X-Dev-Country": "DE" }, "nl-or-office", COUNTRY_REFUSED],
  ]);
});

test("conditions: without GATE_DEV_CLIENT_HEADERS the X-Dev-* headers supply nothing", async () => {
  await expectConditions(await conditionGateway("false"), [
    ["/geo/x", { "X-Dev-Country": "NL" }, "not-kp", COUNTRY_UNKNOWN],
    ["/net/x", { ...NO_CLIENT_IP, "X-Dev-Client-IP": "192.0.2.1" }, "not-private", IP_UNKNOWN],
    // In production the client IP is CF-Connecting-IP.
    ["/net/x", { "CF-Connecting-IP": "10.9.8.7", "X-Dev-Client-IP": "192.0.2.1" }, "not-private", IP_REFUSED],
    ["/net/x", { "CF-Connecting-IP": "192.0.2.1" }, "not-private", ALLOWED],
  ]);
});

// ---------------------------------------------------------------------------------------------
// 4. Secure defaults

test("defaults: a token with neither scp nor roles is 403 no_permissions unless the policy allows it", async () => {
  const bareApp = await mint({ kind: "app", claims: { roles: null } });
  const bareUser = await mint({ claims: { scp: null } });
  const scoped = await mint({});
  const withRole = await mint({ kind: "app", claims: { roles: ["Items.Read"] } });
  const noPolicy = await gatewayNamed("no policy", {});
  const authenticated = await gatewayNamed("default authenticated", { GATE_POLICY: JSON.stringify({ default: "authenticated" }) });
  const permissive = await gatewayNamed("allow without permissions", {
    GATE_POLICY: JSON.stringify({ default: "authenticated", allow_tokens_without_permissions: true }),
  });
  for (const [name, gw] of [["no GATE_POLICY: the bundled policy.toml", noPolicy], ['{"default":"authenticated"}', authenticated]]) {
    const before = origin.count();
    for (const token of [bareApp, bareUser]) {
      const res = await call(gw, "/items", { token });
      const problem = refused(res, { status: 403, reason: "no_permissions", error: "insufficient_scope" }, name);
      assert.ok(problem.detail, name);
      const line = await decisionFor(res.ray);
      assert.deepEqual([line.reason, line.detail], ["no_permissions", "token carries neither scp nor roles"], name);
    }
    assert.equal(origin.count(), before, `${name}: nothing reached the origin`);
    reached(await call(gw, "/items", { token: scoped }), `${name}, scopes`);
    reached(await call(gw, "/items", { token: withRole }), `${name}, an app role`);
  }
  for (const token of [bareApp, bareUser, scoped]) {
    const seen = reached(await call(permissive, "/items", { token }), "allow_tokens_without_permissions");
    assert.equal(seen.headers["x-entra-tenant-id"], env.tenant.tenantId);
  }
});

test("defaults: organizations without an allow-list is config_invalid until ENTRA_ALLOW_ANY_TENANT", async () => {
  const token = await mint({});
  const mark = env.logs.length;
  const open = await gatewayNamed("organizations, no allow-list", { ENTRA_TENANT_ID: "organizations" });
  const before = origin.count();
  for (const [path, t] of [["/items", token], ["/items", undefined], ["/", token]]) {
    const res = await call(open, path, { token: t });
    refused(res, { status: 500, reason: "config_invalid" }, `${path} ${t ? "with" : "without"} a token`);
  }
  assert.equal(origin.count(), before, "nothing reached the origin");
  const [line] = await waitForEvents(mark, "config_invalid");
  const text = line.problems.join("\n");
  assert.match(text, /^ENTRA_ALLOWED_TENANTS: /m, text);
  assert.match(text, /ENTRA_ALLOW_ANY_TENANT/, text);

  const any = await gatewayNamed("organizations, any tenant", { ENTRA_TENANT_ID: "organizations", ENTRA_ALLOW_ANY_TENANT: "true" });
  const seen = reached(await call(any, "/items", { token }));
  assert.equal(seen.headers["x-entra-tenant-id"], env.tenant.tenantId);
});

test("defaults: a missing or short GATE_SECRET is config_invalid, and the log never shows it", async () => {
  const token = await mint({});
  for (const [what, secret] of [
    ["missing", undefined],
    ["short", "c2hvcnQ="],
    ["16 bytes", "MDEyMzQ1Njc4OWFiY2RlZg=="],
    ["not base64", "not base64 at all!"],
  ]) {
    const mark = env.logs.length;
    const gw = await gatewayNamed(`secret ${what}`, { GATE_SECRET: secret });
    const before = origin.count();
    for (const t of [token, undefined]) {
      refused(await call(gw, "/items", { token: t }), { status: 500, reason: "config_invalid" }, what);
    }
    assert.equal(origin.count(), before, `${what}: nothing reached the origin`);
    const [line] = await waitForEvents(mark, "config_invalid");
    const problem = line.problems.find((p) => p.startsWith("GATE_SECRET: "));
    assert.ok(problem, `${what}: GATE_SECRET named in ${JSON.stringify(line.problems)}`);
    assert.match(problem, /wrangler secret put GATE_SECRET/, what);
    if (secret !== undefined) {
      const logged = env.logs.slice(mark).join("\n");
      assert.ok(!logged.includes(secret), `${what}: the secret's value was logged`);
      assert.ok(!logged.includes(secret.replace(/=+$/, "")), `${what}: the secret's value was logged`);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// 5. Revocation fails closed in time

const REVOKED_UTI = "revoked-uti-boundary-1";
const REVOKED = { status: 401, reason: "token_revoked", error: "invalid_token" };

/** A gateway whose REVOCATIONS binding is `kv` (a fake from startFakeKv). */
async function revocationGateway(kv, bindings = {}) {
  return customGateway(bindings, { revocations: kv });
}
async function fakeKv() {
  const kv = await startFakeKv();
  extras.push({ stop: kv.close });
  return kv;
}

/** Waits until the wall clock is `offsetMs` into the next second; answers that second. */
async function nextSecond(offsetMs = 100) {
  await sleep(1000 - (Date.now() % 1000) + offsetMs);
  return Math.floor(Date.now() / 1000);
}
/** Waits until `offsetMs` into second `second` (unix seconds). */
async function atSecond(second, offsetMs = 100) {
  const wait = second * 1000 + offsetMs - Date.now();
  if (wait > 0) await sleep(wait);
}

function unavailable(res, what) {
  refused(res, { status: 503, reason: "revocation_unavailable" }, what);
  assert.equal(res.headers["retry-after"], "30", `${what}: Retry-After`);
}

test("revocation: a failing list serves its last copy until max staleness, then 503, then recovers", async () => {
  const kv = await fakeKv();
  kv.setKeys([`uti:${REVOKED_UTI}`, "uti:someone-else"]);
  const gw = await revocationGateway(kv, { GATE_REVOCATION_REFRESH_SECONDS: "1", GATE_REVOCATION_MAX_STALENESS_SECONDS: "2" });
  const revoked = await mint({ claims: { uti: REVOKED_UTI } });
  const other = await mint({ claims: { uti: "fine-uti-boundary-1" } });
  const before = origin.count();

  // Healthy: the revoked token is refused, others pass. The list is read at a known second, L.
  reached(await call(gw, "/items", { token: other }), "warm-up");
  const loaded = await nextSecond(50);
  reached(await call(gw, "/items", { token: other }), "healthy");
  let res = await call(gw, "/items", { token: revoked });
  refused(res, REVOKED, "healthy, revoked");
  assert.equal((await decisionFor(res.ray)).detail, "revoked by its uti entry");
  assert.equal(kv.calls().filter((c) => c.at >= loaded * 1000).length, 1, "one read at L");

  // KV fails. At L+1 the copy is due for a re-read, which fails; the copy (1 s old, max 2 s)
  // still decides: the revoked token stays refused and the others pass.
  kv.setMode("fail");
  const mark = env.logs.length;
  await atSecond(loaded + 1);
  res = await call(gw, "/items", { token: revoked });
  refused(res, REVOKED, "stale copy, revoked");
  reached(await call(gw, "/items", { token: other }), "stale copy, other");
  const [failed] = await waitForEvents(mark, "revocations_failed");
  assert.equal(failed.failures, 1);
  assert.match(failed.detail, /fake KV: list failed/);
  assert.equal(kv.calls().filter((c) => c.mode === "fail").length, 1, "the failed read is not retried at once");

  // At L+3 the copy is 3 s old: past max staleness, nothing is trusted, everyone gets 503
  // (the revoked token learns nothing either).
  await atSecond(loaded + 3);
  for (const token of [other, revoked]) unavailable(await call(gw, "/items", { token }), "past max staleness");
  const line = await decisionFor((await call(gw, "/items", { token: other })).ray);
  assert.deepEqual([line.reason, line.status], ["revocation_unavailable", 503]);
  assert.equal(origin.count() - before, 3, "only the allowed requests reached the origin");

  // KV recovers. The next read waits out the backoff (2 s after the second failure); until it
  // happens requests keep getting 503, then the fresh list applies again.
  kv.setMode("ok");
  const readsBefore = kv.calls().length;
  const recoveryStarted = Date.now();
  let answers = 0;
  for (;;) {
    res = await call(gw, "/items", { token: other });
    answers += 1;
    if (res.status === 200) break;
    unavailable(res, "backing off");
    assert.ok(Date.now() - recoveryStarted < 5000, "recovered within the backoff");
    await sleep(100);
  }
  assert.ok(answers > 1, "the first request after recovery was still backing off");
  assert.equal(kv.calls().length - readsBefore, 1, "one read, when the backoff ended");
  refused(await call(gw, "/items", { token: revoked }), REVOKED, "recovered, revoked");
  reached(await call(gw, "/items", { token: other }), "recovered, other");
});

test("revocation: a listing without list_complete, or incomplete without a cursor, is a failed read", async () => {
  const other = await mint({ claims: { uti: "fine-uti-boundary-2" } });
  // No copy yet: the first request is refused at once.
  for (const [mode, detail] of [
    ["no_list_complete", "list() answered without list_complete"],
    ["incomplete_no_cursor", "list() is incomplete but gave no cursor"],
  ]) {
    const kv = await fakeKv();
    kv.setMode(mode);
    const gw = await revocationGateway(kv);
    const mark = env.logs.length;
    unavailable(await call(gw, "/items", { token: other }), mode);
    const [failed] = await waitForEvents(mark, "revocations_failed");
    assert.equal(failed.detail, detail);
    assert.equal(eventsSince(mark, "revocations_loaded").length, 0, `${mode}: nothing was adopted`);
    assert.equal(kv.calls().length, 1);
  }
});

test("revocation: pages are followed by cursor, and a listing cut short never replaces the copy", async () => {
  const kv = await fakeKv();
  // Two pages, the revoked token on the second.
  kv.setPageSize(1);
  kv.setKeys(["uti:first-page-entry", `uti:${REVOKED_UTI}`]);
  const gw = await revocationGateway(kv, { GATE_REVOCATION_REFRESH_SECONDS: "1", GATE_REVOCATION_MAX_STALENESS_SECONDS: "60" });
  const revoked = await mint({ claims: { uti: REVOKED_UTI } });
  refused(await call(gw, "/items", { token: revoked }), REVOKED, "second page");
  assert.deepEqual(kv.calls().map((c) => c.cursor), [null, "1"]);

  // Now KV answers pages cut short that leave the entry out. Were one adopted, the revoked token
  // would pass; the held copy keeps deciding instead.
  for (const mode of ["no_list_complete", "incomplete_no_cursor"]) {
    kv.setKeys(["uti:first-page-entry"]);
    kv.setMode(mode);
    const reads = kv.calls().length;
    // Past the refresh and any backoff from the previous round (1 s, then 2 s).
    await sleep(mode === "no_list_complete" ? 1100 : 2100);
    const mark = env.logs.length;
    refused(await call(gw, "/items", { token: revoked }), REVOKED, mode);
    assert.equal(kv.calls().length - reads, 1, `${mode}: the list was read`);
    await waitForEvents(mark, "revocations_failed");
    assert.equal(eventsSince(mark, "revocations_loaded").length, 0, `${mode}: nothing was adopted`);
  }

  // A complete listing without the entry is adopted once the backoff (2 s after the second
  // failure) is over: the token passes.
  kv.setMode("ok");
  const deadline = Date.now() + 6000;
  let res;
  do {
    await sleep(250);
    res = await call(gw, "/items", { token: revoked });
  } while (res.status === 401 && Date.now() < deadline);
  reached(res, "entry removed");
});

test("revocation: concurrent requests share one read of the list", async () => {
  const kv = await fakeKv();
  kv.setKeys([`uti:${REVOKED_UTI}`]);
  kv.setDelay(300);
  const gw = await revocationGateway(kv);
  const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => mint({ claims: { uti: `concurrent-${i}` } })));
  const answers = await Promise.all(tokens.map((token) => call(gw, "/items", { token })));
  answers.forEach((res, i) => reached(res, `request ${i}`));
  assert.equal(kv.calls().length, 1, "one list() call for ten requests");
});

test("revocation: failed reads back off instead of being retried by every request", async () => {
  const kv = await fakeKv();
  kv.setMode("fail");
  const gw = await revocationGateway(kv, { GATE_REVOCATION_REFRESH_SECONDS: "1", GATE_REVOCATION_MAX_STALENESS_SECONDS: "2" });
  const token = await mint({ claims: { uti: "fine-uti-boundary-3" } });

  // 20 requests within one second: at most two reads (one, and one more if the burst crosses a
  // second boundary), never one per request. Started just after a second begins, so the read
  // times below line up with the backoff.
  await nextSecond(50);
  const started = Date.now();
  for (let i = 0; i < 20; i++) unavailable(await call(gw, "/items", { token }), `burst ${i}`);
  assert.ok(Date.now() - started < 1000, `the burst took ${Date.now() - started} ms`);
  const burstReads = kv.calls().length;
  assert.ok(burstReads >= 1 && burstReads <= 2, `${burstReads} list() calls for 20 requests`);

  // Concurrent requests share the state too.
  const concurrent = await Promise.all(Array.from({ length: 20 }, () => call(gw, "/items", { token })));
  for (const res of concurrent) unavailable(res, "concurrent");
  assert.ok(kv.calls().length <= burstReads + 1, `${kv.calls().length} list() calls after 40 requests`);

  // About 4 s of a request every 100 ms: the waits between reads double (1 s, 2 s, 4 s...).
  const until = Date.now() + 4000;
  let requests = 40;
  while (Date.now() < until) {
    unavailable(await call(gw, "/items", { token }), "steady");
    requests += 1;
    await sleep(100);
  }
  const at = kv.calls().map((c) => c.at);
  // Expected: reads at about 0 s, 1 s and 3 s (the next would be at 7 s).
  assert.ok(at.length >= 3 && at.length <= 5, `${at.length} list() calls for ${requests} requests`);
  const gaps = at.slice(1).map((t, i) => t - at[i]);
  // Reads are due on whole seconds, so a gap can be up to a second shorter than its backoff.
  for (let i = 1; i < gaps.length; i++) {
    assert.ok(gaps[i] >= gaps[i - 1] + 500, `the waits between reads grow: ${gaps.join(", ")} ms`);
  }
  assert.ok(gaps.every((g) => g >= 500), `no two reads close together: ${gaps.join(", ")} ms`);
});
