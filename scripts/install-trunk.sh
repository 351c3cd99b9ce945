#!/usr/bin/env bash
# Installs Trunk (the frontend bundler) when missing or at another version (idempotent).
# scripts/install.sh does the work (the version is in scripts/lib.sh); this name stays for the
# docs and habits that use it.
set -euo pipefail
exec "$(dirname "$0")/install.sh" trunk
