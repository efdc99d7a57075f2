#!/usr/bin/env bash
# Runs one bench command against N nodes of a cluster it starts on loopback, on a fresh
# PostgreSQL database (created on DATABASE_ADMIN_URL, dropped afterwards) and REDIS_URL under a
# key prefix of its own. Every node gets one SFU worker, so N=1 and N=3 compare like for like.
#
#   bench/cluster.sh 3 fanout --subscribers 30 --profile 360p --duration 8
#
# Env: MM_BIN (default target/release/mini-meeting), BENCH_BIN (default target/release/bench),
# DATABASE_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres), REDIS_URL (default
# redis://127.0.0.1:6379). Node logs go to a temporary directory, printed at the end.
set -euo pipefail
n="${1:?usage: bench/cluster.sh NODES <bench subcommand and options>}"
shift
cd "$(dirname "$0")/.."
bin="${MM_BIN:-target/release/mini-meeting}"
bench="${BENCH_BIN:-target/release/bench}"
admin="${DATABASE_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
tag="$(date +%s)-$$"
db="mm_bench_${tag//-/_}"
dir="$(mktemp -d)"
psql "$admin" -qc "CREATE DATABASE $db"
export DATABASE_URL="${admin%/*}/$db" REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}" REDIS_KEY_PREFIX="bench-$tag"
export JWT_SECRET="mm-bench-cluster-secret-$tag-0123456789" SFU_PUBLIC_IPS=127.0.0.1 SFU_ALLOWED_NETWORKS=127.0.0.0/8
# Every simulated participant signs up and connects from 127.0.0.1.
export API_RATE_LIMIT_PER_MINUTE=100000000 WS_MAX_UNAUTHENTICATED_PER_IP=100000 LOG_LEVEL=warn SFU_WORKERS=1
pids=()
urls=()
stop() {
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  psql "$admin" -qc "DROP DATABASE IF EXISTS $db" || true
  echo "node logs: $dir" >&2
}
trap stop EXIT
for i in $(seq 1 "$n"); do
  mkdir -p "$dir/node-$i"
  HTTP_ADDR="127.0.0.1:$((18080 + i))" SFU_UDP_ADDR="127.0.0.1:$((19000 + i))" DATA_DIR="$dir/node-$i" \
    WEB_DIR="$dir/web" "$bin" > "$dir/node-$i.log" 2>&1 &
  pids+=("$!")
  urls+=("http://127.0.0.1:$((18080 + i))")
done
for u in "${urls[@]}"; do
  for _ in $(seq 1 150); do curl -sf "$u/readyz" > /dev/null && break; sleep 0.2; done
  curl -sf "$u/readyz" > /dev/null || { echo "$u never became ready; see $dir" >&2; exit 1; }
done
sleep 3 # a node registry refresh: every node knows the others before the first join
"$bench" "$@" --server "$(IFS=,; echo "${urls[*]}")" --server-pid "$(IFS=,; echo "${pids[*]}")"
