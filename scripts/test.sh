#!/usr/bin/env bash
# The project's test command: installs what is missing (scripts/install.sh test), then runs every
# check and test. Everything after the first step only tests.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
# A test run builds each crate once: incremental data (half the debug cache, many GB) only
# costs disk. A developer's own `cargo` commands keep their incremental builds.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

step() { printf '\n==> %s\n' "$*"; }

step "tools"
scripts/install.sh test

step "wasm package and dashboard"
scripts/build-wasm.sh
scripts/build-frontend.sh

step "format and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "compiler for wasm32"
cargo build --locked -p tycho-compiler --target wasm32-unknown-unknown

step "tests"
cargo test --workspace --locked

step "manifests against the Kubernetes schema"
cargo build --locked -p tycho-cli
scripts/check-manifests.sh "$CARGO_TARGET_DIR/debug/tycho"
