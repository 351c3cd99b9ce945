#!/usr/bin/env bash
# Installs what the wasm package build and its browser tests need, when missing (idempotent):
# the wasm32 target, wasm-bindgen-cli (same version as the wasm-bindgen crate), wasm-snip, wasm-opt
# from npm's binaryen (Debian's binaryen 108 silently produces broken wasm), Chromium and chromedriver.
# scripts/install.sh does the work (the versions are in scripts/lib.sh); this name stays for the
# docs and habits that use it.
set -euo pipefail
exec "$(dirname "$0")/install.sh" wasm chromium
