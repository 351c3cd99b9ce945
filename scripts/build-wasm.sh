#!/usr/bin/env bash
# Builds the browser package of the compiler (crates/wasm) into pkg/ (git-ignored):
#   pkg/web/      wasm-bindgen --target web     (import init, { compile } from ".../tycho_wasm.js")
#   pkg/bundler/  wasm-bindgen --target bundler (webpack, vite, …)
#   pkg/demo/     assets/wasm-demo + pkg/web + the catalog: `python3 -m http.server -d pkg/demo`
# Then prints the raw and gzip sizes. Tools: scripts/install.sh wasm.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
OUT="${TYCHO_WASM_OUT:-pkg}"

require wasm32-target wasm-bindgen wasm-opt wasm-snip

cargo build --locked -p tycho-wasm --target wasm32-unknown-unknown --profile wasm-release
BUILT="$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/tycho_wasm.wasm"

# k8s-openapi formats a `Time` with jiff's strftime, which links jiff's time-zone machinery
# (~12 KB gzip). The compiler never sets a timestamp (creationTimestamp, conditions…), so that
# code cannot run: replace its body with `unreachable` and let wasm-opt drop what it called.
# The browser tests compare every output with the native compiler's, byte for byte.
# shellcheck disable=SC2016 # the `$`s are the mangled symbol's, not the shell's
TIME_SERIALIZE='meta\.\.v1\.\.time\.\.Time\$u20\$as\$u20\$serde_core\.\.ser\.\.Serialize\$GT\$9serialize'
grep -aqE "$TIME_SERIALIZE" "$BUILT" || fail "Time::serialize not found in $BUILT: update the wasm-snip pattern"
WASM="$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/tycho_wasm.snipped.wasm"
wasm-snip "$BUILT" -o "$WASM" -p ".*$TIME_SERIALIZE.*"
VERSION=$(cargo pkgid -p tycho-wasm | sed 's/.*[@#]//')

rm -rf "$OUT/web" "$OUT/bundler" "$OUT/demo"
for target in web bundler; do
    dir="$OUT/$target"
    wasm-bindgen --target "$target" --out-dir "$dir" --out-name tycho_wasm "$WASM"
    # The features rustc enables for wasm32 by default; wasm-opt must be told, not guess.
    "$WASM_OPT" -Oz --converge --strip-debug --strip-producers \
        --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
        --enable-mutable-globals --enable-reference-types --enable-multivalue \
        "$dir/tycho_wasm_bg.wasm" -o "$dir/tycho_wasm_bg.wasm"
    files='"tycho_wasm_bg.wasm", "tycho_wasm.js", "tycho_wasm.d.ts", "tycho_wasm_bg.wasm.d.ts"'
    side_effects='false'
    if [ "$target" = bundler ]; then
        files="$files, \"tycho_wasm_bg.js\""
        side_effects='["./tycho_wasm.js", "./snippets/*"]'
    fi
    cat >"$dir/package.json" <<JSON
{
  "name": "@tycho/compiler-wasm",
  "version": "$VERSION",
  "description": "Tycho's compose-to-Kubernetes compiler in WebAssembly: validate() and compile() in the browser ($target build).",
  "license": "MIT",
  "type": "module",
  "files": [$files],
  "main": "tycho_wasm.js",
  "module": "tycho_wasm.js",
  "types": "tycho_wasm.d.ts",
  "sideEffects": $side_effects
}
JSON
    cp crates/wasm/README.md "$dir/README.md"
done

# The demo: the page, the web package beside it and the catalog as examples.
mkdir -p "$OUT/demo/catalog"
cp assets/wasm-demo/* "$OUT/demo/"
cp -r "$OUT/web" "$OUT/demo/pkg"
names=()
for file in assets/catalog/*/docker-compose.yaml; do
    [ -f "$file" ] || continue
    name=$(basename "$(dirname "$file")")
    cp "$file" "$OUT/demo/catalog/$name.yaml"
    names+=("\"$name\"")
done
(IFS=,; echo "[${names[*]}]") >"$OUT/demo/catalog/index.json"

size() { printf '%-34s raw %8d B   gzip %8d B\n' "$1" "$(wc -c <"$1")" "$(gzip -9 -c "$1" | wc -c)"; }
echo "tycho-wasm $VERSION:"
size "$OUT/web/tycho_wasm_bg.wasm"
size "$OUT/web/tycho_wasm.js"
total=$(cat "$OUT/web/tycho_wasm_bg.wasm" "$OUT/web/tycho_wasm.js" | wc -c)
total_gz=$(( $(gzip -9 -c "$OUT/web/tycho_wasm_bg.wasm" | wc -c) + $(gzip -9 -c "$OUT/web/tycho_wasm.js" | wc -c) ))
printf '%-34s raw %8d B   gzip %8d B\n' "package (wasm + glue)" "$total" "$total_gz"
GOAL=250000
if [ "$total_gz" -le "$GOAL" ]; then verdict="within"; else verdict="OVER"; fi
echo "size goal: package gzip <= $GOAL B: $verdict ($((GOAL - total_gz)) B to spare)"
echo "demo: python3 -m http.server -d $OUT/demo 8000, then open http://127.0.0.1:8000/"
