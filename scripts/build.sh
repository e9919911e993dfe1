#!/usr/bin/env bash
# Release build of the worker into build/ (index.js + index_bg.wasm) without any download from
# outside the registries: worker-build is pointed at the locally installed wasm-bindgen, the npm
# build of wasm-opt (binaryen) and wrangler's esbuild. Skips the build when build/ is newer than
# every source file. wrangler.toml runs this as its build command.
source "$(dirname "$0")/lib.sh"
ensure_toolchain

if [ -f build/index.js ] && [ -z "$(find src Cargo.toml Cargo.lock -newer build/index.js -print -quit)" ]; then
  say "build/ is up to date"
  exit 0
fi

say "building the worker (release wasm)"
WASM_BINDGEN_BIN="$(command -v wasm-bindgen)" \
WASM_OPT_BIN="$ROOT/node_modules/binaryen/bin/wasm-opt" \
ESBUILD_BIN="$ROOT/node_modules/.bin/esbuild" \
  worker-build --release

# worker-build keeps the wasm name section (about 95 KB) for stack traces; the gateway never
# panics by design and does not print traces, so it goes.
node "$ROOT/node_modules/binaryen/bin/wasm-opt" build/index_bg.wasm -o build/index_bg.stripped.wasm \
  --strip-debug --strip-producers --detect-features
mv build/index_bg.stripped.wasm build/index_bg.wasm
