// The peer: what a team would write instead of entra-gate — `jose` in a Worker. Same tenant,
// issuer, audience and algorithm; the Entra checks jose leaves to the caller are added by hand
// where jose allows (ver, tid as a GUID equal to the issuer's tenant segment, no `nonce` header,
// not an ID token, oid/sub present); then the request is forwarded with identity headers like
// the gate's. Bundled with esbuild by bench/edge.mjs (jose's webapi build runs on workerd).
// `peer({ cacheSize })` is the same worker with a cache of verified tokens of its own
// (bench/workers/jose-cached.js): what a team writes once it sees the same token again and again.
import { createRemoteJWKSet, jwtVerify, errors } from "jose";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
let jwks; // one remote key set per isolate, as jose's documentation advises

function refuse(status, error) {
  return new Response(JSON.stringify({ error }), {
    status,
    headers: {
      "content-type": "application/json",
      "www-authenticate": `Bearer realm="jose-peer", error="invalid_token"`,
    },
  });
}

function tenantSegment(issuer) {
  const rest = issuer.split("://")[1] ?? "";
  return rest.split("/")[1];
}

// Verified tokens (header and payload), oldest first, each until its `exp`.
function tokenCache(size) {
  const entries = new Map();
  return {
    get(token) {
      const entry = entries.get(token);
      if (entry && entry.payload.exp > Date.now() / 1000) return entry;
      if (entry) entries.delete(token);
      return undefined;
    },
    set(token, entry) {
      if (size === 0) return;
      if (entries.size >= size) entries.delete(entries.keys().next().value);
      entries.set(token, entry);
    },
  };
}

export function peer({ cacheSize }) {
  const cache = tokenCache(cacheSize);
  return {
    async fetch(request, env) {
      const authorization = request.headers.get("authorization") ?? "";
      const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(authorization);
      if (!match) return refuse(401, "missing_token");
      const verified = cache.get(match[1]) ?? (await verify(match[1], env));
      if (verified instanceof Response) return verified;
      cache.set(match[1], verified);
      return forward(request, env, verified);
    },
  };
}

export default peer({ cacheSize: 0 });

async function verify(token, env) {
  jwks ??= createRemoteJWKSet(new URL(env.JWKS_URL));
  let payload, protectedHeader;
  try {
    ({ payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: env.ISSUER,
      audience: env.AUDIENCE,
      algorithms: ["RS256"],
      clockTolerance: 60,
      requiredClaims: ["exp", "iat", "tid", "ver", "oid", "sub"],
    }));
  } catch (e) {
    if (e instanceof errors.JOSEError) return refuse(401, e.code);
    throw e;
  }
  if ("nonce" in protectedHeader) return refuse(401, "graph_nonce");
  if (payload.ver !== "2.0") return refuse(401, "version");
  if (typeof payload.tid !== "string" || !GUID.test(payload.tid)) return refuse(401, "tid");
  if (tenantSegment(payload.iss) !== payload.tid) return refuse(401, "tenant_mismatch");
  if ("nonce" in payload || "at_hash" in payload || "c_hash" in payload) return refuse(401, "id_token");
  const clientId = payload.azp ?? payload.appid;
  if (typeof clientId !== "string") return refuse(401, "id_token");
  if (typeof payload.oid !== "string" || !GUID.test(payload.oid)) return refuse(401, "oid");
  if (typeof payload.sub !== "string" || payload.sub === "") return refuse(401, "sub");
  return { payload, clientId };
}

function forward(request, env, { payload, clientId }) {
  const headers = new Headers(request.headers);
  headers.delete("authorization");
  for (const name of [...headers.keys()]) if (name.startsWith("x-entra-")) headers.delete(name);
  const scopes = typeof payload.scp === "string" ? payload.scp.split(" ").filter(Boolean) : [];
  headers.set("x-entra-tenant-id", payload.tid);
  headers.set("x-entra-object-id", payload.oid);
  headers.set("x-entra-subject", payload.sub);
  headers.set("x-entra-client-id", clientId);
  headers.set("x-entra-token-kind", payload.idtyp === "app" || !payload.scp ? "app" : "user");
  headers.set("x-entra-token-version", payload.ver);
  headers.set("x-entra-scopes", scopes.join(" "));
  headers.set("x-entra-roles", Array.isArray(payload.roles) ? payload.roles.join(" ") : "");
  const url = new URL(request.url);
  return fetch(env.ORIGIN_URL + url.pathname + url.search, {
    method: request.method,
    headers,
    body: request.body,
    redirect: "manual",
  });
}
