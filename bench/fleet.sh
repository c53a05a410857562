#!/usr/bin/env bash
# Fleet bench (issue 12, Scale): a campaign updating FLEET_CARDS cards (default 10,000)
# from purse 1.0 to 2.0, relayed by `seam fleet` (one process, FLEET_THREADS terminal
# loops), against one `seam server` on SQLite, one on PostgreSQL, and two on one
# PostgreSQL. For each: the fleet's cards are created, registered with their
# personalization, the install campaign runs (not timed as the goal), then the update
# campaign is timed: cards/s and bytes per card (the terminal's own counts). The
# PostgreSQL is started here: initdb as user nobody (when run as root) into a temporary
# folder, a Unix socket only, stopped at the end whatever happens (trap).
#
# usage: bench/fleet.sh SEAM_BINARY APPS_DIR
# Prints ROW<TAB>what<TAB>measured<TAB>goal<TAB>reference<TAB>ratio lines (bench/run.sh).
set -euo pipefail
seam=$(realpath "$1")
apps=$(realpath "$2")
cards=${FLEET_CARDS:-10000}
threads=${FLEET_THREADS:-8}
pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
purse_aid=A00000055055
perso=A0000005505501:DF010434333231DF0204000001F4
work=$(mktemp -d /tmp/seam-fleet-bench-XXXXXX)
server_pids=()
pg_data=""

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }
cleanup() {
    for p in "${server_pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
    if [ -n "$pg_data" ]; then as_pg "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w stop \
        >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# start_server DIR: starts `seam server run` (SERVER_THREADS: its --threads), sets $port,
# adds the pid.
start_server() {
    local log=$1/run.log
    rm -f "$log" # a restarted server's old line must not be read as its port
    "$seam" server run "$1" --listen 127.0.0.1:0 ${SERVER_THREADS:+--threads "$SERVER_THREADS"} \
        >"$log" 2>&1 &
    server_pids+=($!)
    for _ in $(seq 1 100); do
        port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$log" 2>/dev/null || true)
        [ -n "$port" ] && return 0
        sleep 0.1
    done
    echo "fleet bench: server did not start:" >&2
    cat "$log" >&2
    return 1
}

# start_servers DIR N: starts the servers of DIR/srv0..N-1; urls (--server URL each) and
# api_port (the first's) are set.
start_servers() {
    local i
    urls=()
    for i in $(seq 0 $(($2 - 1))); do
        start_server "$1/srv$i"
        urls+=(--server "http://127.0.0.1:$port")
        if [ "$i" = 0 ]; then api_port=$port; fi
    done
}

# pg_counters DB: committed transactions of DB and WAL fsyncs of the server, tab-separated.
pg_counters() {
    as_pg "$pg_bin/psql" -At -F $'\t' -h "$pg_sock" -U seam -d postgres -c \
        "SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = '$1'),
                (SELECT wal_sync FROM pg_stat_wal)"
}

# cpu_ticks PID...: the CPU time (user + system, clock ticks) these processes used so far.
cpu_ticks() {
    local t=0 p
    for p in "$@"; do
        [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
    done
    echo "$t"
}

# pg_pids: the PostgreSQL server's processes (the postmaster and its children).
pg_pids() {
    local pm
    [ -n "$pg_data" ] && [ -r "$pg_data/postmaster.pid" ] || return 0
    pm=$(head -1 "$pg_data/postmaster.pid")
    echo "$pm" $(pgrep -P "$pm")
}

stop_servers() {
    for p in "${server_pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
    server_pids=()
}

# api METHOD PATH [curl args...]: the admin API of the first server.
api() {
    local m=$1 p=$2
    shift 2
    curl -sS -f -X "$m" -H "Authorization: Bearer $token" "${@}" "http://127.0.0.1:$api_port$p"
}

# campaign KIND VERSION CINS_FILE: creates it on the first server.
campaign() {
    local targets
    targets=$(awk '{ printf "%s\"%s\"", (NR > 1 ? "," : ""), $1 }' "$3")
    printf '{"kind":"%s","package":"%s","version":"%s","targets":[%s]}' "$1" "$purse_aid" "$2" \
        "$targets" >"$work/campaign.json"
    api POST /api/campaigns -H 'Content-Type: application/json' \
        --data-binary @"$work/campaign.json" >/dev/null
}

# run_config NAME DB_URL SERVERS: one configuration; prints its figures.
run_config() {
    local name=$1 db=$2 nservers=$3 i
    local dir=$work/$name
    mkdir -p "$dir"
    if [ -n "$db" ]; then
        as_pg "$pg_bin/psql" -q -h "$pg_sock" -U seam -d postgres -c "CREATE DATABASE $name" >/dev/null
        db="postgresql:///$name?host=$pg_sock&user=seam"
    fi
    # the store named by --db gets the token's hash; the config records db=
    "$seam" server init "$dir/srv0" ${db:+--db "$db"} >"$dir/init.out"
    token=$(grep -oE '[0-9A-Fa-f]{64}' "$dir/init.out" | head -1)
    for i in $(seq 1 $((nservers - 1))); do
        mkdir -m 700 "$dir/srv$i"
        cp -p "$dir/srv0/config" "$dir/srv0/master.key" "$dir/srv$i/"
    done
    start_servers "$dir" "$nservers"
    api POST /api/packages -H 'Content-Type: application/wasm' \
        --data-binary @"$apps/purse.wasm" >/dev/null
    api POST /api/packages -H 'Content-Type: application/wasm' \
        --data-binary @"$apps/purse_v2.wasm" >/dev/null
    "$seam" fleet --cards "$cards" --dir "$dir/cards" --threads "$threads" --no-run \
        --server "http://127.0.0.1:$api_port" --register "$token" --perso "$perso" \
        | sed "s/^/$name: /"
    campaign install 1.0 "$dir/cards/fleet.cins"
    "$seam" fleet --cards "$cards" --dir "$dir/cards" --threads "$threads" "${urls[@]}" \
        >"$dir/install.out" || true
    sed "s/^fleet:/$name: install:/" "$dir/install.out"
    campaign update 2.0 "$dir/cards/fleet.cins"
    # fresh servers for the timed run: their PostgreSQL backends' statistics are flushed
    # when they exit, so the counters below hold the update run alone
    stop_servers
    [ -n "$db" ] && pg_counters "$name" >"$dir/pg.before"
    start_servers "$dir" "$nservers"
    local srv0 pg0 tck
    srv0=$(cpu_ticks "${server_pids[@]}")
    pg0=$(cpu_ticks $(pg_pids))
    if ! /usr/bin/time -f 'fleet cpu %U %S' -o "$dir/fleet.time" "$seam" fleet --cards "$cards" \
        --dir "$dir/cards" --threads "$threads" "${urls[@]}" >"$dir/update.out"; then
        echo "$name: update: not every card ended done" >&2
    fi
    sed "s/^fleet:/$name: update:/" "$dir/update.out"
    # where the CPU went during the update run, per card (ms): servers, PostgreSQL, fleet
    tck=$(getconf CLK_TCK)
    awk -v n="$cards" -v t="$tck" -v s="$(($(cpu_ticks "${server_pids[@]}") - srv0))" \
        -v p="$(($(cpu_ticks $(pg_pids)) - pg0))" -v name="$name" \
        '/^fleet cpu/ { printf "%s: update: CPU per card: servers %.2f ms, PostgreSQL %.2f ms, fleet %.2f ms\n", name, 1000 * s / t / n, 1000 * p / t / n, 1000 * ($3 + $4) / n }' \
        "$dir/fleet.time"
    rate=$(sed -n 's/.* \([0-9.]*\) cards\/s$/\1/p' "$dir/update.out")
    bytes=$(sed -n 's/^fleet: bytes per card \([0-9.]*\) .*/\1/p' "$dir/update.out")
    done_cards=$(sed -n 's/^fleet: [0-9]* cards, \([0-9]*\) done.*/\1/p' "$dir/update.out")
    stop_servers
    if [ -n "$db" ]; then
        # transactions (each autocommit read counts as one) and WAL fsyncs, per card
        pg_counters "$name" | paste "$dir/pg.before" - | awk -v n="$cards" -v name="$name" \
            '{ printf "%s: update: PostgreSQL per card: %.1f transactions, %.2f WAL fsyncs\n", name, ($3 - $1) / n, ($4 - $2) / n }'
    fi
    eval "rate_$name=\$rate bytes_$name=\$bytes done_$name=\$done_cards"
}

echo "fleet: $cards cards, $threads terminal threads, update campaign purse 1.0 -> 2.0"
run_config sqlite "" 1

pg_ok=0
if [ -x "$pg_bin/initdb" ]; then
    pg_sock=$work/pg
    pg_data=$work/pg/data
    mkdir -p "$pg_sock"
    [ "$(id -u)" = 0 ] && chown nobody "$work" "$pg_sock"
    if as_pg "$pg_bin/initdb" -D "$pg_data" -U seam --auth=trust -E UTF8 --no-instructions \
        >"$work/initdb.log" 2>&1 &&
        as_pg "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_sock/log" -w \
            -o "-k $pg_sock -c listen_addresses=''" start >/dev/null; then
        pg_ok=1
        run_config pg1 x 1
        run_config pg2 x 2
    else
        echo "fleet: PostgreSQL did not start; its rows are skipped" >&2
        cat "$work/initdb.log" >&2
    fi
else
    echo "fleet: no $pg_bin/initdb: the PostgreSQL rows are skipped"
fi

printf 'ROW\t%s\t%s\t%s\t%s\t%s\n' "fleet: update, 1 server SQLite" "${rate_sqlite:-?} cards/s" \
    "completes" "$cards cards" "${done_sqlite:-0}/$cards done, ${bytes_sqlite:-?} B/card"
if [ "$pg_ok" = 1 ]; then
    printf 'ROW\t%s\t%s\t%s\t%s\t%s\n' "fleet: update, 1 server PostgreSQL" \
        "${rate_pg1:-?} cards/s" "completes" "$cards cards" \
        "${done_pg1:-0}/$cards done, ${bytes_pg1:-?} B/card"
    printf 'ROW\t%s\t%s\t%s\t%s\t%s\n' "fleet: update, 2 servers PostgreSQL" \
        "${rate_pg2:-?} cards/s" "completes" "$cards cards" \
        "${done_pg2:-0}/$cards done, ${bytes_pg2:-?} B/card"
    ratio=$(awk -v a="${rate_pg2:-0}" -v b="${rate_pg1:-0}" 'BEGIN {
        if (b > 0) printf "%.2fx", a / b; else print "?" }')
    printf 'ROW\t%s\t%s\t%s\t%s\t%s\n' "fleet: 2 servers / 1, PostgreSQL" "$ratio" ">= 1.7x" \
        "1 server on PostgreSQL" "$ratio"
fi
