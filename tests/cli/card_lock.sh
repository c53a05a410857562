#!/bin/sh
# hardening_07_cli_serve_holds_the_image_X4: one image has one owner at a time.
# seam card serve holds a new card (pointed at 127.0.0.1:1, where no vpcd
# listens: it keeps retrying and never touches a real pcscd); seam card script
# on the same image must fail, naming serve's pid, instead of writing behind
# serve's back (serve would later commit from its stale copy: a lost update).
# Once serve is gone, the script runs. And serve's exit checkpoints the log
# (issue 11, docs/nvm.md "Durability"): while it serves, card.db-wal sits
# beside the image; after SIGTERM, card.db alone holds the card.
#
# usage: card_lock.sh SEAM WORK SCRIPT
set -u
seam=$1
work=$2
script=$3
serve=""

fail() {
    echo "card_lock: FAIL: $*"
    [ -f "$work/serve.log" ] && sed 's/^/  serve: /' "$work/serve.log"
    exit 1
}
cleanup() {
    [ -n "$serve" ] && kill "$serve" 2>/dev/null && wait "$serve" 2>/dev/null
    return 0
}
trap cleanup EXIT

rm -rf "$work"
mkdir -p "$work"
"$seam" card new --image "$work/card.db" >/dev/null || fail "seam card new"
SEAM_LOG=info "$seam" card serve --image "$work/card.db" --vpcd 127.0.0.1:1 \
    >/dev/null 2>"$work/serve.log" &
serve=$!

# serve logs "serving" once it has opened the card; wait for that (at most 60 s).
tries=0
until grep -q "serving" "$work/serve.log" 2>/dev/null; do
    kill -0 "$serve" 2>/dev/null || fail "seam card serve exited early"
    tries=$((tries + 1))
    [ "$tries" -le 600 ] || fail "seam card serve did not open the image"
    sleep 0.1
done

"$seam" card script --image "$work/card.db" "$script" >"$work/held.out" 2>"$work/held.err"
status=$?
[ "$status" -ne 0 ] ||
    fail "seam card script wrote the image while seam card serve (pid $serve) held it"
grep -q "is in use by pid $serve (seam card serve" "$work/held.err" ||
    fail "the refusal does not name serve's pid $serve: $(cat "$work/held.err")"

[ -e "$work/card.db-wal" ] || fail "no write-ahead log beside the image while serve holds it"
kill -TERM "$serve"
wait "$serve" || fail "seam card serve did not exit cleanly on SIGTERM"
serve=""
[ ! -e "$work/card.db-wal" ] || fail "seam card serve left card.db-wal behind at its exit"
"$seam" card script --image "$work/card.db" "$script" >"$work/free.out" 2>&1 ||
    fail "seam card script after serve stopped: $(cat "$work/free.out")"
echo "card_lock: passed (refused while serve held the image, ran after)"
