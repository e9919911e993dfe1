#!/usr/bin/env bash
# Adds, lists and removes revocation entries in the REVOCATIONS KV namespace, locally (the store
# `wrangler dev` uses) or in production (--remote). Entries expire on their own after the
# longest token lifetime they must outlast (default 28 h, Entra's maximum with CAE).
#
#   scripts/revoke.sh add token <uti>            [--ttl SECONDS] [--reason TEXT] [--remote]
#   scripts/revoke.sh add user  <tenant id> <object id> [--ttl SECONDS] [--reason TEXT] [--remote]
#   scripts/revoke.sh add app   <client id>      [--ttl SECONDS] [--reason TEXT] [--remote]
#   scripts/revoke.sh list                        [--remote]
#   scripts/revoke.sh remove <key>                [--remote]     (a key as list prints it)
# Isolates re-read the list every GATE_REVOCATION_REFRESH_SECONDS (default 30 s).
source "$(dirname "$0")/lib.sh"
ensure_node_modules

where="--local"
ttl=$((28 * 3600))
reason="revoked by an operator"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --remote) where="--remote" ;;
    --ttl) ttl="$2"; shift ;;
    --reason) reason="$2"; shift ;;
    *) args+=("$1") ;;
  esac
  shift
done
set -- "${args[@]+"${args[@]}"}"

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
kv() { wrangler kv "$@" --binding REVOCATIONS "$where"; }

case "${1:-}" in
  add)
    case "${2:-}" in
      token) [ -n "${3:-}" ] || usage; key="uti:$3" ;;
      user) [ -n "${4:-}" ] || usage; key="user:$(echo "$3" | tr 'A-F' 'a-f'):$(echo "$4" | tr 'A-F' 'a-f')" ;;
      app) [ -n "${3:-}" ] || usage; key="app:$(echo "$3" | tr 'A-F' 'a-f')" ;;
      *) usage ;;
    esac
    [ "$ttl" -ge 60 ] || { echo "--ttl must be at least 60 seconds (a KV limit)" >&2; exit 2; }
    value="$(node -e 'console.log(JSON.stringify({ reason: process.argv[1], added_at: Math.floor(Date.now() / 1000) }))' "$reason")"
    kv key put "$key" "$value" --ttl "$ttl"
    echo "revoked $key for $ttl s"
    ;;
  list)
    kv key list | node -e '
      const keys = JSON.parse(require("fs").readFileSync(0, "utf8"));
      if (keys.length === 0) console.log("no revocations");
      for (const k of keys) {
        const until = k.expiration ? new Date(k.expiration * 1000).toISOString() : "no expiry";
        console.log(`${k.name}\tuntil ${until}`);
      }'
    ;;
  remove)
    [ -n "${2:-}" ] || usage
    kv key delete "$2"
    ;;
  *) usage ;;
esac
