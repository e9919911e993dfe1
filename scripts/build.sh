#!/usr/bin/env bash
# Release build of the worker into build/ (index.js + index_bg.wasm) without any download from
# outside the registries: cargo builds the wasm, wasm-bindgen (the CLI matching the crate) writes
# the JS glue, wasm-opt (binaryen from npm) optimises for size, and esbuild (from wrangler)
# bundles src/edge/entry.mjs with the glue. Skips the build when build/ is newer than every
# source file. wrangler.toml runs this as its build command.
#
# target/wasm-named/index_bg.wasm keeps the function names (for CPU profiles and twiggy);
# build/index_bg.wasm has them stripped.
source "$(dirname "$0")/lib.sh"
ensure_toolchain

if [ -f build/index.js ] && [ -z "$(find src core Cargo.toml Cargo.lock scripts/build.sh scripts/lib.sh package-lock.json -newer build/index.js -print -quit)" ]; then
  say "build/ is up to date"
  exit 0
fi

say "building the worker (release wasm)"
cargo build --profile wasm-release --lib --target wasm32-unknown-unknown -p entra-gate
rm -rf build target/wasm-glue target/wasm-named
mkdir -p build target/wasm-glue target/wasm-named
wasm-bindgen target/wasm32-unknown-unknown/wasm-release/entra_gate.wasm \
  --target web --out-dir target/wasm-glue --out-name index \
  --no-typescript --omit-default-module-path --experimental-reset-state-function
WASM_OPT="$ROOT/node_modules/binaryen/bin/wasm-opt"
node "$WASM_OPT" target/wasm-glue/index_bg.wasm -o target/wasm-named/index_bg.wasm -Oz -g --detect-features
node "$WASM_OPT" target/wasm-named/index_bg.wasm -o build/index_bg.wasm \
  --strip-debug --strip-producers --detect-features

# The entry imports "./glue/index.js" (which imports its inline_js snippets) and
# "./index_bg.wasm"; bundling inlines the glue and
# keeps the wasm import for the runtime (wrangler and Miniflare load it as a compiled module).
mkdir -p target/wasm-glue/entry/glue
cp src/edge/entry.mjs target/wasm-glue/entry/entry.mjs
cp -r target/wasm-glue/index.js target/wasm-glue/snippets target/wasm-glue/entry/glue/
"$ROOT/node_modules/.bin/esbuild" target/wasm-glue/entry/entry.mjs --bundle --format=esm \
  --platform=neutral --minify --external:./index_bg.wasm --log-level=warning --outfile=build/index.js
