// A record seeded by scripts/keys.sh (built by scripts/kv-record.mjs) is the record the worker
// writes itself: the worker reads it as valid and verifies with it without fetching anything.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startMockTenant } from "./support/mock-tenant.mjs";
import { startEchoOrigin } from "./support/echo-origin.mjs";
import { startGateway } from "./support/gateway.mjs";
import { buildRecord } from "../../scripts/kv-record.mjs";

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
async function afterOneRequest(key, record, check) {
  await tenant.reset();
  const logs = [];
  const gw = await startGateway(
    { ENTRA_TENANT_ID: tenant.tenantId, ENTRA_AUDIENCES: "api://entra-gate-dev", ORIGIN_URL: origin.url, ENTRA_AUTHORITY: tenant.url },
    { logs },
  );
  try {
    await (await gw.kv()).put(key, JSON.stringify(record));
    const res = await gw.fetch("/seeded", { headers: { authorization: `Bearer ${await tenant.mint({})}` } });
    assert.equal(res.status, 200, await res.text());
    await check(logs, gw);
  } finally {
    await gw.stop();
  }
}

test("a seeded record is read as valid and used without a fetch", async () => {
  const { key, record } = await buildRecord({ authority: tenant.url, tenant: tenant.tenantId });
  await afterOneRequest(key, record, async (logs) => {
    assert.deepEqual(events(logs, "kv_read").map((e) => [e.set, e.found]), [[record.set, "record"]]);
    assert.equal((await tenant.stats()).counts.total ?? 0, 0, "no fetch from the tenant");
    assert.equal(events(logs, "kv_write").length, 0);
  });
});

test("a seeded record with a changed document is refused as corrupt and refetched", async () => {
  const { key, record } = await buildRecord({ authority: tenant.url, tenant: tenant.tenantId });
  record.sources[0].jwks = record.sources[0].jwks.replace("mock-key-1", "mock-key-X");
  await afterOneRequest(key, record, async (logs, gw) => {
    assert.equal(events(logs, "kv_read")[0]?.found, "corrupt");
    assert.equal((await tenant.stats()).counts.total, 4, "v1 and v2 metadata and keys fetched again");
    // The tampered copy is replaced by the tenant's real documents (whose hash the tampered
    // record still claimed).
    const rewritten = JSON.parse(await (await gw.kv()).get(key));
    assert.ok(rewritten.sources[0].jwks.includes("mock-key-1"));
    assert.ok(!rewritten.sources[0].jwks.includes("mock-key-X"));
    assert.equal(rewritten.content_hash, record.content_hash);
  });
});
