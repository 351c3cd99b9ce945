# shellcheck shell=bash disable=SC2034 # (the variables are used by the scripts that source this)
# Sourced by the scripts (not run): the paths they share, every tool version, and the one check of
# "is tool X at the version we want". scripts/install.sh installs what tool_ok rejects; the build
# scripts call require, which fails with the same verdict and says what to run.
#
#   source "$(dirname "$0")/lib.sh"    # also moves to the repository root

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO" || exit 1

# Caches live outside the clone, so a fresh clone reuses them and `git clean` keeps them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tycho-target}"
TOOLS="${TYCHO_TOOLS_DIR:-$HOME/.cache/tycho-tools}" # npm packages (binaryen, axe-core)
WASM_OPT="$TOOLS/node_modules/.bin/wasm-opt"
# cargo-installed tools first, then the npm ones, so Debian's binaryen 108 (which silently
# produces broken wasm) is never the wasm-opt Trunk finds.
export PATH="$HOME/.cargo/bin:$TOOLS/node_modules/.bin:$PATH"

# --- Tool versions: each written here and nowhere else. ------------------------------------------
# wasm-bindgen's CLI must match the crate exactly, so its version is the one Cargo.lock resolved
# from the workspace's `wasm-bindgen = "=…"` pin.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
WASM_SNIP_VERSION=0.4.0
BINARYEN_VERSION=132.0.0 # npm's binaryen; wasm-opt reports only the major ("version 132")
# axe-core (npm): the accessibility checker the browser tests load into the dashboard's page
# (tests/browser/tests/accessibility.rs reads $TOOLS/node_modules/axe-core/axe.min.js).
AXE_CORE_VERSION=4.14.1
TRUNK_VERSION=0.21.14
KUBERNETES_VALIDATE_VERSION=1.37.0 # PyPI
CARGO_FUZZ_VERSION=0.13.2
# The Kubernetes API version the manifests are checked against (scripts/check-manifests.sh).
KUBE_SCHEMA_VERSION="${TYCHO_KUBE_VERSION:-1.33.0}"
# Chromium and its driver come from the distribution (Debian `chromium`, `chromium-driver`):
# one apt source keeps the two at the same version, so only their presence is checked.
CHROMIUM_PACKAGES=(chromium chromium-driver)

# --- Checks --------------------------------------------------------------------------------------
# The name of the running script, for messages: "build-wasm: …".
SCRIPT=$(basename "$0" .sh)
fail() {
    echo "$SCRIPT: $*" >&2
    exit 1
}

# Field $2 of the first line `$1 --version` prints (empty when the tool is missing).
version_field() {
    { "$1" --version 2>/dev/null || true; } | awk -v field="$2" 'NR == 1 { print $field }'
}

# The version of tool $1 that is installed, in the form wanted_version writes it.
installed_version() {
    case $1 in
        wasm-bindgen | wasm-snip | trunk) version_field "$1" 2 ;;
        wasm-opt) version_field "$WASM_OPT" 3 ;;
        kubernetes-validate) version_field kubernetes-validate 1 ;;
        cargo-fuzz) { cargo fuzz --version 2>/dev/null || true; } | awk 'NR == 1 { print $2 }' ;;
        axe-core) sed -n 's/^  "version": "\(.*\)",$/\1/p' "$TOOLS/node_modules/axe-core/package.json" 2>/dev/null ;;
        *) return 1 ;;
    esac
}

# The version of tool $1 this repository wants.
wanted_version() {
    case $1 in
        wasm-bindgen) echo "$WASM_BINDGEN_VERSION" ;;
        wasm-snip) echo "$WASM_SNIP_VERSION" ;;
        wasm-opt) echo "${BINARYEN_VERSION%%.*}" ;;
        trunk) echo "$TRUNK_VERSION" ;;
        kubernetes-validate) echo "$KUBERNETES_VALIDATE_VERSION" ;;
        cargo-fuzz) echo "$CARGO_FUZZ_VERSION" ;;
        axe-core) echo "$AXE_CORE_VERSION" ;;
        *) return 1 ;;
    esac
}

# Is tool $1 installed (at the wanted version, for the tools that have one)?
tool_ok() {
    case $1 in
        wasm32-target) rustup target list --installed 2>/dev/null | grep -x wasm32-unknown-unknown >/dev/null ;;
        rust-lints) cargo clippy --version >/dev/null 2>&1 && cargo fmt --version >/dev/null 2>&1 ;;
        chromium) command -v chromium >/dev/null && command -v chromedriver >/dev/null ;;
        *)
            local want
            want=$(wanted_version "$1") || fail "unknown tool: $1"
            [ "$(installed_version "$1")" = "$want" ]
            ;;
    esac
}

# Fails, naming the first missing tool and what to run, unless every tool given is tool_ok.
require() {
    local tool have
    for tool in "$@"; do
        tool_ok "$tool" && continue
        case $tool in
            wasm32-target | rust-lints | chromium) fail "$tool missing: run scripts/install.sh" ;;
        esac
        have=$(installed_version "$tool")
        fail "$tool ${have:-missing}, want $(wanted_version "$tool"): run scripts/install.sh"
    done
}
