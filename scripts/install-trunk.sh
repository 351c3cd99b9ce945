#!/usr/bin/env bash
# Installs Trunk (the frontend bundler) when missing (idempotent). Built without LTO to keep the
# install at a few minutes; the other tools come from scripts/install-tools.sh.
set -euo pipefail
export PATH="$HOME/.cargo/bin:$PATH"

TRUNK_VERSION=0.21.14

if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
    echo "installing trunk $TRUNK_VERSION"
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
        cargo install --quiet --locked trunk --version "$TRUNK_VERSION"
fi
