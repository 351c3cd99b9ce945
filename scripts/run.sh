#!/usr/bin/env bash
# Builds the dashboard and serves it with the API on http://127.0.0.1:8099 (no sign-in: local use).
# Without a cluster, validate, compile and preview work; starting systems answers 503.
# Installs only what the dashboard needs (scripts/install.sh dashboard), not the test tools.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
scripts/install.sh dashboard
scripts/build-frontend.sh
exec cargo run --release --locked -p tycho-cli -- api --dist dist --insecure-no-auth "$@"
