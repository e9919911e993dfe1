// A REVOCATIONS KV namespace whose `list()` the test controls, and a starter for a gateway that
// needs Miniflare options `startGateway` does not offer (a wrapped binding in place of a KV
// namespace, a second worker, a chosen `request.cf`).
//
// The fake is a workerd wrapped binding: a module whose default export builds the binding object
// from its own bindings. It runs inside the gateway's isolate, so its `list()` is an ordinary
// subrequest to a node:http control server on 127.0.0.1 that the test steers: the keys to list,
// how many per page, or an answer a real KV never gives (a failure, a page without
// `list_complete`, an incomplete page without a cursor). The control server counts every call,
// which is how a test sees how often the gateway reads the list.
import http from "node:http";
import { Miniflare } from "miniflare";
import { WORKER, withTestSecret, logTo } from "./gateway.mjs";

/**
 * The binding object: `get`, `put` and `list`, the three methods the gateway checks for. A
 * control answer other than 200 makes `list()` reject, as a KV read that fails does.
 */
const FAKE_KV_SCRIPT = `
export default function makeBinding(env) {
  return {
    async get() {
      return null;
    },
    async put() {},
    async list(options = {}) {
      const url = new URL("/list", env.CONTROL);
      if (options.cursor !== undefined) url.searchParams.set("cursor", options.cursor);
      const answer = await fetch(url);
      const text = await answer.text();
      if (answer.status !== 200) throw new Error("fake KV: list failed (" + answer.status + ")");
      return JSON.parse(text);
    },
  };
}
`;

/**
 * Modes: "ok" (the keys, `pageSize` per page, with cursors between pages), "fail" (list()
 * rejects), "no_list_complete" (one page of the keys without `list_complete`), and
 * "incomplete_no_cursor" (one page with `list_complete: false` and no cursor).
 */
export async function startFakeKv() {
  const state = { mode: "ok", keys: [], pageSize: 1000, delayMs: 0, calls: [] };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://control");
    if (url.pathname !== "/list") {
      res.writeHead(404).end();
      return;
    }
    const cursor = url.searchParams.get("cursor");
    // The answer is decided when the call arrives, even if it is sent later.
    const { mode, keys, pageSize } = state;
    state.calls.push({ at: Date.now(), cursor, mode });
    if (state.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, state.delayMs));
    const names = keys.map((name) => ({ name }));
    let page;
    switch (mode) {
      case "fail":
        res.writeHead(503, { "content-type": "text/plain" }).end("KV is down");
        return;
      case "no_list_complete":
        page = { keys: names };
        break;
      case "incomplete_no_cursor":
        page = { keys: names, list_complete: false };
        break;
      default: {
        const start = cursor === null ? 0 : Number(cursor);
        const end = start + pageSize;
        page =
          end >= names.length
            ? { keys: names.slice(start), list_complete: true, cacheStatus: null }
            : { keys: names.slice(start, end), list_complete: false, cursor: String(end), cacheStatus: null };
      }
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(page));
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** Key names the list holds (`uti:…`, `user:…`, `app:…`). */
    setKeys: (keys) => {
      state.keys = [...keys];
    },
    setMode: (mode) => {
      state.mode = mode;
    },
    setPageSize: (size) => {
      state.pageSize = size;
    },
    /** How long each list() answer takes, in ms. */
    setDelay: (ms) => {
      state.delayMs = ms;
    },
    /** Every list() call so far: { at (ms), cursor, mode }. */
    calls: () => [...state.calls],
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(resolve);
      }),
  };
}

/**
 * The built worker under workerd, like `startGateway`, with:
 * `revocations`: a fake KV from `startFakeKv()`, bound as REVOCATIONS;
 * `cf`: Miniflare's `cf` option. `false` (what startGateway uses) gives every request Miniflare's
 * placeholder `request.cf` (country "US", an ASN); `{}` gives a `request.cf` with no country and
 * no ASN, as for a request Cloudflare could not place.
 */
export async function startCustomGateway(given, { logs, revocations, cf = false } = {}) {
  const gateway = { name: "gateway", ...WORKER, bindings: withTestSecret(given), kvNamespaces: ["JWKS"] };
  const workers = [gateway];
  if (revocations) {
    gateway.wrappedBindings = { REVOCATIONS: { scriptName: "fake-kv", bindings: { CONTROL: revocations.url } } };
    // A wrapped binding's module takes the compatibility date of the worker that binds it.
    workers.push({ name: "fake-kv", modules: true, script: FAKE_KV_SCRIPT });
  }
  const mf = new Miniflare({
    workers,
    cf,
    handleRuntimeStdio: logTo(logs),
  });
  const url = await mf.ready;
  let stopped;
  return {
    url,
    fetch: (path, init) => mf.dispatchFetch(`http://gateway.test${path}`, init),
    stop: () => (stopped ??= mf.dispose()),
  };
}
