// scripts/check.sh finds every problem the Worker would report: the same broken configurations
// go to both — as a wrangler.toml to the check, as bindings to the built Worker under workerd —
// and the problems each reports must be the same list.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { startGateway, TEST_SECRET } from "./support/gateway.mjs";
import { buildWithPolicy } from "./support/build.mjs";

const ROOT = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);
const dirs = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const GOOD = { ENTRA_TENANT_ID: TENANT, ENTRA_AUDIENCES: "api://orders", ORIGIN_URL: "https://origin.example.com", GATE_SECRET: TEST_SECRET };

/** A TOML value: numbers and booleans bare (wrangler passes them as such), strings quoted. */
const tomlValue = (v) => (typeof v === "string" ? JSON.stringify(v) : String(v));

/**
 * Writes `vars` (and the JWKS namespace unless `noJwks`) as a wrangler.toml whose build command
 * bundles `policy` (by default policy.toml, as build/ was built), runs the check.
 */
async function check(vars, { noJwks = false, policy = "policy.toml" } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "entra-gate-check-"));
  dirs.push(dir);
  const lines = [
    "[build]",
    `command = ${JSON.stringify(`bash scripts/build.sh --policy ${policy}`)}`,
    "[vars]",
    ...Object.entries(vars).map(([k, v]) => `${k} = ${tomlValue(v)}`),
  ];
  if (!noJwks) lines.push("", "[[kv_namespaces]]", 'binding = "JWKS"');
  writeFileSync(join(dir, "wrangler.toml"), `${lines.join("\n")}\n`);
  let stdout;
  let code = 0;
  try {
    ({ stdout } = await run("bash", [join(ROOT, "scripts/check.sh"), "--config", join(dir, "wrangler.toml"), "--json"], { cwd: ROOT }));
  } catch (error) {
    ({ stdout, code } = error);
  }
  return { code, ...JSON.parse(stdout) };
}

/** The problems the built Worker (`build`: another build's directory) logs for the same bindings. */
async function worker(vars, { build } = {}) {
  const logs = [];
  const gw = await startGateway(Object.fromEntries(Object.entries({ GATE_SECRET: undefined, ...vars })), { logs, build });
  try {
    const res = await gw.fetch("/anything", { headers: { authorization: "Bearer x" } });
    await res.text();
    if (res.status !== 500) return { status: res.status, problems: [] };
    for (let i = 0; i < 200; i++) {
      const line = logs.find((l) => l.includes('"event":"config_invalid"'));
      if (line) return { status: res.status, problems: JSON.parse(line).problems };
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error("no config_invalid line");
  } finally {
    await gw.stop();
  }
}

const BROKEN = [
  ["nothing set", { GATE_SECRET: TEST_SECRET }],
  ["bad tenant, Graph audience, plain-http origin", { ...GOOD, ENTRA_TENANT_ID: "contoso", ENTRA_AUDIENCES: "https://graph.microsoft.com", ORIGIN_URL: "http://origin.example.com" }],
  ["out-of-range and garbled settings", { ...GOOD, ENTRA_CLOCK_SKEW_SECONDS: "999", GATE_LOG_ALLOWED: "often", GATE_SHADOW_MODE: "yes", ENTRA_TOKEN_VERSIONS: "3.0" }],
  ["a number written without quotes", { ...GOOD, ENTRA_CLOCK_SKEW_SECONDS: 999, GATE_MAX_TOKEN_BYTES: 10 }],
  ["a broken policy", { ...GOOD, GATE_POLICY: JSON.stringify({ default: "maybe", routes: [{ name: "a", path: "/a/../b", require: { scopes: {} } }] }) }],
  ["multi-tenant without an allow-list", { ...GOOD, ENTRA_TENANT_ID: "organizations" }],
  ["a short secret", { ...GOOD, GATE_SECRET: "c2hvcnQ=" }],
  ["REVOCATIONS bound as text", { ...GOOD, REVOCATIONS: "yes please" }],
  ["dev headers as a word", { ...GOOD, GATE_DEV_CLIENT_HEADERS: "on", GATE_STRIP_HEADERS: "bad header" }],
  ["named origins: an unknown name, an unbound service", { ...GOOD, GATE_ORIGINS: JSON.stringify({ orders: "https://orders.example.com", billing: { service: "BILLING" } }), GATE_POLICY: JSON.stringify({ routes: [{ path: "/a/**", origin: "ordres" }] }) }],
  ["named origins that are not origins", { ...GOOD, GATE_ORIGINS: JSON.stringify({ Orders: "https://orders.example.com", plain: "http://orders.example.com", svc: { service: "1X" } }) }],
  ["a rate limit without its binding", { ...GOOD, GATE_POLICY: JSON.stringify({ routes: [{ path: "/a", rate_limit: { binding: "PER_APP", per: "app" } }] }) }],
];

for (const [what, vars] of BROKEN) {
  test(`check and Worker agree: ${what}`, async () => {
    const checked = await check(vars);
    const served = await worker(vars);
    assert.equal(served.status, 500, `${what}: the Worker refuses to serve`);
    assert.equal(checked.code, 1, `${what}: check.sh fails`);
    assert.ok(served.problems.length > 0);
    assert.deepEqual([...checked.problems].sort(), [...served.problems].sort(), what);
  });
}

test("a good configuration passes both, with warnings where it is risky", async () => {
  const checked = await check({ ...GOOD, GATE_DEV_CLIENT_HEADERS: "true" });
  assert.equal(checked.code, 0);
  assert.deepEqual(checked.problems, []);
  assert.ok(checked.warnings.some((w) => w.startsWith("GATE_DEV_CLIENT_HEADERS")), JSON.stringify(checked.warnings));
  assert.ok(checked.warnings.some((w) => w.startsWith("GATE_SECRET") && w.includes("plain text")));
  assert.ok(!checked.warnings.some((w) => w.startsWith("GATE_POLICY")), "policy.toml is the policy");
  const served = await worker({ ...GOOD, GATE_DEV_CLIENT_HEADERS: "true" });
  assert.notEqual(served.status, 500);
});

test("check and Worker agree on a broken policy file, and on a binding that overrides it", async () => {
  const file = "target/e2e-builds/check-broken-policy.toml";
  mkdirSync(join(ROOT, "target/e2e-builds"), { recursive: true });
  writeFileSync(join(ROOT, file), '[[routes]]\nname = "x"\npath = "/x/*/**"\nmethods = ["FETCH"]\nreport_only = "yes"\n');
  const build = await buildWithPolicy(file, "check-broken");
  const checked = await check(GOOD, { policy: file });
  const served = await worker(GOOD, { build });
  assert.equal(checked.code, 1);
  assert.equal(served.status, 500);
  assert.ok(checked.problems.length > 0 && checked.problems.every((p) => p.startsWith(`policy file: ${file}: `)), JSON.stringify(checked.problems));
  assert.deepEqual([...checked.problems].sort(), [...served.problems].sort());

  const override = { ...GOOD, GATE_POLICY: JSON.stringify({ default: "deny" }) };
  const overridden = await check(override, { policy: file });
  assert.equal(overridden.code, 0, JSON.stringify(overridden));
  assert.ok(overridden.warnings.some((w) => w === `GATE_POLICY: set, so the bundled policy file ${file} is not used`));
  assert.notEqual((await worker(override, { build })).status, 500);

  const missing = await check(GOOD, { policy: "no/such/policy.toml" });
  assert.equal(missing.code, 1);
  assert.ok(missing.problems.some((p) => p.startsWith("policy file: no/such/policy.toml")), JSON.stringify(missing.problems));
});

test("a missing JWKS namespace and a missing secret", async () => {
  const { GATE_SECRET, ...withoutSecret } = GOOD;
  const checked = await check(withoutSecret, { noJwks: true });
  assert.equal(checked.code, 1);
  assert.deepEqual(checked.problems, ["JWKS: the KV namespace binding for key sets is missing"]);
  // A secret lives in Cloudflare, not in wrangler.toml: its absence is a warning with the command.
  assert.ok(checked.warnings.some((w) => w.includes("wrangler secret put GATE_SECRET")));
});
