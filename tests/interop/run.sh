#!/usr/bin/env bash
# Interoperability test (X1, X2, X4): seam card serve behind pcscd's vpcd driver,
# reached by opensc-tool and by a pyscard SCP03 host, which also loads, installs
# and uses the purse applet; then serve is restarted and the card's state (the
# sequence counter, the purse's balance) must still be there. Then seam's own
# host library reaches the served card through PC/SC (libpcsclite): seam gp
# --reader installs, lists and deletes the hello applet, and seam card script
# --reader runs a script over the same reader (issue 10 §2).
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
hello=$(dirname "$purse")/hello.wasm
[ -f "$hello" ] || { echo "interop: FAIL: no hello.wasm beside $purse"; exit 1; }
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

fail() {
    echo "interop: FAIL: $*"
    [ -f "$work/serve.log" ] && tail -20 "$work/serve.log"
    [ -f "$work/pcscd.log" ] && { echo "interop: pcscd's log:"; tail -20 "$work/pcscd.log"; }
    exit 1
}

# wait_for DESCRIPTION COMMAND...: retries for up to 30 s (a loaded machine is slow to
# start pcscd and its driver).
wait_for() {
    local what=$1; shift
    for _ in $(seq 1 150); do
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

reader_is_empty() {
    local list
    list=$(opensc-tool -l 2>/dev/null) || return 1
    [[ $list == *"Virtual PCD 00 00"* && $list != *"Yes             Virtual PCD 00 00"* ]]
}

# opensc-tool -l exits 0 even with no reader: look for vpcd's reader by name
vpcd_listed() {
    local list
    list=$(timeout 5 opensc-tool -l 2>/dev/null) || return 1
    [[ $list == *"Virtual PCD 00 00"* ]]
}

# port_taken PORT: some socket of this machine has PORT as its local port.
port_taken() {
    [ -n "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]
}

# The reader's port. vpcd binds its port and the next one (readers 00 00 and 00 01)
# without sharing them. Debian's configuration says 35963, inside the ephemeral range
# (32768..60999): any outgoing connection may get it as its own port for a moment, and
# stop 22's CI run and a later clean-clone run failed with pcscd's "Address already in use" although nothing
# held it a moment before. So when no pcscd answers, this test starts its own with a
# reader.conf.d of its own on a free pair of ports in 29000..29999, below that range,
# where no outgoing connection lands.
vpcd_port=35963
if ! vpcd_listed; then
    vpcd_port=""
    for p in $(seq 29000 2 29998); do
        if ! port_taken "$p" && ! port_taken "$((p + 1))"; then vpcd_port=$p; break; fi
    done
    [ -n "$vpcd_port" ] || fail "no free pair of ports in 29000..29999 for the vpcd reader"
    mkdir "$work/reader.conf.d"
    printf 'FRIENDLYNAME "Virtual PCD"\nDEVICENAME   /dev/null:0x%X\nLIBPATH      %s\nCHANNELID    0x%X\n' \
        "$vpcd_port" "$(ls /usr/lib/pcsc/drivers/serial/libifdvpcd.so* | head -1)" "$vpcd_port" \
        >"$work/reader.conf.d/vpcd"
    pcscd --foreground --auto-exit --config "$work/reader.conf.d" >"$work/pcscd.log" 2>&1 &
    pcscd_pid=$!
fi
wait_for "pcscd with the vpcd reader" vpcd_listed

start_serve() {
    "$seam" card serve --image "$work/card.db" --vpcd "127.0.0.1:$vpcd_port" >>"$work/serve.log" 2>&1 &
    serve_pid=$!
    wait_for "the card in '$reader'" reader_has_card
}

stop_serve() {
    kill -TERM "$serve_pid"
    wait "$serve_pid" || fail "seam card serve did not exit cleanly on SIGTERM"
    serve_pid=""
    # pcscd notices the removal on its next poll of vpcd: until then it still lists the
    # card, and a session started on that stale state finds no card
    wait_for "pcscd to see the card removed" reader_is_empty
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

# seam gp --reader: the install / list / delete cycle through pcscd and vpcd
gp() { "$seam" gp --reader "$reader" "$@" 2>"$work/gp.err"; }
out=$(gp list) || fail "seam gp list: $(cat "$work/gp.err")"
echo "$out" | grep -q "^ISD A000000151000000  SECURED" || fail "seam gp list: no ISD: $out"
echo "$out" | grep -q "^APP A0000005505501  SELECTABLE" || fail "seam gp list: no purse: $out"
echo "$out" | grep -q "A00000054845" && fail "seam gp list: hello before its install: $out"
out=$(gp --level 33 install "$hello" --hash) || fail "seam gp install: $(cat "$work/gp.err")"
echo "$out" | grep -q "installed A0000005484501" || fail "seam gp install said: $out"
out=$(gp list) || fail "seam gp list after the install: $(cat "$work/gp.err")"
echo "$out" | grep -q "^APP A0000005484501  SELECTABLE  privileges none  package A00000054845" ||
    fail "seam gp list does not show hello SELECTABLE: $out"
echo "$out" | grep -q "^PKG A00000054845  LOADED  version 1.0" ||
    fail "seam gp list does not show hello's package: $out"
out=$(gp delete A00000054845 --force) || fail "seam gp delete: $(cat "$work/gp.err")"
echo "$out" | grep -q "deleted A00000054845" || fail "seam gp delete said: $out"
out=$(gp list) || fail "seam gp list after the delete: $(cat "$work/gp.err")"
echo "$out" | grep -q "A00000054845" && fail "seam gp list still shows hello: $out"
echo "$out" | grep -q "^APP A0000005505501  SELECTABLE" || fail "the purse went too: $out"
if gp --key 00112233445566778899AABBCCDDEEFF list >/dev/null; then
    fail "seam gp list with a wrong key succeeded"
fi
grep -q "card cryptogram does not verify" "$work/gp.err" || fail "wrong key: $(cat "$work/gp.err")"
if "$seam" gp --reader "No Such Reader 00 00" list 2>"$work/gp.err" >/dev/null; then
    fail "seam gp on a reader that does not exist succeeded"
fi
grep -q "no reader called 'No Such Reader 00 00'; the readers are: .*'$reader'" "$work/gp.err" ||
    fail "unknown reader: $(cat "$work/gp.err")"
echo "interop: seam gp --reader installed, listed and deleted hello (and refused a wrong key" \
    "and a reader that does not exist)"

# seam card script --reader: the same runner as --image, over PC/SC
cat >"$work/reader.script" <<EOF
00A4040008A000000151000000 00   => 9000 6F*
.scp03 level=33
80CA00E000                      => 9000 E0*
.install $hello aid=A000000548450A
00A4040007A000000548450A 00     => 9000
80100000 03 010203 00           => 9000 010203
00A4040008A000000151000000 00   => 9000
.scp03
.delete A00000054845 related
.delete A00000054845 => 6A88
80CA9F7F0A                      => 9000 9F7F2A*
EOF
out=$("$seam" card script --reader "$reader" "$work/reader.script" 2>&1) ||
    fail "seam card script --reader: $out"
echo "$out" | grep -q "^11 passed, 0 failed" || fail "seam card script --reader said: $out"
echo "interop: seam card script --reader ran its script over PC/SC"
stop_serve
echo "interop: 7 passed, 0 failed (the counter and the purse's balance survived a restart" \
    "of seam card serve; seam gp and seam card script drove the card through PC/SC)"
