#!/usr/bin/env bash
# Installs what the wasm package build and its browser tests need, when missing (idempotent):
# the wasm32 target, wasm-bindgen-cli (same version as the wasm-bindgen crate), wasm-snip, wasm-opt from npm's
# binaryen (Debian's binaryen 108 silently produces broken wasm), Chromium and chromedriver.
set -euo pipefail
export PATH="$HOME/.cargo/bin:$PATH"

WASM_BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132.0.0
TOOLS="${TYCHO_TOOLS_DIR:-$HOME/.cache/tycho-tools}"

rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || rustup target add wasm32-unknown-unknown

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    echo "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
    cargo install --quiet --force wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

WASM_SNIP_VERSION=0.4.0
if [ "$(wasm-snip --version 2>/dev/null | awk '{print $2}')" != "$WASM_SNIP_VERSION" ]; then
    echo "installing wasm-snip $WASM_SNIP_VERSION"
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
        cargo install --quiet --locked --force wasm-snip --version "$WASM_SNIP_VERSION"
fi

if [ "$("$TOOLS/node_modules/.bin/wasm-opt" --version 2>/dev/null | awk '{print $3}')" != "${BINARYEN_VERSION%%.*}" ]; then
    command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq npm; }
    echo "installing binaryen@$BINARYEN_VERSION (npm) into $TOOLS"
    mkdir -p "$TOOLS"
    [ -f "$TOOLS/package.json" ] || echo '{"name":"tycho-tools","private":true}' >"$TOOLS/package.json"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS" "binaryen@$BINARYEN_VERSION"
fi

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    echo "installing chromium and chromium-driver (apt)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
