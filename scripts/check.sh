#!/usr/bin/env bash
# Checks a configuration before `wrangler deploy`, with the Worker's own loader (tools/check):
# every problem the Worker would answer `500 config_invalid` for, with the binding it concerns,
# and warnings for legal but risky settings. Exit status 1 on problems.
#
#   scripts/check.sh                      the top level of wrangler.toml (+ .dev.vars)
#   scripts/check.sh --env production     [env.production] (vars are not inherited)
#   scripts/check.sh --var NAME:VALUE     a value as `wrangler deploy --var` would give it
#   scripts/check.sh --json               {"problems": [...], "warnings": [...]}
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
cargo build --quiet --release -p entra-gate-check
exec target/release/entra-gate-check "$@"
