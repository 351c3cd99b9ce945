#!/usr/bin/env bash
# Builds the dashboard and serves it with the API on http://127.0.0.1:8099 (no sign-in: local use).
# Without a cluster, validate, compile and preview work; starting systems answers 503.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tycho-target}"
export PATH="$HOME/.cargo/bin:$PATH"
scripts/install-tools.sh
scripts/install-trunk.sh
scripts/build-frontend.sh
exec cargo run --release --locked -p tycho-cli -- api --dist dist --insecure-no-auth "$@"
