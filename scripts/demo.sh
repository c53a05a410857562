#!/bin/sh
# The seam demo, for now: a purse applet (apps/demo/purse_sim.c) compiled to
# a small wasm32 module and run by seam's own WebAssembly engine with fuel
# metering, with a short account of what happened. Later issues grow this into
# the full card story (install, persist, talk APDUs over a link).
#
# usage: scripts/demo.sh    (make demo builds build/release/seam first)
# environment: SEAM (default build/release/seam or build/release/src/cli/seam), WASM_CC (clang), WASI_SYSROOT (/usr)
set -eu

cd "$(dirname "$0")/.."
if [ -z "${SEAM:-}" ]; then
    SEAM=build/release/seam
    [ -x "$SEAM" ] || SEAM=build/release/src/cli/seam
fi
WASM_CC=${WASM_CC:-clang}
WASI_SYSROOT=${WASI_SYSROOT:-/usr}
SRC=apps/demo/purse_sim.c
OUT=build/demo
WASM=$OUT/purse_sim.wasm

if [ ! -x "$SEAM" ]; then
    echo "demo: $SEAM not found; build it first (make demo does)" >&2
    exit 1
fi
mkdir -p "$OUT"
if [ ! -f "$WASM" ] || [ "$SRC" -nt "$WASM" ]; then
    echo "Building $SRC for wasm32-wasi (clang -Oz, stripped, 8 KiB stack)..."
    "$WASM_CC" --target=wasm32-wasi --sysroot="$WASI_SYSROOT" -Oz -Wall -Wextra -Werror \
        -Wl,--strip-all -Wl,-z,stack-size=8192 -o "$WASM" "$SRC"
fi
size=$(wc -c <"$WASM" | tr -d ' ')
echo "The applet is $WASM: $size bytes of WebAssembly."
echo
echo "seam decodes and validates it, links its two WASI imports (fd_write to"
echo "print, proc_exit to finish), and runs it. The program plays both sides:"
echo "a terminal sending command APDUs, and a purse answering with status words."
echo
echo "\$ $SEAM wasm run --stats $WASM"
status=0
"$SEAM" wasm run --stats "$WASM" >"$OUT/output.txt" 2>"$OUT/stats.txt" || status=$?
cat "$OUT/output.txt"
fuel=$(sed -n 's/^seam: fuel used: //p' "$OUT/stats.txt")
time=$(sed -n 's/^seam: time: //p' "$OUT/stats.txt")
grep -v '^seam: \(module\|fuel used\|time\):' "$OUT/stats.txt" >&2 || true
echo
if [ "$status" -ne 0 ]; then
    echo "The run failed with status $status (see above)."
    exit "$status"
fi
# The story below is only told when the output shows it happened.
for sw in "69 82" "63 C2" "69 85" "00 00 01 7C 90 00"; do
    if ! grep -q "< $sw" "$OUT/output.txt"; then
        echo "The purse did not answer as expected (no '$sw' response)."
        exit 1
    fi
done
echo "What happened: the debit before the PIN was refused (69 82), the wrong PIN"
echo "cost a try (63 C2), the right one unlocked debits, and the debit of 1000"
echo "was refused for lack of funds (69 85), leaving a balance of 380."
echo "The engine charged ${fuel:-?} units of fuel for the whole run, about one per"
echo "WebAssembly instruction executed (${time:-?})."
