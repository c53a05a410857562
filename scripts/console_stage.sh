#!/bin/sh
# Sets the scene the operator's console shows (issue 16; docs/console.md):
# a `seam server` on a loopback port with purse 1.0 and 2.0, a `seam fleet` of
# CARDS cards registered with it (the test key set, the purse's PIN as
# personalization data), an install campaign of purse 1.0 run to the end on
# every card, then apps/carddb installed on each card (Global Registry) and
# each card's handset enrolled and synchronized with the server over the
# changeset protocol: its ./devinfo (IMEI, CIN) and the card's own database
# ./card, read from carddb. The server then proposes purse 2.0 for the fleet
# (A00000055055-1.0-2.0). The server is left running.
#
# usage: scripts/console_stage.sh SEAM APPS OUT [CARDS]
#   SEAM  the seam binary; APPS its applets' folder (purse.wasm, purse_v2.wasm,
#   carddb.wasm); OUT a folder of its own (emptied first); CARDS default 6.
# Prints on stdout, one per line: URL=, TOKEN=, SERVER_DIR=, SERVER_PID=,
# FLEET_DIR=, CARDS=, PROPOSAL=, PERSO=, then CIN_i= and IMEI_i= per card.
# Progress and logs go to stderr and OUT. Stop the server with
# kill $SERVER_PID. Needs curl.
set -eu

SEAM=$1
APPS=$2
OUT=$3
CARDS=${4:-6}
PERSO=DF010434333231DF0204000001F4 # PIN 4321, balance 500 (personalization data)
SECRET=console-handset-secret-0123
PURSE_INSTANCE=A0000005505501

die() {
    echo "console_stage: FAILED: $*" >&2
    [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null
    exit 1
}
say() { echo "console_stage: $*" >&2; }

command -v curl >/dev/null || die "curl not found (Debian package curl; make deps installs it)"
for f in "$SEAM" "$APPS/purse.wasm" "$APPS/purse_v2.wasm" "$APPS/carddb.wasm"; do
    [ -e "$f" ] || die "$f not found (the build makes it)"
done
rm -rf "$OUT"
mkdir -p "$OUT"

"$SEAM" server init "$OUT/server" >"$OUT/server-init.out" || die "seam server init"
TOKEN=$(tail -n 1 "$OUT/server-init.out")
"$SEAM" server run "$OUT/server" --listen 127.0.0.1:0 >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
port=
for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$OUT/server.log")
    [ -n "$port" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
[ -n "$port" ] || die "seam server run did not start: $(cat "$OUT/server.log")"
URL=http://127.0.0.1:$port
say "server $URL (pid $SERVER_PID)"

# api METHOD PATH [CURL ARGS...]: the admin API; the body in $OUT/api.out; 2xx or stop.
api() {
    m=$1
    p=$2
    shift 2
    code=$(curl -sS -o "$OUT/api.out" -w '%{http_code}' -X "$m" \
        -H "Authorization: Bearer $TOKEN" "$@" "$URL$p") || die "curl $m $p"
    case $code in 2??) ;; *) die "the admin API answered $code to $m $p: $(cat "$OUT/api.out")" ;; esac
}
json() { api "$1" "$2" -H 'Content-Type: application/json' --data "$3"; }

api POST /api/packages -H 'Content-Type: application/wasm' --data-binary "@$APPS/purse.wasm"
api POST /api/packages -H 'Content-Type: application/wasm' --data-binary "@$APPS/purse_v2.wasm"

FLEET=$OUT/fleet
"$SEAM" fleet --cards "$CARDS" --dir "$FLEET" --server "$URL" --register "$TOKEN" \
    --perso "$PURSE_INSTANCE:$PERSO" --no-run >"$OUT/fleet-register.out" 2>&1 ||
    die "seam fleet --register: $(cat "$OUT/fleet-register.out")"
targets=$(sed 's/.*/"&"/' "$FLEET/fleet.cins" | paste -sd, -)
json POST /api/campaigns \
    "{\"kind\":\"install\",\"package\":\"A00000055055\",\"version\":\"1.0\",\"targets\":[$targets]}"
say "install campaign: $(cat "$OUT/api.out" | cut -c1-60)..."
"$SEAM" fleet --cards "$CARDS" --dir "$FLEET" --server "$URL" >"$OUT/fleet-install.out" 2>&1 ||
    die "seam fleet (install): $(cat "$OUT/fleet-install.out")"
grep -q "^fleet: $CARDS cards, $CARDS done" "$OUT/fleet-install.out" ||
    die "not every card installed the purse: $(cat "$OUT/fleet-install.out")"

# Each card: carddb with the Global Registry privilege (00 04 00), its handset enrolled,
# ./devinfo (IMEI and CIN), the card's own database ./card and ./apps (the terminal
# writes the card's instances there when it reads ./card) synchronized.
i=0
while [ "$i" -lt "$CARDS" ]; do
    image=$FLEET/$(printf 'card-%05d.db' "$i")
    cin=$(sed -n "$((i + 1))p" "$FLEET/fleet.cins")
    imei=$(printf '3548270%08d' "$i")
    SEAM_CARD_KEY_FILE=$FLEET/fleet.key "$SEAM" gp --image "$image" --level 33 \
        install "$APPS/carddb.wasm" --privileges 000400 >"$OUT/carddb-$i.out" 2>&1 ||
        die "installing carddb on card $i: $(cat "$OUT/carddb-$i.out")"
    json POST /api/devices "{\"id\":\"$imei\",\"secret\":\"$SECRET\"}"
    dm=$OUT/handset-$i-dm.db
    "$SEAM" terminal dm --db "$dm" set imei "$imei" || die "seam terminal dm set imei"
    "$SEAM" terminal dm --db "$dm" set cin "$cin" || die "seam terminal dm set cin"
    for db in ./devinfo ./card ./apps; do
        SEAM_CARD_KEY_FILE=$FLEET/fleet.key "$SEAM" terminal sync --server "$URL/sync/changeset" \
            --protocol changeset --db "$db" --dm "$dm" --password "$SECRET" --image "$image" \
            >"$OUT/sync-$i.out" 2>&1 || die "seam terminal sync $db (card $i): $(cat "$OUT/sync-$i.out")"
    done
    echo "CIN_$i=$cin" >>"$OUT/cards.env"
    echo "IMEI_$i=$imei" >>"$OUT/cards.env"
    i=$((i + 1))
done

api GET /api/proposals
grep -q 'A00000055055-1.0-2.0' "$OUT/api.out" || die "no proposal for the purse: $(cat "$OUT/api.out")"
say "proposal A00000055055-1.0-2.0 for $CARDS cards"

echo "URL=$URL"
echo "TOKEN=$TOKEN"
echo "SERVER_DIR=$OUT/server"
echo "SERVER_PID=$SERVER_PID"
echo "FLEET_DIR=$FLEET"
echo "CARDS=$CARDS"
echo "PROPOSAL=A00000055055-1.0-2.0"
echo "PERSO=$PERSO"
cat "$OUT/cards.env"
