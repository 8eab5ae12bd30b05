#!/usr/bin/env bash
# Starts Gatehouse for the peer harness (../shared/peers): a fresh data dir, the bench user,
# the bench clients, then `exec` so the harness measures the server's own pid.
# Env from the harness: PORT, HOST, PEERS_DIR; GH_BENCH_BACKEND=embedded|scaled.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
NODE="$ROOT/node_modules/.bin/node"
DATA="${PEERS_DIR:-/tmp/peers}/gatehouse-${PORT}"
rm -rf "$DATA" && mkdir -p "$DATA"
sha() { printf %s "$1" | openssl dgst -sha256 -binary | basenc --base64url | tr -d =; }
export GATEHOUSE_DATA_DIR="$DATA"
export GATEHOUSE_PORT="$PORT" GATEHOUSE_HOST="$HOST" GATEHOUSE_PUBLIC_URL="http://localhost:$PORT"
export GATEHOUSE_LOG_LEVEL=warn
# Benchmarks sign in far more often than people do.
export GATEHOUSE_SIGN_IN_LIMIT_PER_IP=100000 GATEHOUSE_SIGN_UP_LIMIT_PER_IP=100000
# W5 runs 8 concurrent sign-ins of one account; in-flight attempts count toward the lockout
# threshold (5 by default), so the bench raises it to its maximum.
export GATEHOUSE_LOCKOUT_THRESHOLD=100
if [ "${GH_BENCH_BACKEND:-embedded}" = scaled ]; then
  # A fresh database per start, as the embedded backend gets a fresh data dir.
  PG="${GH_BENCH_PG_URL:-postgres://postgres@127.0.0.1:${PG_PORT:-5440}/postgres}"
  DB="gh_bench_${PORT}"
  psql "$PG" -qc "drop database if exists $DB with (force)" -c "create database $DB" >/dev/null
  export GATEHOUSE_DATABASE_URL="${PG%/*}/$DB"
  export GATEHOUSE_REDIS_URL="${GH_BENCH_REDIS_URL:-redis://127.0.0.1:${REDIS_PORT:-6390}}"
  export GATEHOUSE_REDIS_PREFIX="gh-bench-$PORT:"
fi
export GATEHOUSE_CLIENTS="[
 {\"client_id\":\"cc-client\",\"name\":\"Bench CC\",\"type\":\"confidential\",\"token_endpoint_auth_method\":\"client_secret_basic\",\"client_secret_hash\":\"$(sha cc-secret)\",\"grant_types\":[\"client_credentials\"],\"scopes\":[\"api:read\"],\"audiences\":[\"urn:peer:api\"]},
 {\"client_id\":\"rt-client\",\"name\":\"Bench mobile\",\"type\":\"public\",\"token_endpoint_auth_method\":\"none\",\"grant_types\":[\"refresh_token\"],\"scopes\":[\"openid\"],\"audiences\":[\"urn:peer:api\"],\"first_party\":true}
]"
cd "$ROOT"
printf '%s\n' 'correct horse battery staple' | "$NODE" --disable-warning=ExperimentalWarning src/cli/main.ts users create --email bench@example.com --password-stdin >/dev/null
exec "$NODE" --disable-warning=ExperimentalWarning src/main.ts
