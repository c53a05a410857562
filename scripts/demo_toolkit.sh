# Chapter 5 of the seam demo (sourced by scripts/demo.sh, which defines SEAM,
# OUT, APPS, die, run_script, handset_wait and ISD_SELECT): the card
# application toolkit (issue 13; S5, S7, S9). The operator installs
# apps/devmgmt on a handset's card and sets its policy over SCP03 (STORE
# DATA): two location changes ask for a synchronization, and the user is asked
# first. `seam terminal run --toolkit` plays the handset, unattended: its
# user's answers come from a file, what the card shows goes to a display log.
# The user declines a sync from the menu, then accepts one the policy asks
# for; this terminal runs without a device-management database (no --dm, so
# no synchronization: result 30; chapter 6 has one), which the applet records
# and shows.

HANDSET=$OUT/handset.db
TERM_STATE=$OUT/handset-terminal.db
rm -f "$HANDSET" "$HANDSET"-* "$HANDSET".key "$TERM_STATE" "$TERM_STATE"-* "$TERM_STATE".sock
[ -f "$APPS/devmgmt.wasm" ] || die "$APPS/devmgmt.wasm not found; the build makes it (target seam-apps)"

echo
echo "== Chapter 5: the card asks, the terminal prompts, the user answers (S5, S7, S9) =="

echo "\$ $SEAM card new --image $HANDSET"
"$SEAM" card new --image "$HANDSET" >/dev/null || die "seam card new"
url_hex=$(printf 'https://dm.example.net/sync' | od -An -tx1 | tr -d ' \n')
cat >"$OUT/devmgmt.script" <<EOF2
$ISD_SELECT
.scp03 level=03                                    # C-DECRYPTION + C-MAC
.install $APPS/devmgmt.wasm
# the policy: location status (03) counts, 2 of them ask for a sync, ask the user first,
# the server's URL and database URI
.store-data DF100103DF110102DF150101DF131B${url_hex}DF14092E2F64657669636573 tlv perso=A0000005444D01
EOF2
run_script devmgmt "$HANDSET"

printf 'no\nyes\n' >"$OUT/answers.txt"
: >"$OUT/display.log"
: >"$OUT/handset-run.out"
echo
echo "\$ $SEAM terminal run --toolkit --image $HANDSET --answers $OUT/answers.txt --display-log $OUT/display.log &"
"$SEAM" terminal run --toolkit --image "$HANDSET" --state "$TERM_STATE" \
    --answers "$OUT/answers.txt" --display-log "$OUT/display.log" \
    --location 00F11000010001 >>"$OUT/handset-run.out" 2>&1 &
HANDSET_PID=$!
trap 'kill "$HANDSET_PID" 2>/dev/null || true' EXIT

# wait_for FILE TEXT: until FILE holds TEXT (5 s at most).
wait_for() { handset_wait "$1" "$2" 50 "$OUT/handset-run.out" "$OUT/display.log"; }
# nothing selects devmgmt: after the profile the card announces its menu item and events
wait_for "$OUT/handset-run.out" "toolkit: profile sent, the card's menu has 1 item"

echo
echo "The user opens the card's menu item \"Sync device\"; the card asks first, the user says no:"
echo "\$ $SEAM terminal menu 1"
"$SEAM" terminal menu 1 --state "$TERM_STATE" || die "seam terminal menu"
wait_for "$OUT/display.log" "Sync cancelled"

echo
echo "The handset moves twice (the policy's threshold); the card asks, the user says yes:"
for _ in 1 2; do
    echo "\$ $SEAM terminal event location normal"
    "$SEAM" terminal event location normal --state "$TERM_STATE" || die "seam terminal event"
done
wait_for "$OUT/display.log" "Sync not supported"
kill "$HANDSET_PID" 2>/dev/null || true
wait "$HANDSET_PID" 2>/dev/null || true
trap - EXIT

echo
echo "What the handset's user saw and answered ($OUT/display.log):"
sed 's/^/    /' "$OUT/display.log"

echo
echo "The operator reads the last result (S7): 02 not supported, result 30, trigger 01 (policy):"
cat >"$OUT/devmgmt-status.script" <<EOF2
00A4040007A0000005444D01 00        => 9000   # SELECT devmgmt
8020000000                         => 9000 023001*   # last result, trigger, then its date and time
EOF2
run_script devmgmt-status "$HANDSET"
