#!/usr/bin/env bash
# Sets up and runs the whole product on a fresh machine: builds the web app, then starts the
# server on SQLite and the in-process cache. It prints the URL to open.
set -euo pipefail
cd "$(dirname "$0")"
command -v cargo >/dev/null || { echo "run.sh: install Rust (https://rustup.rs) first" >&2; exit 1; }
command -v npm >/dev/null || { echo "run.sh: install Node.js 20+ and npm first" >&2; exit 1; }
(cd web && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
exec cargo run --release --bin mini-meeting -- "$@"
