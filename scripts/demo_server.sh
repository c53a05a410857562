# Chapter 4 of the seam demo (sourced by scripts/demo.sh, which defines SEAM,
# OUT, APPS, die, run_script, size, server_start, server_stop, api and json): the operator's server and the phone's
# terminal (P1, P2, P8, X5). A `seam server` on loopback with its SQLite
# store; a new card in a phone whose `seam terminal` relays the server's
# remote-management scripts (GlobalPlatform Amendment B style over HTTP,
# SCP03 end to end: the terminal holds no key). The operator uploads purse 1.0
# and 2.0, registers the card's ISD keys and its personalization, runs an
# install campaign; the user spends; the operator runs an update campaign.
# The bytes of each campaign come from the server's own report.

command -v curl >/dev/null || die "curl not found (Debian package curl; make deps installs it)"

SERVER_DIR=$OUT/server
PHONE=$OUT/phone.db
rm -rf "$SERVER_DIR" "$OUT/terminal.db" "$OUT"/terminal.db-* "$OUT/terminal.db.sock"
rm -f "$PHONE" "$PHONE"-* "$PHONE".key

echo
echo "== Chapter 4: the operator's server and the phone's terminal (P1, P2, P8) =="
echo
echo "\$ $SEAM server init $SERVER_DIR"
"$SEAM" server init "$SERVER_DIR" >"$OUT/server-init.out" || die "seam server init"
sed -n '1p' "$OUT/server-init.out"
TOKEN=$(tail -n 1 "$OUT/server-init.out")
[ ${#TOKEN} -eq 64 ] || die "seam server init printed no token"

SERVER_PID=
trap 'kill "$SERVER_PID" 2>/dev/null || true' EXIT
server_start "$SERVER_DIR" "$OUT/server.log"
echo "\$ $SEAM server run $SERVER_DIR --listen 127.0.0.1:0    (port $port)"

echo
echo "The operator uploads both versions of the purse (the server reads AID and"
echo "version from each package's seam.package section):"
api POST /api/packages -H 'Content-Type: application/wasm' --data-binary "@$APPS/purse.wasm"
api POST /api/packages -H 'Content-Type: application/wasm' --data-binary "@$APPS/purse_v2.wasm"

"$SEAM" card new --image "$PHONE" >/dev/null || die "seam card new"
CIN=$("$SEAM" gp --image "$PHONE" info | sed -n 's/^CIN (0045) 45..\([0-9A-F]*\)$/\1/p')
[ -n "$CIN" ] || die "no CIN on the new card"
echo
echo "A new card in the phone, CIN $CIN. The operator registers its ISD key set"
echo "(sealed at rest, never returned) and the customer's personalization for"
echo "the purse: PIN 4321 (DF01), opening balance 500 (DF02):"
K=404142434445464748494A4B4C4D4E4F
json PUT "/api/cards/$CIN" "{\"keysets\":[{\"kvn\":48,\"enc\":\"$K\",\"mac\":\"$K\",\"dek\":\"$K\"}]}"
json PUT "/api/cards/$CIN/personalization/A0000005505501" '{"data":"DF010434333231DF0204000001F4"}'

# campaign KIND VERSION: starts a campaign for the phone's card; CAMPAIGN gets its id.
campaign() {
    json POST /api/campaigns \
        "{\"kind\":\"$1\",\"package\":\"A00000055055\",\"version\":\"$2\",\"targets\":[\"$CIN\"]}"
    CAMPAIGN=$(sed -n 's/^{"id":\([0-9]*\),.*/\1/p' "$OUT/api.out")
    [ -n "$CAMPAIGN" ] || die "no campaign id"
}

# terminal_once: one admin session of the phone's terminal.
terminal_once() {
    echo "\$ $SEAM terminal run --server $URL --image $PHONE --once"
    "$SEAM" terminal run --server "$URL" --image "$PHONE" --once \
        --state "$OUT/terminal.db" || die "seam terminal run"
}

# campaign_done: the campaign's one target must be done.
campaign_done() {
    api GET "/api/campaigns/$CAMPAIGN"
    grep -q '"targets":\[{[^]]*"state":"done"' "$OUT/api.out" || die "campaign $CAMPAIGN not done"
}

echo
echo "Install campaign: the terminal polls, the server answers with SELECT +"
echo "INITIALIZE UPDATE, then EXTERNAL AUTHENTICATE (level 33) and the wrapped"
echo "LOAD, INSTALL and STORE DATA commands; the terminal only relays them."
campaign install 1.0
INSTALL_CAMPAIGN=$CAMPAIGN
terminal_once
campaign_done

echo
echo "The customer uses the purse (on the phone, no server involved):"
cat >"$OUT/phone-spend.script" <<EOF
00A4040007A0000005505501 00       => 9000   # SELECT the purse
00200000 04 34333231              => 9000   # VERIFY PIN 4321, from the server's personalization
0050000000                        => 9000 000001F400000000   # balance 500
00400000 04 00000078              => 9000   # DEBIT 120
0050000000                        => 9000 0000017C00000001   # balance 380
EOF
run_script phone-spend "$PHONE"

echo
echo "Update campaign to purse 2.0 (MANAGE ELF UPGRADE: the restore module keeps"
echo "the data; the server sends the package and no personalization data):"
campaign update 2.0
UPDATE_CAMPAIGN=$CAMPAIGN
terminal_once
campaign_done
cat >"$OUT/phone-after.script" <<EOF
00A4040007A0000005505501 00       => 9000   # SELECT the purse: 2.0 now
00200000 04 34333231              => 9000   # PIN 4321 kept
0050000000                        => 9000 0000017C00000001   # balance 380 kept
80700000 04 00000064              => 9000   # SET LIMIT: a 2.0 command
EOF
run_script phone-after "$PHONE"

echo
echo "\$ $SEAM server report $SERVER_DIR"
server_stop
"$SEAM" server report "$SERVER_DIR" >"$OUT/server-report.out" || die "seam server report"
cat "$OUT/server-report.out"

# report_field CAMPAIGN COLUMN: a number of the campaign's line (4 request,
# 5 response, 6 perso, 7 total).
report_field() {
    awk -v c="$1" -v f="$2" '$1 == c { print $f; exit }' "$OUT/server-report.out"
}
install_total=$(report_field "$INSTALL_CAMPAIGN" 7)
install_perso=$(report_field "$INSTALL_CAMPAIGN" 6)
update_total=$(report_field "$UPDATE_CAMPAIGN" 7)
update_perso=$(report_field "$UPDATE_CAMPAIGN" 6)
[ -n "$install_total" ] && [ -n "$update_total" ] || die "the report has no line per campaign"
[ "$update_perso" = 0 ] || die "the update sent $update_perso bytes of personalization data"
[ "$install_perso" -gt 0 ] || die "the install sent no personalization data"

echo
echo "Chapter 4 in numbers, from the server's report (every byte of every HTTP"
echo "request and response on the server-side connection, headers included):"
echo "install campaign: $install_total bytes for a $(size "$APPS/purse.wasm")-byte package," \
    "$install_perso of them personalization data;"
echo "update campaign: $update_total bytes for a $(size "$APPS/purse_v2.wasm")-byte package," \
    "0 bytes of personalization data (P8). The balance, 380, and the PIN stayed."
