#!/usr/bin/env bash
# Installs the tools the scripts need, each only when it is missing or at another version than
# scripts/lib.sh wants (so a second run does nothing and takes seconds). Debian packages come from
# apt (as root, or through sudo when there is one).
#
# Usage: scripts/install.sh [SET|TOOL]...      (no argument: test, everything)
#   dashboard  what scripts/build-frontend.sh and scripts/run.sh need: wasm32 target, wasm-bindgen,
#              wasm-opt (npm binaryen), trunk
#   wasm       what scripts/build-wasm.sh needs: wasm32 target, wasm-bindgen, wasm-snip, wasm-opt
#   test       what scripts/test.sh needs: both of the above, clippy and rustfmt, Chromium and
#              chromedriver (browser tests), axe-core (npm; the browser tests' accessibility
#              check), kubernetes-validate (scripts/check-manifests.sh)
#   fuzz       cargo-fuzz (scripts/fuzz.sh)
#   or single tools: wasm32-target rust-lints wasm-bindgen wasm-snip wasm-opt trunk chromium
#                    axe-core kubernetes-validate cargo-fuzz
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

# The tools of a set, in install order (a tool named itself is its own set).
tools_of() {
    case $1 in
        dashboard) echo wasm32-target wasm-bindgen wasm-opt trunk ;;
        wasm) echo wasm32-target wasm-bindgen wasm-snip wasm-opt ;;
        test) echo rust-lints wasm32-target wasm-bindgen wasm-snip wasm-opt trunk chromium axe-core kubernetes-validate ;;
        fuzz) echo cargo-fuzz ;;
        *) echo "$1" ;;
    esac
}

as_root() {
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi
}

apt_updated=
apt_install() {
    if [ -z "$apt_updated" ]; then
        as_root apt-get update -qq
        apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# cargo install without LTO and with many codegen units: minutes instead of tens of minutes, for
# tools whose speed does not matter.
cargo_install_quick() {
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 cargo install --quiet --locked "$@"
}

# An npm package into $TOOLS, beside the others there.
npm_install_tool() {
    command -v npm >/dev/null || apt_install npm
    echo "installing $1 (npm) into $TOOLS"
    mkdir -p "$TOOLS"
    [ -f "$TOOLS/package.json" ] || echo '{"name":"tycho-tools","private":true}' >"$TOOLS/package.json"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS" "$1"
}

install_tool() {
    case $1 in
        wasm32-target)
            rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || rustup target add wasm32-unknown-unknown
            ;;
        rust-lints)
            rustup component add clippy rustfmt
            ;;
        wasm-bindgen)
            echo "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
            cargo install --quiet --force wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
            ;;
        wasm-snip)
            echo "installing wasm-snip $WASM_SNIP_VERSION"
            cargo_install_quick --force wasm-snip --version "$WASM_SNIP_VERSION"
            ;;
        wasm-opt) npm_install_tool "binaryen@$BINARYEN_VERSION" ;;
        axe-core) npm_install_tool "axe-core@$AXE_CORE_VERSION" ;;
        trunk)
            echo "installing trunk $TRUNK_VERSION"
            cargo_install_quick trunk --version "$TRUNK_VERSION"
            ;;
        chromium)
            echo "installing ${CHROMIUM_PACKAGES[*]} (apt)"
            apt_install "${CHROMIUM_PACKAGES[@]}"
            ;;
        kubernetes-validate)
            python3 -m pip --version >/dev/null 2>&1 || apt_install python3 python3-pip
            echo "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION (pip)"
            # A Debian python3 refuses system-wide pip installs (PEP 668); this tool is ours to pin.
            PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --quiet "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
            ;;
        cargo-fuzz)
            echo "installing cargo-fuzz $CARGO_FUZZ_VERSION"
            cargo install --quiet --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
            ;;
        *) fail "unknown set or tool: $1 (see the usage at the top of scripts/install.sh)" ;;
    esac
}

[ $# -gt 0 ] || set -- test
done_tools=" "
for set in "$@"; do
    for tool in $(tools_of "$set"); do
        case $done_tools in *" $tool "*) continue ;; esac
        done_tools="$done_tools$tool "
        tool_ok "$tool" && continue
        install_tool "$tool"
        # The check the build scripts make must pass now, or they would fail later, less clearly.
        require "$tool"
    done
done
