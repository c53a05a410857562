#!/bin/sh
# The seam demo: the card story. A new card image; a purse applet
# (apps/purse/purse.c compiled to WebAssembly) loaded and installed over a
# GlobalPlatform SCP03 secure channel; PIN, credit, debit and balance APDUs;
# the card's registry; then a new process (a "restart") where the balance is
# still there. Any failed step stops the demo with a non-zero exit status.
#
# usage: scripts/demo.sh    (make demo builds build/release first)
# environment: SEAM (default build/release/seam or build/release/src/cli/seam),
#              PURSE (default: apps/purse.wasm of SEAM's build directory)
set -eu

cd "$(dirname "$0")/.."
if [ -z "${SEAM:-}" ]; then
    SEAM=build/release/seam
    [ -x "$SEAM" ] || SEAM=build/release/src/cli/seam
fi
if [ -z "${PURSE:-}" ]; then
    PURSE=$(dirname "$SEAM")/apps/purse.wasm
    [ -f "$PURSE" ] || PURSE=$(dirname "$SEAM")/../../apps/purse.wasm
fi
OUT=build/demo
CARD=$OUT/card.db

die() {
    echo "demo: FAILED: $*" >&2
    exit 1
}
[ -x "$SEAM" ] || die "$SEAM not found; build it first (make demo does)"
[ -f "$PURSE" ] || die "$PURSE not found; the build makes it (target seam-apps)"
mkdir -p "$OUT"
rm -f "$CARD" "$CARD"-*
size=$(wc -c <"$PURSE" | tr -d ' ')

# used_bytes: the NVM bytes in use, from seam card list.
used_bytes() {
    "$SEAM" card list --image "$CARD" | sed -n 's/^nvm: \([0-9]*\) bytes used.*/\1/p'
}

echo "\$ $SEAM card new --image $CARD"
"$SEAM" card new --image "$CARD" || die "seam card new"
used_new=$(used_bytes)

# The purse: package A00000055055, applet class and instance A0000005505501.
# INSTALL parameters C9: PIN length 4, PIN "1234". Amounts: 4 bytes big-endian.
cat >"$OUT/issue.script" <<EOF
00A4040008A000000151000000 00            => 9000   # SELECT the ISD
.scp03 level=01                                    # secure channel, C-MAC
.load $PURSE
# INSTALL [for install and make selectable] package, class, instance, privileges, C9 params
80E60C0022 06A00000055055 07A0000005505501 07A0000005505501 0100 07C9050431323334 00 00 => 9000
00A4040007A0000005505501 00              => 9000   # SELECT the purse
00400000 04 00000019                     => 6985   # DEBIT 25 before the PIN: refused
00200000 04 31323334                     => 9000   # VERIFY PIN 1234
00300000 04 00000064                     => 9000   # CREDIT 100
00400000 04 00000019                     => 9000   # DEBIT 25
0050000000                               => 9000 0000004B00000002  # BALANCE 75, 2 transactions
EOF
echo
echo "\$ $SEAM card script --image $CARD $OUT/issue.script"
"$SEAM" card script --image "$CARD" "$OUT/issue.script" || die "the issuing script"

echo
echo "\$ $SEAM card list --image $CARD"
"$SEAM" card list --image "$CARD" || die "seam card list"
used_after=$(used_bytes)
stored=$("$SEAM" card list --image "$CARD" | sed -n 's/^  A00000055055  version [0-9.]*, \([0-9]*\) bytes$/\1/p')
[ -n "$stored" ] || die "seam card list does not show the purse package"

cat >"$OUT/restart.script" <<EOF
00A4040007A0000005505501 00              => 9000   # SELECT the purse
0050000000                               => 9000 0000004B00000002  # BALANCE: still 75
00400000 04 00000005                     => 6985   # the PIN was verified in another life
0060000000                               => 9000 02000000190000004B00000002*  # READ LOG
EOF
echo
echo "A new seam process opens the same image (the card was restarted):"
echo "\$ $SEAM card script --image $CARD $OUT/restart.script"
"$SEAM" card script --image "$CARD" "$OUT/restart.script" || die "the script after the restart"

echo
echo "What happened: seam created a card whose security domain holds the"
echo "GlobalPlatform test keys, opened an SCP03 secure channel with them, loaded"
echo "the purse package ($stored bytes of WebAssembly; the file has $size) and"
echo "installed an instance with PIN 1234. The purse refused a debit before the"
echo "PIN, then took a credit of 100 and a debit of 25: balance 75 after 2"
echo "transactions. The card's NVM went from $used_new to $used_after bytes in use."
echo "A second process found the balance of 75 and the log intact, and the PIN"
echo "state gone, as a card's transient memory is after a reset."
