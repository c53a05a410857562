# Chapter 7 of the seam demo (sourced by scripts/demo.sh; helpers from demo.sh and
# chapter 4's report_field): personalization outside the card (P4, P6, P9, P10, P12). A set-top
# box whose terminal holds a security domain of its own on the card: the operator
# sends it the purse and the customer's PIN sealed for that terminal, the terminal
# personalizes and loads; later the update arrives as the package alone, the card
# hands the purse's record to the terminal under the domain's session, and the
# terminal personalizes the update; the server's own report shows what crossed
# its connection. Then a secure flash card whose controller does the same by
# itself.

BOX_SERVER=$OUT/box-server
BOX=$OUT/box.db
BOX_STATE=$OUT/box-terminal.db
rm -rf "$BOX_SERVER"
rm -f "$BOX" "$BOX"-* "$BOX".key "$BOX_STATE" "$BOX_STATE"-* "$BOX_STATE".sock
rm -f "$OUT/box-domain.keys" "$OUT/box-terminal.key"

echo
echo "=== Chapter 7: personalized outside the card (P4, P6, P9, P12) ==="
echo
"$SEAM" card new --image "$BOX" >/dev/null || die "seam card new"
BOX_CIN=$("$SEAM" gp --image "$BOX" info | sed -n 's/^CIN (0045) 45..\([0-9A-F]*\)$/\1/p')
[ -n "$BOX_CIN" ] || die "no CIN on the set-top box's card"
echo "A set-top box with a new card, CIN $BOX_CIN. At the card's personalization the"
echo "issuer gives the box's terminal a security domain of its own (Authorized"
echo "Management) and hands it over to keys only the terminal's key file holds:"
echo "\$ $SEAM terminal perso domain --image box.db --isd-keys default --aid A0000005591000DD --out box-domain.keys"
"$SEAM" terminal perso domain --image "$BOX" --isd-keys default --aid A0000005591000DD \
    --out "$OUT/box-domain.keys" >/dev/null || die "seam terminal perso domain"
echo
echo "An operator's server (its own folder) with both versions of the purse:"
"$SEAM" server init "$BOX_SERVER" >"$OUT/box-server-init.out" || die "seam server init"
TOKEN=$(tail -n 1 "$OUT/box-server-init.out")
[ ${#TOKEN} -eq 64 ] || die "seam server init printed no token"
SERVER_PID=
trap 'kill "$SERVER_PID" 2>/dev/null || true' EXIT
server_start "$BOX_SERVER" "$OUT/box-server.log"
api POST /api/packages -H 'Content-Type: application/wasm' --data-binary "@$APPS/purse.wasm"
api POST /api/packages -H 'Content-Type: application/wasm' --data-binary "@$APPS/purse_v2.wasm"
echo "The terminal makes its key pair; the operator registers its public key (and, as"
echo "for any card, the ISD key set and the customer's PIN and balance):"
"$SEAM" terminal key --out "$OUT/box-terminal.key" >"$OUT/box-terminal.pub" ||
    die "seam terminal key"
BOX_PUB=$(tr -d '\n' <"$OUT/box-terminal.pub")
[ ${#BOX_PUB} -eq 130 ] || die "seam terminal key printed no public key"
json PUT "/api/cards/$BOX_CIN" "{\"keysets\":[{\"kvn\":48,\"enc\":\"$K\",\"mac\":\"$K\",\"dek\":\"$K\"}]}"
json PUT "/api/cards/$BOX_CIN/terminal" "{\"public_key\":\"$BOX_PUB\"}"
json PUT "/api/cards/$BOX_CIN/personalization/A0000005505501" '{"data":"DF010434333231DF0204000001F4"}'

# box_campaign KIND VERSION: a campaign personalized in the terminal; CAMPAIGN its id.
box_campaign() {
    json POST /api/campaigns \
        "{\"kind\":\"$1\",\"package\":\"A00000055055\",\"version\":\"$2\",\"targets\":[\"$BOX_CIN\"],\"personalization\":\"terminal\"}"
    CAMPAIGN=$(sed -n 's/^{"id":\([0-9]*\),.*/\1/p' "$OUT/api.out")
    [ -n "$CAMPAIGN" ] || die "no campaign id"
}
box_terminal_once() {
    echo "\$ $SEAM terminal run --server $URL --image box.db --once --domain-keys box-domain.keys --terminal-key box-terminal.key"
    "$SEAM" terminal run --server "$URL" --image "$BOX" --once --state "$BOX_STATE" \
        --domain-keys "$OUT/box-domain.keys" --terminal-key "$OUT/box-terminal.key" ||
        die "seam terminal run (the box)"
    api GET "/api/campaigns/$CAMPAIGN"
    grep -q '"targets":\[{[^]]*"state":"done"' "$OUT/api.out" || die "campaign $CAMPAIGN not done"
}

echo
echo "Install campaign, personalized in the terminal (P6): the server sends the"
echo "package and the PIN and balance sealed for this terminal; the terminal opens"
echo "them, adds them to the package (seam.perso), loads it through its domain, and"
echo "keeps the record in its own restore store (P4); the server then reads the"
echo "card's registry in its own session before it calls the step done."
box_campaign install 1.0
BOX_INSTALL=$CAMPAIGN
box_terminal_once

cat >"$OUT/box-spend.script" <<EOF
00A4040007A0000005505501 00       => 9000   # SELECT the purse
00200000 04 34333231              => 9000   # VERIFY PIN 4321, personalized by the terminal
00400000 04 00000078              => 9000   # DEBIT 120
0050000000                        => 9000 0000017C00000001   # balance 380
EOF
run_script box-spend "$BOX"

echo
echo "Update campaign, personalized in the terminal (P9): the server sends purse"
echo "2.0 alone; the card passes the purse's record to the terminal encrypted under"
echo "the domain's session; the terminal personalizes 2.0 from it and loads it."
box_campaign update 2.0
BOX_UPDATE=$CAMPAIGN
box_terminal_once
cat >"$OUT/box-after.script" <<EOF
00A4040007A0000005505501 00       => 9000   # SELECT the purse: 2.0 now
00200000 04 34333231              => 9000   # PIN 4321 kept
0050000000                        => 9000 0000017C00000001   # balance 380 kept
80700000 04 00000064              => 9000   # SET LIMIT: a 2.0 command
EOF
run_script box-after "$BOX"
echo "\$ $SEAM terminal perso records --state box-terminal.db"
"$SEAM" terminal perso records --state "$BOX_STATE" | sed 's/^/  /'

server_stop
"$SEAM" server report "$BOX_SERVER" >"$OUT/server-report.out" || die "seam server report"
box_install_total=$(report_field "$BOX_INSTALL" 7)
box_install_perso=$(report_field "$BOX_INSTALL" 6)
box_update_total=$(report_field "$BOX_UPDATE" 7)
box_update_perso=$(report_field "$BOX_UPDATE" 6)
[ -n "$box_install_total" ] && [ -n "$box_update_total" ] || die "no report line for chapter 7"
[ "$box_update_perso" = 0 ] || die "the terminal's update sent $box_update_perso perso bytes"
[ "$box_install_perso" -gt 0 ] || die "the terminal's install sent no personalization data"
echo
echo "From the server's report: the install personalized in the terminal took"
echo "$box_install_total bytes, $box_install_perso of them the sealed personalization data;"
echo "the update took $box_update_total bytes and 0 bytes of personalization data (P9)."

FLASH=$OUT/flashcard
rm -rf "$FLASH"
echo
echo "A secure flash card (P12, FIG. 11): its controller has flash of its own, a card"
echo "behind it and, from the factory, a domain on that card; it loads, personalizes"
echo "and updates by itself, from packages the host stores in its flash."
echo "\$ $SEAM flashcard new flashcard"
"$SEAM" flashcard new "$FLASH" >/dev/null || die "seam flashcard new"
FLASH_CIN=$("$SEAM" flashcard status "$FLASH" | sed -n 's/^cin \([0-9A-F]*\).*/\1/p')
[ -n "$FLASH_CIN" ] || die "seam flashcard status gave no CIN"
# flash STEP ARGS...: one seam flashcard command, shown, its output indented.
flash() {
    echo "\$ $SEAM flashcard $*"
    "$SEAM" flashcard "$@" >"$OUT/flash.out" 2>&1 || {
        cat "$OUT/flash.out"
        die "seam flashcard $1"
    }
    sed 's/^/    /' "$OUT/flash.out"
}
flash store "$FLASH" "$APPS/purse.wasm" --cin "$FLASH_CIN"
flash install "$FLASH" A00000055055 --perso A0000005505501:DF010434333231DF0204000001F4
echo "The host uses the purse through the controller (APDUs passed through):"
flash apdu "$FLASH" 00A4040007A000000550550100 002000000434333231 004000000400000078 0050000000
grep -q '^< 0000017C000000019000$' "$OUT/flash.out" || die "the flash card's purse has not 380"
echo "The host stores purse 2.0 in the flash and asks the controller to update:"
flash store "$FLASH" "$APPS/purse_v2.wasm" --cin "$FLASH_CIN"
flash update "$FLASH" A00000055055
flash apdu "$FLASH" 00A4040007A000000550550100 002000000434333231 0050000000 807000000400000064
[ "$(grep -c '^< 9000$' "$OUT/flash.out")" = 3 ] &&
    grep -q '^< 0000017C000000019000$' "$OUT/flash.out" ||
    die "the flash card's purse did not keep PIN and balance across the update"
flash status "$FLASH"
echo
echo "Chapter 7: the terminal personalized the purse and its update itself, the"
echo "server's connection carried no personalization data for the update, and the"
echo "flash card's controller did the same on its own (PIN 4321 and balance 380 kept)."
