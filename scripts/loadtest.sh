#!/usr/bin/env bash
# Load test on loopback, on its own (not part of scripts/test.sh): the built worker under workerd
# (Miniflare on 127.0.0.1:$GATE_PORT, default 8797) with the mock tenant and an echo origin, a
# mix of valid, invalid, under-scoped and step-up tokens at CONCURRENCY (64) for DURATION seconds
# (30, at most 45; the whole run stays under a minute once built). Every answer is checked;
# wrong decisions and 5xx fail the run. See scripts/loadtest.mjs.
source "$(dirname "$0")/lib.sh"
ensure_node_modules
bash scripts/build.sh
cargo build --release -q -p mock-tenant
exec node scripts/loadtest.mjs
