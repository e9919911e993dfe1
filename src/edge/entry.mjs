// The Worker's entry: instantiates the wasm once per isolate and hands each event to Rust.
// Deliberately a plain module object (no WorkerEntrypoint class, no proxies): every line here
// runs on every request. scripts/build.sh bundles this with wasm-bindgen's glue into
// build/index.js; the wasm stays a separate module (build/index_bg.wasm).
import wasmModule from "./index_bg.wasm";
import { initSync, handleFetch, handleScheduled, __wbg_reset_state } from "./glue/index.js";
// The glue's own copy of src/edge/replay.mjs (scripts/build.sh points this name at it), so the
// entry and the Rust edge share one table of remembered forwards.
import { planFor, replay, drop_replays } from "./replay.mjs";

initSync({ module: wasmModule });

// A trap (a Rust panic: the wasm is built so that a panic traps at once, with no message) leaves
// the instance's memory in an unknown state, so the next event gets a fresh instance. The line
// says only that it happened: nothing of the request.
function trapped(error) {
  if (!(error instanceof WebAssembly.RuntimeError)) return false;
  __wbg_reset_state();
  drop_replays();
  console.log('{"event":"panic","reason":"internal_error"}');
  return true;
}

// The event that trapped fails with the runtime's own error.
function recover(error) {
  trapped(error);
  throw error;
}

// A trap inside a promise callback (a WebCrypto or KV answer arriving) rejects a promise nobody
// holds: it surfaces here instead.
addEventListener("unhandledrejection", (event) => {
  if (trapped(event.reason)) event.preventDefault();
});

export default {
  fetch(request, env, ctx) {
    // The same request as one the walk forwarded, while nothing else can change the decision
    // (core/src/replay.rs): answered without entering wasm.
    const plan = planFor(request);
    if (plan !== undefined) return replay(request, plan).catch(recover);
    try {
      // A Response, or a promise of one (when keys or a verification had to be waited for).
      const answer = handleFetch(request, env, ctx);
      return answer instanceof Promise ? answer.catch(recover) : answer;
    } catch (error) {
      recover(error);
    }
  },
  scheduled(_controller, env, ctx) {
    ctx.waitUntil(handleScheduled(env).catch(recover));
  },
};
