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
 * Profiles the worker behind `inspectorPort` while `load()` runs (it returns wrk's result).
 * Writes the raw profile to `file` (open it in Chrome DevTools' Performance panel).
 */
export async function profileDuring(inspectorPort, file, load, fs) {
  const client = await connect(inspectorPort);
  try {
    await client.send("Profiler.enable");
    await client.send("Profiler.setSamplingInterval", { interval: 100 });
    await client.send("Profiler.start");
    const result = await load();
    const { profile } = await client.send("Profiler.stop");
    fs.writeFileSync(file, JSON.stringify(profile));
    return { result, summary: summarize(profile, result.requests) };
  } finally {
    client.close();
  }
}
