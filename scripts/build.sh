#!/usr/bin/env bash
# Release build of the worker without any download from outside the registries. wrangler.toml
# runs this as its build command.
#
#   scripts/build.sh [--policy FILE] [--out DIR]
#
# --policy: the policy file (TOML, a path from the repository root; default policy.toml) bundled
#           into the Worker as JSON text; a GATE_POLICY binding, when set, overrides it.
# --out:    where index.js and index_bg.wasm go (default build/).
#
# Two stages. The wasm (skipped when target/worker/ is newer than every source file): cargo
# builds it, wasm-bindgen (the CLI matching the crate) writes the JS glue, wasm-opt (binaryen
# from npm) optimises for size. The bundle (always; it takes a second): entra-gate-check converts
# the policy file, which takes the place of src/edge/policy.mjs, and esbuild (from wrangler)
# bundles src/edge/entry.mjs with the glue into DIR/index.js.
#
# target/worker/named/index_bg.wasm keeps the function names (for CPU profiles and twiggy);
# the wasm in DIR has them stripped.
source "$(dirname "$0")/lib.sh"

POLICY="policy.toml"
OUT="build"
while [ "$#" -gt 0 ]; do
  case "$1" in
    --policy) POLICY="${2:?--policy needs a file}"; shift 2 ;;
    --policy=*) POLICY="${1#--policy=}"; shift ;;
    --out) OUT="${2:?--out needs a directory}"; shift 2 ;;
    *) echo "build.sh: unknown argument $1 (see the comment at the top)" >&2; exit 2 ;;
  esac
done
if [ ! -f "$POLICY" ]; then
  echo "build.sh: no policy file $POLICY (paths are from the repository root, $ROOT)" >&2
  exit 1
fi
ensure_toolchain

WORKER="target/worker"
if [ -f "$WORKER/index_bg.wasm" ] && [ -z "$(find src core Cargo.toml Cargo.lock scripts/build.sh scripts/lib.sh package-lock.json -newer "$WORKER/index_bg.wasm" -print -quit)" ]; then
  say "the wasm is up to date"
else
  say "building the worker (release wasm)"
  # Its own std, built for size, where a panic is a trap at once: no panic message is formatted,
  # no location kept, and std's size-over-speed variants (sorting, formatting) are used: 14 KB
  # gzip less (BENCHMARKS.md). These are unstable options of the pinned compiler, allowed by
  # RUSTC_BOOTSTRAP for this one command; a toolchain bump must re-check them. A panic still
  # replaces the instance: entry.mjs sees the trap (src/edge/entry.mjs).
  RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort" \
    cargo build --profile wasm-release --lib --target wasm32-unknown-unknown -p entra-gate \
    -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size
  rm -rf "$WORKER"
  mkdir -p "$WORKER/glue" "$WORKER/named"
  wasm-bindgen target/wasm32-unknown-unknown/wasm-release/entra_gate.wasm \
    --target web --out-dir "$WORKER/glue" --out-name index \
    --no-typescript --omit-default-module-path --experimental-reset-state-function
  WASM_OPT="$ROOT/node_modules/binaryen/bin/wasm-opt"
  # --converge: the passes again until the size stops shrinking (−526 B gzip for ~15 s of build).
  # --low-memory-unused: constant offsets folded into loads and stores (−1.1 KB gzip); sound for
  # Rust, whose pointers never wrap around 2^32 into the first KB. BENCHMARKS.md has the variants.
  node "$WASM_OPT" "$WORKER/glue/index_bg.wasm" -o "$WORKER/named/index_bg.wasm" -Oz --converge \
    --low-memory-unused -g --detect-features
  rm "$WORKER/glue/index_bg.wasm"
  node "$WASM_OPT" "$WORKER/named/index_bg.wasm" -o "$WORKER/index_bg.wasm.tmp" \
    --strip-debug --strip-producers --detect-features
  mv "$WORKER/index_bg.wasm.tmp" "$WORKER/index_bg.wasm"
fi

say "bundling with the policy file $POLICY"
cargo build --quiet --release -p entra-gate-check
# The entry imports "./glue/index.js" (which imports its snippets, policy.mjs among them) and
# "./index_bg.wasm"; bundling inlines the glue and keeps the wasm import for the runtime
# (wrangler and Miniflare load it as a compiled module).
STAGE="$(mktemp -d "${TMPDIR:-/tmp}/entra-gate-bundle.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
cp src/edge/entry.mjs "$STAGE/entry.mjs"
cp -r "$WORKER/glue" "$STAGE/glue"
shopt -s nullglob
slots=("$STAGE"/glue/snippets/*/src/edge/policy.mjs)
if [ "${#slots[@]}" -ne 1 ]; then
  echo "build.sh: expected one policy.mjs in the glue's snippets, found ${#slots[@]}" >&2
  exit 1
fi
target/release/entra-gate-check bundle-policy "$POLICY" > "${slots[0]}"
# The entry imports "./replay.mjs": the glue's copy, so both share one module instance.
replays=("$STAGE"/glue/snippets/*/src/edge/replay.mjs)
if [ "${#replays[@]}" -ne 1 ]; then
  echo "build.sh: expected one replay.mjs in the glue's snippets, found ${#replays[@]}" >&2
  exit 1
fi
echo "export * from \"./${replays[0]#"$STAGE/"}\";" > "$STAGE/replay.mjs"
mkdir -p "$OUT"
"$ROOT/node_modules/.bin/esbuild" "$STAGE/entry.mjs" --bundle --format=esm \
  --platform=neutral --minify --external:./index_bg.wasm --log-level=warning --outfile="$OUT/index.js"
cp "$WORKER/index_bg.wasm" "$OUT/index_bg.wasm"
# The same bundle with its names kept, beside the named wasm, for CPU profiles (bench/profile.mjs).
"$ROOT/node_modules/.bin/esbuild" "$STAGE/entry.mjs" --bundle --format=esm \
  --platform=neutral --external:./index_bg.wasm --log-level=warning --outfile="$WORKER/named/index.js"
