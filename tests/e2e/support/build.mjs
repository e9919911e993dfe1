// Builds the Worker with another policy file (scripts/build.sh --policy FILE --out DIR): the
// wasm is reused, only the bundle is made again, so this takes a few seconds.
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";

const ROOT = resolve(import.meta.dirname, "../../..");
const run = promisify(execFile);

/** Returns the directory holding index.js and index_bg.wasm, for `startGateway`'s `build`. */
export async function buildWithPolicy(policyFile, name) {
  const out = resolve(ROOT, "target/e2e-builds", name);
  await run("bash", [resolve(ROOT, "scripts/build.sh"), "--policy", policyFile, "--out", out], { cwd: ROOT });
  return out;
}
