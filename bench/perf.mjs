// Where each worker's CPU goes, from `perf` instead of V8's inspector: every thread of the
// workerd process, native code included (BoringSSL's RSA, the runtime's C++, the kernel's TCP),
// with JavaScript and wasm frames named through V8's perf map. Reads what
// `BENCH_PERF=1 node bench/edge.mjs` recorded (target/bench/perf-<worker>-<workload>-<round>.data)
// and that run's CPU per request (target/bench/edge.json), and prints µs per request by part of
// the stack for each workload, then the gate's wasm by module. The flags the perf map needs slow
// every worker somewhat, so read the parts against each other, not against the ratio runs.
//
//   BENCH_PERF=1 BENCH_ROUNDS=1 BENCH_PROFILE=0 node bench/edge.mjs && node bench/perf.mjs
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
const OUT = path.join(ROOT, "target/bench");
const NAMED_WASM = path.join(ROOT, "target/worker/named/index_bg.wasm");
const edge = JSON.parse(fs.readFileSync(path.join(OUT, "edge.json"), "utf8"));

/** Function index → name, from the wasm's `name` section (V8's perf map gives indices only). */
function wasmNames(file) {
  const names = new Map();
  if (!fs.existsSync(file)) return names;
  const b = fs.readFileSync(file);
  const leb = (at) => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = b[at++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (byte < 0x80) return [value, at];
    }
  };
  let at = 8;
  while (at < b.length) {
    const id = b[at++];
    let size;
    [size, at] = leb(at);
    const end = at + size;
    if (id === 0) {
      let [length, p] = leb(at);
      const section = b.toString("utf8", p, p + length);
      p += length;
      while (section === "name" && p < end) {
        const sub = b[p++];
        let subSize;
        [subSize, p] = leb(p);
        const subEnd = p + subSize;
        if (sub === 1) {
          let count;
          [count, p] = leb(p);
          for (let i = 0; i < count; i++) {
            let index, nameLength;
            [index, p] = leb(p);
            [nameLength, p] = leb(p);
            names.set(index, b.toString("utf8", p, p + nameLength).replace(/\[[0-9a-f]{8,16}\]/g, ""));
            p += nameLength;
          }
        }
        p = subEnd;
      }
    }
    at = end;
  }
  return names;
}

const NAMES = wasmNames(NAMED_WASM);

/** The part of the stack a native or JIT symbol belongs to. */
function part(dso, symbol) {
  if (dso.startsWith("[kernel")) return "kernel (TCP, syscalls, page faults)";
  if (dso.startsWith("[JIT]")) {
    if (symbol.includes("wasm-function")) return "wasm (the gate's Rust)";
    return "JavaScript, optimised";
  }
  if (/^(_?_?bn_|BN_|sha256|RSA|rsa_|EVP_|CRYPTO_|OPENSSL|ecp_)/.test(symbol)) return "BoringSSL (RSA, SHA-256)";
  if (/tcmalloc|^TCMalloc/.test(symbol)) return "malloc (tcmalloc)";
  if (symbol.startsWith("Builtins_")) return "V8 built-ins and interpreter";
  if (/Scaveng|cppgc|Heap|Mark|Sweep|GC|GlobalHandles|Traced|Wrappable/.test(symbol)) return "V8 garbage collector and handles";
  if (symbol.startsWith("v8::")) return "V8, other";
  if (symbol.includes("workerd::api")) return "workerd's APIs (Headers, Request, fetch, crypto)";
  if (symbol.includes("workerd::jsg")) return "workerd's JavaScript bindings";
  if (/^kj::|capnp/.test(symbol)) return "kj and capnp (event loop, HTTP, strings)";
  if (dso.startsWith("lib")) return "libc";
  return "workerd, other";
}

/** Self time by symbol: [{ share, dso, symbol }], shares in percent of the recorded samples. */
function samples(file) {
  const text = execFileSync("perf", ["report", "-i", file, "--no-children", "--sort", "dso,sym", "-g", "none", "-q"], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
    stdio: ["ignore", "pipe", "ignore"],
  });
  const rows = [];
  for (const line of text.split("\n")) {
    const m = /^\s*([\d.]+)%\s+(\S.*?)\s+\[.\]\s+(.*)$/.exec(line);
    if (m) rows.push({ share: Number(m[1]), dso: m[2].trim(), symbol: m[3].trim() });
  }
  return rows;
}

const round = Math.min(...edge.runs.map((r) => r.round));
const cpuOf = (worker, workload) => edge.runs.find((r) => r.round === round && r.worker === worker && r.workload === workload)?.cpu_us_per_req;
const file = (worker, workload) => path.join(OUT, `perf-${worker}-${workload}-${round}.data`);
const WORKERS = ["entra-gate", "jose", "floor", "passthrough"].filter((w) => cpuOf(w, "unique") !== undefined && fs.existsSync(file(w, "unique")));

const fmt = (x) => (Number.isFinite(x) && x >= 0.05 ? x.toFixed(1) : "—");
const wasmByModule = {};
for (const workload of ["unique", "invalid", "reused"]) {
  const parts = {};
  for (const worker of WORKERS) {
    const cpu = cpuOf(worker, workload);
    const tally = (parts[worker] = new Map());
    for (const { share, dso, symbol } of samples(file(worker, workload))) {
      const us = (share / 100) * cpu;
      const name = part(dso, symbol);
      tally.set(name, (tally.get(name) ?? 0) + us);
      if (worker === "entra-gate" && name.startsWith("wasm")) {
        const index = /wasm-function\[(\d+)\]/.exec(symbol)?.[1];
        const full = NAMES.get(Number(index)) ?? `function ${index}`;
        const pieces = full.replace(/^</, "").split(/::|>| as /);
        const module = pieces[0].startsWith("entra_gate") ? pieces.slice(0, 3).join("::") : pieces[0];
        const byModule = (wasmByModule[workload] ??= new Map());
        byModule.set(module, (byModule.get(module) ?? 0) + us);
      }
    }
  }
  const order = [...parts["entra-gate"].entries()].sort((a, b) => b[1] - a[1]).map(([name]) => name);
  console.log(`#### ${workload} tokens: µs per request by part of the stack (perf, round ${round + 1})`);
  console.log();
  console.log(`| part | ${WORKERS.join(" | ")} |`);
  console.log(`|---|${WORKERS.map(() => "---:").join("|")}|`);
  for (const name of order) console.log(`| ${name} | ${WORKERS.map((w) => fmt(parts[w].get(name))).join(" | ")} |`);
  console.log(`| **CPU per request (this run)** | ${WORKERS.map((w) => `**${fmt(cpuOf(w, workload))}**`).join(" | ")} |`);
  console.log();
}
for (const [workload, byModule] of Object.entries(wasmByModule)) {
  const total = [...byModule.values()].reduce((a, b) => a + b, 0);
  console.log(`<details><summary>${workload} tokens: the gate's wasm (${total.toFixed(1)} µs/req) by module</summary>`);
  console.log();
  console.log(`| module or function | µs/req |`);
  console.log(`|---|---:|`);
  for (const [name, us] of [...byModule].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`| \`${name}\` | ${us.toFixed(2)} |`);
  console.log();
  console.log(`</details>`);
  console.log();
}
