#!/usr/bin/env bash
# The project's test command: installs what is missing, then runs every check and test.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tycho-target}"
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n==> %s\n' "$*"; }

step "tools"
rustup component add clippy rustfmt >/dev/null 2>&1 || true
rustup target add wasm32-unknown-unknown >/dev/null
command -v kubernetes-validate >/dev/null || python3 -m pip install --quiet kubernetes-validate
scripts/install-tools.sh
scripts/install-trunk.sh

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
