#!/usr/bin/env bash
# Seeds and inspects the key sets the gateway keeps in KV (binding JWKS), locally (the store
# `wrangler dev` uses) or in production (--remote). Wraps `wrangler kv`. Records are sealed with
# GATE_SECRET: locally the one in .dev.vars (made on first use); with --remote, export the
# production secret as GATE_SECRET first (the worker refuses records sealed under another).
#
#   scripts/keys.sh list                 [--remote]   every key set with its age and kids
#   scripts/keys.sh show   KEY           [--remote]   one record in detail
#   scripts/keys.sh seed   --tenant T [--authority URL] [--versions 1.0,2.0] [--appid ID] [--remote]
#                                                     fetch from Entra and write the record
#   scripts/keys.sh delete KEY           [--remote]   drop a record (the next request refetches)
source "$(dirname "$0")/lib.sh"
ensure_node_modules

command="${1:-}"
shift || true
where="--local"
args=()
for arg in "$@"; do
  if [ "$arg" = "--remote" ]; then where="--remote"; else args+=("$arg"); fi
done
set -- "${args[@]+"${args[@]}"}"

if [ "$where" = "--local" ]; then
  ensure_dev_secret
  export GATE_SECRET="${GATE_SECRET:-$(dev_secret)}"
fi

summarise() { # reads a stored record on stdin (KEY as $1), prints what an operator wants to know
  KEY="$1" node --input-type=module -e '
    import { readFileSync } from "node:fs";
    import { unseal } from "./scripts/kv-record.mjs";
    const text = readFileSync(0, "utf8");
    let r, genuine = "unknown (GATE_SECRET not set)";
    if (process.env.GATE_SECRET) {
      const opened = unseal(process.env.KEY, text, process.env.GATE_SECRET);
      r = opened.record;
      genuine = opened.genuine ? "valid under GATE_SECRET" : "INVALID under GATE_SECRET (the worker refuses this record)";
    } else {
      r = JSON.parse(text.slice(text.indexOf("\n") + 1));
    }
    const now = Math.floor(Date.now() / 1000);
    const age = (t) => `${new Date(t * 1000).toISOString()} (${Math.round((now - t) / 60)} min ago)`;
    console.log(`set         ${r.set}`);
    console.log(`fetched_at  ${age(r.fetched_at)}`);
    console.log(`checked_at  ${age(r.checked_at)}`);
    console.log(`hash        ${r.content_hash}`);
    console.log(`seal        ${genuine}`);
    for (const s of r.sources) {
      const kids = (JSON.parse(s.jwks).keys ?? []).map((k) => k.kid).join(", ");
      console.log(`${s.version}          issuer ${s.issuer}\n            keys   ${s.jwks_uri}\n            kids   ${kids}`);
    }'
}

case "$command" in
  list)
    keys="$(wrangler kv key list --binding JWKS "$where" --prefix 'jwks:' | node -e 'for (const k of JSON.parse(require("fs").readFileSync(0, "utf8"))) console.log(k.name)')"
    if [ -z "$keys" ]; then echo "no key sets stored"; exit 0; fi
    while IFS= read -r key; do
      echo "== $key"
      wrangler kv key get --binding JWKS "$where" "$key" | summarise "$key"
    done <<< "$keys"
    ;;
  show)
    [ -n "${1:-}" ] || { echo "usage: keys.sh show KEY [--remote]" >&2; exit 2; }
    wrangler kv key get --binding JWKS "$where" "$1" | summarise "$1"
    ;;
  seed)
    if [ -z "${GATE_SECRET:-}" ]; then
      echo "keys.sh seed --remote: export GATE_SECRET (the worker's secret) first" >&2
      exit 2
    fi
    built="$(node scripts/kv-record.mjs "$@")"
    key="$(node -p 'JSON.parse(process.argv[1]).key' "$built")"
    file="$(mktemp)"
    trap 'rm -f "$file"' EXIT
    node -e 'process.stdout.write(JSON.parse(process.argv[1]).text)' "$built" > "$file"
    wrangler kv key put --binding JWKS "$where" "$key" --path "$file"
    echo "seeded $key"
    wrangler kv key get --binding JWKS "$where" "$key" | summarise "$key"
    ;;
  delete)
    [ -n "${1:-}" ] || { echo "usage: keys.sh delete KEY [--remote]" >&2; exit 2; }
    wrangler kv key delete --binding JWKS "$where" "$1"
    ;;
  *)
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
