#!/usr/bin/env bash
# Builds the dashboard (frontend/, Trunk.toml) into dist/ — release, offline, local tools only —
# then prints the size of its wasm + JS, raw and gzip. Serve it with `tycho api --dist dist`.
# Tools: scripts/install-tools.sh (wasm32 target, wasm-bindgen, wasm-opt) and scripts/install-trunk.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tycho-target}"
TOOLS="${TYCHO_TOOLS_DIR:-$HOME/.cache/tycho-tools}"
export PATH="$HOME/.cargo/bin:$TOOLS/node_modules/.bin:$PATH"
# The dashboard favours size: the release profile with opt-level z and LTO, for wasm32 only
# (native release builds are a different artifact directory, so they are not affected).
export CARGO_PROFILE_RELEASE_OPT_LEVEL="${CARGO_PROFILE_RELEASE_OPT_LEVEL:-z}"
export CARGO_PROFILE_RELEASE_LTO="${CARGO_PROFILE_RELEASE_LTO:-true}"
export CARGO_PROFILE_RELEASE_PANIC="${CARGO_PROFILE_RELEASE_PANIC:-abort}"

fail() { echo "build-frontend: $*" >&2; exit 1; }
command -v trunk >/dev/null || fail "trunk missing: run scripts/install-trunk.sh"
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}') || true
[ "$have" = "$want" ] || fail "wasm-bindgen CLI ${have:-missing}, the crate is $want: run scripts/install-tools.sh"
command -v wasm-opt >/dev/null || fail "wasm-opt missing (npm binaryen): run scripts/install-tools.sh"

trunk build --release --offline --skip-version-check --config Trunk.toml

scripts/frontend-size.sh dist
