#!/usr/bin/env bash
# Compiles every catalog system, every original Tycho sample that compiles and the apps in
# tests/apps (with their files), and checks the manifests with an independent schema validator
# (PyPI kubernetes-validate, strict mode).
# Usage: scripts/check-manifests.sh [path/to/tycho]
# Tools: scripts/install.sh kubernetes-validate.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
tycho=${1:-$CARGO_TARGET_DIR/debug/tycho}
kube_version=$KUBE_SCHEMA_VERSION
require kubernetes-validate
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
compiled=0
# The samples mount an existing claim, which the default policy refuses (`allowed_claims`); they
# are compiled with the policy the golden tests give them, which allows it.
for dir in assets/catalog/*/ ../shared/tycho-samples/*/; do
  name="$(basename "$(dirname "$dir")")-$(basename "$dir")"
  policy=()
  case "$dir" in ../shared/*) policy=(--policy crates/compiler/tests/data/policy-samples.yaml) ;; esac
  # An entry whose images start as root says so (x-tycho profile: baseline) and runs under it.
  if grep -q '^  profile: baseline' "$dir/docker-compose.yaml"; then
    policy=(--policy crates/compiler/tests/data/policy-baseline.yaml)
  fi
  if "$tycho" compile -f "$dir/docker-compose.yaml" --namespace tycho "${policy[@]}" >"$out/$name.yaml" 2>/dev/null; then
    compiled=$((compiled + 1))
  else
    rm "$out/$name.yaml" # fails with diagnostics on purpose; the golden tests cover those
  fi
done
# The corpus of compose apps with their files (ConfigMaps, Secrets), under the baseline profile
# their official images need; each must compile.
for dir in tests/apps/*/; do
  name="app-$(basename "$dir")"
  "$tycho" compile -f "$dir/docker-compose.yaml" --namespace tycho \
    --policy crates/compiler/tests/data/policy-baseline.yaml >"$out/$name.yaml" 2>/dev/null ||
    { echo "$dir does not compile with its files" >&2; exit 1; }
  compiled=$((compiled + 1))
done
# connect.mode ingress: the Ingress is a built-in kind, checked like the rest. (The HTTPRoute of
# connect.mode gateway is a CRD kubernetes-validate does not know: crates/compiler/tests/edge.rs
# checks it field by field against the Gateway API v1 CRD's rules.)
if "$tycho" compile -f assets/catalog/nginx/docker-compose.yaml --namespace tycho \
  --policy crates/compiler/tests/data/policy-connect-ingress.yaml >"$out/connect-ingress.yaml"; then
  grep -q '^kind: Ingress' "$out/connect-ingress.yaml" || { echo "no Ingress in ingress mode" >&2; exit 1; }
  compiled=$((compiled + 1))
else
  echo "the nginx entry does not compile in ingress mode" >&2
  exit 1
fi
# Kubernetes' own manifests for running Tycho are checked the same way.
find kubernetes -name '*.yaml' ! -name kustomization.yaml -exec cp {} "$out/" \; 2>/dev/null || true
kubernetes-validate --strict --quiet -k "$kube_version" "$out"/*.yaml
echo "schema check: $compiled compiled systems valid against Kubernetes $kube_version (strict)"
