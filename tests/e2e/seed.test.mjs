// A record seeded by scripts/keys.sh (built by scripts/kv-record.mjs) is the record the worker
// writes itself: the worker reads it as valid and verifies with it without fetching anything.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startMockTenant } from "./support/mock-tenant.mjs";
import { startEchoOrigin } from "./support/echo-origin.mjs";
import { startGateway } from "./support/gateway.mjs";
import { buildRecord, seal, unseal } from "../../scripts/kv-record.mjs";
import { TEST_SECRET } from "./support/environment.mjs";

let tenant;
let origin;
before(async () => {
  tenant = await startMockTenant();
  origin = await startEchoOrigin();
});
after(async () => {
  await origin?.close();
  await tenant?.stop();
});

const events = (logs, name) => logs.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).filter((e) => e.event === name);

/**
 * A fresh gateway whose KV holds `record` under `key`, after one request with a valid token;
 * `check` looks at the answer and the logs before the gateway stops.
 */
async function afterOneRequest(key, text, check) {
  await tenant.reset();
  const logs = [];
  const gw = await startGateway(
    {
      ENTRA_TENANT_ID: tenant.tenantId,
      ENTRA_AUDIENCES: "api://entra-gate-dev",
      ORIGIN_URL: origin.url,
      ENTRA_AUTHORITY: tenant.url,
    },
    { logs },
  );
  try {
    await (await gw.kv()).put(key, text);
    const res = await gw.fetch("/seeded", { headers: { authorization: `Bearer ${await tenant.mint({})}` } });
    assert.equal(res.status, 200, await res.text());
    await check(logs, gw);
  } finally {
    await gw.stop();
  }
}

test("a seeded record is read as valid and used without a fetch", async () => {
  const { key, record, text } = await buildRecord({ authority: tenant.url, tenant: tenant.tenantId, secret: TEST_SECRET });
  await afterOneRequest(key, text, async (logs) => {
    assert.deepEqual(events(logs, "kv_read").map((e) => [e.set, e.found]), [[record.set, "record"]]);
    assert.equal((await tenant.stats()).counts.total ?? 0, 0, "no fetch from the tenant");
    assert.equal(events(logs, "kv_write").length, 0);
  });
});

test("a seeded record with a changed document is refused and refetched", async () => {
  const { key, record, text } = await buildRecord({ authority: tenant.url, tenant: tenant.tenantId, secret: TEST_SECRET });
  for (const [what, tampered] of [
    // Edited after sealing: the seal no longer fits.
    ["edited", text.replace("mock-key-1", "mock-key-X")],
    // Edited and sealed again, but with a secret that is not the gateway's.
    [
      "resealed with another secret",
      seal(key, JSON.parse(JSON.stringify(record).replace("mock-key-1", "mock-key-X")), Buffer.alloc(32, 1).toString("base64")),
    ],
  ]) {
    await afterOneRequest(key, tampered, async (logs, gw) => {
      assert.equal(events(logs, "kv_record_rejected").length, 1, what);
      assert.equal((await tenant.stats()).counts.total, 4, `${what}: v1 and v2 metadata and keys fetched again`);
      // The tampered copy is replaced by the tenant's real documents, sealed by the gateway.
      const rewritten = unseal(key, await (await gw.kv()).get(key), TEST_SECRET);
      assert.ok(rewritten.genuine, what);
      assert.ok(rewritten.record.sources[0].jwks.includes("mock-key-1"));
      assert.ok(!rewritten.record.sources[0].jwks.includes("mock-key-X"));
      assert.equal(rewritten.record.content_hash, record.content_hash);
    });
  }
});
