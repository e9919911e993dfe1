// Load test of the built worker, loopback only (run through scripts/loadtest.sh, which builds
// what is missing). Starts the mock tenant, an echo origin (its own process) and the gateway
// (workerd via Miniflare on 127.0.0.1:GATE_PORT, with a policy that has a scope route and a
// step-up route), then keeps CONCURRENCY requests in flight for DURATION seconds: valid,
// invalid, under-scoped and step-up tokens. Every answer is checked against the decision it
// must get (status and reason); wrong decisions and 5xx must both be zero. The workerd process's
// RSS is sampled every second. Prints: requests, req/s, p50/p99 latency, wrong decisions, 5xx,
// RSS start/peak/end. Exit status 1 if any decision was wrong or any answer a 5xx.
import { Miniflare } from "miniflare";
import { spawn } from "node:child_process";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { startMockTenant } from "../tests/e2e/support/mock-tenant.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const PORT = Number(process.env.GATE_PORT ?? 8797);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 64);
const DURATION = Math.min(Number(process.env.DURATION ?? 30), 45);
const AUDIENCE = "api://entra-gate-dev";
const API_CLIENT_ID = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
const POLICY = {
  api_client_id: API_CLIENT_ID,
  optional_claims: ["acrs"],
  routes: [
    { name: "read items", methods: ["GET"], path: "/api/items/**", require: { scopes: { any_of: ["items.read"] } } },
    { name: "admin", path: "/api/admin/**", require: { token_kind: "user" }, step_up: { auth_context: "c1" } },
  ],
};

const children = [];
let tenant;
let mf;

async function stopAll() {
  await mf?.dispose().catch(() => {});
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  await tenant?.stop().catch(() => {});
}
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => stopAll().finally(() => process.exit(130)));
}

function startEchoProcess() {
  const child = spawn(process.execPath, [resolve(ROOT, "tests/e2e/support/echo-origin.mjs"), "0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise((resolveUrl, reject) => {
    child.once("exit", (code) => reject(new Error(`echo origin exited (${code})`)));
    child.stdout.on("data", (chunk) => {
      const match = /listening on (http:\/\/\S+)/.exec(chunk.toString());
      if (match) resolveUrl(match[1]);
    });
  });
}

/** Descendant processes of this one named workerd (Miniflare spawns it). */
function workerdPids() {
  const parents = new Map();
  const names = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      names.set(Number(entry), stat.slice(stat.indexOf("(") + 1, close));
      parents.set(Number(entry), Number(stat.slice(close + 2).split(" ")[1]));
    } catch {}
  }
  const isDescendant = (pid) => {
    for (let p = parents.get(pid); p; p = parents.get(p)) if (p === process.pid) return true;
    return false;
  };
  return [...names].filter(([pid, name]) => name.startsWith("workerd") && isDescendant(pid)).map(([pid]) => pid);
}

const rssMb = (pids) =>
  pids.reduce((sum, pid) => {
    try {
      const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      return sum + Number(kb ?? 0) / 1024;
    } catch {
      return sum;
    }
  }, 0);

/** Mints `count` distinct tokens of one kind (a per-token uti keeps them distinct). */
async function mintMany(kind, count, request) {
  const out = [];
  for (let i = 0; i < count; i += 16) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + 16); j++) {
      batch.push(tenant.mint({ ...request, claims: { ...(request.claims ?? {}), uti: `load-${kind}-${j}` } }));
    }
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

const flipSignature = (token) => {
  const at = token.length - 10;
  return `${token.slice(0, at)}${token[at] === "A" ? "B" : "A"}${token.slice(at + 1)}`;
};

async function main() {
  const started = performance.now();
  if (!existsSync(resolve(ROOT, "build/index.js"))) throw new Error("build/ missing: run scripts/build.sh");
  tenant = await startMockTenant();
  const originUrl = await startEchoProcess();

  mf = new Miniflare({
    modules: true,
    scriptPath: resolve(ROOT, "build/index.js"),
    modulesRules: [
      { type: "ESModule", include: ["**/*.js"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2026-08-01",
    host: "127.0.0.1",
    port: PORT,
    bindings: {
      ENTRA_TENANT_ID: tenant.tenantId,
      ENTRA_AUDIENCES: `${AUDIENCE},${API_CLIENT_ID}`,
      ORIGIN_URL: originUrl,
      ENTRA_AUTHORITY: tenant.url,
      GATE_POLICY: JSON.stringify(POLICY),
      // A load-test-only secret (base64 of 32 bytes): seals the KV key records.
      GATE_SECRET: Buffer.alloc(32, 42).toString("base64"),
    },
    kvNamespaces: ["JWKS"],
    cf: false,
    handleRuntimeStdio(stdout, stderr) {
      // One decision line per request: read and dropped (a full pipe would stall workerd).
      stdout.resume();
      stderr.resume();
    },
  });
  const base = (await mf.ready).toString().replace(/\/$/, "");
  const pids = workerdPids();

  // The request mix: [weight, label, tokens, path, expected status, expected reason].
  const [read, underScoped, stepUp, steppedUp, noCp1, expired, wrongAud] = await Promise.all([
    mintMany("read", 1200, { claims: { scp: "items.read" } }),
    mintMany("under", 300, { claims: { scp: "profile.read" } }),
    mintMany("stepup", 300, { claims: { xms_cc: ["cp1"] } }),
    mintMany("stepped", 300, { claims: { xms_cc: ["cp1"], acrs: ["c1"] } }),
    mintMany("nocp1", 100, {}),
    mintMany("expired", 200, { lifetime: -3600 }),
    mintMany("aud", 200, { aud: "api://someone-else" }),
  ]);
  const badSignature = read.slice(0, 200).map(flipSignature);
  const mix = [
    [40, "valid read", read, "/api/items/", 200, null],
    [10, "under-scoped", underScoped, "/api/items/", 403, "insufficient_scope"],
    [10, "step-up needed", stepUp, "/api/admin/", 401, "step_up_required"],
    [10, "stepped up", steppedUp, "/api/admin/", 200, null],
    [4, "step-up, client without cp1", noCp1, "/api/admin/", 403, "step_up_unsupported_client"],
    [8, "expired", expired, "/api/items/", 401, "token_expired"],
    [6, "bad signature", badSignature, "/api/items/", 401, "invalid_signature"],
    [6, "wrong audience", wrongAud, "/api/items/", 401, "invalid_audience"],
    [3, "garbage token", ["not-a-jwt"], "/api/items/", 401, "malformed_jws"],
    [3, "no token", [null], "/api/items/", 401, "token_missing"],
  ];
  const schedule = mix.flatMap((entry) => Array(entry[0]).fill(entry));

  const rss = [];
  const sample = () => rss.push(rssMb(pids));
  sample();
  const sampler = setInterval(sample, 1000);

  const latencies = [];
  const byLabel = new Map(mix.map(([, label]) => [label, 0]));
  const wrong = [];
  let fiveXx = 0;
  let errors = 0;
  let sent = 0;
  const loadStart = performance.now();
  const deadline = loadStart + DURATION * 1000;

  async function worker(w) {
    for (let i = w; performance.now() < deadline; i += CONCURRENCY) {
      const n = sent++;
      const [, label, tokens, prefix, status, reason] = schedule[n % schedule.length];
      const token = tokens[Math.floor(n / schedule.length) % tokens.length];
      const headers = token === null ? {} : { authorization: `Bearer ${token}` };
      const t0 = performance.now();
      try {
        const res = await fetch(`${base}${prefix}${n}`, { headers });
        const text = await res.text();
        latencies.push(performance.now() - t0);
        byLabel.set(label, byLabel.get(label) + 1);
        if (res.status >= 500) fiveXx++;
        let gotReason = null;
        if (res.headers.get("x-echo-origin") !== "1") {
          try {
            gotReason = JSON.parse(text).reason ?? "(none)";
          } catch {
            gotReason = "(unparsable body)";
          }
        }
        if (res.status !== status || gotReason !== reason) {
          wrong.push(`${label}: expected ${status} ${reason}, got ${res.status} ${gotReason}`);
        }
      } catch (e) {
        errors++;
        wrong.push(`${label}: ${e.message}`);
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  const elapsed = (performance.now() - loadStart) / 1000;
  sample();
  clearInterval(sampler);

  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  const total = latencies.length + errors;
  const peak = Math.max(...rss);
  console.log(`load test: ${DURATION}s at concurrency ${CONCURRENCY} against 127.0.0.1:${PORT} (workerd pid ${pids.join(",") || "?"})`);
  console.log(`  requests        ${total} (${(total / elapsed).toFixed(0)} req/s)`);
  console.log(`  latency         p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms, max ${latencies.at(-1)?.toFixed(1)} ms`);
  console.log(`  wrong decisions ${wrong.length}`);
  console.log(`  5xx answers     ${fiveXx}`);
  console.log(`  client errors   ${errors}`);
  console.log(`  workerd RSS     start ${rss[0].toFixed(1)} MB, peak ${peak.toFixed(1)} MB, end ${rss.at(-1).toFixed(1)} MB (${rss.length} samples)`);
  console.log(`  RSS every 5 s   ${rss.filter((_, i) => i % 5 === 0).map((m) => m.toFixed(0)).join(" ")} MB`);
  console.log(`  mix             ${[...byLabel].map(([l, c]) => `${l} ${c}`).join(", ")}`);
  console.log(`  total time      ${((performance.now() - started) / 1000).toFixed(1)} s`);
  for (const line of [...new Set(wrong)].slice(0, 10)) console.log(`  WRONG: ${line}`);
  return wrong.length === 0 && fiveXx === 0 && pids.length > 0;
}

let ok = false;
try {
  ok = await main();
} catch (e) {
  console.error(e);
} finally {
  await stopAll();
}
process.exit(ok ? 0 : 1);
