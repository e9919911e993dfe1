// Starts the repository's mock Entra tenant (tools/mock-tenant) on a free loopback port and
// gives tests a handle: its URL, minting, counters, failure modes, and a way to stop it by PID.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../../..");
const BINARY = join(ROOT, "target/release/mock-tenant");

async function waitFor(check, what, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function startMockTenant({ tenantId } = {}) {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} missing: build it with cargo build --release -p mock-tenant`);
  const state = mkdtempSync(join(tmpdir(), "mock-tenant-"));
  const portFile = join(state, "port");
  const args = ["serve", "--state", state, "--port", "0", "--port-file", portFile];
  if (tenantId) args.push("--tenant", tenantId);
  const child = spawn(BINARY, args, { stdio: ["ignore", "ignore", "inherit"] });
  const port = await waitFor(() => existsSync(portFile) && readFileSync(portFile, "utf8").trim(), "mock tenant port");
  const url = `http://127.0.0.1:${port}`;
  const info = await (await fetch(`${url}/_mock/tenant`)).json();

  const control = async (route, body) => {
    const res = await fetch(`${url}/_mock/${route}`, { method: "POST", body: JSON.stringify(body ?? {}) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`mock ${route}: ${res.status} ${text}`);
    return text;
  };

  return {
    url,
    tenantId: info.tenant_id,
    mint: (request = {}) => control("mint", request),
    setMode: (mode) => control("mode", mode),
    publish: (kid, published) => control("publish", { kid, published }),
    reset: () => control("reset"),
    stats: async () => (await fetch(`${url}/_mock/stats`)).json(),
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
      rmSync(state, { recursive: true, force: true });
    },
  };
}
