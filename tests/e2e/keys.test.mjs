// Key management end to end: the built worker under workerd, keys from the mock tenant, and KV
// shared between gateways to play warm and cold isolates (a gateway is one isolate; a second
// gateway on the same kvPersist directory is a cold isolate of the same deployment).
// Every count is observed, never inferred: Entra traffic from the mock tenant's counters,
// KV traffic and decisions from the worker's own JSON log lines.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEnvironment, TEST_SECRET } from "./support/environment.mjs";
import { seal, unseal } from "../../scripts/kv-record.mjs";

let env;
const tempDirs = [];
before(async () => {
  env = await startEnvironment();
});
after(async () => {
  await env?.stop();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

// Each test starts from a healthy tenant that publishes its two usual keys, counters at zero.
beforeEach(async () => {
  await env.tenant.reset();
  await env.tenant.publish("mock-key-1", true);
  await env.tenant.publish("mock-key-2", true);
  await env.tenant.publish("mock-key-unpublished", false);
});

const OTHER_TENANT = "0b5a0c1d-2e3f-4a5b-8c7d-9e0f1a2b3c4d";
const UNLISTED_TENANT = "3f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
/** One key-set fetch with v1 and v2 accepted: two metadata documents, two JWKS. */
const ONE_FETCH = 4;
const HOUR = 3600;

// ---------------------------------------------------------------------------------------------
// Helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function waitFor(check, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function kvDir() {
  const dir = mkdtempSync(join(tmpdir(), "entra-gate-kv-"));
  tempDirs.push(dir);
  return dir;
}

/**
 * Runs the Cron Trigger in a fresh isolate on the same KV: what happens when time has passed
 * (an isolate remembers its own confirmations, so only a cold one sees an aged record as due).
 */
async function cronElsewhere(t, bindings, kvPersist) {
  const isolate = await gateway(t, bindings, { kvPersist });
  await isolate.scheduled();
  await isolate.stop();
}

/** A gateway for this test only (stopped when the test ends). `kvPersist` shares KV. */
async function gateway(t, bindings = {}, { kvPersist } = {}) {
  const gw = await env.gatewayWith(bindings, { kvPersist });
  t.after(() => gw.stop());
  return gw;
}

/** A position in the log; `events(mark, name)` reads what the worker logged after it. */
const mark = () => env.logs.length;

/** Key events by their `event`; a request's verdict by its decision ("allowed", "denied"). */
function events(since, name) {
  return env.logs
    .slice(since)
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line))
    .filter((e) => name === undefined || e.event === name || (e.event === "decision" && e.decision === name));
}

/**
 * Waits until `count` events `name` were logged since `since`. The worker logs a request's
 * key events before its verdict and workerd's stdout keeps order, so once the verdict is in,
 * absent events are truly absent.
 */
async function logged(since, name, count = 1) {
  await waitFor(() => events(since, name).length >= count, `${count} × ${name} in the log`);
  return events(since, name);
}

/** Requests to Entra (metadata + JWKS) the mock tenant has answered since the last reset. */
async function entraRequests() {
  return (await env.tenant.stats()).counts.total ?? 0;
}

const mint = (request = {}) => env.tenant.mint(request);

/**
 * `count` tokens, minted one after another: concurrent control requests to the mock tenant
 * stall for seconds at a time, which would only slow the tests down.
 */
async function mintMany(count, request = (i) => ({})) {
  const tokens = [];
  for (let i = 0; i < count; i++) tokens.push(await mint(request(i)));
  return tokens;
}

async function call(gw, token) {
  const res = await gw.fetch("/items", { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

function assertRefused(answer, status, reason) {
  assert.equal(answer.status, status, `expected ${status} ${reason}, got ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body.reason, reason);
}

function assertKeysUnavailable(answer) {
  assertRefused(answer, 503, "keys_unavailable");
  assert.match(answer.headers.get("retry-after") ?? "", /^[1-9][0-9]*$/, "503 carries Retry-After");
}

// KV records, as core/src/key_record.rs writes them: sealed under GATE_SECRET. A test that writes
// a record seals it with the tests' secret, as the gateway itself would have: it is then about
// the record's content, not its seal (tests/e2e/kv-trust.test.mjs is about the seal).

const mockHostPort = () => new URL(env.tenant.url).host;
const setId = (tid = env.tenant.tenantId) => `${mockHostPort()}/${tid}`;
const kvKey = (tid) => `jwks:${setId(tid)}`;

async function readRecord(gw, tid) {
  const text = await (await gw.kv()).get(kvKey(tid));
  if (text === null) return null;
  const { record, genuine } = unseal(kvKey(tid), text, TEST_SECRET);
  assert.ok(genuine, "the gateway seals what it writes");
  return record;
}

/** Seals `record` (an object, or JSON text) as the gateway would, and stores it. */
async function writeRecord(gw, record, tid) {
  await (await gw.kv()).put(kvKey(tid), seal(kvKey(tid), record, TEST_SECRET));
}

/** core::keystore::content_hash: SHA-256 over version, issuer, jwks_uri, jwks, each + NUL. */
function contentHash(sources) {
  const hash = createHash("sha256");
  for (const s of sources) {
    for (const part of [s.version, s.issuer, s.jwks_uri, s.jwks]) hash.update(part).update("\0");
  }
  return hash.digest("hex");
}

/** The record as if Entra last confirmed it `seconds` ago (the hash does not cover times). */
const aged = (record, seconds) => ({
  ...record,
  checked_at: nowSeconds() - seconds,
  fetched_at: Math.min(record.fetched_at, nowSeconds() - seconds),
});

const kidsIn = (record) =>
  [...new Set(record.sources.flatMap((s) => JSON.parse(s.jwks).keys.map((k) => k.kid)))].sort();

/** A gateway on a fresh KV directory that loads the keys once, so KV holds a good record. */
async function warmKv(t, bindings = {}) {
  const dir = kvDir();
  const warm = await gateway(t, bindings, { kvPersist: dir });
  assert.equal((await call(warm, await mint())).status, 200);
  const record = await readRecord(warm);
  assert.ok(record, "the warm gateway wrote its record");
  return { dir, warm, record };
}

// ---------------------------------------------------------------------------------------------
// 1. Rotation

test("rotation: a newly published key is picked up by a kid miss; a withdrawn key is refused after the scheduled refresh", async (t) => {
  // The worker's clock counts whole seconds, so a window of W seconds lasts between W - 1 and
  // W: 2 s keeps "still inside the window" true for the immediate retry below.
  const WINDOW_MS = 2000;
  const dir = kvDir();
  // Memory TTL 0: this isolate re-reads KV on every request, so it sees what the cron writes.
  const bindings = { ENTRA_KID_MISS_WINDOW_SECONDS: "2", ENTRA_KEYS_REFRESH_SECONDS: "60", ENTRA_KEYS_MEMORY_TTL_SECONDS: "0" };
  const gw = await gateway(t, bindings, { kvPersist: dir });
  assert.equal((await call(gw, await mint({ key: "mock-key-1" }))).status, 200);
  assert.equal(await entraRequests(), ONE_FETCH, "the first request loads the keys once");
  // The initial load counts as a fetch for the kid-miss window: let the window pass.
  await sleep(WINDOW_MS + 100);

  const newKeyToken = () => mint({ key: "mock-key-unpublished" });
  let at = mark();
  assertRefused(await call(gw, await newKeyToken()), 401, "unknown_kid");
  assert.deepEqual((await logged(at, "kid_miss")).map((e) => e.action), ["fetching"]);
  assert.equal(await entraRequests(), 2 * ONE_FETCH, "the miss refreshed from Entra once");

  // Entra publishes the key. Within the window the kid is remembered as unknown: refused at no cost.
  await env.tenant.publish("mock-key-unpublished", true);
  at = mark();
  assertRefused(await call(gw, await newKeyToken()), 401, "unknown_kid");
  assert.deepEqual((await logged(at, "kid_miss")).map((e) => e.action), ["remembered"]);
  assert.equal(await entraRequests(), 2 * ONE_FETCH);

  // After the window the same gateway (no restart) refreshes on the miss and finds the key.
  await sleep(WINDOW_MS + 100);
  at = mark();
  const accepted = await call(gw, await newKeyToken());
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
  assert.deepEqual((await logged(at, "kid_miss")).map((e) => e.action), ["fetching"]);
  assert.deepEqual((await logged(at, "keys_refreshed")).map((e) => e.changed), [true]);
  assert.deepEqual((await logged(at, "kv_write")).map((e) => e.why), ["changed"]);
  assert.equal((await logged(at, "allowed"))[0].kid, "mock-key-unpublished");
  assert.equal(await entraRequests(), 3 * ONE_FETCH);
  assert.deepEqual(kidsIn(await readRecord(gw)), ["mock-key-1", "mock-key-2", "mock-key-unpublished"]);

  // Entra withdraws mock-key-1. The cron refreshes the set once its record is due (older than
  // ENTRA_KEYS_REFRESH_SECONDS=60 minus the per-set offset): age the record by two minutes.
  await env.tenant.publish("mock-key-1", false);
  await writeRecord(gw, aged(await readRecord(gw), 120));
  at = mark();
  await cronElsewhere(t, bindings, dir);
  assert.deepEqual((await logged(at, "scheduled_refresh")).map((e) => e.outcome), ["refreshed"]);
  assert.deepEqual(events(at, "kv_write").map((e) => e.why), ["changed"]);
  assert.equal(await entraRequests(), 4 * ONE_FETCH);
  assert.deepEqual(kidsIn(await readRecord(gw)), ["mock-key-2", "mock-key-unpublished"]);

  at = mark();
  assertRefused(await call(gw, await mint({ key: "mock-key-1" })), 401, "unknown_kid");
  assert.equal((await call(gw, await mint({ key: "mock-key-2" }))).status, 200);
  assert.equal((await call(gw, await mint({ key: "mock-key-unpublished", ver: "1.0" }))).status, 200);
  await logged(at, "allowed", 2);
  // The withdrawn kid may cost this isolate one confirming fetch (its window has passed), and
  // that fetch does not bring the key back.
  assert.ok((await entraRequests()) <= 5 * ONE_FETCH);
});

test("rotation: concurrent first requests signed by a newly published key share one refresh and all pass", async (t) => {
  const gw = await gateway(t, { ENTRA_KID_MISS_WINDOW_SECONDS: "1" });
  assert.equal((await call(gw, await mint())).status, 200);
  await sleep(1100);
  await env.tenant.publish("mock-key-unpublished", true);
  const before = await entraRequests();
  const tokens = await mintMany(10, () => ({ key: "mock-key-unpublished" }));
  const at = mark();
  const answers = await Promise.all(tokens.map((token) => call(gw, token)));
  await logged(at, "kid_miss", tokens.length);
  const actions = events(at, "kid_miss").map((e) => e.action);
  // Single flight: one fetch for all of them, and every caller waits for its result (the key
  // is there) rather than being refused because someone else's fetch is still running.
  assert.equal((await entraRequests()) - before, ONE_FETCH, `kid_miss actions: ${actions}`);
  assert.deepEqual(
    answers.map((a) => a.status),
    tokens.map(() => 200),
    `answers: ${answers.map((a) => a.body?.reason ?? a.status)}; kid_miss actions: ${actions}`,
  );
});

test("rotation: a refresh started by a client that goes away still finishes for those waiting on it", async (t) => {
  const gw = await gateway(t, { ENTRA_KID_MISS_WINDOW_SECONDS: "1" });
  assert.equal((await call(gw, await mint())).status, 200);
  await sleep(1100);
  await env.tenant.publish("mock-key-unpublished", true);
  // Entra answers slowly: the first client's kid miss starts a refresh, then that client hangs
  // up before it ends. The refresh runs under waitUntil, so it is not the client's to cancel.
  // (Local workerd does not cancel a request whose client hung up, so here this shows the join
  // across a disconnect; on Cloudflare, where a disconnect cancels the request's own work, it
  // is waitUntil that keeps the refresh alive.)
  await env.tenant.setMode("delayed");
  const [first, second] = await mintMany(2, () => ({ key: "mock-key-unpublished" }));
  const at = mark();
  const hangUp = new AbortController();
  const gone = gw.fetch("/items", { headers: { authorization: `Bearer ${first}` }, signal: hangUp.signal }).catch(() => null);
  await waitFor(() => events(at, "kid_miss").some((e) => e.action === "fetching"), "the first kid miss");
  hangUp.abort();
  await gone;
  // The second caller joins the refresh under way and must get the key it brings.
  const answer = await call(gw, second);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.deepEqual(
    events(at, "kid_miss").map((e) => e.action),
    ["fetching", "joined"],
    "one fetch, joined by the second caller",
  );
  await env.tenant.setMode("ok");
});

// ---------------------------------------------------------------------------------------------
// 2. Entra down while KV holds last-known-good keys

const OUTAGES = {
  error: /HTTP 500/,
  slow: /no answer within 5s/,
  garbage: /not OpenID metadata/,
  huge: /exceed/,
  redirect: /HTTP 302/,
};

for (const [mode, detail] of Object.entries(OUTAGES)) {
  test(`Entra down (${mode}): a cold isolate keeps the last-known-good keys from KV until max staleness, then 503`, async (t) => {
    const { dir, warm, record } = await warmKv(t, { ENTRA_KEYS_REFRESH_SECONDS: "60" });
    // Seven hours without confirmation is past the "refresher abandoned" age
    // (6 h + 2 × ENTRA_KEYS_REFRESH_SECONDS): an isolate reading this record must go to Entra.
    const old = aged(record, 7 * HOUR);
    await writeRecord(warm, old);
    await warm.stop();
    await env.tenant.setMode(mode);
    let before = await entraRequests();

    // Within max staleness (default 24 h): the refresh fails, the stale keys still serve.
    const lkg = await gateway(t, { ENTRA_KEYS_REFRESH_SECONDS: "60" }, { kvPersist: dir });
    let at = mark();
    let answer = await call(lkg, await mint());
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual((await logged(at, "kv_read")).map((e) => e.found), ["record"]);
    const [failure] = await logged(at, "keys_refresh_failed");
    assert.match(failure.detail, detail);
    const [stale] = await logged(at, "stale_keys_served");
    assert.ok(stale.age_seconds >= 7 * HOUR, JSON.stringify(stale));
    assert.equal((await entraRequests()) - before, 1, "one attempt, stopped at the first bad document");
    // The next request is served from memory: no KV read, no new attempt (failure backoff).
    at = mark();
    assert.equal((await call(lkg, await mint({ key: "mock-key-2", ver: "1.0" }))).status, 200);
    await logged(at, "allowed");
    assert.deepEqual(events(at, "kv_read"), []);
    assert.equal((await entraRequests()) - before, 1);
    // A failed refresh writes nothing: KV still holds the old record.
    assert.deepEqual(await readRecord(lkg), old);
    await lkg.stop();

    // Past max staleness (here one hour): the same record must not be used. 503, Retry-After.
    before = await entraRequests();
    const closed = await gateway(t, { ENTRA_KEYS_REFRESH_SECONDS: "60", ENTRA_KEYS_MAX_STALENESS_SECONDS: "3600" }, { kvPersist: dir });
    at = mark();
    assertKeysUnavailable(await call(closed, await mint()));
    assert.match((await logged(at, "keys_refresh_failed"))[0].detail, detail);
    await logged(at, "fail_closed");
    assert.equal((await entraRequests()) - before, 1);
    // Still closed on the next request, without hammering Entra (failure backoff).
    assertKeysUnavailable(await call(closed, await mint()));
    await logged(at, "fail_closed", 2);
    assert.equal((await entraRequests()) - before, 1);
  });
}

// ---------------------------------------------------------------------------------------------
// 3. Cold starts

test("cold start with Entra unreachable but KV warm: serves from KV without asking Entra", async (t) => {
  const { dir, warm } = await warmKv(t);
  await warm.stop();
  await env.tenant.setMode("error");
  const before = await entraRequests();

  const cold = await gateway(t, {}, { kvPersist: dir });
  const at = mark();
  for (const request of [{}, { ver: "1.0" }, { kind: "app", key: "mock-key-2" }]) {
    assert.equal((await call(cold, await mint(request))).status, 200);
  }
  await logged(at, "allowed", 3);
  assert.deepEqual(events(at, "kv_read").map((e) => e.found), ["record"], "one KV read, then memory");
  assert.deepEqual(events(at, "keys_refresh_failed"), []);
  assert.deepEqual(events(at, "keys_refreshed"), []);
  assert.equal((await entraRequests()) - before, 0, "no request reached Entra at all");
});

test("cold start with KV empty: fetches from Entra once and writes the record", async (t) => {
  const gw = await gateway(t, {}, { kvPersist: kvDir() });
  assert.equal(await readRecord(gw), null);
  const at = mark();
  assert.equal((await call(gw, await mint())).status, 200);
  assert.ok((await logged(at, "kv_read")).every((e) => e.found === "nothing"));
  assert.deepEqual((await logged(at, "keys_refreshed")).map((e) => e.changed), [true]);
  assert.deepEqual(events(at, "kv_write").map((e) => e.why), ["changed"]);
  const counts = (await env.tenant.stats()).counts;
  assert.deepEqual(counts, { metadata_v1: 1, metadata_v2: 1, keys_v1: 1, keys_v2: 1, total: ONE_FETCH });

  const record = await readRecord(gw);
  assert.equal(record.format, 2);
  assert.equal(record.set, setId());
  assert.deepEqual(record.sources.map((s) => s.version), ["v1", "v2"]);
  assert.equal(record.content_hash, contentHash(record.sources));
  assert.ok(Math.abs(record.checked_at - nowSeconds()) <= 5);
  assert.deepEqual(kidsIn(record), ["mock-key-1", "mock-key-2"]);
});

test("cold start with a record that is not believed: logs it once, refetches and rewrites KV", async (t) => {
  const { dir, warm, record: good } = await warmKv(t);
  const key = kvKey();
  const sealed = (record) => seal(key, record, TEST_SECRET);
  const forged = JSON.parse(JSON.stringify(good));
  forged.sources[1].jwks = forged.sources[1].jwks.replace("mock-key-2", "mock-key-evil");
  const future = nowSeconds() + 3600;
  const otherSecret = Buffer.alloc(32, 7).toString("base64");
  const corruptions = {
    // No seal, or not ours.
    "not a record": "this is not a record",
    "JSON without a seal": JSON.stringify(good),
    "sealed under another secret": seal(key, good, otherSecret),
    "sealed for another key": seal(kvKey(OTHER_TENANT), good, TEST_SECRET),
    "content edited after sealing": sealed(good).replace("mock-key-2", "mock-key-3"),
    // Sealed, but wrong inside.
    "content_hash mismatch": sealed(forged),
    "unknown format": sealed({ ...good, format: 3 }),
    "another set's record": sealed({ ...good, set: setId(OTHER_TENANT) }),
    "checked_at in the future": sealed({ ...good, checked_at: future, fetched_at: good.fetched_at }),
    "fetched after checked": sealed({ ...good, fetched_at: good.checked_at + 10 }),
  };
  await warm.stop();

  for (const [what, text] of Object.entries(corruptions)) {
    const before = await entraRequests();
    // A fresh isolate on the shared KV, whose record we spoil first.
    const gw = await gateway(t, {}, { kvPersist: dir });
    await (await gw.kv()).put(key, text);
    const at = mark();
    assert.equal((await call(gw, await mint({ key: "mock-key-2" }))).status, 200, what);
    const rejected = await logged(at, "kv_record_rejected");
    assert.equal(rejected.length, 1, `${what}: ${JSON.stringify(rejected)}`);
    assert.equal(rejected[0].set, setId());
    assert.deepEqual((await logged(at, "kv_write")).map((e) => e.why), ["changed"], what);
    assert.equal((await entraRequests()) - before, ONE_FETCH, what);
    const rewritten = await readRecord(gw);
    assert.equal(rewritten.content_hash, good.content_hash, `${what}: Entra's content is back`);
    assert.equal(rewritten.set, setId());
    await gw.stop();
  }
});

test("cold start: concurrent first requests on an empty KV share one fetch and all pass", async (t) => {
  const gw = await gateway(t);
  const tokens = await mintMany(10);
  const at = mark();
  const answers = await Promise.all(tokens.map((token) => call(gw, token)));
  await waitFor(
    () => events(at, "allowed").length + events(at, "fail_closed").length >= tokens.length,
    "a verdict for every request",
  );
  assert.equal(await entraRequests(), ONE_FETCH, "one fetch for all");
  // While the first request's fetch is in flight the others must wait for it: the keys are on
  // their way, so "signing keys unobtainable" (503) would be false.
  assert.deepEqual(
    answers.map((a) => a.status),
    tokens.map(() => 200),
    `answers: ${answers.map((a) => a.body?.reason ?? a.status)}; fail_closed logged ${events(at, "fail_closed").length}×`,
  );
});

// ---------------------------------------------------------------------------------------------
// 4. Unknown-kid flood

test("a flood of random kids costs at most one key-set fetch per window and locks nobody out", async (t) => {
  const { dir, warm } = await warmKv(t);
  await warm.stop();
  // A cold isolate on warm KV: it has never fetched, so the first miss may fetch (default
  // 60 s window); everything else in the flood must ride on that.
  const gw = await gateway(t, {}, { kvPersist: dir });
  const before = await entraRequests();
  const FLOOD = 50;
  const randomKid = () => ({ header: { kid: `flood-${randomUUID()}` } });
  const floodTokens = await mintMany(FLOOD, randomKid);
  const validTokens = await mintMany(5, (i) => ({ key: i % 2 ? "mock-key-2" : "mock-key-1" }));
  let at = mark();
  const answers = await Promise.all([...floodTokens, ...validTokens].map((token) => call(gw, token)));
  for (const answer of answers.slice(0, FLOOD)) assertRefused(answer, 401, "unknown_kid");
  for (const answer of answers.slice(FLOOD)) assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const misses = await logged(at, "kid_miss", FLOOD);
  const fetching = misses.filter((e) => e.action === "fetching").length;
  const fetched = (await entraRequests()) - before;
  t.diagnostic(`flood: ${FLOOD} random-kid requests (+5 valid) → ${fetched} Entra requests, ${fetching} kid-miss fetch(es)`);
  assert.ok(fetched <= ONE_FETCH, `at most one key-set fetch, saw ${fetched} requests`);
  assert.ok(fetching <= 1);
  assert.equal(misses.length, FLOOD);

  // A second wave inside the window: not a single request to Entra.
  const wave = await mintMany(FLOOD, randomKid);
  at = mark();
  for (const answer of await Promise.all(wave.map((token) => call(gw, token)))) assertRefused(answer, 401, "unknown_kid");
  assert.ok((await logged(at, "kid_miss", FLOOD)).every((e) => e.action === "penalty_window"));
  assert.equal((await entraRequests()) - before, fetched);

  // No lock-out: valid tokens still pass, from memory.
  at = mark();
  assert.equal((await call(gw, await mint())).status, 200);
  assert.equal((await call(gw, await mint({ ver: "1.0", key: "mock-key-2" }))).status, 200);
  await logged(at, "allowed", 2);
  assert.equal((await entraRequests()) - before, fetched);
});

// ---------------------------------------------------------------------------------------------
// 5. Scheduled refresh

test("the scheduled refresh fetches due sets, writes KV only when the keys changed", async (t) => {
  const dir = kvDir();
  const bindings = { ENTRA_KEYS_REFRESH_SECONDS: "60" };
  const gw = await gateway(t, bindings, { kvPersist: dir });

  // Nothing in KV: due; fetch and write.
  let at = mark();
  await gw.scheduled();
  assert.deepEqual((await logged(at, "scheduled_refresh")).map((e) => e.outcome), ["refreshed"]);
  assert.deepEqual(events(at, "kv_write").map((e) => e.why), ["changed"]);
  assert.equal(await entraRequests(), ONE_FETCH);
  const first = await readRecord(gw);

  // Just written: not due, nothing fetched or written.
  at = mark();
  await gw.scheduled();
  assert.deepEqual((await logged(at, "scheduled_refresh")).map((e) => e.outcome), ["not_due"]);
  assert.deepEqual(events(at, "kv_write"), []);
  assert.equal(await entraRequests(), ONE_FETCH);

  // Due (two minutes old) but unchanged at Entra: fetched, not written.
  const old = aged(first, 120);
  await writeRecord(gw, old);
  at = mark();
  await cronElsewhere(t, bindings, dir);
  assert.deepEqual((await logged(at, "scheduled_refresh")).map((e) => e.outcome), ["refreshed"]);
  assert.deepEqual(events(at, "keys_refreshed").map((e) => e.changed), [false]);
  assert.deepEqual(events(at, "kv_write"), [], "unchanged content is not rewritten");
  assert.equal(await entraRequests(), 2 * ONE_FETCH);
  assert.deepEqual(await readRecord(gw), old);

  // Entra publishes a key: the next due run writes the new content.
  await env.tenant.publish("mock-key-unpublished", true);
  await writeRecord(gw, aged(first, 120));
  at = mark();
  await cronElsewhere(t, bindings, dir);
  assert.deepEqual((await logged(at, "scheduled_refresh")).map((e) => e.outcome), ["refreshed"]);
  assert.deepEqual(events(at, "keys_refreshed").map((e) => e.changed), [true]);
  assert.deepEqual(events(at, "kv_write").map((e) => e.why), ["changed"]);
  assert.equal(await entraRequests(), 3 * ONE_FETCH);
  const changed = await readRecord(gw);
  assert.notEqual(changed.content_hash, first.content_hash);
  assert.equal(changed.content_hash, contentHash(changed.sources));
  assert.ok(changed.checked_at >= nowSeconds() - 5);
  assert.deepEqual(kidsIn(changed), ["mock-key-1", "mock-key-2", "mock-key-unpublished"]);

  // A cold isolate reads the new keys from KV: a token under the new key passes with no fetch.
  const cold = await gateway(t, bindings, { kvPersist: dir });
  at = mark();
  assert.equal((await call(cold, await mint({ key: "mock-key-unpublished" }))).status, 200);
  await logged(at, "allowed");
  assert.deepEqual(events(at, "kid_miss"), []);
  assert.equal(await entraRequests(), 3 * ONE_FETCH);
});

// An unchanged refresh is not written to KV (KV's checked_at stays), but the isolate that ran
// it remembers the confirmation, so the next cron run in that isolate does not refetch.
test("the scheduled refresh does not refetch an unchanged set on the very next run", async (t) => {
  const gw = await gateway(t, { ENTRA_KEYS_REFRESH_SECONDS: "60" });
  await gw.scheduled();
  await writeRecord(gw, aged(await readRecord(gw), 120));
  await gw.scheduled();
  const before = await entraRequests();
  const at = mark();
  await gw.scheduled();
  assert.deepEqual((await logged(at, "scheduled_refresh")).map((e) => e.outcome), ["not_due"]);
  assert.equal((await entraRequests()) - before, 0, "Entra was asked again one run after confirming the same keys");
});

// ---------------------------------------------------------------------------------------------
// 6. Multi-tenant allow-list

test("allow-list: one key set per allowed tenant, others refused without a fetch, cross-tenant claims refused", async (t) => {
  const tenantA = env.tenant.tenantId;
  const tenantB = OTHER_TENANT;
  const multi = { ENTRA_TENANT_ID: "organizations", ENTRA_ALLOWED_TENANTS: `${tenantA},${tenantB}` };
  const gw = await gateway(t, multi);
  const kvKeys = async () => (await (await gw.kv()).list()).keys.map((k) => k.name).sort();

  let answer = await call(gw, await mint());
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.headers["x-entra-tenant-id"], tenantA);
  assert.equal(await entraRequests(), ONE_FETCH);
  assert.deepEqual(await kvKeys(), [kvKey(tenantA)], "only the set that was needed");

  answer = await call(gw, await mint({ tid: tenantB, ver: "1.0" }));
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.headers["x-entra-tenant-id"], tenantB);
  assert.equal(await entraRequests(), 2 * ONE_FETCH);
  assert.deepEqual(await kvKeys(), [kvKey(tenantA), kvKey(tenantB)].sort());

  // An unlisted tenant has no key set: refused before any KV read or fetch.
  let at = mark();
  assertRefused(await call(gw, await mint({ tid: UNLISTED_TENANT })), 401, "tenant_not_allowed");
  assert.equal((await logged(at, "denied"))[0].reason, "tenant_not_allowed");
  assert.deepEqual(events(at, "kv_read"), []);
  assert.equal(await entraRequests(), 2 * ONE_FETCH);
  assert.deepEqual(await kvKeys(), [kvKey(tenantA), kvKey(tenantB)].sort());

  // Cross-tenant claims. The set is chosen by `tid`; its issuer is the tenant's exact issuer
  // from its own metadata, so an `iss` naming the other allowed tenant fails the issuer check
  // (claims::validate: allow-list, then iss, then tid-vs-iss, then key issuer). The later
  // tenant_mismatch check cannot fire here: every accepted issuer names its own tid.
  for (const [iss, tid] of [[tenantA, tenantB], [tenantB, tenantA]]) {
    at = mark();
    assertRefused(await call(gw, await mint({ tid: iss, claims: { tid } })), 401, "invalid_issuer");
    assert.equal((await logged(at, "denied"))[0].reason, "invalid_issuer");
  }
  assert.equal(await entraRequests(), 2 * ONE_FETCH);

  // Key issuer: tenant B's JWKS publishing mock-key-2 with tenant A's issuer. Entra never does
  // this, so put it in KV as the gateway itself would have stored it (a matching content_hash,
  // sealed with the gateway's secret: the record is then believed) and show the key-issuer rule
  // still refuses B's tokens signed by that key.
  const recordB = await readRecord(gw, tenantB);
  const v2 = recordB.sources.find((s) => s.version === "v2");
  const jwks = JSON.parse(v2.jwks);
  const key2 = jwks.keys.find((k) => k.kid === "mock-key-2");
  assert.equal(key2.issuer, `${env.tenant.url}/${tenantB}/v2.0`);
  key2.issuer = `${env.tenant.url}/${tenantA}/v2.0`;
  v2.jwks = JSON.stringify(jwks);
  recordB.content_hash = contentHash(recordB.sources);
  const forgedGw = await gateway(t, multi);
  await writeRecord(forgedGw, recordB, tenantB);
  at = mark();
  assertRefused(await call(forgedGw, await mint({ tid: tenantB, key: "mock-key-2" })), 401, "key_issuer_mismatch");
  assert.equal((await call(forgedGw, await mint({ tid: tenantB, key: "mock-key-1" }))).status, 200);
  assert.deepEqual((await logged(at, "kv_read")).map((e) => e.found), ["record"]);
  assert.equal(await entraRequests(), 2 * ONE_FETCH, "the forged record was fresh: no fetch");
});

// ---------------------------------------------------------------------------------------------
// 7. Warm path

test("warm isolate: after the first request, further requests read neither KV nor Entra", async (t) => {
  const gw = await gateway(t);
  let at = mark();
  assert.equal((await call(gw, await mint())).status, 200);
  await logged(at, "allowed");
  assert.ok(events(at, "kv_read").length >= 1, "the first request read KV");
  assert.equal(await entraRequests(), ONE_FETCH);

  const M = 20;
  const variants = [{}, { ver: "1.0" }, { kind: "app", key: "mock-key-2" }, { ver: "1.0", kind: "app", key: "mock-key-2" }];
  const tokens = await mintMany(M, (i) => variants[i % variants.length]);
  at = mark();
  for (const token of tokens) assert.equal((await call(gw, token)).status, 200);
  assert.equal((await logged(at, "allowed", M)).length, M);
  assert.deepEqual(events(at, "kv_read"), [], "no KV read");
  assert.equal(await entraRequests(), ONE_FETCH, "no request to Entra");
});

// ---------------------------------------------------------------------------------------------
// 8. Custom signing keys (?appid=)

test("ENTRA_METADATA_APPID: metadata requests carry ?appid= and the set has its own KV record", async (t) => {
  const appid = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
  const gw = await gateway(t, { ENTRA_METADATA_APPID: appid });
  assert.equal((await call(gw, await mint())).status, 200);
  const { counts } = await env.tenant.stats();
  // The mock counts metadata and key requests that carried appid=<value> under "appid=<value>".
  assert.equal(counts[`appid=${appid}`], 2, `the v1 and v2 metadata requests carried it: ${JSON.stringify(counts)}`);
  const names = (await (await gw.kv()).list()).keys.map((k) => k.name);
  assert.deepEqual(names, [`${kvKey()}/appid=${appid}`]);
  const { record } = unseal(names[0], await (await gw.kv()).get(names[0]), TEST_SECRET);
  assert.ok(record.sources.every((s) => s.metadata_url.endsWith(`?appid=${appid}`)), JSON.stringify(record.sources));
});
