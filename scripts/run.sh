#!/usr/bin/env bash
# Builds the dashboard and serves it with the API on http://127.0.0.1:8099 (no sign-in: local use).
# Without a cluster, validate, compile and preview work; starting systems answers 503.
# Installs only what the dashboard needs (scripts/install.sh dashboard), not the test tools.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
scripts/install.sh dashboard
scripts/build-frontend.sh
# The server in the profile scripts/test.sh builds it (debug, not incremental, same cache), so
# after one test run it starts at once instead of after a release build of many minutes.
# TYCHO_RELEASE=1 builds an optimised server instead (for measuring, or many users).
if [[ "${TYCHO_RELEASE:-}" == 1 ]]; then
    profile=(--release)
else
    export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
    profile=()
fi
exec cargo run "${profile[@]}" --locked -p tycho-cli -- api --dist dist --insecure-no-auth "$@"
