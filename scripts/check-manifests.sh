#!/usr/bin/env bash
# Compiles every catalog system and every original Tycho sample that compiles, and checks the
# manifests with an independent schema validator (PyPI kubernetes-validate, strict mode).
# Usage: scripts/check-manifests.sh [path/to/tycho]
set -euo pipefail
cd "$(dirname "$0")/.."
tycho=${1:-${CARGO_TARGET_DIR:-$HOME/.cache/tycho-target}/debug/tycho}
kube_version=${TYCHO_KUBE_VERSION:-1.33.0}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
compiled=0
for dir in assets/catalog/*/ ../shared/tycho-samples/*/; do
  name="$(basename "$(dirname "$dir")")-$(basename "$dir")"
  if "$tycho" compile -f "$dir/docker-compose.yaml" --namespace tycho >"$out/$name.yaml" 2>/dev/null; then
    compiled=$((compiled + 1))
  else
    rm "$out/$name.yaml" # fails with diagnostics on purpose; the golden tests cover those
  fi
done
# Kubernetes' own manifests for running Tycho are checked the same way.
find kubernetes -name '*.yaml' ! -name kustomization.yaml -exec cp {} "$out/" \; 2>/dev/null || true
kubernetes-validate --strict --quiet -k "$kube_version" "$out"/*.yaml
echo "schema check: $compiled compiled systems valid against Kubernetes $kube_version (strict)"
