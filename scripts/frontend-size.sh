#!/usr/bin/env bash
# Prints the dashboard's wasm + JS size in DIR (default dist/), raw and gzip -9.
set -euo pipefail
DIR="${1:-dist}"
raw=0; gz=0
for f in "$DIR"/*.wasm "$DIR"/*.js; do
    [ -f "$f" ] || continue
    r=$(stat -c %s "$f"); g=$(gzip -9 -c "$f" | wc -c)
    printf '  %-50s %9d bytes raw %9d bytes gzip\n' "$(basename "$f")" "$r" "$g"
    raw=$((raw + r)); gz=$((gz + g))
done
[ "$raw" -gt 0 ] || { echo "no .wasm/.js in $DIR" >&2; exit 1; }
awk -v r="$raw" -v g="$gz" 'BEGIN { printf "dashboard wasm+js: %d bytes raw (%.1f KiB), %d bytes gzip (%.1f KiB)\n", r, r/1024, g, g/1024 }'
