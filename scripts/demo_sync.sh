# Chapter 6 of the seam demo (sourced by scripts/demo.sh, which defines SEAM,
# OUT, APPS, die, run_script, size, handset_wait, server_start, server_stop,
# api, json and ISD_SELECT): the loop back to upgrades (issue 14; S6, S7, S9,
# S10). A `seam server` on loopback; a handset whose card holds purse 1.0 (an
# install campaign, as in chapter 4), apps/devmgmt and apps/carddb (the card's
# own database, S8). The handset's device-management database has its IMEI and
# the card's CIN (`./devinfo` key `cin`). devmgmt notices a location change,
# asks the user (answered from a file), and its REQUEST SYNCHRONIZATION makes
# the terminal read the card's own database `./card` from carddb (purse 1.0
# among its packages) and synchronize it with the server over the compact
# changeset protocol. The server proposes the purse update, the operator accepts it, the
# campaign updates the purse over the server-side connection (0
# personalization bytes), and the next synchronization shows purse 2.0 in the
# server's copy.

command -v curl >/dev/null || die "curl not found (Debian package curl; make deps installs it)"

SYNC_DIR=$OUT/sync-server
HANDSET6=$OUT/handset6.db
DM=$OUT/handset6-dm.db
TERM6=$OUT/handset6-terminal.db
rm -rf "$SYNC_DIR"
rm -f "$HANDSET6" "$HANDSET6"-* "$HANDSET6".key "$DM" "$DM"-* "$TERM6" "$TERM6"-* "$TERM6".sock
rm -f "$OUT/admin6.db" "$OUT"/admin6.db-*
IMEI=490154203237518
SECRET=handset-secret-0123456789

echo
echo "== Chapter 6: the card asks, the terminal synchronizes, the operator upgrades (S6, S7, S10) =="
echo
echo "\$ $SEAM server init $SYNC_DIR && $SEAM server run $SYNC_DIR --listen 127.0.0.1:0 &"
"$SEAM" server init "$SYNC_DIR" >"$OUT/sync-server-init.out" || die "seam server init"
TOKEN=$(tail -n 1 "$OUT/sync-server-init.out")
SERVER_PID=
HANDSET_PID=
trap 'kill $SERVER_PID $HANDSET_PID 2>/dev/null || true' EXIT
server_start "$SYNC_DIR" "$OUT/sync-server.log"

echo
echo "The operator's server holds purse 1.0 and 2.0; the handset's card gets purse 1.0"
echo "(an install campaign, as in chapter 4) and the device is enrolled for sync:"
api POST /api/packages -H 'Content-Type: application/wasm' --data-binary "@$APPS/purse.wasm" >/dev/null
api POST /api/packages -H 'Content-Type: application/wasm' --data-binary "@$APPS/purse_v2.wasm" >/dev/null
"$SEAM" card new --image "$HANDSET6" >/dev/null || die "seam card new"
CIN6=$("$SEAM" gp --image "$HANDSET6" info | sed -n 's/^CIN (0045) 45..\([0-9A-F]*\)$/\1/p')
[ -n "$CIN6" ] || die "no CIN on the new card"
K=404142434445464748494A4B4C4D4E4F
json PUT "/api/cards/$CIN6" "{\"keysets\":[{\"kvn\":48,\"enc\":\"$K\",\"mac\":\"$K\",\"dek\":\"$K\"}]}"
json PUT "/api/cards/$CIN6/personalization/A0000005505501" '{"data":"DF010434333231DF0204000001F4"}'
json POST /api/campaigns \
    "{\"kind\":\"install\",\"package\":\"A00000055055\",\"version\":\"1.0\",\"targets\":[\"$CIN6\"]}"
"$SEAM" terminal run --server "$URL" --image "$HANDSET6" --once --state "$OUT/admin6.db" \
    >/dev/null || die "seam terminal run (install)"
json POST /api/devices "{\"id\":\"$IMEI\",\"secret\":\"$SECRET\"}"

url_hex=$(printf '%s/sync/changeset' "$URL" | od -An -tx1 | tr -d ' \n')
url_len=$(printf '%02X' $((${#url_hex} / 2)))
imei_hex=$(printf '%s' "$IMEI" | od -An -tx1 | tr -d ' \n')
cat >"$OUT/devmgmt6.script" <<EOF2
$ISD_SELECT
.scp03 level=03
.install $APPS/devmgmt.wasm
# the policy: each location change (03) asks for a sync (threshold 1), ask the user
# first, the server's changeset endpoint, the card's own database ./card on both
# sides, the IMEI
.store-data DF100103DF110101DF150101DF13${url_len}${url_hex}DF14062E2F63617264DF16062E2F63617264DF170F${imei_hex} tlv perso=A0000005444D01
# carddb, the card's own database, with the Global Registry privilege (00 04 00)
.install $APPS/carddb.wasm privileges=000400
EOF2
run_script devmgmt6 "$HANDSET6"

echo
echo "The handset's device-management database: its IMEI and the card's CIN."
echo "devmgmt's policy names one database (the card's own, ./card); ./devinfo, with"
echo "the CIN the server needs for proposals, goes with the handset's own sync:"
"$SEAM" terminal dm --db "$DM" set imei "$IMEI" || die "seam terminal dm set"
"$SEAM" terminal dm --db "$DM" set cin "$CIN6" || die "seam terminal dm set"
"$SEAM" terminal dm --db "$DM" show | sed 's/^/    /'
echo "\$ $SEAM terminal sync --server $URL/sync/changeset --protocol changeset --db ./devinfo ..."
"$SEAM" terminal sync --server "$URL/sync/changeset" --protocol changeset --db ./devinfo \
    --dm "$DM" --password "$SECRET" || die "seam terminal sync ./devinfo"

# handset_run: the toolkit terminal in the background with REQUEST SYNCHRONIZATION.
handset_run() {
    printf 'yes\n' >"$OUT/answers6.txt"
    : >"$OUT/display6.log"
    : >"$OUT/handset6-run.out"
    echo "\$ $SEAM terminal run --toolkit --image $HANDSET6 --dm $DM --sync-protocol changeset ... &"
    "$SEAM" terminal run --toolkit --image "$HANDSET6" --state "$TERM6" \
        --answers "$OUT/answers6.txt" --display-log "$OUT/display6.log" --imei "$IMEI" \
        --location 00F11000010001 --dm "$DM" --sync-password "$SECRET" \
        --sync-protocol changeset --trace >>"$OUT/handset6-run.out" 2>&1 &
    HANDSET_PID=$!
    wait6 "$OUT/handset6-run.out" "toolkit: profile sent"
}
wait6() { handset_wait "$1" "$2" 100 "$OUT/handset6-run.out" "$OUT/display6.log"; }
handset_stop() {
    kill "$HANDSET_PID" 2>/dev/null || true
    wait "$HANDSET_PID" 2>/dev/null || true
    HANDSET_PID=
}

echo
echo "The handset moves; devmgmt asks the user, who says yes; the terminal synchronizes:"
handset_run
echo "\$ $SEAM terminal event location normal"
"$SEAM" terminal event location normal --state "$TERM6" || die "seam terminal event"
wait6 "$OUT/display6.log" "Sync done"
handset_stop
sed 's/^/    /' "$OUT/display6.log"
echo "What the terminal did and answered the card (TERMINAL RESPONSE: result 00, then"
echo "the counts object 7FD30907: type that ran, records sent, received, conflicts):"
grep -A1 'toolkit: synchronization' "$OUT/handset6-run.out" | sed 's/^/    /'
cat >"$OUT/devmgmt6-status.script" <<EOF2
00A4040007A0000005444D01 00        => 9000   # SELECT devmgmt
8020000000                         => 9000 010001*   # last result: synchronized, result 00, trigger 01
EOF2
run_script devmgmt6-status "$HANDSET6"

echo
echo "The server's copy of the handset, its proposals; the operator accepts:"
api GET "/api/devices/$IMEI"
grep -q 'package.A00000055055[^}]*version=1.0' "$OUT/api.out" ||
    die "the server's copy has no purse 1.0"
api GET /api/proposals
grep -q 'A00000055055-1.0-2.0' "$OUT/api.out" || die "no proposal for the purse"
api POST /api/proposals/A00000055055-1.0-2.0/campaign
UPDATE6=$(sed -n 's/^{"id":\([0-9]*\),.*/\1/p' "$OUT/api.out")
[ -n "$UPDATE6" ] || die "no campaign id"
echo "\$ $SEAM terminal run --server $URL --image $HANDSET6 --once"
"$SEAM" terminal run --server "$URL" --image "$HANDSET6" --once --state "$OUT/admin6.db" \
    >/dev/null || die "seam terminal run (update)"
api GET "/api/campaigns/$UPDATE6"
grep -q '"targets":\[{[^]]*"state":"done"' "$OUT/api.out" || die "campaign $UPDATE6 not done"
cat >"$OUT/handset6-purse.script" <<EOF2
00A4040007A0000005505501 00       => 9000   # SELECT the purse: 2.0 now
00200000 04 34333231              => 9000   # PIN 4321 kept
0050000000                        => 9000 000001F400000000   # balance 500 kept
80700000 04 00000064              => 9000   # SET LIMIT: a 2.0 command
EOF2
run_script handset6-purse "$HANDSET6"

echo
echo "The user opens the card's menu item \"Sync device\" and says yes; the terminal"
echo "reads the card's own database again (purse 2.0 now) and synchronizes it:"
handset_run
echo "\$ $SEAM terminal menu 1"
"$SEAM" terminal menu 1 --state "$TERM6" || die "seam terminal menu"
wait6 "$OUT/display6.log" "Sync done"
handset_stop
api GET "/api/devices/$IMEI"
grep -q 'package.A00000055055[^}]*version=2.0' "$OUT/api.out" ||
    die "the server's copy has no purse 2.0"

server_stop
"$SEAM" server report "$SYNC_DIR" >"$OUT/sync-server-report.out" || die "seam server report"
cat "$OUT/sync-server-report.out"
upd_perso=$(awk -v c="$UPDATE6" '$1 == c { print $6; exit }' "$OUT/sync-server-report.out")
[ "$upd_perso" = 0 ] || die "the proposal's campaign sent '$upd_perso' bytes of personalization data"
echo
echo "Chapter 6: the card asked, the user agreed, the terminal synchronized, the server"
echo "proposed purse 2.0, and its campaign updated the purse with 0 bytes of"
echo "personalization data (P8, S10); the server's copy now shows purse 2.0."
