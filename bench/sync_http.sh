#!/usr/bin/env bash
# Sync over HTTP bench (issue 14): the compact changeset protocol through `seam server` on
# SQLite and on PostgreSQL (bench/sync_http_bench.c does the measuring). The PostgreSQL is
# started here as bench/fleet.sh does it: initdb as user nobody (when run as root) into a
# temporary folder, a Unix socket only, stopped at the end whatever happens (trap).
#
# usage: bench/sync_http.sh SEAM_BINARY BENCH_PROGRAM REF_SECONDS REF_BYTES_PER_RECORD
# Prints ROW<TAB>what<TAB>measured<TAB>goal<TAB>reference<TAB>ratio lines (bench/run.sh).
set -euo pipefail
seam=$(realpath "$1")
bench=$(realpath "$2")
ref_s=$3
ref_b=$4
records=${SYNC_RECORDS:-10000}
pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
work=$(mktemp -d /tmp/seam-sync-http-XXXXXX)
server_pid=""
pg_data=""

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true; fi
    if [ -n "$pg_data" ]; then as_pg "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w stop \
        >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# run NAME DB_URL: a fresh server on that store (the folder's SQLite when empty), the bench.
run() {
    local name=$1 db=$2 dir=$work/$1 port=""
    "$seam" server init "$dir" ${db:+--db "$db"} >"$work/$name.init"
    local token
    token=$(grep -oE '[0-9A-Fa-f]{64}' "$work/$name.init" | head -1)
    "$seam" server run "$dir" --listen 127.0.0.1:0 >"$work/$name.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do
        port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$work/$name.log" || true)
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { cat "$work/$name.log" >&2; return 1; }
    "$bench" "$name" "$port" "$token" "${db:-$dir/server.db}" "$dir/master.key" "$work" \
        "$records" "$ref_s" "$ref_b"
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

run sqlite ""
if [ -x "$pg_bin/initdb" ]; then
    pg_sock=$work/pg
    pg_data=$work/pg/data
    mkdir -p "$pg_sock"
    [ "$(id -u)" = 0 ] && chown nobody "$work" "$pg_sock"
    if as_pg "$pg_bin/initdb" -D "$pg_data" -U seam --auth=trust -E UTF8 --no-instructions \
        >"$work/initdb.log" 2>&1 &&
        as_pg "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_sock/log" -w \
            -o "-k $pg_sock -c listen_addresses=''" start >/dev/null; then
        as_pg "$pg_bin/psql" -q -h "$pg_sock" -U seam -d postgres -c "CREATE DATABASE synchttp" \
            >/dev/null
        run postgresql "postgresql:///synchttp?host=$pg_sock&user=seam"
    else
        echo "sync over HTTP: PostgreSQL did not start: its rows are skipped" >&2
        cat "$work/initdb.log" >&2
    fi
else
    echo "sync over HTTP: no $pg_bin/initdb: the PostgreSQL rows are skipped"
fi
