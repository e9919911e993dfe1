// Real-time endpoints end to end through workerd: a WebSocket handshake authenticated and
// authorized like any request and then passed to the origin (101 and a live socket back), the
// SignalR convention of a token in ?access_token= (GET and upgrades only, taken out of the URL
// the origin receives and out of every log line), one token per request, and routes that do not
// allow upgrades never passing one on.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEnvironment } from "./support/environment.mjs";
import { startWebSocketOrigin } from "./support/websocket-origin.mjs";

const POLICY = {
  routes: [
    // SignalR: negotiate (POST, Authorization header) and the socket (GET, token in the query).
    { name: "hub", path: "/hub/**", websocket: true, query_token: true, require: { scopes: { any_of: ["items.read"] } } },
    { name: "items", path: "/items/**", require: { scopes: { any_of: ["items.read"] } } },
  ],
};

let env;
let origin;
let gateway;
let token;
before(async () => {
  env = await startEnvironment();
  origin = await startWebSocketOrigin();
  gateway = await env.gatewayWith({ GATE_POLICY: JSON.stringify(POLICY), ORIGIN_URL: origin.url });
  token = await env.tenant.mint({});
});
after(async () => {
  await env?.stop();
  await origin?.close();
});

let rays = 0;
async function handshake(path, { headers = {}, upgrade = true, method = "GET" } = {}) {
  const ray = `realtime-${++rays}`;
  const res = await gateway.fetch(path, { method, headers: { ...(upgrade ? { upgrade: "websocket" } : {}), "cf-ray": ray, ...headers } });
  return { res, ray };
}

/** Accepts the socket, returns the origin's report and a way to talk. */
async function open(res) {
  assert.equal(res.status, 101);
  const socket = res.webSocket;
  assert.ok(socket, "a socket comes back");
  const messages = [];
  const waiting = [];
  socket.addEventListener("message", (event) => {
    const next = waiting.shift();
    if (next) next(event.data);
    else messages.push(event.data);
  });
  socket.accept();
  const receive = () => (messages.length ? Promise.resolve(messages.shift()) : new Promise((r) => waiting.push(r)));
  const report = JSON.parse(await receive());
  return { report, socket, receive };
}

async function problem(res) {
  const text = await res.text();
  return { status: res.status, reason: JSON.parse(text).reason, socket: res.webSocket ?? null };
}

test("a WebSocket with the token in the query: authorized, the origin's socket comes back, the token stays out of the URL", async () => {
  const { res } = await handshake(`/hub/chat?id=42&access_token=${token}`);
  const { report, socket, receive } = await open(res);
  assert.equal(report.upgraded, true);
  assert.equal(report.url, "/hub/chat?id=42", "access_token taken out, the rest as sent");
  assert.equal(report.headers["x-entra-tenant-id"], env.tenant.tenantId, "identity headers on the handshake");
  assert.equal(report.headers.authorization, undefined);
  socket.send("hello");
  assert.equal(await receive(), "echo:hello");
  socket.close(1000, "done");
});

test("a WebSocket with the Authorization header works the same", async () => {
  const { res } = await handshake("/hub/chat", { headers: { authorization: `Bearer ${token}` } });
  const { report, socket, receive } = await open(res);
  assert.equal(report.url, "/hub/chat");
  socket.send("x");
  assert.equal(await receive(), "echo:x");
  socket.close(1000, "done");
});

test("a handshake without a valid token is refused and no socket opens", async () => {
  const missing = await problem((await handshake("/hub/chat")).res);
  assert.deepEqual(missing, { status: 401, reason: "token_missing", socket: null });
  const forged = await problem((await handshake(`/hub/chat?access_token=${token.slice(0, -4)}AAAA`)).res);
  assert.equal(forged.status, 401);
  assert.equal(forged.reason, "invalid_signature");
  const noScope = await problem((await handshake(`/hub/chat?access_token=${await env.tenant.mint({ claims: { scp: "other" } })}`)).res);
  assert.deepEqual([noScope.status, noScope.reason], [403, "insufficient_scope"]);
});

test("a route that does not allow upgrades never passes one on", async () => {
  const { res } = await handshake("/items/1", { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  const report = JSON.parse(await res.text());
  assert.equal(report.upgraded, false);
  assert.equal(report.headers.upgrade, undefined, "Upgrade stripped");
});

test("one token per request, from the query only where the route takes it and only on GET", async () => {
  const cases = [
    ["/items/1?access_token=T", {}, "GET", 400, "query_token_not_allowed"],
    ["/hub/chat?access_token=T", {}, "POST", 400, "query_token_not_allowed"],
    ["/hub/chat?access_token=T", { authorization: "Bearer T" }, "GET", 400, "multiple_tokens"],
    ["/hub/chat?access_token=T&access_token=T", {}, "GET", 400, "multiple_tokens"],
    ["/hub/chat?access%5Ftoken=T", { authorization: "Bearer T" }, "GET", 400, "multiple_tokens"],
    ["/nowhere?access_token=T", {}, "GET", 403, "no_route"],
  ];
  for (const [path, headers, method, status, reason] of cases) {
    const { res } = await handshake(path.replaceAll("T", token), { headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.replace("T", token)])), method, upgrade: false });
    const got = await problem(res);
    assert.deepEqual([got.status, got.reason], [status, reason], `${method} ${path}`);
    if (status === 400) {
      const challenge = res.headers.get("www-authenticate");
      assert.match(challenge, /error="invalid_request"/, path);
    }
  }
  // SignalR's negotiate: a POST with the Authorization header, forwarded as usual.
  const negotiate = await handshake("/hub/chat/negotiate?negotiateVersion=1", { method: "POST", upgrade: false, headers: { authorization: `Bearer ${token}` } });
  assert.equal(negotiate.res.status, 200);
  assert.equal(JSON.parse(await negotiate.res.text()).url, "/hub/chat/negotiate?negotiateVersion=1");
});

test("the query token appears in no log line", async () => {
  const { res, ray } = await handshake(`/hub/chat?access_token=${token}`);
  (await open(res)).socket.close(1000, "done");
  let line;
  for (let i = 0; i < 200 && !line; i++) {
    line = env.logs.find((l) => l.includes(`"request_id":"${ray}"`));
    if (!line) await new Promise((r) => setTimeout(r, 25));
  }
  assert.ok(line, "the handshake's decision line");
  const signature = token.split(".")[2];
  assert.deepEqual(env.logs.filter((l) => l.includes(signature) || l.includes(token.split(".")[1])), []);
});

test("GATE_FORWARD_AUTHORIZATION passes the query token on with the rest of the caller's credentials", async () => {
  const passing = await env.gatewayWith({ GATE_POLICY: JSON.stringify(POLICY), ORIGIN_URL: origin.url, GATE_FORWARD_AUTHORIZATION: "true" });
  const res = await passing.fetch(`/hub/chat?access_token=${token}`, { headers: { upgrade: "websocket" } });
  const { report, socket } = await open(res);
  assert.equal(report.url, `/hub/chat?access_token=${token}`);
  socket.close(1000, "done");
});

test("the resource metadata says tokens may come in the query", async () => {
  const res = await gateway.fetch("/.well-known/oauth-protected-resource");
  assert.deepEqual(JSON.parse(await res.text()).bearer_methods_supported, ["header", "query"]);
});
