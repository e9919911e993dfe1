// The floor: the least a worker can do and still refuse a forged token. Not a product and not a
// peer: it reads the `kid`, verifies the RS256 signature with WebCrypto (keys imported once per
// isolate), and forwards the request untouched. No claim is checked (not `exp`, not the issuer,
// not the audience), nothing is logged, no identity header is set. What it costs above the
// passthrough is what the signature alone costs in this harness, so it shows how far below
// jose's cost any validator can get here (issue 15's targets are ratios of that cost).
//
// `FLOOR_ADDS` (a binding: names separated by commas) adds, one by one, what entra-gate's
// contract makes it do besides the signature, each done the cheapest way JavaScript allows, so
// a run prices each part: `headers` (the identity headers: a copy of the request's headers
// without `Authorization`, ten set), `id` (a request id: `X-Request-Id` to the origin, and the
// origin's answer copied to carry it back; a refusal as the gate's, with its JSON body,
// challenge and id), `line` (a decision line of the gate's size written
// with `console.log`, for every request). The claims are still not read: a real validator pays
// for those too.
let keys; // kid -> CryptoKey, one fetch of the key set per isolate

const ALGORITHM = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
const encoder = new TextEncoder();

async function loadKeys(env) {
  const { keys: jwks } = await (await fetch(env.JWKS_URL)).json();
  const imported = new Map();
  for (const jwk of jwks) {
    if (jwk.kty !== "RSA") continue;
    const key = await crypto.subtle.importKey("jwk", { kty: "RSA", n: jwk.n, e: jwk.e }, ALGORITHM, false, ["verify"]);
    imported.set(jwk.kid, key);
  }
  return imported;
}

function base64url(text) {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const refuse = () => new Response(null, { status: 401 });

export default {
  async fetch(request, env) {
    keys ??= loadKeys(env);
    const authorization = request.headers.get("authorization") ?? "";
    if (!authorization.startsWith("Bearer ")) return refuse();
    const token = authorization.slice(7);
    const firstDot = token.indexOf(".");
    const lastDot = token.lastIndexOf(".");
    if (firstDot < 0 || lastDot <= firstDot) return refuse();
    let kid;
    try {
      kid = JSON.parse(atob(token.slice(0, firstDot).replace(/-/g, "+").replace(/_/g, "/"))).kid;
    } catch {
      return refuse();
    }
    const key = (await keys).get(kid);
    if (key === undefined) return refuse();
    const good = await crypto.subtle.verify(
      ALGORITHM.name,
      key,
      base64url(token.slice(lastDot + 1)),
      encoder.encode(token.slice(0, lastDot)),
    );
    if (!good) {
      const refusal = adds(env).id ? refuseAsTheGate() : refuse();
      return adds(env).line ? logged(refusal, "invalid_signature") : refusal;
    }
    const url = new URL(request.url);
    const add = adds(env);
    if (!add.headers && !add.id) {
      const answer = fetch(env.ORIGIN_URL + url.pathname + url.search, request);
      return add.line ? answer.then((response) => logged(response, null)) : answer;
    }
    const headers = new Headers(request.headers);
    headers.delete("authorization");
    if (add.headers) for (const [name, value] of IDENTITY) headers.set(name, value);
    const id = add.id ? requestId() : null;
    if (id !== null) headers.set("x-entra-request-id", id);
    const fetched = fetch(env.ORIGIN_URL + url.pathname + url.search, {
      method: request.method,
      headers,
      body: request.body,
      redirect: "manual",
    });
    return fetched.then((response) => {
      let answer = response;
      if (id !== null) {
        answer = new Response(response.body, response);
        answer.headers.set("x-request-id", id);
      }
      return add.line ? logged(answer, null) : answer;
    });
  },
};

let added;
const adds = (env) => {
  if (added === undefined) {
    const names = new Set(String(env.FLOOR_ADDS ?? "").split(",").filter(Boolean));
    added = { headers: names.has("headers"), id: names.has("id"), line: names.has("line") };
  }
  return added;
};

// Ten identity headers of the gate's usual sizes (the values are not read from the token: the
// floor never parses the claims).
const IDENTITY = [
  ["x-entra-tenant-id", "6e2c7f5a-3b1d-4c8e-9f0a-1b2c3d4e5f60"],
  ["x-entra-object-id", "0b7d2c4e-5f61-4a83-9b2c-3d4e5f607182"],
  ["x-entra-subject", "0b7d2c4e5f614a839b2c3d4e5f607182xyz"],
  ["x-entra-client-id", "9f0a1b2c-3d4e-5f60-7182-93a4b5c6d7e8"],
  ["x-entra-token-kind", "user"],
  ["x-entra-token-version", "2.0"],
  ["x-entra-scopes", "items.read items.write"],
  ["x-entra-roles", ""],
  ["x-entra-acrs", ""],
  ["x-entra-token-id", "U000000000000000000042"],
];

// The gate's refusal: a JSON body with the reason and request id, the challenge, the id.
function refuseAsTheGate() {
  const id = requestId();
  return new Response(JSON.stringify({ error: "invalid_token", reason: "invalid_signature", request_id: id }), {
    status: 401,
    headers: {
      "content-type": "application/json",
      "cache-control": "no-store",
      "www-authenticate": `Bearer realm="entra-gate", error="invalid_token", error_description="invalid_signature"`,
      "x-request-id": id,
    },
  });
}

const RANDOM = new Uint32Array(3);
const hex8 = (n) => n.toString(16).padStart(8, "0");
function requestId() {
  crypto.getRandomValues(RANDOM);
  return hex8(RANDOM[0]) + hex8(RANDOM[1]) + hex8(RANDOM[2]);
}

// A decision line with the members and sizes of the gate's for an allowed request.
function logged(response, reason) {
  console.log(
    JSON.stringify({
      event: "decision",
      request_id: hex8(RANDOM[0]) + hex8(RANDOM[1]) + hex8(RANDOM[2]),
      method: "GET",
      route: null,
      decision: reason === null ? "allowed" : "refused",
      status: response.status,
      reason,
      detail: reason === null ? null : "the signature does not verify",
      kid: "mock-key-1",
      report_only: [],
      cached: false,
      ms: 1,
      tenant: IDENTITY[0][1],
      client: IDENTITY[3][1],
      kind: "user",
      ver: "2.0",
    }),
  );
  return response;
}
