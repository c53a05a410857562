#!/bin/sh
# The seam demo: the card story. A new card image; a purse applet
# (apps/purse/purse.c compiled to WebAssembly) loaded and installed over a
# GlobalPlatform SCP03 secure channel; PIN, credit, debit and balance APDUs;
# the card's registry; then a new process (a "restart") where the balance is
# still there. Then six more chapters:
#   2. personalize once, update twice (P3-P9): a purse personalized with
#      INSTALL [for personalization] + STORE DATA and used, updated to purse
#      2.0 with MANAGE ELF UPGRADE; a pay-TV applet personalized, given two
#      entitlements, updated to pay-TV 2.0. Balance, PIN, logs and
#      entitlements stay; no STORE DATA is resent, the update's bytes are the
#      package's plus a few commands.
#   3. two banks, one package (U1-U10), on a second image: the ISD installs
#      two security domains; each bank takes its keys over with PUT KEY and
#      installs its own purse from the ISD's package; the ISD starts the
#      upgrade and loads 2.0; bank A migrates at once, bank B later, its
#      purse working as 1.0 meanwhile; then the temporary space is gone.
#   4. the operator's server and the phone's terminal (P1, P2, P8;
#      scripts/demo_server.sh): seam server on loopback, seam terminal
#      relaying its remote-management scripts to a new card; an install
#      campaign with personalization, the user spends, an update campaign;
#      the bytes of each campaign from the server's report (personalization
#      bytes 0 on the update).
#   5. the card application toolkit (S5, S7, S9; scripts/demo_toolkit.sh):
#      apps/devmgmt asks the terminal for a synchronization; the terminal
#      prompts its (unattended) user, who declines once and accepts once.
#   6. the loop back to upgrades (S6, S7, S10; scripts/demo_sync.sh): devmgmt
#      asks for a synchronization after an event, the user agrees, the
#      terminal reads the card's own database (apps/carddb) and synchronizes
#      it with the server, the server
#      proposes the purse update, the operator accepts, the campaign updates
#      the purse (0 personalization bytes) and the next sync shows 2.0.
#   7. personalized outside the card (P4, P6, P9, P12; scripts/demo_outside.sh):
#      a set-top box's terminal with a domain of its own installs the purse
#      with the PIN the server sealed for it and updates it from the card's
#      record (0 personalization bytes on the server's connection); a secure
#      flash card's controller installs and updates a purse by itself.
# With CONSOLE=1 (make demo CONSOLE=1; scripts/demo_console.sh) it then starts a
# seam server with a fleet of cards and an upgrade proposal, prints the
# operator's console's address and token, and runs until Ctrl-C.
# Every APDU has an expected status word (and data where it matters): any
# failed step stops the demo with a non-zero exit status.
#
# usage: scripts/demo.sh    (make demo builds build/release first)
# environment: CONSOLE=1 (the console at the end, above),
#              SEAM (default build/release/seam or build/release/src/cli/seam),
#              PURSE (default: apps/purse.wasm of SEAM's build directory; the
#              other applets, purse_v2, paytv and paytv_v2, are taken from
#              the same directory)
# needs: openssl (the broadcaster's entitlement MACs, HMAC-SHA256), curl (the
#        operator's admin API calls in chapter 4)
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
APPS=$(dirname "$PURSE")
for app in purse_v2 paytv paytv_v2; do
    [ -f "$APPS/$app.wasm" ] || die "$APPS/$app.wasm not found; the build makes it (target seam-apps)"
done
command -v openssl >/dev/null || die "openssl not found (Debian package openssl; make deps installs it)"
mkdir -p "$OUT"
BANKS=$OUT/banks.db
# an image, its journal and its storage key file (the lock files stay: never removed)
rm -f "$CARD" "$CARD"-* "$CARD".key "$BANKS" "$BANKS"-* "$BANKS".key
size=$(wc -c <"$PURSE" | tr -d ' ')

# used_bytes [IMAGE]: the NVM bytes in use (default: $CARD's), from seam card list.
used_bytes() {
    "$SEAM" card list --image "${1:-$CARD}" | sed -n 's/^nvm: \([0-9]*\) bytes used.*/\1/p'
}

# Helpers for chapters 2 and 3.

# run_script NAME IMAGE: runs $OUT/NAME.script on IMAGE, printing its output
# (also kept in $OUT/NAME.out); any failed check stops the demo.
run_script() {
    echo
    echo "\$ $SEAM card script --image $2 $OUT/$1.script"
    if ! "$SEAM" card script --image "$2" "$OUT/$1.script" >"$OUT/$1.out" 2>&1; then
        cat "$OUT/$1.out"
        die "the script $OUT/$1.script"
    fi
    cat "$OUT/$1.out"
}

# list IMAGE: seam card list, printed.
list() {
    echo
    echo "\$ $SEAM card list --image $1"
    "$SEAM" card list --image "$1" || die "seam card list"
}

# bytes_in NAME: the bytes the card received during the script run NAME.
bytes_in() {
    sed -n 's/^bytes in \([0-9]*\),.*/\1/p' "$OUT/$1.out"
}

# ins_bytes_in NAME INS: the bytes received with that INS (two hex digits) during
# run NAME, from its .traffic lines; 0 when there was no such command.
ins_bytes_in() {
    n=$(sed -n "s/^  INS $2: [0-9]* commands*, \([0-9]*\) bytes in.*/\1/p" "$OUT/$1.out")
    echo "${n:-0}"
}

# ins_commands NAME INS: how many commands with that INS the run NAME sent.
ins_commands() {
    n=$(sed -n "s/^  INS $2: \([0-9]*\) command.*/\1/p" "$OUT/$1.out")
    echo "${n:-0}"
}

# size FILE: its bytes.
size() {
    wc -c <"$1" | tr -d ' '
}

# handset_wait FILE TEXT TENTHS SHOW...: until FILE holds TEXT, for TENTHS tenths of a
# second at most while the terminal $HANDSET_PID runs (chapters 5 and 6); else prints
# the SHOW files and stops the demo.
handset_wait() {
    f=$1
    t=$2
    n=$3
    shift 3
    for _ in $(seq "$n"); do
        grep -q "$t" "$f" && return 0
        kill -0 "$HANDSET_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$@"
    die "no '$t' in $f"
}

# Helpers for chapters 4 and 6 (the operator's server).

# server_start DIR LOG: seam server run DIR on a loopback port the system picks, its
# output in LOG; sets SERVER_PID and URL (http://127.0.0.1:PORT).
server_start() {
    : >"$2"
    "$SEAM" server run "$1" --listen 127.0.0.1:0 >>"$2" 2>&1 &
    SERVER_PID=$!
    port=
    for _ in $(seq 50); do
        port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$2")
        [ -n "$port" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$port" ] || {
        cat "$2"
        die "seam server run did not start"
    }
    URL=http://127.0.0.1:$port
}

# server_stop: stops the server of server_start and clears the EXIT trap.
server_stop() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    trap - EXIT
}

# api METHOD PATH [CURL ARGS...]: the admin API of the server at $URL with the bearer
# token $TOKEN; prints the body (also in $OUT/api.out); any status but 2xx stops the demo.
api() {
    m=$1
    p=$2
    shift 2
    code=$(curl -sS -o "$OUT/api.out" -w '%{http_code}' -X "$m" \
        -H "Authorization: Bearer $TOKEN" "$@" "$URL$p") || die "curl $m $p"
    echo "  $m $p -> $code $(cat "$OUT/api.out")"
    case $code in 2??) ;; *) die "the admin API answered $code to $m $p" ;; esac
}
# json METHOD PATH BODY: api with a JSON body.
json() { api "$1" "$2" -H 'Content-Type: application/json' --data "$3"; }

# hex_to_bin HEX: the bytes themselves, on stdout (POSIX printf, octal escapes).
hex_to_bin() {
    h=$1
    while [ -n "$h" ]; do
        b=${h%"${h#??}"}
        h=${h#??}
        # shellcheck disable=SC2059 # the format is the escape
        printf "\\$(printf '%03o' "0x$b")"
    done
}

# entitlement_mac KEY CHANNEL EXPIRY: the first 8 bytes of
# HMAC-SHA256(KEY, CHANNEL || EXPIRY), in hex: what the broadcaster sends.
entitlement_mac() {
    hex_to_bin "$2$3" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" |
        awk '{print $NF}' | cut -c1-16 | tr 'a-f' 'A-F'
}

# date_hex YYYYMMDD: the 4-byte date the pay-TV applet compares.
date_hex() {
    printf '%08X' "$1"
}

ISD_SELECT="00A4040008A000000151000000 00 => 9000"

echo "=== Chapter 1: a card, a purse, a restart ==="
echo "\$ $SEAM card new --image $CARD"
"$SEAM" card new --image "$CARD" || die "seam card new"
used_new=$(used_bytes)

# The purse: package A00000055055, applet class and instance A0000005505501.
# INSTALL parameters C9: PIN length 4, PIN "1234". Amounts: 4 bytes big-endian.
cat >"$OUT/issue.script" <<EOF
00A4040008A000000151000000 00            => 9000   # SELECT the ISD
.scp03 level=01                                    # secure channel, C-MAC
# the combined INSTALL [for load, install and make selectable] of the purse (0E 01,
# LOAD, 0E 03; instance = class A0000005505501); install parameters C9: PIN length 4,
# PIN "1234"
.install $PURSE params=0431323334
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
stored=$("$SEAM" card list --image "$CARD" | sed -n 's/^  A00000055055  version [0-9.]*, \([0-9]*\) bytes,.*$/\1/p')
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

# The image alone is useless: every value in it is sealed under the storage key
# in $CARD.key. With another key (here a file of zeros) seam refuses to open it.
printf '%064d\n' 0 >"$OUT/wrong.key"
echo
echo "\$ SEAM_CARD_KEY_FILE=$OUT/wrong.key $SEAM card list --image $CARD"
if SEAM_CARD_KEY_FILE="$OUT/wrong.key" "$SEAM" card list --image "$CARD"; then
    die "the image opened under a wrong storage key"
fi
echo "The card's values (PIN, keys, balance) are sealed under the storage key in"
echo "$CARD.key: the image opens only with it."


# ---------------------------------------------------------------------------
echo
echo "=== Chapter 2: personalize once, update twice; nothing resent, nothing lost ==="
echo "A second purse is personalized the GlobalPlatform way (INSTALL [for"
echo "personalization] + STORE DATA of its PIN, under SCP03 with encryption)"
echo "and used; the card's restore module files the STORE DATA block."

cat >"$OUT/perso.script" <<EOF
$ISD_SELECT
.scp03 level=03                                    # C-DECRYPTION + C-MAC: the PIN travels encrypted
# a second instance from the package already loaded, no parameters (PIN 1234)
.install package=A00000055055 module=A0000005505501 aid=A0000005505502
# INSTALL [for personalization], then STORE DATA of the TLV DF01: PIN 5678
.store-data DF010435363738 tlv perso=A0000005505502
00A4040007A0000005505502 00               => 9000   # SELECT the new purse
00200000 04 31323334                      => 63C2   # VERIFY 1234: replaced
00200000 04 35363738                      => 9000   # VERIFY 5678
00300000 04 000003E8                      => 9000   # CREDIT 1000
00400000 04 000000FA                      => 9000   # DEBIT 250
0050000000                                => 9000 000002EE00000002  # BALANCE 750, 2 transactions
0060000000                                => 9000 02000000FA000002EE0000000201000003E8000003E800000001  # READ LOG
EOF
run_script perso "$CARD"

echo
echo "The first update (.upgrade): MANAGE ELF UPGRADE start (the ISD's purse 1.0"
echo "moves to the temporary useful space), LOAD of purse 2.0, migrate (both purses"
echo "of the ISD reinstalled as 2.0 from their restore records). Its bytes, per"
echo "instruction (.traffic):"
cat >"$OUT/update-purse.script" <<EOF
$ISD_SELECT
.scp03 level=01
.upgrade $APPS/purse_v2.wasm                       # start, LOAD, migrate
.traffic
EOF
run_script update-purse "$CARD"
purse_v2_size=$(size "$APPS/purse_v2.wasm")
update_in=$(bytes_in update-purse)
load_in=$(ins_bytes_in update-purse E8)
load_blocks=$(ins_commands update-purse E8)
other_in=$((update_in - load_in))
[ "$(ins_commands update-purse E2)" = 0 ] || die "the update sent STORE DATA"
[ "$other_in" -lt 200 ] || die "the update sent $other_in bytes besides the package"
grep -q "migrate: completed, 2 instances migrated" "$OUT/update-purse.out" ||
    die "the update did not migrate both purses"
echo "The update took $update_in bytes in: $load_in in $load_blocks LOAD blocks for the"
echo "$purse_v2_size-byte package (each block adds its header, C-MAC and Le), and $other_in"
echo "for everything else (SELECT, the SCP03 handshake, INSTALL [for load], two"
echo "MANAGE ELF UPGRADE). No STORE DATA (INS E2): the PIN was not sent again."

cat >"$OUT/after-purse.script" <<EOF
00A4040007A0000005505502 00      => 9000   # the personalized purse, now 2.0
0050000000                       => 9000 000002EE00000002  # BALANCE: still 750, 2 transactions
00200000 04 31323334             => 63C2   # VERIFY 1234: the PIN is still 5678
00200000 04 35363738             => 9000   # VERIFY 5678
0060000000                       => 9000 02000000FA000002EE0000000201000003E8000003E800000001  # the same log
0060010000                       => 9000 02000000FA00000000000002EE000000000000000201000003E800000000000003E80000000000000001  # 2.0's long log
80700000 04 00000064             => 9000   # SET LIMIT 100 (new in 2.0)
8071000000                       => 9000 00000064  # GET LIMIT
00400000 04 000000C8             => 6985   # DEBIT 200: above the limit
00400000 04 00000032             => 9000   # DEBIT 50
0050000000                       => 9000 000002BC00000003  # BALANCE 700
00A4040007A0000005505501 00      => 9000   # chapter 1's purse (install parameters), 2.0 too
0050000000                       => 9000 0000004B00000002  # BALANCE: still 75
00200000 04 31323334             => 9000   # its PIN 1234
8071000000                       => 9000 00000000  # no limit yet
EOF
echo
echo "After the update, a new process: the balance, PIN and log are those of 1.0,"
echo "and 2.0's SET LIMIT works:"
run_script after-purse "$CARD"
list "$CARD"

# The pay-TV applet: the broadcaster's entitlement key and two entitlements.
TV_KEY=2B7E151628AED2A6ABF7158809CF4F3C
TV_ID=5355422D30303432 # "SUB-0042"
CH1=0101
EXP1=$(date_hex 20261231)
CH2=0202
EXP2=$(date_hex 20260131)
CH3=0303
EXP3=$(date_hex 20270630)
TODAY=$(date_hex 20260115)
LATER=$(date_hex 20260601)
MAC1=$(entitlement_mac $TV_KEY $CH1 "$EXP1")
MAC2=$(entitlement_mac $TV_KEY $CH2 "$EXP2")
MAC3=$(entitlement_mac $TV_KEY $CH3 "$EXP3")
for mac in "$MAC1" "$MAC2" "$MAC3"; do
    [ ${#mac} = 16 ] || die "openssl computed no MAC"
done

echo
echo "The pay-TV applet: loaded, installed, personalized with a subscriber"
echo "identity and a 16-byte entitlement key (DF10, DF11), then two entitlements"
echo "whose MACs openssl computed (HMAC-SHA256, first 8 bytes): channel $CH1 until"
echo "2026-12-31 ($EXP1), channel $CH2 until 2026-01-31 ($EXP2); two viewings on"
echo "2026-01-15."
cat >"$OUT/paytv.script" <<EOF
$ISD_SELECT
.scp03 level=03
.install $APPS/paytv.wasm                          # package A0000005505456, instance = class A000000550545601
.store-data DF1008${TV_ID}DF1110$TV_KEY tlv perso=A000000550545601   # identity, key
00A4040008A000000550545601 00     => 9000   # SELECT pay-TV
0050000000                        => 9000 $TV_ID  # GET IDENTITY
00100000 0E $CH1 $EXP1 $MAC1      => 9000   # ADD ENTITLEMENT channel $CH1
00100000 0E $CH2 $EXP2 $MAC2      => 9000   # ADD ENTITLEMENT channel $CH2
00100000 0E $CH3 $EXP1 $MAC1      => 6982   # channel $CH3 with $CH1's MAC: refused
00200000 06 $CH1 $TODAY           => 9000   # WATCH $CH1
00200000 06 $CH2 $TODAY           => 9000   # WATCH $CH2
00200000 06 $CH3 $TODAY           => 6985   # WATCH $CH3: not entitled
0030000000                        => 9000 $CH1$EXP1$CH2$EXP2      # LIST
0040000000                        => 9000 $CH2$TODAY$CH1$TODAY    # READ VIEWING LOG
EOF
run_script paytv "$CARD"

echo
echo "The second update: pay-TV 1.0 to 2.0, the same way."
cat >"$OUT/update-paytv.script" <<EOF
$ISD_SELECT
.scp03 level=01
.upgrade $APPS/paytv_v2.wasm
.traffic
EOF
run_script update-paytv "$CARD"
paytv_v2_size=$(size "$APPS/paytv_v2.wasm")
tv_in=$(bytes_in update-paytv)
tv_other=$((tv_in - $(ins_bytes_in update-paytv E8)))
[ "$(ins_commands update-paytv E2)" = 0 ] || die "the pay-TV update sent STORE DATA"
[ "$tv_other" -lt 200 ] || die "the pay-TV update sent $tv_other bytes besides the package"
grep -q "migrate: completed, 1 instance migrated" "$OUT/update-paytv.out" ||
    die "the pay-TV update did not migrate"

cat >"$OUT/after-paytv.script" <<EOF
00A4040008A000000550545601 00     => 9000   # pay-TV, now 2.0
0050000000                        => 9000 $TV_ID                # the same identity
0030000000                        => 9000 $CH1$EXP1$CH2$EXP2    # the same entitlements
0040000000                        => 9000 $CH2$TODAY$CH1$TODAY  # the same viewing log
00600000 04 $LATER                => 9000 01   # REMOVE EXPIRED on 2026-06-01 (new in 2.0): one
0030000000                        => 9000 $CH1$EXP1             # channel $CH2 is gone
00200000 06 $CH2 $LATER           => 6985   # WATCH $CH2: expired
00200000 06 $CH1 $LATER           => 9000   # WATCH $CH1
00100000 0E $CH3 $EXP3 $MAC3      => 9000   # the key came back: a new entitlement verifies
0030000000                        => 9000 $CH1$EXP1$CH3$EXP3
EOF
echo
echo "After the update: the same identity, entitlements and viewing log; 2.0's"
echo "REMOVE EXPIRED works, and the entitlement key still verifies MACs:"
run_script after-paytv "$CARD"
list "$CARD"

echo
echo "Chapter 2 in numbers: the purse update took $update_in bytes in for a"
echo "$purse_v2_size-byte package ($other_in besides the LOAD blocks), the pay-TV"
echo "update $tv_in for a $paytv_v2_size-byte package ($tv_other besides the LOAD"
echo "blocks); neither sent STORE DATA. Balance 750 and 75, PIN 5678 and 1234,"
echo "the purse log, the pay-TV identity, key, entitlements and viewing log all"
echo "came through."

# ---------------------------------------------------------------------------
echo
echo "=== Chapter 3: two banks, one package; each moves in its own time ==="
echo "A second card. The ISD installs two supplementary security domains, bank A"
echo "and bank B (Authorized Management), and loads purse 1.0."
echo
echo "\$ $SEAM card new --image $BANKS"
"$SEAM" card new --image "$BANKS" >/dev/null || die "seam card new"
KEY_A=A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5
KEY_B=B5B5B5B5B5B5B5B5B5B5B5B5B5B5B5B5

cat >"$OUT/banks.script" <<EOF
$ISD_SELECT
.scp03 level=01
# two SSDs from the SD package (ELF A0000001515350, module A000000151535041) with
# privileges 80C000: security domain, trusted path, Authorized Management
.install package=A0000001515350 module=A000000151535041 aid=A000000559100A privileges=80C000  # bank A
.install package=A0000001515350 module=A000000151535041 aid=A000000559100B privileges=80C000  # bank B
.load $PURSE
EOF
run_script banks "$BANKS"

echo
echo "Each bank opens its SD with the keys it inherited, replaces them with its"
echo "own (PUT KEY), reopens with those, installs its purse from the ISD's"
echo "package and personalizes it (bank A: PIN 1111, bank B: PIN 2222)."
for bank in A B; do
    if [ $bank = A ]; then
        sd=A000000559100A key=$KEY_A inst=A00000055055A1 pin=31313131 amount=00000190
    else
        sd=A000000559100B key=$KEY_B inst=A00000055055B1 pin=32323232 amount=0000012C
    fi
    cat >"$OUT/bank-$bank.script" <<EOF
00A4040007$sd 00                   => 9000   # SELECT bank $bank's SD
.scp03 level=03                                # the inherited keys
.putkey key=$key                               # bank $bank's own keys
.scp03 level=03 key=$key
.install package=A00000055055 module=A0000005505501 aid=$inst   # bank $bank's purse
.store-data DF0104$pin tlv perso=$inst           # its PIN
00A4040007$inst 00                  => 9000
00200000 04 $pin                    => 9000   # VERIFY
00300000 04 $amount                 => 9000   # CREDIT
0050000000                          => 9000 ${amount}00000001  # BALANCE
EOF
    run_script "bank-$bank" "$BANKS"
done
echo
echo "Before the upgrade:"
list "$BANKS"

echo
echo "The ISD starts the upgrade of its purse package: 1.0 moves to the temporary"
echo "useful space; it loads 2.0 into the useful space. GET STATUS shows both"
echo "(tag DF71: 01 useful, 02 temporary); the session waits for the banks (03)."
cat >"$OUT/banks-start.script" <<EOF
$ISD_SELECT
.scp03 level=01
80EA0100 08 4F06A00000055055 00  => 9000 A10B9001024F06A00000055055   # start: 02 waiting for the package
.load $APPS/purse_v2.wasm
# status 03 waiting for the domains; C4 new package, 82 two instances remain, 83 in two SDs
80EA0800 08 4F06A00000055055 00  => 9000 A11A9001034F06A00000055055C406A00000055055820200028301 02
# GET STATUS, load files: E3 { 4F, 9F70 lifecycle, CE version, CC owner SD, DF71 space }
80F22002 02 4F00 00              => 9000 E31E4F06A000000550559F700101CE020200CC08A000000151000000DF710101 E31E4F06A000000550559F700101CE020100CC08A000000151000000DF710102
EOF
run_script banks-start "$BANKS"
echo
echo "During the upgrade:"
list "$BANKS"
used_during=$(used_bytes "$BANKS")

echo
echo "Bank A migrates at once, under its own channel; bank B's purse still"
echo "answers as 1.0 (no SET LIMIT: 6D00), and bank A's as 2.0. (SET LIMIT is"
echo "sent with CLA 80: 00 70 is ISO's MANAGE CHANNEL.)"
cat >"$OUT/bank-A-migrate.script" <<EOF
00A4040007A000000559100A 00       => 9000
.scp03 level=01 key=$KEY_A
80EA0200 08 4F06A00000055055 00   => 9000 A10E9001034F06A00000055055810101   # migrate: 1 migrated, 03 still waiting
EOF
run_script bank-A-migrate "$BANKS"
cat >"$OUT/meanwhile.script" <<EOF
00A4040007A00000055055A1 00       => 9000   # bank A's purse: 2.0
0050000000                        => 9000 0000019000000001
00200000 04 31313131              => 9000
80700000 04 00000064              => 9000   # SET LIMIT 100
00400000 04 000000C8              => 6985   # DEBIT 200: above the limit
00A4040007A00000055055B1 00       => 9000   # bank B's purse: still 1.0
0050000000                        => 9000 0000012C00000001
00200000 04 32323232              => 9000
80700000 04 00000064              => 6D00   # no SET LIMIT in 1.0
00400000 04 00000064              => 9000   # DEBIT 100
0050000000                        => 9000 000000C800000002
EOF
run_script meanwhile "$BANKS"
list "$BANKS"

echo
echo "Later, bank B migrates: the session completes, the old package and the"
echo "temporary useful space are gone."
cat >"$OUT/bank-B-migrate.script" <<EOF
00A4040007A000000559100B 00       => 9000
.scp03 level=01 key=$KEY_B
80EA0200 08 4F06A00000055055 00   => 9000 A10E9001014F06A00000055055810101   # migrate: 1 migrated, 01 completed
.power                                          # the customer's terminal, no channel
00A4040007A00000055055B1 00       => 9000   # bank B's purse: 2.0 now
0050000000                        => 9000 000000C800000002  # balance 200 kept
00200000 04 32323232              => 9000   # PIN 2222 kept
80700000 04 00000064              => 9000   # SET LIMIT works
0060000000                        => 9000 0200000064000000C800000002010000012C0000012C00000001
EOF
run_script bank-B-migrate "$BANKS"
cat >"$OUT/banks-done.script" <<EOF
$ISD_SELECT
.scp03 level=01
80EA0800 08 4F06A00000055055 00   => 9000 A10B9001004F06A00000055055   # status: 00, no session
80F22002 02 4F00 00               => 9000 E31E4F06A000000550559F700101CE020200CC08A000000151000000DF710101   # only 2.0, useful space
EOF
run_script banks-done "$BANKS"
echo
echo "After the upgrade:"
list "$BANKS"
used_after_upgrade=$(used_bytes "$BANKS")

echo
echo "Chapter 3 in numbers: two security domains each took their keys over and"
echo "installed a purse from the one package; the ISD's upgrade let bank A move"
echo "to 2.0 while bank B's purse kept working as 1.0, then bank B moved too."
echo "NVM in use: $used_during bytes during the upgrade (both versions stored),"
echo "$used_after_upgrade after it (the temporary useful space is gone)."
. scripts/demo_server.sh
. scripts/demo_toolkit.sh
. scripts/demo_sync.sh
. scripts/demo_outside.sh

echo
echo "demo: all chapters passed."
if [ "${CONSOLE:-0}" = 1 ]; then
    . scripts/demo_console.sh
fi
