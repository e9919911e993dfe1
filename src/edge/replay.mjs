// Forwards answered again without entering wasm. The walk (in Rust) decides whether a forward
// may be replayed and until when (core/src/replay.rs has the rules); the edge hands it here
// (`remember`), and the fetch handler (entry.mjs) answers a request with the same key from it.
// The key is everything the walk and the forward read of a request: method, URL,
// `Authorization`, the header names (which of them are dropped) and `Connection` (which names
// it drops). What the replay does is what the edge's forward and pending answer do: the same
// `forward` helper, `X-Request-Id` on the answer, and the decision line Rust wrote with only
// the request id, status and milliseconds left to fill.
import { forward, header_names } from "./glue.mjs";

// Tokens: as many as the verified-token cache holds (src/edge/mod.rs); requests per token.
const TOKENS = 4096;
const PER_TOKEN = 32;

/**
 * `Authorization` → (the rest of the key → plan), a plan being { until (ms), url, drop,
 * idHeader, pairs, service, line (4 parts), perMillion, ticket }. Looked up by the token first,
 * so a request whose token has no plan costs one lookup, not the whole key.
 */
const plans = new Map();

function restOf(request) {
  const headers = request.headers;
  return `${request.method} ${request.url}\n${header_names(headers)}\n${headers.get("connection") ?? ""}`;
}

function discard(plan) {
  plan.ticket.free();
}

function discardAll(forToken) {
  for (const plan of forToken.values()) discard(plan);
}

/** Removes the oldest entry of `map` (insertion order) and returns its value. */
function evictOldest(map) {
  const [key, value] = map.entries().next().value;
  map.delete(key);
  return value;
}

/**
 * Called by the edge (src/edge/proxy.rs) as it forwards a replayable request. `line` is the
 * decision line in four parts, to be joined around the request id (a JSON string), the status
 * and the milliseconds. `ticket` answers a failed replay as the edge would (a Rust object).
 */
export function remember(request, untilMs, url, drop, idHeader, pairs, service, line, perMillion, ticket) {
  const authorization = request.headers.get("authorization");
  const parts = line.split("\u0001");
  if (authorization === null || parts.length !== 4) {
    ticket.free();
    return;
  }
  let forToken = plans.get(authorization);
  if (forToken === undefined) {
    if (plans.size >= TOKENS) discardAll(evictOldest(plans));
    forToken = new Map();
    plans.set(authorization, forToken);
  }
  const rest = restOf(request);
  const old = forToken.get(rest);
  if (old !== undefined) {
    forToken.delete(rest);
    discard(old);
  }
  if (forToken.size >= PER_TOKEN) discard(evictOldest(forToken));
  forToken.set(rest, { until: untilMs, url, drop, idHeader, pairs, service, line: parts, perMillion, ticket });
}

/** A key set changed (src/edge/keystore.rs): nothing remembered is replayed again. */
export function forget_replays() {
  for (const forToken of plans.values()) discardAll(forToken);
  plans.clear();
}

/** The wasm instance was replaced: its tickets are gone with it (freeing one would throw). */
export function drop_replays() {
  plans.clear();
}

/** The plan for `request`, if one is remembered and still valid. */
export function planFor(request) {
  if (plans.size === 0) return undefined;
  const authorization = request.headers.get("authorization");
  if (authorization === null) return undefined;
  const forToken = plans.get(authorization);
  if (forToken === undefined) return undefined;
  const rest = restOf(request);
  const plan = forToken.get(rest);
  if (plan === undefined) return undefined;
  if (Date.now() < plan.until) return plan;
  forToken.delete(rest);
  discard(plan);
  if (forToken.size === 0) plans.delete(authorization);
  return undefined;
}

/** `CF-Ray` when Cloudflare set one, otherwise 24 random hex digits (the edge's rule too). */
export function request_id(headers) {
  const ray = headers.get("cf-ray");
  if (ray !== null && ray.length > 0 && ray.length <= 64 && /^[A-Za-z0-9-]+$/.test(ray)) return ray;
  let id = "";
  for (const byte of crypto.getRandomValues(new Uint8Array(12))) id += byte.toString(16).padStart(2, "0");
  return id;
}

/** Sampled like `AllowedLines::keeps`: a draw below `perMillion` in a million keeps the line. */
function keeps(perMillion) {
  if (perMillion >= 1_000_000) return true;
  if (perMillion <= 0) return false;
  return crypto.getRandomValues(new Uint32Array(1))[0] % 1_000_000 < perMillion;
}

/** The origin's answer to `request` as `plan` says, or the edge's refusal if it fails. */
export function replay(request, plan) {
  const started = Date.now();
  const id = request_id(request.headers);
  const pairs = `${plan.idHeader}\n${id}\n${plan.pairs}`;
  let fetching;
  try {
    fetching = forward(request, request.headers, plan.url, request.method, plan.drop, pairs, 0, plan.service);
  } catch (error) {
    fetching = Promise.reject(error);
  }
  return fetching.then(
    (response) => {
      const answer = new Response(response.body, response);
      answer.headers.set("x-request-id", id);
      const status = answer.status;
      // A line sampling may drop is a routine one: below 400.
      if (status >= 400 || keeps(plan.perMillion)) {
        const [head, beforeStatus, beforeMs, tail] = plan.line;
        console.log(`${head}"${id}"${beforeStatus}${status}${beforeMs}${Date.now() - started}${tail}`);
      }
      return answer;
    },
    (error) => plan.ticket.failed(error, id, started),
  );
}
