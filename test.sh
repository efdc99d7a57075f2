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

step() { echo; echo "=== $* ==="; }

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
step "cargo test"
cargo test --workspace
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
cargo build --bin mini-meeting --quiet
server_bin="${CARGO_TARGET_DIR:-$PWD/target}/debug/mini-meeting"
(cd web && MM_SERVER_BIN="$server_bin" npm run test:e2e)

step "bench: smoke run"
cargo run --quiet -p mm-bench --bin bench -- smoke
step "bench: smoke run through a 5% lossy link"
cargo run --quiet -p mm-bench --bin bench -- smoke --loss 5
echo
echo "test.sh: all passed"
