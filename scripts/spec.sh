#!/bin/sh
# scripts/spec.sh SEAM_BINARY [OUT_DIR]: runs the WebAssembly core test suite.
#
# Converts every .wast in ../shared/wasm-spec/ (relative to the repository root;
# SEAM_WASM_SPEC_DIR overrides it) with wast2json into OUT_DIR/NAME/NAME.json
# (default OUT_DIR: build/spec), skipping files whose .json is newer than the
# .wast, then runs `SEAM_BINARY wasm spec OUT_DIR` and exits with its status.
# Any conversion failure stops the run (status 1). See docs/wasm-spec-runner.md.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: scripts/spec.sh SEAM_BINARY [OUT_DIR]" >&2
    exit 2
fi
seam=$1
out=${2:-$root/build/spec}
spec_dir=${SEAM_WASM_SPEC_DIR:-$root/../shared/wasm-spec}

if ! command -v wast2json >/dev/null 2>&1; then
    echo "spec.sh: wast2json not found; install the Debian package wabt" >&2
    exit 2
fi
if [ ! -d "$spec_dir" ]; then
    echo "spec.sh: no test suite at $spec_dir (set SEAM_WASM_SPEC_DIR)" >&2
    exit 2
fi
spec_dir=$(cd "$spec_dir" && pwd)
mkdir -p "$out"

total=0
converted=0
failed=0
for wast in "$spec_dir"/*.wast; do
    [ -f "$wast" ] || continue
    total=$((total + 1))
    name=${wast##*/}
    name=${name%.wast}
    json="$out/$name/$name.json"
    if [ -f "$json" ] && [ "$json" -nt "$wast" ]; then
        continue
    fi
    rm -rf "${out:?}/$name"
    mkdir -p "$out/$name"
    if wast2json "$wast" -o "$json" 2>"$out/$name/wast2json.log"; then
        converted=$((converted + 1))
    else
        failed=$((failed + 1))
        echo "spec.sh: wast2json failed on $wast:" >&2
        cat "$out/$name/wast2json.log" >&2
        rm -f "$json"
    fi
done

echo "spec.sh: $total .wast files, $converted converted, $failed conversion failures" >&2
if [ "$total" -eq 0 ] || [ "$failed" -ne 0 ]; then
    exit 1
fi
exec "$seam" wasm spec "$out"
