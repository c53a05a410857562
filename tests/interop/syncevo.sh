#!/usr/bin/env bash
# OMA DS interoperability with SyncEvolution 2.0 (issue 14: S6; docs/sync.md "OMA DS over HTTP"),
# both directions, two-way and slow syncs, records checked on both sides after every run:
#   (a) SyncEvolution's client (`syncevolution --daemon=no`, file backend, text/plain items)
#       against `seam server`'s POST /sync/omads (MD5 authentication: the server challenges a
#       Pkg1 without credentials with MD5; basic is tested in tests/server);
#   (b) seam terminal's client (seam_terminal_sync_omads, through tests/interop/omads_tool.c)
#       against `syncevo-http-server` (file backend, text/plain).
# SyncEvolution 2.0.0's HTTP client crashes on Debian 12 (cat_sync.md B.8): the client runs with
# an LD_PRELOAD shim built here from tests/interop/syncevo_curl_shim.c. That is the harness's
# business only; nothing of it is in seam.
#
# usage: tests/interop/syncevo.sh SEAM_BINARY [OMADS_TOOL]
# Everything runs in a temporary folder (HOME and XDG dirs), with a D-Bus session bus of its own;
# only loopback addresses. A watchdog stops everything the test started even if the test itself
# is killed. Missing Debian packages (syncevolution, syncevolution-http, python3-twisted, dbus):
# the test says SKIPPED loudly and exits 0 (`make deps` installs them).
set -euo pipefail
seam=$(realpath "$1")
tool=${2:-$(dirname "$seam")/tests/server/omads_tool}
here=$(cd "$(dirname "$0")" && pwd)
start=$(date +%s)

missing=()
command -v syncevolution >/dev/null || missing+=(syncevolution)
[ -f /usr/bin/syncevo-http-server ] || missing+=(syncevolution-http)
/usr/bin/python3 -c 'import twisted' 2>/dev/null || missing+=(python3-twisted)
command -v dbus-daemon >/dev/null || missing+=(dbus-daemon)
command -v cc >/dev/null || missing+=(build-essential)
if [ ${#missing[@]} -gt 0 ]; then
    printf '\n*** interop-sync: SKIPPED: missing %s (make deps installs them) ***\n\n' "${missing[*]}"
    exit 0
fi
[ -x "$tool" ] || { echo "interop-sync: FAIL: no $tool (make build)"; exit 1; }

work=$(mktemp -d /tmp/seam-syncevo-XXXXXX)
pids="$work/pids" # every process the test started, one pid a line, for cleanup and the watchdog
: > "$pids"
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config XDG_CACHE_HOME=$work/home/.cache \
    XDG_DATA_HOME=$work/home/.local/share XDG_RUNTIME_DIR=$work/run
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

# Kills pid and everything below it, children first.
kill_tree() {
    local child
    for child in $(pgrep -P "$1" 2>/dev/null || true); do kill_tree "$child"; done
    kill "$1" 2>/dev/null || true
}
cleanup() {
    local pid
    while read -r pid; do [ -n "$pid" ] && kill_tree "$pid"; done < "$pids"
    rm -rf "$work"
}
trap cleanup EXIT
# The watchdog: when this script is gone (even by SIGKILL) or runs past 180 s, it stops what the
# script started and removes the folder.
(
    trap '' INT
    while kill -0 $$ 2>/dev/null && [ $(( $(date +%s) - start )) -lt 180 ]; do sleep 1; done
    kill $$ 2>/dev/null || true
    sleep 1
    if [ -f "$pids" ]; then
        while read -r pid; do
            [ -n "$pid" ] && [ "$pid" != "$BASHPID" ] && kill_tree "$pid"
        done < "$pids"
    fi
    rm -rf "$work"
) &
watchdog=$!
echo "$watchdog" >> "$pids"

fail() {
    echo "interop-sync: FAIL: $*"
    for log in "$work"/*.log; do [ -f "$log" ] && { echo "--- $log"; tail -15 "$log"; }; done
    exit 1
}
step() { printf 'interop-sync: %s\n' "$*"; }

# A D-Bus session bus of our own (syncevo-http-server needs one; the CLI runs without).
dbus-daemon --session --fork --nosyslog --print-address=3 --print-pid=4 \
    3> "$work/bus.address" 4> "$work/bus.pid"
cat "$work/bus.pid" >> "$pids"
DBUS_SESSION_BUS_ADDRESS=$(head -1 "$work/bus.address")
export DBUS_SESSION_BUS_ADDRESS

cc -shared -fPIC -o "$work/libcurlshim.so" "$here/syncevo_curl_shim.c" -ldl \
    || fail "building the SyncEvolution curl shim"
se() { timeout 60 syncevolution --daemon=no "$@"; }
se_sync() { LD_PRELOAD=$work/libcurlshim.so se --run loglevel=1 printChanges=0 dumpData=0 "$@"; }

# Values (trailing line ends dropped, CR removed), sorted: a file per item.
dir_values() { for f in "$1"/*; do [ -f "$f" ] && { tr -d '\r' < "$f"; echo; } | sed '/^$/d'; done | sort; }
list_values() { cut -f2- | sort; }
# expect_same WHAT LEFT RIGHT: equal multisets of values, and say how many.
expect_same() {
    [ "$2" == "$3" ] || fail "$1: the two sides differ:"$'\n'"$2"$'\n---\n'"$3"
    step "$1: both sides hold the same $(printf '%s\n' "$2" | sed '/^$/d' | wc -l) records"
}

# ---- (a) SyncEvolution's client against seam server -------------------------------------------
step "(a) SyncEvolution client -> seam server /sync/omads"
"$seam" server init "$work/srv" > "$work/init.log" 2>&1 || fail "seam server init"
token=$(grep -oE '[0-9A-Fa-f]{64}' "$work/init.log" | head -1)
SEAM_LOG=info "$seam" server run "$work/srv" --listen 127.0.0.1:0 > "$work/seam-server.log" 2>&1 &
echo $! >> "$pids"
for _ in $(seq 1 50); do grep -q "listening on port" "$work/seam-server.log" && break; sleep 0.1; done
port=$(grep -oE 'listening on port [0-9]+' "$work/seam-server.log" | grep -oE '[0-9]+$') \
    || fail "seam server did not start"
device=se-client-1
secret=se-secret-$RANDOM-$RANDOM-$RANDOM
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "{\"secret\":\"$secret\"}" \
    "http://127.0.0.1:$port/api/devices/$device/secret")
[ "$code" == 204 ] || fail "setting the device's secret: HTTP $code"

client_db=$work/client_db
mkdir -p "$client_db"
se --keyring=no --configure --template SyncEvolution \
    syncURL="http://127.0.0.1:$port/sync/omads" username=$device password="$secret" \
    deviceId=$device enableWBXML=0 backend=file databaseFormat=text/plain \
    database="file://$client_db" seam@client memo > "$work/configure.log" 2>&1 \
    || fail "configuring the SyncEvolution client"
for s in addressbook calendar todo; do se --configure sync=none seam@client $s >> "$work/configure.log" 2>&1; done
se --configure uri=./devinfo sync=two-way seam@client memo >> "$work/configure.log" 2>&1

server_values() { "$tool" server-list "$work/srv" $device ./devinfo | list_values; }

printf 'en' > "$client_db/1"
printf 'seam-phone' > "$client_db/2"
se_sync --sync slow seam@client memo > "$work/client.log" 2>&1 || fail "(a) slow sync"
expect_same "(a) slow sync" "$(dir_values "$client_db")" "$(server_values)"

printf 'seam-phone-2' > "$client_db/2"   # modified, added and deleted on the client
printf 'de' > "$client_db/3"
rm "$client_db/1"
"$tool" server-put "$work/srv" $device ./devinfo ringtone bells || fail "server-side edit"
se_sync seam@client memo > "$work/client.log" 2>&1 || fail "(a) two-way sync"
expect_same "(a) two-way, changes both ways" "$(dir_values "$client_db")" "$(server_values)"
[ "$(server_values)" == $'bells\nde\nseam-phone-2' ] || fail "(a) unexpected records: $(server_values)"

"$tool" server-put "$work/srv" $device ./devinfo ringtone chimes
"$tool" server-del "$work/srv" $device ./devinfo 3
printf 'nl' > "$client_db/5"
se_sync seam@client memo > "$work/client.log" 2>&1 || fail "(a) second two-way sync"
expect_same "(a) two-way, delete from the server" "$(dir_values "$client_db")" "$(server_values)"
[ "$(server_values)" == $'chimes\nnl\nseam-phone-2' ] || fail "(a) unexpected records: $(server_values)"

se --configure password=wrong-secret seam@client >> "$work/configure.log" 2>&1
before=$(server_values)
printf 'attack' > "$client_db/6"
if se_sync seam@client memo > "$work/client.log" 2>&1; then fail "(a) a wrong secret was accepted"; fi
[ "$(server_values)" == "$before" ] || fail "(a) a refused session changed the server's copy"
step "(a) wrong secret: refused, the server's copy unchanged"
grep -q "authentication md5" "$work/seam-server.log" || fail "(a) no MD5 session logged"
grep -q "session ended committed: type 201" "$work/seam-server.log" || fail "(a) no slow sync logged"
grep -q "session ended committed: type 200" "$work/seam-server.log" || fail "(a) no two-way sync logged"

# ---- (b) seam terminal's client against syncevo-http-server -----------------------------------
step "(b) seam terminal client -> syncevo-http-server"
server_db=$work/server_memo
mkdir -p "$server_db"
term=seam-term-1
se --keyring=no --configure --template "SyncEvolution Client" username= password= \
    remoteDeviceId=$term client1@server > "$work/configure-server.log" 2>&1 || fail "configuring the server"
se --configure backend=file databaseFormat=text/plain database="file://$server_db" \
    @server memo >> "$work/configure-server.log" 2>&1
se --configure sync=two-way client1@server memo >> "$work/configure-server.log" 2>&1
for s in addressbook calendar todo; do se --configure sync=none client1@server $s >> "$work/configure-server.log" 2>&1; done
hport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# Debian's script keeps an unsubstituted #!@PYTHON@ line: run it with python3 (B.8)
/usr/bin/python3 /usr/bin/syncevo-http-server "http://127.0.0.1:$hport/syncevolution" \
    > "$work/syncevo-http.log" 2>&1 &
echo $! >> "$pids"
for _ in $(seq 1 100); do grep -q "listening on port" "$work/syncevo-http.log" && break; sleep 0.1; done
grep -q "listening on port" "$work/syncevo-http.log" || fail "syncevo-http-server did not start"
url=http://127.0.0.1:$hport/syncevolution
db=$work/term.db
term_values() { "$tool" term-list "$db" ./devinfo | list_values; }
tsync() { "$tool" sync "$url" "$db" $term ./devinfo memo "$1" >> "$work/terminal.log" 2>&1; }

"$tool" term-put "$db" ./devinfo language en
"$tool" term-put "$db" ./devinfo model seam-1
tsync 201 || fail "(b) slow sync"
grep -q "failure=0 type=201" "$work/terminal.log" || fail "(b) the first sync was not slow"
expect_same "(b) slow sync" "$(term_values)" "$(dir_values "$server_db")"

"$tool" term-put "$db" ./devinfo language fr   # modified, added and deleted on the terminal
"$tool" term-put "$db" ./devinfo ringtone bells
"$tool" term-del "$db" ./devinfo model
printf '2.1\n' > "$server_db/firmware-item"     # added on the server
tsync 200 || fail "(b) two-way sync"
tail -1 "$work/terminal.log" | grep -q "failure=0 type=200" || fail "(b) not a two-way sync"
expect_same "(b) two-way, changes both ways" "$(term_values)" "$(dir_values "$server_db")"
[ "$(term_values)" == $'2.1\nbells\nfr' ] || fail "(b) unexpected records: $(term_values)"

rm "$server_db/firmware-item"                   # deleted on the server
"$tool" term-put "$db" ./devinfo ringtone chimes
tsync 200 || fail "(b) second two-way sync"
expect_same "(b) two-way, delete from the server" "$(term_values)" "$(dir_values "$server_db")"
[ "$(term_values)" == $'chimes\nfr' ] || fail "(b) unexpected records: $(term_values)"

tsync 201 || fail "(b) slow sync on request"
expect_same "(b) slow sync again, no duplicates" "$(term_values)" "$(dir_values "$server_db")"

printf 'interop-sync: all passed in %s s\n' "$(( $(date +%s) - start ))"
