// The edge benchmark: three workers under workerd itself (`workerd serve`, one process each, a
// generated config, no Miniflare entry worker, no wrangler proxy), one shared origin (its own
// workerd process serving a fixed answer), wrk on loopback, three workloads, interleaved rounds.
// Writes every run to target/bench/edge.json; bench/report.mjs turns it into BENCHMARKS.md.
// Run through scripts/bench.sh, which installs and builds what this needs.
//
// Settings (environment): BENCH_ROUNDS (3), BENCH_SECONDS (4, measured per run), BENCH_WARMUP
// (1, seconds before each measured run), BENCH_POOL (8000 unique tokens), BENCH_CONNECTIONS (16),
// BENCH_PIN (1: with 2+ CPUs, the worker under test gets the last CPU to itself and wrk, the
// origin and the mock tenant share the others, so the worker never waits behind the load
// generator; 0: let the scheduler place everything), BENCH_PROFILE (1: afterwards, profile
// entra-gate under each workload with V8's CPU profiler, see bench/profile.mjs; 0: skip).
import { spawn, execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { GATE_STAGES, JOSE_STAGES, profileDuring } from "./profile.mjs";

const execFileP = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "..");
const OUT = path.join(ROOT, "target/bench");
const RUN = path.join(OUT, "run");
const LUA = path.join(ROOT, "bench/wrk/tokens.lua");
const MOCK = path.join(ROOT, "target/release/mock-tenant");
const AUDIENCE = "api://entra-gate-dev";
const PATH_UNDER_TEST = "/api/items/42";
/** entra-gate remembers this many verified tokens per isolate (src/edge/mod.rs). */
const GATE_TOKEN_CACHE = 4096;

function hasTaskset() {
  try {
    execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const setting = (name, fallback) => {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${v} is not a positive number`);
  return n;
};
const opts = {
  rounds: setting("BENCH_ROUNDS", 3),
  seconds: setting("BENCH_SECONDS", 4),
  warmup: setting("BENCH_WARMUP", 1),
  pool: setting("BENCH_POOL", 8000),
  connections: setting("BENCH_CONNECTIONS", 16),
  pin: process.env.BENCH_PIN !== "0" && os.availableParallelism() >= 2 && hasTaskset(),
};
if (opts.pool <= GATE_TOKEN_CACHE + 2 * opts.connections) {
  throw new Error(`BENCH_POOL must exceed the gate's token cache (${GATE_TOKEN_CACHE}) or unique tokens would hit it`);
}

const WORKERD = (await import("workerd")).default.default;
// BENCH_PERF=1: each measured run is also recorded by `perf record` (the worker's process only),
// into target/bench/perf-<worker>-<workload>-<round>.data; read with `perf report -i <file>`.
// The flags it needs slow the worker a little: its numbers are for the breakdown, not the ratios.
const PERF = process.env.BENCH_PERF === "1";
const WORKERD_REAL = fs.realpathSync(WORKERD);
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim());
const log = (...a) => console.log("  ", ...a);

// ---------------------------------------------------------------- processes we start (and stop)
const LAST_CPU = os.availableParallelism() - 1;
const CPUS = {
  worker: String(LAST_CPU),
  rest: LAST_CPU === 1 ? "0" : `0-${LAST_CPU - 1}`,
};
/** taskset execs the command, so the PID stays that of the command itself. */
const pinned = (where, command, args) =>
  opts.pin ? ["taskset", ["-c", CPUS[where], command, ...args]] : [command, args];

const children = new Set();
function start(command, args, logFile, where = "rest") {
  const fd = fs.openSync(logFile, "a");
  const child = spawn(...pinned(where, command, args), { stdio: ["ignore", fd, fd] });
  fs.closeSync(fd);
  children.add(child);
  child.on("exit", () => children.delete(child));
  return child;
}
function stopAll() {
  for (const child of children) {
    try {
      process.kill(child.pid, "SIGTERM");
    } catch {}
  }
}
process.on("exit", stopAll);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    stopAll();
    process.exit(130);
  });
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

async function waitForPort(port, child, logFile, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`process exited (${child.exitCode}); log:\n${fs.readFileSync(logFile, "utf8")}`);
    }
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on ${port} after ${timeoutMs} ms; log:\n${fs.readFileSync(logFile, "utf8")}`);
}

/** utime + stime of the whole process (all threads), in clock ticks. */
function cpuTicks(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  return Number(fields[11]) + Number(fields[12]);
}

/** Ticks all CPUs together spent running processes (user + nice + system; interrupts and
 * steal are left out: no process is charged for them), from /proc/stat. */
function systemBusyTicks() {
  const cpu = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  return cpu[0] + cpu[1] + cpu[2];
}

/** This process and the children it has reaped (every wrk run), in clock ticks. */
function selfTicks() {
  const stat = fs.readFileSync("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
}

/** Every process's CPU ticks, by PID, with its name. */
function processTicks() {
  const out = new Map();
  for (const pid of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      out.set(pid, { comm, ticks: cpuTicks(pid) });
    } catch {}
  }
  return out;
}

/** How busy the machine is over `ms` (share of all CPUs) and which processes keep it busy. */
async function machineBusy(ms) {
  const a = systemBusyTicks();
  const before = processTicks();
  await new Promise((r) => setTimeout(r, ms));
  const after = processTicks();
  const busy = (systemBusyTicks() - a) / CLK_TCK / (ms / 1000) / os.availableParallelism();
  const top = [...after]
    .map(([pid, { comm, ticks }]) => ({ pid, comm, share: (ticks - (before.get(pid)?.ticks ?? ticks)) / CLK_TCK / (ms / 1000) }))
    .filter((p) => p.share >= 0.05)
    .sort((x, y) => y.share - x.share)
    .slice(0, 5)
    .map((p) => `${p.comm} (PID ${p.pid}) ${(p.share * 100).toFixed(0)}%`);
  return { busy, top };
}

// ---------------------------------------------------------------- workerd configurations
const capnpString = (s) => JSON.stringify(String(s));

/** One workerd process: `main` on 127.0.0.1:port, outbound fetch to loopback only. */
function writeConfig(name, { port, modules, bindings = [], kv = false, compatibilityDate }) {
  const dir = path.join(RUN, name);
  fs.mkdirSync(dir, { recursive: true });
  const moduleLines = modules.map((m) => {
    const base = path.basename(m.file);
    fs.copyFileSync(m.file, path.join(dir, base));
    return `(name = ${capnpString(m.name ?? base)}, ${m.type} = embed ${capnpString(base)})`;
  });
  const bindingLines = bindings.map((b) =>
    b.kv ? `(name = ${capnpString(b.name)}, kvNamespace = "kv")` : `(name = ${capnpString(b.name)}, text = ${capnpString(b.text)})`,
  );
  const services = [
    `(name = "main", worker = (
      modules = [${moduleLines.join(", ")}],
      compatibilityDate = ${capnpString(compatibilityDate)},
      bindings = [${bindingLines.join(", ")}],
      globalOutbound = "loopback",
    ))`,
    `(name = "loopback", network = (allow = ["local"]))`,
  ];
  if (kv) {
    fs.copyFileSync(path.join(ROOT, "bench/workers/kv.js"), path.join(dir, "kv.js"));
    services.push(
      `(name = "kv", worker = (modules = [(name = "kv.js", esModule = embed "kv.js")], compatibilityDate = ${capnpString(compatibilityDate)}))`,
    );
  }
  // BENCH_PERF=1: V8 writes /tmp/perf-PID.map, so `perf report` names JavaScript and wasm frames.
  const v8Flags = PERF ? `\n  v8Flags = ["--perf-basic-prof", "--interpreted-frames-native-stack"],` : "";
  const config = `# Generated by bench/edge.mjs.
using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (${v8Flags}
  services = [
    ${services.join(",\n    ")},
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
`;
  const file = path.join(dir, "config.capnp");
  fs.writeFileSync(file, config);
  return file;
}

async function startWorkerd(name, spec, where, extraArgs = []) {
  const port = await freePort();
  const config = writeConfig(name, { ...spec, port });
  const logFile = path.join(RUN, `${name}.log`);
  fs.writeFileSync(logFile, "");
  const child = start(WORKERD, ["serve", ...extraArgs, config], logFile, where);
  await waitForPort(port, child, logFile);
  // The PID whose CPU we read must be workerd itself (not a launcher) with nothing under it.
  const exe = fs.readlinkSync(`/proc/${child.pid}/exe`);
  if (exe !== WORKERD_REAL) throw new Error(`${name}: PID ${child.pid} runs ${exe}, not ${WORKERD_REAL}`);
  const threads = fs.readdirSync(`/proc/${child.pid}/task`).length;
  const affinity = (/^Cpus_allowed_list:\s*(.*)$/m.exec(fs.readFileSync(`/proc/${child.pid}/status`, "utf8")) ?? [])[1];
  const grandchildren = fs
    .readdirSync(`/proc/${child.pid}/task`)
    .flatMap((tid) => fs.readFileSync(`/proc/${child.pid}/task/${tid}/children`, "utf8").trim().split(/\s+/))
    .filter(Boolean);
  if (grandchildren.length) throw new Error(`${name}: workerd ${child.pid} has children ${grandchildren}`);
  return { name, port, pid: child.pid, child, logFile, threads, affinity, url: `http://127.0.0.1:${port}` };
}

// ---------------------------------------------------------------- wrk
async function wrk(port, tokensFile, offset, seconds) {
  const args = [
    "-t1",
    `-c${opts.connections}`,
    `-d${seconds}s`,
    "--latency",
    "-s",
    LUA,
    `http://127.0.0.1:${port}`,
    "--",
    tokensFile,
    String(offset),
  ];
  const { stdout } = await execFileP(...pinned("rest", "wrk", args), { maxBuffer: 4 << 20 });
  const line = stdout.split("\n").find((l) => l.startsWith("WRK_RESULT "));
  if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
  return JSON.parse(line.slice("WRK_RESULT ".length));
}

// ---------------------------------------------------------------- main
fs.rmSync(RUN, { recursive: true, force: true });
fs.mkdirSync(RUN, { recursive: true });
const startedAt = new Date();
const { busy: busyBefore, top: topBefore } = await machineBusy(1500);
log(`machine busy before start: ${(busyBefore * 100).toFixed(0)}% of ${os.cpus().length} CPUs`);
log(opts.pin ? `pinning: workers under test on CPU ${CPUS.worker}; wrk, origin, mock tenant on CPU ${CPUS.rest}` : "no CPU pinning");
if (busyBefore > 0.1) log(`warning: the machine is busy: ${topBefore.join(", ") || "short-lived processes"}`);

// Mock tenant.
if (!fs.existsSync(MOCK)) throw new Error(`${MOCK} missing: cargo build --release -p mock-tenant`);
const tenantState = fs.mkdtempSync(path.join(os.tmpdir(), "bench-tenant-"));
process.on("exit", () => fs.rmSync(tenantState, { recursive: true, force: true }));
const tenantPortFile = path.join(tenantState, "port");
const tenantLog = path.join(RUN, "mock-tenant.log");
const tenant = start(MOCK, ["serve", "--state", tenantState, "--port", "0", "--port-file", tenantPortFile], tenantLog);
for (let i = 0; !fs.existsSync(tenantPortFile) || !fs.readFileSync(tenantPortFile, "utf8").trim(); i++) {
  if (i > 400 || tenant.exitCode !== null) throw new Error(`mock tenant did not start:\n${fs.readFileSync(tenantLog, "utf8")}`);
  await new Promise((r) => setTimeout(r, 50));
}
const tenantUrl = `http://127.0.0.1:${fs.readFileSync(tenantPortFile, "utf8").trim()}`;
const tenantId = (await (await fetch(`${tenantUrl}/_mock/tenant`)).json()).tenant_id;
log(`mock tenant ${tenantId} at ${tenantUrl}`);

// Tokens: minted by the mock tenant (POST /_mock/mint), each with its own `uti` so every token
// is distinct. One connection per token: tiny_http with keep-alive answers ~6x slower here.
// The tenant signs one token at a time (about 1.5 ms each), so a few requests in flight suffice.
function mintOne(uti) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${tenantUrl}/_mock/mint`,
      { method: "POST", agent: false, headers: { connection: "close", "content-type": "application/json" } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => (res.statusCode === 200 ? resolve(body.trim()) : reject(new Error(`mint: ${res.statusCode} ${body}`))));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify({ claims: { uti } }));
  });
}
async function mint(count, prefix) {
  const tokens = new Array(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      tokens[i] = await mintOne(`${prefix}${String(i).padStart(22 - prefix.length, "0")}`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, lane));
  return tokens;
}
let t0 = Date.now();
const reused = (await mint(1, "R"))[0];
const unique = await mint(opts.pool, "U");
const mintSeconds = (Date.now() - t0) / 1000;
if (new Set(unique).size !== unique.length) throw new Error("minted tokens are not unique");
log(`minted ${unique.length + 1} tokens in ${mintSeconds.toFixed(1)} s`);
// Invalid: each unique token with one base64url character in the middle of its signature
// changed. Still a well-formed RS256 JWS of the right length for a published kid, so every
// worker gets as far as the RSA verification, which fails.
const invalid = unique.map((token) => {
  const [h, p, s] = token.split(".");
  const at = s.length >> 1;
  return `${h}.${p}.${s.slice(0, at)}${s[at] === "A" ? "B" : "A"}${s.slice(at + 1)}`;
});
const files = {
  reused: path.join(RUN, "tokens-reused.txt"),
  unique: path.join(RUN, "tokens-unique.txt"),
  invalid: path.join(RUN, "tokens-invalid.txt"),
};
fs.writeFileSync(files.reused, `${reused}\n`);
fs.writeFileSync(files.unique, `${unique.join("\n")}\n`);
fs.writeFileSync(files.invalid, `${invalid.join("\n")}\n`);

// Workers.
const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(fs.readFileSync(path.join(ROOT, "wrangler.toml"), "utf8"))[1];
const originSpec = { compatibilityDate, modules: [{ type: "esModule", file: path.join(ROOT, "bench/workers/origin.js") }] };
const origin = await startWorkerd("origin", originSpec, "rest");
const originBody = await (await fetch(`${origin.url}${PATH_UNDER_TEST}`)).text();

const bundle = (source, name) => {
  const out = path.join(RUN, name);
  execFileSync(path.join(ROOT, "node_modules/.bin/esbuild"), [
    path.join(ROOT, source),
    "--bundle",
    "--format=esm",
    "--platform=neutral",
    "--log-level=warning",
    `--outfile=${out}`,
  ]);
  return out;
};
const joseBundle = bundle("bench/workers/jose.js", "jose-peer.js");
const joseCachedBundle = bundle("bench/workers/jose-cached.js", "jose-cached-peer.js");

const wasmBuilt = path.join(ROOT, "build/index_bg.wasm");
const specs = {
  passthrough: {
    compatibilityDate,
    modules: [{ type: "esModule", file: path.join(ROOT, "bench/workers/passthrough.js") }],
    bindings: [{ name: "ORIGIN_URL", text: origin.url }],
  },
  "entra-gate": {
    compatibilityDate,
    kv: true,
    modules: [
      { type: "esModule", file: path.join(ROOT, "build/index.js") },
      { type: "wasm", file: wasmBuilt },
    ],
    bindings: [
      { name: "ENTRA_TENANT_ID", text: tenantId },
      { name: "ENTRA_AUDIENCES", text: AUDIENCE },
      { name: "ORIGIN_URL", text: origin.url },
      { name: "ENTRA_AUTHORITY", text: tenantUrl },
      // A benchmark-only secret (base64 of 32 bytes): seals the KV key records.
      { name: "GATE_SECRET", text: Buffer.alloc(32, 42).toString("base64") },
      { name: "JWKS", kv: true },
    ],
  },
  jose: {
    compatibilityDate,
    modules: [{ type: "esModule", file: joseBundle }],
    bindings: [
      { name: "JWKS_URL", text: `${tenantUrl}/${tenantId}/discovery/v2.0/keys` },
      { name: "ISSUER", text: `${tenantUrl}/${tenantId}/v2.0` },
      { name: "AUDIENCE", text: AUDIENCE },
      { name: "ORIGIN_URL", text: origin.url },
    ],
  },
};
// The second peer configuration: jose with its own cache of verified tokens.
specs["jose-cached"] = { ...specs.jose, modules: [{ type: "esModule", file: joseCachedBundle }] };
// The floor: a signature check and nothing else (bench/workers/floor.js), to show how far below
// jose any validator can get in this harness. BENCH_FLOOR=0 leaves it out.
// BENCH_FLOOR=ladder adds its rungs: the floor plus, one after another, what the gate's contract
// costs besides the signature (identity headers, the request id, the decision line).
if (process.env.BENCH_FLOOR !== "0") {
  specs.floor = { ...specs.jose, modules: [{ type: "esModule", file: path.join(ROOT, "bench/workers/floor.js") }] };
  if (process.env.BENCH_FLOOR === "ladder") {
    for (const adds of ["headers", "headers,id", "headers,id,line"]) {
      specs[`floor+${adds.replaceAll(",", "+")}`] = { ...specs.floor, bindings: [...specs.floor.bindings, { name: "FLOOR_ADDS", text: adds }] };
    }
  }
}
// The lean profile (issue 15): the same build as an operator runs it who samples allowed-request
// decision lines away (denials are still logged). BENCH_LEAN=0 leaves it out.
if (process.env.BENCH_LEAN !== "0") {
  specs["entra-gate-lean"] = {
    ...specs["entra-gate"],
    bindings: [...specs["entra-gate"].bindings, { name: "GATE_LOG_ALLOWED", text: "none" }],
  };
}
// BENCH_GATE_B=<dir with index.js and index_bg.wasm>[,<dir>...]: more builds of the gate measured
// in the same run (interleaved like the others), for an A/B of one change each (entra-gate-b,
// entra-gate-c, ...); the report prints each against the first.
for (const [i, dir] of (process.env.BENCH_GATE_B ?? "").split(",").filter(Boolean).entries()) {
  const resolved = path.resolve(dir);
  specs[`entra-gate-${String.fromCharCode(98 + i)}`] = {
    ...specs["entra-gate"],
    modules: [
      { type: "esModule", file: path.join(resolved, "index.js") },
      { type: "wasm", file: path.join(resolved, "index_bg.wasm") },
    ],
  };
}
// BENCH_ONLY=<worker>,...: only these (an A/B needs no peer; "passthrough" is always kept,
// every cost is measured against it).
const only = (process.env.BENCH_ONLY ?? "").split(",").filter(Boolean);
if (only.length) for (const name of Object.keys(specs)) if (name !== "passthrough" && !only.includes(name)) delete specs[name];
const WORKERS = Object.keys(specs);
const WORKLOADS = ["reused", "unique", "invalid"];
const servers = {};
for (const name of WORKERS) servers[name] = await startWorkerd(name, specs[name], "worker");
// The shipped build, whether or not this run measures it (BENCH_ONLY may leave it out).
const gateWasm = wasmBuilt;
const wasm = {
  raw: fs.statSync(gateWasm).size,
  gzip: execFileSync("gzip", ["-9", "-c", gateWasm], { maxBuffer: 16 << 20 }).length,
};
for (const s of [origin, ...Object.values(servers)]) {
  log(`${s.name.padEnd(12)} workerd PID ${s.pid} (${s.threads} threads, CPUs ${s.affinity}) on ${s.url}`);
}

// Sanity: every worker answers as expected before anything is measured. The last pool token
// is used so the first runs (which start at the pool's beginning) cannot hit the gate's cache.
const probe = async (worker, token) => {
  const res = await fetch(`${servers[worker].url}${PATH_UNDER_TEST}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.text() };
};
const expectStatus = (worker, workload) => (workload === "invalid" && worker !== "passthrough" ? 401 : 200);
for (const worker of WORKERS) {
  for (const [workload, token] of [
    ["reused", reused],
    ["unique", unique.at(-1)],
    ["invalid", invalid.at(-1)],
  ]) {
    const { status, body } = await probe(worker, token);
    const want = expectStatus(worker, workload);
    if (status !== want) throw new Error(`${worker} answered ${status} to a ${workload} token, expected ${want}: ${body}`);
    if (want === 200 && body !== originBody) throw new Error(`${worker}: the origin's answer did not come through: ${body}`);
    if (worker.startsWith("entra-gate") && workload === "invalid" && JSON.parse(body).reason !== "invalid_signature") {
      throw new Error(`entra-gate refused the invalid token for another reason: ${body}`);
    }
  }
}
log("sanity checks passed (200 + origin body for valid tokens, 401 invalid_signature for bad signatures)");

/** The gate logs one JSON line per request; counts decisions and cache hits since the last call. */
function drainGateLog() {
  const file = servers["entra-gate"].logFile;
  const text = fs.readFileSync(file, "utf8");
  fs.truncateSync(file, 0); // workerd appends (O_APPEND), so it continues at the new end
  let decisions = 0;
  let cached = 0;
  for (const line of text.split("\n")) {
    if (!line.includes('"event":"decision"')) continue;
    decisions++;
    if (line.includes('"cached":true')) cached++;
  }
  return { decisions, cached };
}

const ours = () => [tenant.pid, origin.pid, ...Object.values(servers).map((x) => x.pid)].reduce((a, pid) => a + cpuTicks(pid), 0) + selfTicks();
const systemBefore = systemBusyTicks();
const oursBefore = ours();
const runs = [];
const offsets = Object.fromEntries(WORKERS.map((w) => [w, { reused: 0, unique: 0, invalid: 0 }]));
const totalRuns = opts.rounds * WORKERS.length * WORKLOADS.length;
t0 = Date.now();
for (let round = 0; round < opts.rounds; round++) {
  // A fresh process per worker each round (BENCH_RESTART=0: one for the whole run): a process
  // can be a few percent faster or slower than the next for its whole life (memory layout, JIT
  // decisions), a bias that more rounds of the same process never average out.
  if (round > 0 && process.env.BENCH_RESTART !== "0") {
    for (const name of WORKERS) {
      const old = servers[name];
      const exited = new Promise((resolve) => old.child.once("exit", resolve));
      process.kill(old.pid, "SIGTERM");
      await exited;
      servers[name] = await startWorkerd(name, specs[name], "worker");
    }
  }
  // Rotate the order each round so no worker always runs first or last.
  const order = WORKERS.map((_, i) => WORKERS[(i + round) % WORKERS.length]);
  for (const workload of WORKLOADS) {
    for (const worker of order) {
      const server = servers[worker];
      const file = files[workload];
      const warm = await wrk(server.port, file, offsets[worker][workload], opts.warmup);
      offsets[worker][workload] += warm.sent;
      if (worker === "entra-gate") drainGateLog();
      const systemA = systemBusyTicks();
      const oursA = ours();
      const othersA = processTicks();
      const before = cpuTicks(server.pid);
      const originBefore = cpuTicks(origin.pid);
      const recording = PERF
        ? start("perf", ["record", "-F", "4999", "-g", "-p", String(server.pid), "-o", path.join(OUT, `perf-${worker}-${workload}-${round}.data`)], path.join(RUN, "perf.log"))
        : null;
      const result = await wrk(server.port, file, offsets[worker][workload], opts.seconds);
      if (recording) {
        const stopped = new Promise((resolve) => recording.once("exit", resolve));
        recording.kill("SIGINT");
        await stopped;
      }
      const after = cpuTicks(server.pid);
      const originAfter = cpuTicks(origin.pid);
      const others = (systemBusyTicks() - systemA - (ours() - oursA)) / CLK_TCK;
      const ourPids = new Set([process.pid, tenant.pid, origin.pid, ...Object.values(servers).map((x) => x.pid)].map(String));
      const othersTop = [...processTicks()]
        .filter(([pid]) => !ourPids.has(pid) && othersA.has(pid))
        .map(([pid, { comm, ticks }]) => ({ pid, comm, cpu: (ticks - othersA.get(pid).ticks) / CLK_TCK }))
        .filter((p) => p.cpu >= 0.01 * result.duration_us / 1e6)
        .sort((x, y) => y.cpu - x.cpu)
        .slice(0, 3);
      offsets[worker][workload] += result.sent;
      const seconds = result.duration_us / 1e6;
      const socketErrors = result.errors.connect + result.errors.read + result.errors.write + result.errors.timeout;
      const refusedExpected = expectStatus(worker, workload) === 401;
      const run = {
        round,
        workload,
        worker,
        requests: result.requests,
        seconds,
        rps: result.requests / seconds,
        p50_ms: result.latency_us.p50 / 1000,
        p99_ms: result.latency_us.p99 / 1000,
        wrk_mean_ms: result.latency_us.mean / 1000,
        // Little's law for a closed loop of `connections` clients: exact, whatever wrk's clock does.
        littles_mean_ms: (opts.connections / (result.requests / seconds)) * 1000,
        cpu_us_per_req: (((after - before) / CLK_TCK) * 1e6) / result.requests,
        cpu_share: (after - before) / CLK_TCK / seconds,
        origin_cpu_us_per_req: (((originAfter - originBefore) / CLK_TCK) * 1e6) / result.requests,
        others_share: Math.max(0, others / seconds / os.availableParallelism()),
        // Processes that were there for the whole run (short-lived ones, e.g. compilers, are only
        // in others_share), with their CPU seconds during it.
        others_top: othersTop,
        non_2xx: result.errors.status,
        socket_errors: socketErrors,
        ok: socketErrors === 0 && result.errors.status === (refusedExpected ? result.requests : 0),
      };
      if (worker === "entra-gate") {
        const { decisions, cached } = drainGateLog();
        run.gate_decisions = decisions;
        run.gate_cache_hits = cached;
      }
      runs.push(run);
      log(
        `[${runs.length}/${totalRuns}] round ${round + 1} ${workload.padEnd(7)} ${worker.padEnd(11)} ` +
          `${run.rps.toFixed(0).padStart(6)} req/s  p50 ${run.p50_ms.toFixed(2)} ms  p99 ${run.p99_ms.toFixed(2)} ms  ` +
          `${run.cpu_us_per_req.toFixed(1).padStart(6)} µs CPU/req (${(run.cpu_share * 100).toFixed(0)}% of a CPU)` +
          (run.gate_decisions !== undefined ? `  cache hits ${run.gate_cache_hits}/${run.gate_decisions}` : "") +
          (run.others_share > 0.05
            ? `  (others busy ${(run.others_share * 100).toFixed(0)}%${othersTop.map((p) => `, ${p.comm} ${((p.cpu / seconds) * 100).toFixed(0)}%`).join("")})`
            : "") +
          (run.ok ? "" : `  CHECK FAILED: ${run.non_2xx} non-2xx, ${socketErrors} socket errors`),
      );
    }
  }
}
const measureSeconds = (Date.now() - t0) / 1000;
// CPU that processes other than ours used while we measured, as a share of the whole machine.
const othersShare = (systemBusyTicks() - systemBefore - (ours() - oursBefore)) / CLK_TCK / measureSeconds / os.availableParallelism();
log(`other processes used ${(Math.max(0, othersShare) * 100).toFixed(0)}% of the machine while we measured`);
const { busy: busyAfter } = await machineBusy(1000);

// ---------------------------------------------------------------- where entra-gate's time goes
// A separate gate (same settings, the wasm with its function names, workerd's inspector on) is
// loaded with each workload under V8's CPU profiler. Not part of the measured figures above.
const NAMED_WASM = path.join(ROOT, "target/worker/named/index_bg.wasm");
const NAMED_JS = path.join(ROOT, "target/worker/named/index.js");
let profiles = null;
let joseProfiles = null;
const profileEach = async (name, spec, stageRules) => {
  const inspectorPort = await freePort();
  const profiled = await startWorkerd(name, spec, "worker", [`--inspector-addr=127.0.0.1:${inspectorPort}`]);
  const results = {};
  for (const workload of WORKLOADS) {
    let offset = 0;
    offset += (await wrk(profiled.port, files[workload], offset, opts.warmup)).sent;
    const file = path.join(OUT, `${name === "entra-gate-profiled" ? "profile" : `profile-${name}`}-${workload}.cpuprofile`);
    const load = () => wrk(profiled.port, files[workload], offset, opts.seconds);
    const { summary } = await profileDuring(inspectorPort, file, load, fs, stageRules);
    results[workload] = { file: path.relative(ROOT, file), ...summary };
    const top = summary.categories.map((c) => `${c.name} ${(c.share * 100).toFixed(0)}%`).join(", ");
    log(`profile ${name} ${workload.padEnd(7)} ${summary.requests} requests: ${top}`);
  }
  process.kill(profiled.pid, "SIGTERM");
  return results;
};
if (process.env.BENCH_PROFILE !== "0" && fs.existsSync(NAMED_WASM)) {
  // The bundle with its names kept, when scripts/build.sh wrote one for this wasm.
  const gate = specs["entra-gate"];
  const js = fs.existsSync(NAMED_JS) ? { type: "esModule", file: NAMED_JS } : gate.modules[0];
  const spec = { ...gate, modules: [js, { type: "wasm", file: NAMED_WASM }] };
  profiles = await profileEach("entra-gate-profiled", spec, GATE_STAGES);
  // The peer, profiled the same way, for the per-stage comparison.
  if (specs.jose) joseProfiles = await profileEach("jose-profiled", specs.jose, JOSE_STAGES);
}

const versions = {
  workerd: execFileSync(WORKERD, ["--version"]).toString().trim(),
  wrk: (() => {
    try {
      execFileSync("wrk", ["--version"]);
    } catch (e) {
      return String(e.stdout ?? "").split("\n")[0].trim();
    }
    return "";
  })(),
  node: process.version,
  jose: JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules/jose/package.json"), "utf8")).version,
};
const cpuModel = (/^model name\s*:\s*(.*)$/m.exec(fs.readFileSync("/proc/cpuinfo", "utf8")) ?? [])[1] ?? "unknown";
const result = {
  started_at: startedAt.toISOString(),
  options: opts,
  machine: {
    nproc: os.availableParallelism(),
    cpu_model: cpuModel,
    busy_before: busyBefore,
    busy_before_top: topBefore,
    busy_after: busyAfter,
    others_during: Math.max(0, othersShare),
    loadavg_end: os.loadavg(),
  },
  versions,
  compatibility_date: compatibilityDate,
  clk_tck: CLK_TCK,
  pool: { unique: unique.length, mint_seconds: mintSeconds, token_bytes: reused.length },
  wasm,
  pids: Object.fromEntries([origin, ...Object.values(servers)].map((s) => [s.name, { pid: s.pid, threads: s.threads, cpus: s.affinity }])),
  measure_seconds: measureSeconds,
  runs,
  profiles,
  jose_profiles: joseProfiles,
};
fs.writeFileSync(path.join(OUT, "edge.json"), `${JSON.stringify(result, null, 2)}\n`);
log(`measured ${runs.length} runs in ${measureSeconds.toFixed(0)} s; results in target/bench/edge.json`);
stopAll();
const failed = runs.filter((r) => !r.ok).length;
if (failed) {
  console.error(`${failed} runs failed their status checks (see CHECK FAILED above)`);
  process.exitCode = 1;
}
