#!/usr/bin/env bash
# Fuzzes the core with cargo-fuzz (libFuzzer + AddressSanitizer), one target after another, each
# for SECONDS_PER_TARGET seconds (default 10: the smoke run scripts/test.sh can afford), and
# prints the executions each reached. Exits 1 if any target crashed; the crashing input is in
# fuzz/artifacts/<target>/ (replay: cargo +nightly fuzz run <target> <file>).
#
#   bash scripts/fuzz.sh            # 10 s per target
#   bash scripts/fuzz.sh 600        # the long run: 10 min per target (fuzz/README.md)
#   FUZZ_TARGETS="token claims" bash scripts/fuzz.sh 60
#
# Seeds are read from fuzz/corpus/<target>/ (kept in git, never written); what a run discovers
# goes to fuzz/target/corpus/<target>/ and is reused by the next run on this machine.
# Toolchain: nightly if rustup has one; otherwise stable with RUSTC_BOOTSTRAP=1 (cargo-fuzz
# needs -Z flags; FUZZ_STABLE=1 forces this). cargo-fuzz itself is installed from crates.io when
# missing.
source "$(dirname "$0")/lib.sh"
SECONDS_PER_TARGET="${1:-10}"
read -r -a TARGETS <<<"${FUZZ_TARGETS:-token claims jwks policy headers path}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  say "installing cargo-fuzz (about 1 minute, once)"
  cargo install cargo-fuzz
fi
if [ "${FUZZ_STABLE:-0}" != 1 ] && rustup toolchain list | grep -q '^nightly'; then
  FUZZ_CARGO=(cargo +nightly fuzz)
else
  say "no nightly toolchain: using stable with RUSTC_BOOTSTRAP=1"
  export RUSTC_BOOTSTRAP=1
  FUZZ_CARGO=(cargo fuzz)
fi

say "building the fuzz targets (release, AddressSanitizer)"
"${FUZZ_CARGO[@]}" build

LOGS="$ROOT/fuzz/target/logs"
mkdir -p "$LOGS"
crashed=()
summary=()
for target in "${TARGETS[@]}"; do
  work="$ROOT/fuzz/target/corpus/$target"
  mkdir -p "$work" "$ROOT/fuzz/artifacts/$target"
  say "fuzzing $target for ${SECONDS_PER_TARGET}s"
  status=0
  # The first corpus directory receives new inputs; the seeds stay as committed.
  "${FUZZ_CARGO[@]}" run "$target" "$work" "$ROOT/fuzz/corpus/$target" -- \
    -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    >"$LOGS/$target.log" 2>&1 || status=$?
  execs="$(awk '/stat::number_of_executed_units/ { n = $NF } END { print n }' "$LOGS/$target.log")"
  if [ -z "$execs" ]; then
    execs="$(grep -Eo '^#[0-9]+' "$LOGS/$target.log" | tail -1 | tr -d '#')"
  fi
  cov="$(grep -Eo 'cov: [0-9]+' "$LOGS/$target.log" | tail -1 | awk '{print $2}')"
  rate="$(awk '/stat::average_exec_per_sec/ { print $NF }' "$LOGS/$target.log")"
  line="$(printf '%-8s %12s executions  %8s/s  coverage %6s  corpus %5s' "$target" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$(find "$work" -type f | wc -l)")"
  if [ "$status" -ne 0 ]; then
    line="$line  CRASHED (exit $status, see $LOGS/$target.log and fuzz/artifacts/$target/)"
    crashed+=("$target")
  fi
  summary+=("$line")
  echo "$line"
done

echo
echo "fuzz summary (${SECONDS_PER_TARGET}s per target)"
printf '  %s\n' "${summary[@]}"
if [ "${#crashed[@]}" -gt 0 ]; then
  echo "crashed: ${crashed[*]}" >&2
  exit 1
fi
