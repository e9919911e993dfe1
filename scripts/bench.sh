#!/usr/bin/env bash
# Benchmarks (not part of the test suite). From a clone where scripts/test.sh has run: installs
# what is missing (wrk from Debian's apt, the npm and cargo tools through lib.sh), then
#   1. the edge benchmark (bench/edge.mjs): a passthrough worker, entra-gate (build/), jose and the floor
#      workers, each in its own `workerd serve` process on 127.0.0.1, forwarding to one local
#      origin; wrk drives reused, unique and invalid tokens; interleaved rounds, medians;
#      req/s, latency and each workerd process's CPU per request;
#   2. the core microbenchmark (benches/core.rs, criterion, native);
#   3. bench/report.mjs: the results section of BENCHMARKS.md, also printed.
# Loopback only; about 8 minutes (plus a one-off compile of the microbenchmark).
# Settings: BENCH_ROUNDS=3 BENCH_SECONDS=4 BENCH_WARMUP=1 BENCH_POOL=8000 BENCH_CONNECTIONS=16
# BENCH_PIN=1 (see bench/edge.mjs). Run it on an otherwise idle machine: the report says how busy
# the machine was.
source "$(dirname "$0")/lib.sh"
started=$(date +%s)
ensure_toolchain

if ! command -v wrk >/dev/null; then
  say "installing wrk (Debian package)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq wrk >/dev/null
fi
for tool in gzip getconf; do
  command -v "$tool" >/dev/null || { echo "$tool is missing" >&2; exit 1; }
done

say "release builds: the worker (skipped when up to date) and the mock tenant"
bash scripts/build.sh
cargo build --release -p mock-tenant

say "compiling the core microbenchmark (once: about 1.5 minutes)"
cargo bench --bench core --no-run

mkdir -p target/bench
rm -f target/bench/edge.json
status=0
say "edge benchmark: passthrough, entra-gate (and lean), jose (and cached) and the floor under workerd (about 6 minutes)"
timeout --signal=TERM 1200 node bench/edge.mjs || status=$?

say "core microbenchmark (criterion, native)"
core_since=$(date +%s)
set +e
timeout --signal=TERM 240 cargo bench --bench core -- --warm-up-time 1 --measurement-time 2 \
  >target/bench/core.log 2>&1
core_status=$?
set -e
grep -E '^core/|time:' target/bench/core.log || true
if [ "$core_status" -ne 0 ]; then
  tail -20 target/bench/core.log >&2
  status=$core_status
fi

say "report"
if [ ! -f target/bench/edge.json ]; then
  echo "the edge benchmark wrote no results; BENCHMARKS.md left as it was" >&2
  exit 1
fi
BENCH_CORE_SINCE=$core_since node bench/report.mjs
echo "bench.sh took $(( $(date +%s) - started )) s"
exit "$status"
