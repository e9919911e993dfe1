#!/usr/bin/env bash
# Runs the gateway locally: the mock Entra tenant, an echo origin and `wrangler dev` (local KV,
# workerd), all on 127.0.0.1. Prints a ready-to-paste curl with a fresh token. Ctrl-C stops
# everything it started. Ports: MOCK_PORT (9780), ORIGIN_PORT (9781), GATE_PORT (8787).
source "$(dirname "$0")/lib.sh"
MOCK_PORT="${MOCK_PORT:-9780}"
ORIGIN_PORT="${ORIGIN_PORT:-9781}"
GATE_PORT="${GATE_PORT:-8787}"
AUDIENCE="api://entra-gate-dev"
STATE="$ROOT/.dev"

# A port something else already holds would only show up later as "did not come up".
for port in "$MOCK_PORT" "$ORIGIN_PORT" "$GATE_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port on 127.0.0.1 is already in use; stop what listens there or choose another" \
      "(MOCK_PORT=$MOCK_PORT ORIGIN_PORT=$ORIGIN_PORT GATE_PORT=$GATE_PORT)" >&2
    exit 1
  fi
done

ensure_toolchain
ensure_dev_secret
EXAMPLE="examples/items-api"
bash scripts/build.sh --policy "$EXAMPLE/policy.toml"
say "building the mock tenant"
cargo build --release -q -p mock-tenant
mkdir -p "$STATE"

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

target/release/mock-tenant serve --state "$STATE/tenant" --port "$MOCK_PORT" &
pids+=($!)
node tests/e2e/support/echo-origin.mjs "$ORIGIN_PORT" &
pids+=($!)

for _ in $(seq 100); do [ -f "$STATE/tenant/tenant.json" ] && break; sleep 0.1; done
TENANT_ID="$(node -p "require('$STATE/tenant/tenant.json').tenant_id")"

say "starting wrangler dev on http://127.0.0.1:$GATE_PORT"
# wrangler itself, not through npx: npm exec does not pass SIGTERM on and leaves workerd behind.
# The worked example's configuration; the local secret is the repository's .dev.vars.
wrangler dev --config "$EXAMPLE/wrangler.toml" --env-file "$ROOT/.dev.vars" --persist-to "$STATE/wrangler" \
  --ip 127.0.0.1 --port "$GATE_PORT" --show-interactive-dev-session=false \
  --var "ENTRA_TENANT_ID:$TENANT_ID" \
  --var "ENTRA_AUDIENCES:$AUDIENCE" \
  --var "ORIGIN_URL:http://127.0.0.1:$ORIGIN_PORT" \
  --var "GATE_ORIGINS:{\"reports\":\"http://127.0.0.1:$ORIGIN_PORT/reports-service\"}" \
  --var "ENTRA_AUTHORITY:http://127.0.0.1:$MOCK_PORT" \
  --var "GATE_DEV_CLIENT_HEADERS:true" &
pids+=($!)

for _ in $(seq 240); do
  code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GATE_PORT/api/items/1" || true)"
  [ "$code" = "401" ] && break
  sleep 0.5
done
if [ "${code:-}" != "401" ]; then
  echo "the gateway did not come up on 127.0.0.1:$GATE_PORT (last answer: ${code:-none});" \
    "wrangler's output above says why" >&2
  exit 1
fi

TOKEN="$(target/release/mock-tenant mint --state "$STATE/tenant" --authority "http://127.0.0.1:$MOCK_PORT" --aud "$AUDIENCE")"
cat <<MSG

entra-gate is running on http://127.0.0.1:$GATE_PORT (mock tenant $TENANT_ID on :$MOCK_PORT,
echo origin on :$ORIGIN_PORT). Try:

  curl -i http://127.0.0.1:$GATE_PORT/api/items/42 -H "Authorization: Bearer $TOKEN"

The route policy is the worked example, $EXAMPLE/policy.toml. Locally, X-Dev-Client-IP, X-Dev-Country
and X-Dev-ASN headers stand in for what Cloudflare supplies in production (e.g. /api/admin/...
wants a country among NL, BE, DE).

More tokens: target/release/mock-tenant mint --state .dev/tenant --authority http://127.0.0.1:$MOCK_PORT --aud $AUDIENCE [--ver 1 --kind app --claim name=value ...]
Ctrl-C stops everything.
MSG
wait
