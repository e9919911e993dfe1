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
export async function startGateway(given, { logs, kvPersist, kvNamespaces = [] } = {}) {
  if (!existsSync(WORKER_SCRIPT)) throw new Error(`${WORKER_SCRIPT} missing: run the release build first`);
  // Every gateway gets the tests' secret unless a test says otherwise; a binding given as
  // `undefined` is left out (to test a missing one).
  const bindings = Object.fromEntries(
    Object.entries({ GATE_SECRET: TEST_SECRET, ...given }).filter(([, value]) => value !== undefined),
  );
  const mf = new Miniflare({
    modules: true,
    scriptPath: WORKER_SCRIPT,
    modulesRules: [
      { type: "ESModule", include: ["**/*.js"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2026-08-01",
    bindings,
    kvNamespaces: ["JWKS", ...kvNamespaces],
    ...(kvPersist ? { kvPersist } : {}),
    cf: false,
    handleRuntimeStdio(stdout, stderr) {
      for (const stream of [stdout, stderr]) {
        // A chunk may end inside a line (a burst of requests logs faster than the pipe is
        // read): keep the unfinished tail until its newline arrives, so every JSON line
        // reaches `logs` whole.
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
    },
  });
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
