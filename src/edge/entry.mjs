// The Worker's entry: instantiates the wasm once per isolate and hands each event to Rust.
// Deliberately a plain module object (no WorkerEntrypoint class, no proxies): every line here
// runs on every request. scripts/build.sh bundles this with wasm-bindgen's glue into
// build/index.js; the wasm stays a separate module (build/index_bg.wasm).
import wasmModule from "./index_bg.wasm";
import { initSync, handleFetch, handleScheduled, __wbg_reset_state } from "./glue/index.js";

initSync({ module: wasmModule });

// A trap (a Rust panic: the crate is built with panic = "abort") leaves the instance's memory in
// an unknown state, so the next event gets a fresh instance. The event that trapped fails with
// the runtime's own error.
function recover(error) {
  if (error instanceof WebAssembly.RuntimeError) __wbg_reset_state();
  throw error;
}

export default {
  fetch(request, env, ctx) {
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
