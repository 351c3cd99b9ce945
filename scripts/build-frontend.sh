#!/usr/bin/env bash
# Builds the dashboard (frontend/, Trunk.toml) into dist/ — release, offline, local tools only —
# then prints the size of its wasm + JS, raw and gzip. Serve it with `tycho api --dist dist`.
# Tools: scripts/install.sh dashboard (wasm32 target, wasm-bindgen, wasm-opt, trunk).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
# The dashboard favours size: the release profile with opt-level z and LTO, for wasm32 only
# (native release builds are a different artifact directory, so they are not affected).
export CARGO_PROFILE_RELEASE_OPT_LEVEL="${CARGO_PROFILE_RELEASE_OPT_LEVEL:-z}"
export CARGO_PROFILE_RELEASE_LTO="${CARGO_PROFILE_RELEASE_LTO:-true}"
export CARGO_PROFILE_RELEASE_PANIC="${CARGO_PROFILE_RELEASE_PANIC:-abort}"

require wasm32-target trunk wasm-bindgen wasm-opt
# Trunk must use the tools just checked; these override Trunk.toml's [tools] (Trunk reads them as
# --tools-* options). Trunk.toml keeps the same pins for a plain `trunk serve`; they must agree.
export TRUNK_TOOLS_WASM_BINDGEN="$WASM_BINDGEN_VERSION"
export TRUNK_TOOLS_WASM_OPT="version_${BINARYEN_VERSION%%.*}"
for pin in "wasm_bindgen = \"$TRUNK_TOOLS_WASM_BINDGEN\"" "wasm_opt = \"$TRUNK_TOOLS_WASM_OPT\""; do
    grep -qxF "$pin" Trunk.toml || fail "Trunk.toml's [tools] must say $pin, as scripts/lib.sh does"
done

trunk build --release --offline --skip-version-check --config Trunk.toml

scripts/frontend-size.sh dist
