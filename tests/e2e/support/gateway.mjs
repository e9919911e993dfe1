// Runs the built worker (build/index.js + its wasm) under workerd through Miniflare, with the
// bindings a test chooses. Tests talk to it with `dispatchFetch`, which goes through workerd's
// real HTTP pipeline.
import { Miniflare } from "miniflare";
import { resolve } from "node:path";
import { existsSync } from "node:fs";

const ROOT = resolve(import.meta.dirname, "../../..");
export const WORKER_SCRIPT = resolve(ROOT, "build/index.js");
/** The tests' GATE_SECRET (32 bytes, base64); scripts/kv-record.mjs seals records with it. */
export const TEST_SECRET = "dGVzdC1vbmx5LWdhdGUtc2VjcmV0LTMyLWJ5dGVzISE=";

/**
 * `kvPersist`: a directory shared by gateways that should see the same KV (a cold isolate
 * after a warm one); by default each gateway has its own empty KV.
 * `kvNamespaces`: further KV namespace bindings besides JWKS (e.g. ["REVOCATIONS"]); read or
 * write them with `kv(name)`.
 */
/** The built worker as Miniflare loads it. */
export const WORKER = {
  modules: true,
  scriptPath: WORKER_SCRIPT,
  modulesRules: [
    { type: "ESModule", include: ["**/*.js"] },
    { type: "CompiledWasm", include: ["**/*.wasm"] },
  ],
  compatibilityDate: "2026-08-01",
};

/**
 * Every gateway gets the tests' secret unless a test says otherwise; a binding given as
 * `undefined` is left out (to test a missing one).
 */
export const withTestSecret = (given) =>
  Object.fromEntries(Object.entries({ GATE_SECRET: TEST_SECRET, ...given }).filter(([, value]) => value !== undefined));

/**
 * Stands in for the Analytics Engine dataset: every data point the gateway writes becomes a
 * `{"event":"data_point",...}` line in the logs (a wrapped binding runs in the gateway's isolate).
 */
const METRICS_SPY = {
  name: "metrics-spy",
  modules: true,
  script: `export default function () {
    return { writeDataPoint(point) { console.log(JSON.stringify({ event: "data_point", ...point })); } };
  }`,
};

/**
 * `metricsSpy`: bind GATE_METRICS to METRICS_SPY, so tests read the counters from the logs.
 * `build`: a directory with another build of the worker (support/build.mjs), instead of build/.
 */
export async function startGateway(given, { logs, kvPersist, kvNamespaces = [], metricsSpy = false, build, ratelimits, serviceBindings, wrappedBindings, workers = [] } = {}) {
  const scriptPath = build ? resolve(build, "index.js") : WORKER_SCRIPT;
  if (!existsSync(scriptPath)) throw new Error(`${scriptPath} missing: run the release build first`);
  const gate = {
    ...WORKER,
    scriptPath,
    bindings: withTestSecret(given),
    kvNamespaces: ["JWKS", ...kvNamespaces],
    ...(ratelimits ? { ratelimits } : {}),
    ...(serviceBindings ? { serviceBindings } : {}),
    ...(wrappedBindings ? { wrappedBindings } : {}),
  };
  const shared = {
    ...(kvPersist ? { kvPersist } : {}),
    cf: false,
    handleRuntimeStdio: logTo(logs),
  };
  // The gate first: dispatchFetch goes to the first worker.
  const gateWorker = metricsSpy
    ? { name: "gate", ...gate, wrappedBindings: { ...wrappedBindings, GATE_METRICS: { scriptName: METRICS_SPY.name } } }
    : { name: "gate", ...gate };
  const others = [...(metricsSpy ? [METRICS_SPY] : []), ...workers];
  const mf = new Miniflare(others.length ? { ...shared, workers: [gateWorker, ...others] } : { ...gate, ...shared });
  // The workerd socket, for raw HTTP requests (repeated headers, absolute-form targets, unnormalised paths).
  const url = await mf.ready;
  let stopped;
  return {
    url,
    fetch: (path, init) => mf.dispatchFetch(`http://gateway.test${path}`, init),
    /** Runs the Cron Trigger's handler once. */
    scheduled: async (cron = "*/15 * * * *") => (await mf.getWorker()).scheduled({ cron }),
    /** The JWKS namespace, or another one given in `kvNamespaces`. */
    kv: (name = "JWKS") => mf.getKVNamespace(name),
    /** Idempotent: a test may stop a gateway early and the environment stops it again. */
    stop: () => (stopped ??= mf.dispose()),
  };
}

/** Miniflare's `handleRuntimeStdio`, appending both streams to `logs` (see `captureLines`). */
export const logTo = (logs) => (stdout, stderr) => {
  captureLines(stdout, logs);
  captureLines(stderr, logs);
};

/**
 * Appends the runtime's output to `logs` one whole line at a time: a chunk may end inside a
 * line (a burst of requests logs faster than the pipe is read), so the unfinished tail is kept
 * until its newline arrives and every JSON line reaches `logs` whole.
 */
function captureLines(stream, logs) {
  let pending = "";
  stream.on("data", (chunk) => {
    const lines = (pending + chunk.toString()).split("\n");
    pending = lines.pop();
    if (logs) logs.push(...lines.filter(Boolean));
  });
  stream.on("end", () => {
    if (logs && pending) logs.push(pending);
    pending = "";
  });
}
