#!/usr/bin/env bash
# Interoperability test (X1, X2, X4): seam card serve behind pcscd's vpcd driver,
# reached by opensc-tool and by a pyscard SCP03 host, which also loads, installs
# and uses the purse applet; then serve is restarted and the card's state (the
# sequence counter, the purse's balance) must still be there.
#
# usage: tests/interop/run.sh SEAM_BINARY [PURSE_WASM]
# PURSE_WASM defaults to apps/purse.wasm next to SEAM_BINARY (or in its build
# directory when the binary is src/cli/seam).
# Needs pcscd, vsmartcard-vpcd, opensc, python3-pyscard and python3-cryptography
# (scripts/debian-packages.txt). Starts its own pcscd when none answers and
# stops everything it started. Only loopback addresses are used.
set -euo pipefail
seam=$(realpath "$1")
purse=${2:-$(dirname "$seam")/apps/purse.wasm}
[ -f "$purse" ] || purse=$(dirname "$seam")/../../apps/purse.wasm
[ -f "$purse" ] || { echo "interop: FAIL: no purse.wasm (pass it as the second argument)"; exit 1; }
purse=$(realpath "$purse")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
reader="Virtual PCD 00 00"
pcscd_pid=""
serve_pid=""

cleanup() {
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
    [ -n "$pcscd_pid" ] && kill "$pcscd_pid" 2>/dev/null && wait "$pcscd_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "interop: FAIL: $*"; [ -f "$work/serve.log" ] && tail -20 "$work/serve.log"; exit 1; }

# wait_for DESCRIPTION COMMAND...: retries for up to 15 s.
wait_for() {
    local what=$1; shift
    for _ in $(seq 1 75); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    fail "timed out waiting for $what"
}

reader_has_card() {
    local list
    list=$(opensc-tool -l 2>/dev/null) || return 1
    [[ $list == *"Yes             Virtual PCD 00 00"* ]]
}

# opensc-tool -l exits 0 even with no reader: look for vpcd's reader by name
vpcd_listed() {
    local list
    list=$(timeout 5 opensc-tool -l 2>/dev/null) || return 1
    [[ $list == *"Virtual PCD 00 00"* ]]
}

if ! vpcd_listed; then
    pcscd --foreground --auto-exit >"$work/pcscd.log" 2>&1 &
    pcscd_pid=$!
fi
wait_for "pcscd with the vpcd reader" vpcd_listed

start_serve() {
    "$seam" card serve --image "$work/card.db" >>"$work/serve.log" 2>&1 &
    serve_pid=$!
    wait_for "the card in '$reader'" reader_has_card
}

stop_serve() {
    kill -TERM "$serve_pid"
    wait "$serve_pid" || fail "seam card serve did not exit cleanly on SIGTERM"
    serve_pid=""
}

"$seam" card new --image "$work/card.db" >/dev/null
start_serve

atr=$(opensc-tool -r 0 -a)
case "$atr" in 3b:85:80:01*) ;; *) fail "opensc-tool read the ATR '$atr'" ;; esac
out=$(opensc-tool -r 0 -s "00 A4 04 00 08 A0 00 00 01 51 00 00 00 00")
echo "$out" | grep -q "SW1=0x90, SW2=0x00" || fail "opensc-tool SELECT of the ISD: $out"
echo "interop: opensc-tool selected the ISD through pcscd and vpcd"

/usr/bin/python3 "$here/scp03_host.py" "$reader" 0 || fail "pyscard session before the restart"
/usr/bin/python3 "$here/scp03_host.py" "$reader" 1 || fail "second pyscard session"
/usr/bin/python3 "$here/purse_host.py" "$reader" install "$purse" || fail "purse load and use"

stop_serve
start_serve
/usr/bin/python3 "$here/scp03_host.py" "$reader" 3 || fail "pyscard session after restarting serve"
/usr/bin/python3 "$here/purse_host.py" "$reader" check 75 2 || fail "purse after restarting serve"
stop_serve
echo "interop: 5 passed, 0 failed (the counter and the purse's balance survived a restart" \
    "of seam card serve)"
