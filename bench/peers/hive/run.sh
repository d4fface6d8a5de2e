#!/usr/bin/env bash
# Hive Gateway (GraphQL Mesh v1 compose + JSON Schema sources) in front of the same provider APIs
# as contact-gateway, for side-by-side benchmarks. It serves Query.contact(email), a merged lookup in
# Adaptix, Trustmary and Lunar Send written the way a Mesh user would (gateway.config.ts).
#
#   bench/peers/hive/run.sh [PROVIDERS_URL] [PORT]
#     PROVIDERS_URL  where /adaptix/api, /trustmary/v1 and /lunarsend/api live
#                    (default http://127.0.0.1:8100, `contact-gateway sandbox`)
#     PORT           Hive Gateway's port (default 4000); /graphql, /healthcheck
#   env: HIVE_DIR (work copy with node_modules, default ~/.cache/hive-peer), FORK (worker processes, 1),
#        ADAPTIX_USER/ADAPTIX_PASSWORD, TRUSTMARY_API_KEY, LUNARSEND_API_KEY (default: the sandbox's).
#
# Then, e.g.:
#   curl -s localhost:4000/graphql -H 'content-type: application/json' \
#     -d '{"query":"{ contact(email:\"ada.lovelace.0@stark.test\") { email firstName lastName company sources { provider id } } }"}'
# Needs node >= 20 and npm (the npm registry). Runs in the foreground; stop it with Ctrl-C or SIGTERM.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
url=${1:-http://127.0.0.1:8100}
port=${2:-4000}
work=${HIVE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hive-peer}
mkdir -p "$work"
cp -r "$here"/package.json "$here"/package-lock.json "$here"/mesh.config.ts "$here"/gateway.config.ts "$here"/schemas "$work"/
chmod -R u+w "$work"
cd "$work"
[ -d node_modules/@graphql-hive/gateway ] || npm ci --no-audit --no-fund --loglevel=error
PROVIDERS_URL="$url" npx mesh-compose -c mesh.config.ts >/dev/null
export ADAPTIX_BASIC_AUTH
ADAPTIX_BASIC_AUTH=$(printf '%s:%s' "${ADAPTIX_USER:-sandbox}" "${ADAPTIX_PASSWORD:-sandbox-adaptix-password}" | base64 -w0)
export TRUSTMARY_API_KEY=${TRUSTMARY_API_KEY:-sandbox-trustmary-key}
export LUNARSEND_API_KEY=${LUNARSEND_API_KEY:-sandbox-lunarsend-key}
export NODE_ENV=production
exec ./node_modules/.bin/hive-gateway supergraph supergraph.graphql -c gateway.config.ts \
  --host 127.0.0.1 --port "$port" --fork "${FORK:-1}"
