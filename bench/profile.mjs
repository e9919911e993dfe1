// Where a worker's time goes: V8's sampling CPU profiler, driven over workerd's inspector
// (Chrome DevTools Protocol on a WebSocket), while wrk loads the worker. bench/edge.mjs calls
// this for entra-gate after the measured rounds, with a wasm that keeps its function names
// (target/worker/named/index_bg.wasm), so wasm frames read as Rust functions.
//
// The profiler samples the isolate's thread only: time workerd spends in its own C++ outside a
// JavaScript call (HTTP parsing, the subrequest's socket I/O) shows as "(program)" or not at all.
// With the inspector attached, console.log also costs more than it does without (every line goes
// to the inspector too), so the profile's shares are a map, not the measured CPU figures.

/** A minimal DevTools Protocol client on the inspector's WebSocket. */
async function connect(inspectorPort) {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
  const target = targets.find((t) => t.webSocketDebuggerUrl);
  if (!target) throw new Error(`no inspector target on port ${inspectorPort}`);
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", reject, { once: true });
  });
  let next = 0;
  const waiting = new Map();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    const done = waiting.get(message.id);
    if (!done) return;
    waiting.delete(message.id);
    if (message.error) done.reject(new Error(`${message.error.message} (${message.error.code})`));
    else done.resolve(message.result);
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++next;
      waiting.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => socket.close() };
}

/** Which part of the stack a profile node belongs to. */
function category(frame) {
  const name = frame.functionName;
  if (name.startsWith("(")) return name; // (program), (idle), (garbage collector), (root)
  if (frame.url.includes("wasm")) return "wasm (Rust)";
  if (frame.url.endsWith("index.js")) {
    return name.startsWith("__wbg") || name.startsWith("__wbindgen") || name === "" ? "JS glue (wasm-bindgen)" : "JS entry";
  }
  return "runtime built-ins";
}

/** Self time per function and per category, as µs per request. */
export function summarize(profile, requests, top = 25) {
  const selfTime = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    selfTime.set(profile.samples[i], (selfTime.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  let total = 0;
  const byFunction = new Map();
  const byCategory = new Map();
  for (const node of profile.nodes) {
    const us = selfTime.get(node.id) ?? 0;
    if (!us) continue;
    total += us;
    const frame = node.callFrame;
    const where = frame.url.includes("wasm") ? "wasm" : frame.url.split("/").pop() || "runtime";
    const key = `${frame.functionName || `(anonymous ${where}:${frame.lineNumber}:${frame.columnNumber})`} [${where}]`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const c = category(frame);
    byCategory.set(c, (byCategory.get(c) ?? 0) + us);
  }
  const rows = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, share: us / total, us_per_request: us / requests }));
  return {
    sampled_ms: total / 1000,
    requests,
    categories: rows(byCategory),
    functions: rows(byFunction).slice(0, top),
  };
}

/**
 * Where a request's time goes by stage of the work. A sample goes to the first rule, in the
 * order given, that names any frame on its stack: so serde code under the decision line counts
 * as the decision line, and native work billed to the glue frame that called `verify` counts as
 * the verification. `rules`: [stage, test(frame)], most specific first, catch-alls last.
 */
export function stages(profile, requests, rules) {
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const stageOf = new Map();
  const classify = (id) => {
    if (stageOf.has(id)) return stageOf.get(id);
    const stack = [];
    for (let at = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at).callFrame);
    const rule = rules.find(([, test]) => stack.some(test));
    const stage = rule ? rule[0] : "other";
    stageOf.set(id, stage);
    return stage;
  };
  const totals = new Map();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i] ?? 0;
    if (byId.get(profile.samples[i])?.callFrame.functionName === "(idle)") continue;
    total += us;
    const stage = classify(profile.samples[i]);
    totals.set(stage, (totals.get(stage) ?? 0) + us);
  }
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .map(([name, us]) => ({ name, share: us / total, us_per_request: us / requests }));
}

const named = (pattern) => (frame) => pattern.test(frame.functionName);
const runtime = (pattern) => (frame) => frame.url === "" && pattern.test(frame.functionName);
const wasm = (pattern) => (frame) => frame.url.includes("wasm") && pattern.test(frame.functionName);

/** Stages of an entra-gate request (named wasm, unminified glue). */
export const GATE_STAGES = [
  ["WebCrypto verify (the call and its promise)", (f) => /__wbg_verify_/.test(f.functionName) || runtime(/^verify$/)(f)],
  ["decision line (built, serialised, console.log)", (f) => /__wbg_log_|Decision|edge::log::/.test(f.functionName)],
  ["counters (Analytics Engine)", named(/metrics::|writeDataPoint/)],
  ["refusal or origin answer (response, X-Request-Id copy)", (f) => /respond::|pending::|with_request_id/.test(f.functionName)],
  ["origin fetch: headers, init, (timer), fetch", (f) => /^(forward|build_headers|header_names)$/.test(f.functionName) || /proxy::|__wbg_forward_/.test(f.functionName)],
  ["identity headers", wasm(/identity|IdentityHeaders|forward::/)],
  ["request facts, URL and headers read", (f) => /facts::|request_target|RequestTarget|canonical_path|CanonicalPath|__wbg_get_|__wbg_url_|__wbg_method_|__wbg_headers_/.test(f.functionName)],
  ["base64url decode", wasm(/base64/)],
  ["claims checks", wasm(/claims::/)],
  ["token parse (segments, header rules)", wasm(/UntrustedToken|token::|bearer|intake|jws::/)],
  ["JSON read (header, claims)", wasm(/serde_json|serde_core|serde::|json::/)],
  ["key lookup", wasm(/keyset|KeySet|keystore|KeyStore/)],
  ["verified-token cache", wasm(/token_cache|TokenCache/)],
  ["policy (route, authorize)", wasm(/policy::|Policy/)],
  ["strings and bytes across the wasm boundary", named(/^(passStringToWasm0|getStringFromWasm0|getArrayU8FromWasm0|passArray8ToWasm0|decodeText|getUint8ArrayMemory0|getDataViewMemory0)$/)],
  ["memory (malloc, free, memcpy)", wasm(/dlmalloc|memcpy|memmove|memset|__rust_alloc|__rust_dealloc|__rust_realloc/)],
  ["async plumbing (executor, promises, closures)", (f) => /runtime::tasks|Waker|makeMutClosure|__wbindgen_generic|JsFuture|future_to_promise|__wbg_then|__wbg_resolve|__wbg_queueMicrotask/.test(f.functionName)],
  ["garbage collector", named(/^\(garbage collector\)$/)],
  ["workerd outside JavaScript", named(/^\(program\)$/)],
  ["the fetch handler's own Rust", (f) => f.url.includes("wasm")],
  ["other glue and entry", (f) => /index\.js$/.test(f.url)],
];

/** Stages of the jose peer's request (bench/workers/jose.js, unminified). */
export const JOSE_STAGES = [
  ["WebCrypto verify (the call and its promise)", runtime(/^verify$/)],
  ["key lookup and import", named(/getKey|importJWK|RemoteJWKSet|LocalJWKSet|getCryptoKey|checkKeyType|checkSigCryptoKey/)],
  ["origin fetch: headers, init, fetch", named(/^forward$/)],
  ["refusal", named(/^refuse$/)],
  ["base64url decode", named(/^(decode|decodeBase64|atob|fromBase64|decodeBase64url)$/)],
  ["JSON.parse", runtime(/^parse$/)],
  ["claims checks (jose and by hand)", named(/validateClaimsSet|jwtVerify|compactVerify|flattenedVerify|tenantSegment|^verify$/)],
  ["garbage collector", named(/^\(garbage collector\)$/)],
  ["workerd outside JavaScript", named(/^\(program\)$/)],
  ["the fetch handler's own JavaScript", (f) => f.url !== ""],
];

/**
 * Profiles the worker behind `inspectorPort` while `load()` runs (it returns wrk's result).
 * Writes the raw profile to `file` (open it in Chrome DevTools' Performance panel).
 */
export async function profileDuring(inspectorPort, file, load, fs, stageRules = GATE_STAGES) {
  const client = await connect(inspectorPort);
  try {
    await client.send("Profiler.enable");
    await client.send("Profiler.setSamplingInterval", { interval: 100 });
    await client.send("Profiler.start");
    const result = await load();
    const { profile } = await client.send("Profiler.stop");
    fs.writeFileSync(file, JSON.stringify(profile));
    const summary = summarize(profile, result.requests);
    summary.stages = stages(profile, result.requests, stageRules);
    return { result, summary };
  } finally {
    client.close();
  }
}
