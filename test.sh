#!/usr/bin/env bash
# Runs every check and test: formatting, lints, the Rust suites (SQLite always; PostgreSQL and
# Redis too when reachable or named by TEST_DATABASE_URL / TEST_REDIS_URL), the web app's lint,
# unit tests and build, the browser end-to-end test, and a smoke run of the bench tool.
set -euo pipefail
cd "$(dirname "$0")"

reachable() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
if [ -z "${TEST_DATABASE_URL:-}" ] && reachable 5432; then
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/test"
fi
if [ -z "${TEST_REDIS_URL:-}" ] && reachable 6379; then
  export TEST_REDIS_URL="redis://127.0.0.1:6379"
fi
echo "test.sh: PostgreSQL: ${TEST_DATABASE_URL:-not used}; Redis: ${TEST_REDIS_URL:-not used}"

# Each step shows the seconds since the start, so a slow CI run tells where its time went.
step() { echo; echo "=== $* === (${SECONDS}s)"; }

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
step "cargo test"
cargo test --workspace
step "the API, signaling and cluster suites on a Redis Cluster"
# Three redis-server processes in cluster mode on loopback, formed by redis-cli; the suites
# take it through TEST_REDIS_URL (seed nodes separated by commas), as a deployment would.
if [ -n "${TEST_REDIS_URL:-}" ] && command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
  cluster_dir="$(mktemp -d)"
  cluster_pids=()
  cluster_ports=()
  cluster_url=""
  for i in 0 1 2; do
    port=$((23000 + RANDOM % 6000 + i * 10))
    redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-node-timeout 2000 \
      --cluster-config-file "$cluster_dir/nodes-$port.conf" --save "" --appendonly no \
      --dir "$cluster_dir" --logfile "$cluster_dir/$port.log" &
    cluster_pids+=("$!")
    cluster_ports+=("127.0.0.1:$port")
    cluster_url+="${cluster_url:+,}redis://127.0.0.1:$port"
  done
  stop_cluster() { kill "${cluster_pids[@]}" 2>/dev/null || true; rm -rf "$cluster_dir"; }
  trap stop_cluster EXIT
  for p in "${cluster_ports[@]}"; do
    for _ in $(seq 1 50); do redis-cli -u "redis://$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
  done
  redis-cli --cluster create "${cluster_ports[@]}" --cluster-replicas 0 --cluster-yes >/dev/null
  for _ in $(seq 1 100); do
    redis-cli -u "redis://${cluster_ports[0]}" cluster info | grep -q cluster_state:ok && break
    sleep 0.1
  done
  TEST_REDIS_URL="$cluster_url" cargo test --workspace --test cache_conformance --test api_auth \
    --test api_meetings --test api_http --test api_limits --test auth_hardening \
    --test signaling --test signaling_hardening --test cluster
  stop_cluster
  trap - EXIT
elif [ -n "${MM_REQUIRE_SERVICES:-}" ]; then
  echo "test.sh: MM_REQUIRE_SERVICES is set but Redis or redis-server/redis-cli is missing" >&2
  exit 1
else
  echo "skipped: needs TEST_REDIS_URL and redis-server/redis-cli"
fi

step "the API, signaling and cluster suites with a PostgreSQL streaming replica"
# A primary and a streaming standby of the test's own (initdb, pg_basebackup -R) on loopback;
# the suites take them through TEST_DATABASE_URL and TEST_DATABASE_REPLICA_URL.
pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [ -n "${TEST_DATABASE_URL:-}" ] && [ -x "$pg_bin/initdb" ] && [ -x "$pg_bin/pg_basebackup" ] \
  && { [ "$(id -u)" != 0 ] || id postgres >/dev/null 2>&1; }; then
  as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  pg_dir="$(mktemp -d)"
  chmod 755 "$pg_dir"
  if [ "$(id -u)" = 0 ]; then chown postgres "$pg_dir"; fi
  primary_port=$((34000 + RANDOM % 2000))
  replica_port=$((primary_port + 1))
  stop_pg() {
    as_pg "$pg_bin/pg_ctl" -D "$pg_dir/replica" -m fast stop >/dev/null 2>&1 || true
    as_pg "$pg_bin/pg_ctl" -D "$pg_dir/primary" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  }
  trap stop_pg EXIT
  as_pg "$pg_bin/initdb" -D "$pg_dir/primary" -U postgres --auth=trust >/dev/null
  printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nwal_level = replica\nmax_wal_senders = 4\nfsync = off\n" \
    "$primary_port" "$pg_dir" >> "$pg_dir/primary/postgresql.conf"
  echo "host replication all 127.0.0.1/32 trust" >> "$pg_dir/primary/pg_hba.conf"
  as_pg "$pg_bin/pg_ctl" -D "$pg_dir/primary" -l "$pg_dir/primary.log" -w start >/dev/null
  as_pg "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$pg_dir/replica" -R -X stream
  echo "port = $replica_port" >> "$pg_dir/replica/postgresql.conf"
  as_pg "$pg_bin/pg_ctl" -D "$pg_dir/replica" -l "$pg_dir/replica.log" -w start >/dev/null
  TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$primary_port/postgres" \
    TEST_DATABASE_REPLICA_URL="postgres://postgres@127.0.0.1:$replica_port/postgres" \
    cargo test --workspace --test replica_reads --test store_conformance --test api_auth \
    --test api_meetings --test api_http --test api_limits --test auth_hardening \
    --test signaling --test cluster
  stop_pg
  trap - EXIT
elif [ -n "${MM_REQUIRE_SERVICES:-}" ]; then
  echo "test.sh: MM_REQUIRE_SERVICES is set but PostgreSQL's initdb/pg_basebackup are missing" >&2
  exit 1
else
  echo "skipped: needs TEST_DATABASE_URL and PostgreSQL's server binaries"
fi

step "generated protocol types are up to date"
if ! git diff --quiet -- web/src/protocol/generated \
  || [ -n "$(git ls-files --others --exclude-standard web/src/protocol/generated)" ]; then
  git status --short web/src/protocol/generated
  echo "web/src/protocol/generated is stale: commit what 'cargo test -p mm-signaling' wrote" >&2
  exit 1
fi

step "web: install, lint, typecheck, unit tests, build"
cd web
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run lint
npm run typecheck
npm test
npm run build
cd ..

step "web: end-to-end in Chromium"
# The server and bench binaries `cargo test --workspace` built (a separate `cargo build` of one
# package would resolve other dependency features and compile much of the tree again).
cargo test --workspace --no-run --quiet
server_bin="${CARGO_TARGET_DIR:-$PWD/target}/debug/mini-meeting"
bench_bin="${CARGO_TARGET_DIR:-$PWD/target}/debug/bench"
(cd web && MM_SERVER_BIN="$server_bin" MM_BENCH_BIN="$bench_bin" npm run test:e2e)

step "bench: smoke run"
"$bench_bin" smoke
step "bench: smoke run through a 5% lossy link"
"$bench_bin" smoke --loss 5
step "bench: a short run through a two-node cluster"
if [ -n "${TEST_DATABASE_URL:-}" ] && [ -n "${TEST_REDIS_URL:-}" ] && command -v psql >/dev/null; then
  out="$(DATABASE_ADMIN_URL="$TEST_DATABASE_URL" REDIS_URL="$TEST_REDIS_URL" MM_BIN="$server_bin" BENCH_BIN="$bench_bin" \
    bench/cluster.sh 2 fanout --subscribers 3 --warmup 1 --duration 2 --quiet)"
  echo "$out"
  # Everyone received everything exactly, and both nodes were measured.
  echo "$out" | grep -Eq "exact checks held +6/6" \
    && echo "$out" | grep -Eq "server cores per node +[0-9.]+ \+ [0-9.]+" \
    || { echo "the run through two nodes failed" >&2; exit 1; }
else
  echo "skipped: needs TEST_DATABASE_URL, TEST_REDIS_URL and psql"
fi
echo
echo "test.sh: all passed (${SECONDS}s)"
