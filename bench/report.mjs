// Turns target/bench/edge.json (bench/edge.mjs) and criterion's results for benches/core.rs
// into the results section of BENCHMARKS.md (between the markers; the rest of the file is
// left alone) and prints the same section. BENCH_CORE_SINCE (epoch seconds): only criterion
// results written since then count, so a stale result never passes for a fresh one.
import fs from "node:fs";
import path from "node:path";
import { GATE_STAGES, JOSE_STAGES, stages } from "./profile.mjs";

const ROOT = path.resolve(import.meta.dirname, "..");
const EDGE = path.join(ROOT, "target/bench/edge.json");
const CRITERION = path.join(ROOT, "target/criterion");
const DOC = path.join(ROOT, "BENCHMARKS.md");
const BEGIN = "<!-- bench.sh results: begin (generated, do not edit by hand) -->";
const END = "<!-- bench.sh results: end -->";

const edge = JSON.parse(fs.readFileSync(EDGE, "utf8"));
const since = Number(process.env.BENCH_CORE_SINCE ?? 0);

const PRESENT = new Set(edge.runs.map((r) => r.worker));
// The floor's rungs (BENCH_FLOOR=ladder) follow it, in the order they were measured.
const RUNGS = [...PRESENT].filter((w) => w.startsWith("floor+"));
const WORKERS = ["passthrough", "entra-gate", "entra-gate-lean", "jose", "jose-cached", "floor", ...RUNGS].filter((w) => PRESENT.has(w));
const WORKLOADS = ["reused", "unique", "invalid"];
const WORKLOAD_TEXT = {
  reused: "reused token",
  unique: "unique tokens",
  invalid: "invalid (bad signature)",
};

const median = (values) => {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
};
// A worker left out of the run (BENCH_ONLY) reads as not a number, so its ratios say "n/a".
const MISSING = { cpu_us_per_req: NaN, rps: NaN };
const run = (round, worker, workload) =>
  edge.runs.find((r) => r.round === round && r.worker === worker && r.workload === workload) ?? MISSING;
const rounds = [...new Set(edge.runs.map((r) => r.round))].sort((a, b) => a - b);
const perRound = (f) => rounds.map((round) => f(round));
const cost = (round, worker, workload) =>
  run(round, worker, workload).cpu_us_per_req - run(round, "passthrough", workload).cpu_us_per_req;

const fmt = (x, digits = 0) =>
  Number.isFinite(x) ? x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "n/a";
const lines = [];
const out = (s = "") => lines.push(s);

// ------------------------------------------------------------------ header
const o = edge.options;
const m = edge.machine;
const started = new Date(edge.started_at);
out(`Run of ${started.toISOString().replace("T", " ").slice(0, 16)} UTC: \`bash scripts/bench.sh\` with ` +
  `BENCH_ROUNDS=${o.rounds} BENCH_SECONDS=${o.seconds} BENCH_WARMUP=${o.warmup} BENCH_POOL=${o.pool} BENCH_CONNECTIONS=${o.connections} BENCH_PIN=${o.pin ? 1 : 0}.`);
out();
const worstRun = Math.max(...edge.runs.map((r) => r.others_share ?? 0));
const culprits = new Map();
for (const r of edge.runs) for (const p of r.others_top ?? []) culprits.set(p.comm, (culprits.get(p.comm) ?? 0) + p.cpu);
const culpritText = [...culprits]
  .filter(([, cpu]) => cpu >= 1)
  .sort((a, b) => b[1] - a[1])
  .slice(0, 4)
  .map(([comm, cpu]) => `${comm} ${fmt(cpu)} CPU-s`)
  .join(", ");
const busy = Math.max(m.busy_before, m.others_during ?? 0, worstRun / 2);
out(`- Machine: ${m.nproc} CPUs (\`nproc\`), ${m.cpu_model}. Processes other than the benchmark's used ` +
  `${fmt((m.others_during ?? NaN) * 100)}% of the machine while the edge benchmark measured (${fmt(worstRun * 100)}% in the worst run); ` +
  `it was ${fmt(m.busy_before * 100)}% busy just before (/proc/stat)` +
  (busy > 0.1
    ? ` — **the machine was not idle` +
      (m.busy_before_top?.length ? ` (before the run: ${m.busy_before_top.join(", ")})` : "") +
      (culpritText ? ` (during it: ${culpritText})` : "") +
      `: treat these numbers as noisy**.`
    : "."));
out(`- Software: workerd ${edge.versions.workerd.replace(/^workerd\s*/, "")}, ${edge.versions.wrk.replace(/ Copyright.*$/, "")}, Node ${edge.versions.node}, jose ${edge.versions.jose}; compatibility date ${edge.compatibility_date}.`);
out(`- Load: \`wrk -t1 -c${o.connections} --latency\`, ${o.seconds} s measured after ${o.warmup} s of warm-up per run; ` +
  `${rounds.length} rounds, each running every worker × workload (worker order rotated per round); medians over rounds.` +
  (o.pin ? " The worker under test was pinned to its own CPU; wrk, the origin and the mock tenant shared the other." : ""));
out(`- Tokens: ${fmt(edge.pool.unique)} unique tokens (${edge.pool.token_bytes} bytes each) minted by the mock tenant in ${fmt(edge.pool.mint_seconds, 1)} s; ` +
  `the unique and invalid pools are cycled in order, continuing across runs, so a token comes back only after ${fmt(edge.pool.unique)} others (entra-gate caches 4,096).`);
out(`- CPU: utime + stime of each worker's own workerd process (/proc/PID/stat, all threads) over the measured interval ÷ requests completed. ` +
  `Validation cost = a worker's CPU/request − the passthrough's CPU/request in the same round and workload. ` +
  `"Worker busy" = that CPU time ÷ wall time: near 100% the worker itself limited req/s; well below, wrk or the origin did.`);
out();

// ------------------------------------------------------------------ edge table
out(`### Edge: the built worker under workerd`);
out();
out(`| workload | worker | req/s | p50 ms | p99 ms | mean ms (c ÷ req/s) | CPU µs/req | validation cost µs/req | CPU µs/req per round | worker busy | gate cache hits | checks |`);
out(`|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---|`);
const failures = edge.runs.filter((r) => !r.ok);
/** A run during which other processes used more than a tenth of the machine. */
const noisy = (r) => (r.others_share ?? 0) > 0.1;
for (const workload of WORKLOADS) {
  for (const worker of WORKERS) {
    const runs = rounds.map((round) => run(round, worker, workload));
    const cpu = median(runs.map((r) => r.cpu_us_per_req));
    const validation = worker === "passthrough" ? NaN : median(perRound((round) => cost(round, worker, workload)));
    const hits =
      worker === "entra-gate"
        ? `${fmt(runs.reduce((a, r) => a + r.gate_cache_hits, 0))} / ${fmt(runs.reduce((a, r) => a + r.gate_decisions, 0))}`
        : "";
    const bad = runs.filter((r) => !r.ok);
    const expected = workload === "invalid" && worker !== "passthrough" ? "all 401" : "all 200";
    out(
      `| ${WORKLOAD_TEXT[workload]} | ${worker} | ${fmt(median(runs.map((r) => r.rps)))} | ${fmt(median(runs.map((r) => r.p50_ms)), 2)} | ` +
        `${fmt(median(runs.map((r) => r.p99_ms)), 2)} | ${fmt(median(runs.map((r) => r.littles_mean_ms)), 2)} | ${fmt(cpu, 1)} | ${worker === "passthrough" ? "—" : fmt(validation, 1)} | ` +
        `${runs.map((r) => fmt(r.cpu_us_per_req, 1) + (noisy(r) ? "*" : "")).join(", ")} | ${fmt(median(runs.map((r) => r.cpu_share * 100)))}% | ${hits} | ${bad.length ? `**${bad.length} run(s) failed**` : expected} |`,
    );
  }
}
out();

{
  // wrk's own latency clock: its mean should match Little's law (connections ÷ req/s).
  const ratio = median(edge.runs.filter((r) => r.wrk_mean_ms !== undefined).map((r) => r.wrk_mean_ms / r.littles_mean_ms));
  if (Number.isFinite(ratio) && (ratio > 1.5 || ratio < 0.67)) {
    out(`Latency: wrk's recorded mean latency is ${fmt(ratio, 1)}× what its own request count allows (Little's law: ` +
      `${o.connections} connections ÷ req/s), so on this machine its latency histogram is inflated by some samples: ` +
      `read its p50/p99 as indicative only (p99 above all); the "mean ms" column is exact.`);
    out();
  }
}
const noisyRuns = edge.runs.filter(noisy);
if (noisyRuns.length) {
  out(`\\* ${noisyRuns.length} of ${edge.runs.length} runs shared the machine with other processes (over 10% of it): ` +
    `their numbers are less reliable; medians include them.`);
  out();
}

// ------------------------------------------------------------------ ratios
// Issue 15's targets. A validation-cost ratio needs a peer whose cost is positive: a peer that
// refuses (no forward) can cost less than the passthrough that forwards, and then no ratio means
// anything ("n/a").
const costRatio = (worker, peer, workload) => (round) => {
  const theirs = cost(round, peer, workload);
  return theirs > 0 ? cost(round, worker, workload) / theirs : NaN;
};
const rpsRatio = (worker, workload) => (round) => run(round, worker, workload).rps / run(round, "passthrough", workload).rps;
const cpuRatio = (worker, other, workload) => (round) =>
  run(round, worker, workload).cpu_us_per_req / run(round, other, workload).cpu_us_per_req;
const atMost = (limit) => ({ target: `≤ ${limit}`, met: (v) => v <= limit });
const atLeast = (limit) => ({ target: `≥ ${limit}`, met: (v) => v >= limit });
const info = { target: "—", met: null };
/** How far the rounds spread around their median: half the range, as a share of the median. */
const noise = (values) => {
  const v = values.filter(Number.isFinite);
  const mid = median(v);
  return v.length > 1 && mid !== 0 ? (Math.max(...v) - Math.min(...v)) / 2 / Math.abs(mid) : NaN;
};
const ratioTable = (rows) => {
  out(`| ratio | value | noise (± half-range) | per round | target | |`);
  out(`|---|---:|---:|---|---|---|`);
  for (const r of rows) {
    const values = perRound(r.f);
    const v = median(values);
    const verdict = r.met === null ? "" : Number.isFinite(v) ? (r.met(v) ? "met" : "**missed**") : "n/a";
    const spread = noise(values);
    out(`| ${r.name} | ${fmt(v, 2)} | ${Number.isFinite(spread) ? `±${fmt(spread * 100)}%` : "n/a"} | ${values.map((x) => fmt(x, 2)).join(", ")} | ${r.target} | ${verdict} |`);
  }
  out();
};
out(`### Ratios, shipped default (median of the per-round ratios; issue 15's targets)`);
out();
ratioTable([
  { name: "unique tokens (a new token every request): validation cost ÷ jose's", f: costRatio("entra-gate", "jose", "unique"), ...atMost(0.9) },
  { name: "reused token: validation cost ÷ jose's", f: costRatio("entra-gate", "jose", "reused"), ...atMost(0.5) },
  { name: "invalid (bad signature): validation cost ÷ jose's", f: costRatio("entra-gate", "jose", "invalid"), ...atMost(0.5) },
  ...(PRESENT.has("jose-cached")
    ? [{ name: "reused token: validation cost ÷ jose-cached's (jose with its own token cache)", f: costRatio("entra-gate", "jose-cached", "reused"), ...info }]
    : []),
  { name: "reused token: req/s ÷ passthrough's", f: rpsRatio("entra-gate", "reused"), ...info },
  { name: "reused token: passthrough CPU/req ÷ entra-gate's (req/s per CPU)", f: cpuRatio("passthrough", "entra-gate", "reused"), ...info },
  { name: "invalid (bad signature): CPU/req ÷ passthrough's", f: cpuRatio("entra-gate", "passthrough", "invalid"), ...info },
]);
const BUDGET = 150 * 1024;
out(`wasm: \`build/index_bg.wasm\` is ${fmt(edge.wasm.raw)} B raw, ${fmt(edge.wasm.gzip)} B gzip -9 (${fmt(edge.wasm.gzip / 1024, 1)} KB) against ` +
  `the budget of 150 KB (${fmt(BUDGET)} B): ${edge.wasm.gzip <= BUDGET ? "met" : "**missed**"}.`);
out();
if (PRESENT.has("entra-gate-lean")) {
  // The lean profile: GATE_LOG_ALLOWED=none (denials still logged).
  out(`### Ratios, lean profile (GATE_LOG_ALLOWED=none), same run`);
  out();
  ratioTable([
    { name: "lean, reused token: req/s ÷ passthrough's", f: rpsRatio("entra-gate-lean", "reused"), ...atLeast(0.8) },
    { name: "lean, unique tokens: validation cost ÷ jose's", f: costRatio("entra-gate-lean", "jose", "unique"), ...atMost(0.67) },
    { name: "lean, reused token: validation cost ÷ jose's", f: costRatio("entra-gate-lean", "jose", "reused"), ...info },
    { name: "lean ÷ shipped default, reused token CPU/req (what the decision line costs)", f: cpuRatio("entra-gate-lean", "entra-gate", "reused"), ...info },
  ]);
}
if (PRESENT.has("floor")) {
  // bench/workers/floor.js: WebCrypto's verify and a forward, no claim, header or log line. Its
  // cost over jose's is the least any validator's ratio can be in this harness.
  out(`### The floor: a signature check alone (bench/workers/floor.js), same run`);
  out();
  ratioTable([
    { name: "floor, unique tokens: validation cost ÷ jose's", f: costRatio("floor", "jose", "unique"), ...info },
    { name: "floor, invalid (bad signature): validation cost ÷ jose's", f: costRatio("floor", "jose", "invalid"), ...info },
    { name: "unique tokens: entra-gate's validation cost ÷ the floor's", f: costRatio("entra-gate", "floor", "unique"), ...info },
    { name: "invalid (bad signature): entra-gate's validation cost ÷ the floor's", f: costRatio("entra-gate", "floor", "invalid"), ...info },
    ...RUNGS.flatMap((rung) => [
      { name: `${rung}, unique tokens: validation cost ÷ jose's`, f: costRatio(rung, "jose", "unique"), ...info },
      { name: `${rung}, invalid (bad signature): CPU/req − the passthrough's, µs`, f: (round) => cost(round, rung, "invalid"), ...info },
    ]),
    { name: "floor, invalid (bad signature): CPU/req − the passthrough's, µs", f: (round) => cost(round, "floor", "invalid"), ...info },
    { name: "jose, invalid (bad signature): CPU/req − the passthrough's, µs", f: (round) => cost(round, "jose", "invalid"), ...info },
    { name: "entra-gate, invalid (bad signature): CPU/req − the passthrough's, µs", f: (round) => cost(round, "entra-gate", "invalid"), ...info },
  ]);
}
for (const other of [...new Set(edge.runs.map((r) => r.worker))].filter((w) => /^entra-gate-[b-z]$/.test(w))) {
  // BENCH_GATE_B: more builds of the gate in the same run; each one's CPU over A's, per round.
  out();
  out(`### A/B: ${other} (BENCH_GATE_B) against entra-gate, same run`);
  out();
  out(`| workload | CPU/req B ÷ A | per round | validation cost A µs/req | validation cost B µs/req |`);
  out(`|---|---:|---|---:|---:|`);
  for (const workload of ["reused", "unique", "invalid"]) {
    const values = perRound((r) => run(r, other, workload).cpu_us_per_req / run(r, "entra-gate", workload).cpu_us_per_req);
    const costs = (worker) => median(perRound((r) => cost(r, worker, workload)));
    out(`| ${workload} | ${fmt(median(values), 3)} | ${values.map((x) => fmt(x, 3)).join(", ")} | ${fmt(costs("entra-gate"), 1)} | ${fmt(costs(other), 1)} |`);
  }
}
if (failures.length) {
  out(`**${failures.length} run(s) failed their checks** (unexpected statuses or socket errors): ` +
    failures.map((f) => `round ${f.round + 1} ${f.workload} ${f.worker} (${f.non_2xx} non-2xx, ${f.socket_errors} socket errors)`).join("; "));
  out();
}

// ------------------------------------------------------------------ profile
if (edge.profiles) {
  out(`### Where entra-gate's time goes (V8 CPU profile)`);
  out();
  out(`A separate entra-gate with the same settings, its wasm keeping function names and workerd's inspector ` +
    `attached, loaded by wrk for ${o.seconds} s per workload under V8's sampling profiler (bench/profile.mjs). ` +
    `Self time per request, from the isolate's thread only: workerd's own work outside JavaScript calls is ` +
    `"(program)" or missing, and console.log costs more with the inspector attached. Raw profiles: ` +
    `\`target/bench/profile-*.cpuprofile\` (Chrome DevTools, Performance panel).`);
  out();
  const workloads = WORKLOADS.filter((w) => edge.profiles[w]);
  out(`| part of the stack | ${workloads.map((w) => `${WORKLOAD_TEXT[w]} µs/req`).join(" | ")} |`);
  out(`|---|${workloads.map(() => "---:").join("|")}|`);
  const names = [...new Set(workloads.flatMap((w) => edge.profiles[w].categories.map((c) => c.name)))];
  for (const name of names) {
    const cell = (w) => edge.profiles[w].categories.find((c) => c.name === name);
    out(`| ${name} | ${workloads.map((w) => (cell(w) ? `${fmt(cell(w).us_per_request, 1)} (${fmt(cell(w).share * 100)}%)` : "—")).join(" | ")} |`);
  }
  out();
  // Stages are worked out again from the raw profiles, so the report follows bench/profile.mjs's
  // current rules.
  const restage = (profiles, rules) => {
    for (const w of workloads) {
      const file = profiles?.[w]?.file && path.join(ROOT, profiles[w].file);
      if (file && fs.existsSync(file)) profiles[w].stages = stages(JSON.parse(fs.readFileSync(file, "utf8")), profiles[w].requests, rules);
    }
  };
  restage(edge.profiles, GATE_STAGES);
  restage(edge.jose_profiles, JOSE_STAGES);
  if (edge.jose_profiles && workloads.every((w) => edge.profiles[w].stages && edge.jose_profiles[w]?.stages)) {
    // Per stage of the work, the gate beside jose (both profiled the same way; see bench/profile.mjs
    // for the rules that put a sample in a stage: the innermost frame a rule names decides).
    out(`#### Per stage: entra-gate beside jose (profiled µs/req, idle excluded)`);
    out();
    out(`| stage | ${workloads.map((w) => `gate, ${WORKLOAD_TEXT[w]}`).join(" | ")} | ${workloads.map((w) => `jose, ${WORKLOAD_TEXT[w]}`).join(" | ")} |`);
    out(`|---|${[...workloads, ...workloads].map(() => "---:").join("|")}|`);
    const cell = (profiles, w, name) => {
      const stage = profiles[w].stages.find((x) => x.name === name);
      return stage ? fmt(stage.us_per_request, 1) : "—";
    };
    const total = (profiles, w) => profiles[w].stages.reduce((sum, x) => sum + x.us_per_request, 0);
    const stageNames = [...new Set(workloads.flatMap((w) => [...edge.profiles[w].stages, ...edge.jose_profiles[w].stages].map((x) => x.name)))];
    for (const name of stageNames) {
      out(`| ${name} | ${workloads.map((w) => cell(edge.profiles, w, name)).join(" | ")} | ${workloads.map((w) => cell(edge.jose_profiles, w, name)).join(" | ")} |`);
    }
    out(`| **all (busy)** | ${workloads.map((w) => `**${fmt(total(edge.profiles, w), 1)}**`).join(" | ")} | ${workloads.map((w) => `**${fmt(total(edge.jose_profiles, w), 1)}**`).join(" | ")} |`);
    out();
  }
  for (const w of workloads) {
    out(`<details><summary>${WORKLOAD_TEXT[w]}: the 15 functions with the most self time</summary>`);
    out();
    out(`| function | µs/req | share |`);
    out(`|---|---:|---:|`);
    for (const f of edge.profiles[w].functions.slice(0, 15)) {
      out(`| \`${f.name.replaceAll("|", "\\|").replaceAll("`", "'")}\` | ${fmt(f.us_per_request, 1)} | ${fmt(f.share * 100, 1)}% |`);
    }
    out();
    out(`</details>`);
    out();
  }
}

// ------------------------------------------------------------------ criterion
const core = [];
const walk = (dir) => {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(p);
    else if (entry.name === "benchmark.json" && path.basename(path.dirname(p)) === "new") {
      if (fs.statSync(p).mtimeMs / 1000 < since) continue;
      const meta = JSON.parse(fs.readFileSync(p, "utf8"));
      if (meta.group_id !== "core") continue;
      const est = JSON.parse(fs.readFileSync(path.join(path.dirname(p), "estimates.json"), "utf8"));
      core.push({ id: meta.full_id, typical: est.slope ?? est.mean, median: est.median });
    }
  }
};
walk(CRITERION);
const ORDER = [
  ["core/token_parse", "`UntrustedToken::parse`: size, segments, strict base64url, header rules"],
  ["core/signature_rs256_rust", "`jws::verify_signature` with `RustVerifier` (pure-Rust RSA-2048; the worker uses WebCrypto)"],
  ["core/claims_validate", "`claims::validate` on a `SignedPayload`: times, version, tenant, issuer, key issuer, audience"],
  ["core/gate_intake_verify_rust", "`gate::intake` + `gate::verify` with `RustVerifier`: header → verified identity"],
  ["core/policy_route_authorize", "`Policy::route_for` + `authorize`, wrangler.toml's example policy, GET /api/items/42"],
  ["core/token_cache_hit", "`TokenCache::get` hit (the whole token hashed and compared): what a reused token costs instead of verification"],
];
const ns = (x) => (x >= 1e6 ? `${fmt(x / 1e6, 2)} ms` : x >= 1e3 ? `${fmt(x / 1e3, 2)} µs` : `${fmt(x, 1)} ns`);
out(`### Core, natively (criterion, \`cargo bench --bench core -- --warm-up-time 1 --measurement-time 2\`)`);
out();
if (!core.length) {
  out(`No criterion results from this run.`);
} else {
  out(`| benchmark | time (95% CI) | median | what it measures |`);
  out(`|---|---|---:|---|`);
  const known = new Map(ORDER);
  const sorted = [...core].sort((a, b) => {
    const ia = ORDER.findIndex(([id]) => id === a.id);
    const ib = ORDER.findIndex(([id]) => id === b.id);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  });
  for (const c of sorted) {
    const ci = c.typical.confidence_interval;
    out(`| ${c.id} | ${ns(c.typical.point_estimate)} (${ns(ci.lower_bound)} – ${ns(ci.upper_bound)}) | ${ns(c.median.point_estimate)} | ${known.get(c.id) ?? ""} |`);
  }
}
out();

// ------------------------------------------------------------------ write
const section = lines.join("\n");
const TEMPLATE = `# Benchmarks\n\n${BEGIN}\n${END}\n`;
let doc = fs.existsSync(DOC) ? fs.readFileSync(DOC, "utf8") : TEMPLATE;
if (!doc.includes(BEGIN) || !doc.includes(END)) doc = `${doc.trimEnd()}\n\n## Latest run\n\n${BEGIN}\n${END}\n`;
const before = doc.slice(0, doc.indexOf(BEGIN) + BEGIN.length);
const after = doc.slice(doc.indexOf(END));
fs.writeFileSync(DOC, `${before}\n${section}\n${after}`);
console.log(section);
console.log(`\n(written to ${path.relative(process.cwd(), DOC) || DOC})`);
