#!/usr/bin/env bash
# Card bench through PC/SC: seam card serve on a fresh card image behind
# pcscd's vpcd driver, and bench/card_vpcd.py timing purse DEBITs through it.
# Skips with a message (exit 0) when pcscd, opensc-tool or pyscard is missing.
#
# usage: bench/card_vpcd.sh SEAM_BINARY PURSE_WASM [DEBITS]
set -euo pipefail
seam=$(realpath "$1")
purse=$(realpath "$2")
debits=${3:-${CARD_DEBITS:-500}}
here=$(cd "$(dirname "$0")" && pwd)
reader="Virtual PCD 00 00"
work=$(mktemp -d)
pcscd_pid=""
serve_pid=""

cleanup() {
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
    [ -n "$pcscd_pid" ] && kill "$pcscd_pid" 2>/dev/null && wait "$pcscd_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

if ! command -v pcscd >/dev/null || ! command -v opensc-tool >/dev/null ||
    ! /usr/bin/python3 -c 'import smartcard, cryptography' 2>/dev/null; then
    echo "purse DEBIT through pcscd+vpcd: skipped (needs pcscd, opensc-tool, python3-pyscard)"
    exit 0
fi

# wait_for COMMAND...: retries for up to 15 s.
wait_for() {
    for _ in $(seq 1 75); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    return 1
}
vpcd_listed() { [[ $(timeout 5 opensc-tool -l 2>/dev/null) == *"$reader"* ]]; }
card_present() { [[ $(timeout 5 opensc-tool -l 2>/dev/null) == *"Yes             $reader"* ]]; }

if ! vpcd_listed; then
    pcscd --foreground --auto-exit >"$work/pcscd.log" 2>&1 &
    pcscd_pid=$!
fi
if ! wait_for vpcd_listed; then
    echo "purse DEBIT through pcscd+vpcd: skipped (no vpcd reader appeared)"
    exit 0
fi
"$seam" card new --image "$work/card.db" >/dev/null
"$seam" card serve --image "$work/card.db" >"$work/serve.log" 2>&1 &
serve_pid=$!
wait_for card_present || { echo "bench: seam card serve did not reach vpcd" >&2; exit 1; }
/usr/bin/python3 "$here/card_vpcd.py" "$reader" "$purse" "$debits" | grep -v '^interop:'
