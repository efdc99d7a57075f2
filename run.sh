#!/usr/bin/env bash
# Sets up and runs the whole product on a fresh machine: builds the web app, then starts the
# server on SQLite and the in-process cache. It prints the URL to open.
#
# `./run.sh cluster` starts a three-node cluster on this machine instead (docs/cluster.md):
# three servers on PostgreSQL (DATABASE_URL) and Redis (REDIS_URL) behind HAProxy on
# 127.0.0.1:8080. Ctrl-C stops all of it.
set -euo pipefail
cd "$(dirname "$0")"
command -v cargo >/dev/null || { echo "run.sh: install Rust (https://rustup.rs) first" >&2; exit 1; }
command -v npm >/dev/null || { echo "run.sh: install Node.js 20+ and npm first" >&2; exit 1; }
(cd web && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
if [ "${1:-}" != "cluster" ]; then
  exec cargo run --release --bin mini-meeting -- "$@"
fi

command -v haproxy >/dev/null || { echo "run.sh cluster: install HAProxy (apt-get install haproxy)" >&2; exit 1; }
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
mkdir -p data/cluster
# Every node must sign and check tokens with the same secret.
[ -f data/cluster/jwt-secret ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > data/cluster/jwt-secret
export JWT_SECRET="$(cat data/cluster/jwt-secret)"
export ADMIN_TOKEN="${ADMIN_TOKEN:-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
export WEB_DIR="$PWD/web/dist" SFU_WORKERS="${SFU_WORKERS:-1}"
# MM_BIN: a server binary built already (for example target/debug/mini-meeting).
bin="${MM_BIN:-target/release/mini-meeting}"
[ -n "${MM_BIN:-}" ] || cargo build --release --bin mini-meeting

pids=()
stop() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop EXIT INT TERM
servers=""
for i in 1 2 3; do
  HTTP_ADDR="127.0.0.1:808$i" SFU_UDP_ADDR="127.0.0.1:4${i}000" DATA_DIR="data/cluster/node-$i" \
    "$bin" > "data/cluster/node-$i.log" 2>&1 &
  pids+=("$!")
  servers+="  server node$i 127.0.0.1:808$i check"$'\n'
done
cat > data/cluster/haproxy.cfg <<CFG
global
  maxconn 4000
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h
frontend meetings
  bind 127.0.0.1:8080
  default_backend nodes
backend nodes
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 1s fall 2 rise 1
$servers
CFG
haproxy -db -f data/cluster/haproxy.cfg &
pids+=("$!")
echo "Mini Meeting cluster: open http://127.0.0.1:8080 (nodes on 8081-8083, logs in data/cluster/)"
echo "Operator: curl -H 'Authorization: Bearer $ADMIN_TOKEN' http://127.0.0.1:8080/admin/cluster"
wait -n
