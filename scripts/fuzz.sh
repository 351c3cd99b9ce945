#!/usr/bin/env bash
# Fuzzes load + plan with cargo-fuzz (libFuzzer) for N seconds (default 60).
# cargo-fuzz wants nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
seconds=${1:-60}
scripts/install.sh fuzz
mkdir -p fuzz/corpus/compile
RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$CARGO_TARGET_DIR/fuzz" \
  cargo fuzz run --sanitizer none compile fuzz/corpus/compile fuzz/seeds -- \
  -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048
