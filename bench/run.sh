#!/bin/sh
# Benchmarks seam's WebAssembly engine against native code.
#
# Each bench/*.c program is built natively (cc -O2) and for wasm32-wasi
# (clang --target=wasm32-wasi -O2), then run natively (best of 3), under
# `seam wasm run` with fuel metering, and under `seam wasm run --no-metering`.
# All three must print the same checksum line. Prints one row per program and
# the geometric mean of the slowdowns.
#
# Then the card bench (bench/card_bench.c, built here against SEAM's
# libseam.a): the purse applet loaded and installed in a card image, and the
# rate and NVM cost of purse DEBIT APDUs, in-process and, when pcscd and
# pyscard answer, through pcscd and vpcd (bench/card_vpcd.sh); the card's
# hot paths (bench/card_paths.c), each against the same work with the card's
# RAM caches off; and the NVM bench (bench/card_nvm.c): syncs, bytes and
# DEBIT/s against the rollback journal and raw SQLite.
#
# The engine rows (bench/engine.sh): the fuel metering overhead on coremix, and
# EEMBC CoreMark under seam against wasm3 and native, when their builds are
# found (COREMARK_WASM, COREMARK_NATIVE, WASM3; default ../refs/, bench/README.md).
#
# usage: bench/run.sh [PROGRAM...]      (default: all of them)
# environment: SEAM (default build/release/seam or build/release/src/cli/seam), CC (cc), WASM_CC (clang),
#              WASI_SYSROOT (/usr), BENCH_OUT (build/bench), CARD_DEBITS (500 in-process),
#              CARD_PATHS_ROUNDS (5 interleaved rounds of bench/card_paths.c, 1..16),
#              COREMARK_WASM, COREMARK_NATIVE, WASM3 and the knobs of bench/engine.sh,
#              SYNC_RECORDS (10000 for bench/sync_bench.c and bench/sync_omads_bench.c),
#              PERSO_ROUNDS (5, bench/perso_bench.c),
#              FLEET_CARDS (10000), FLEET_THREADS (8), PG_BIN for bench/fleet.sh,
#              CONSOLE_CARDS (200) for bench/console_bench.py
set -eu

cd "$(dirname "$0")/.."
if [ -z "${SEAM:-}" ]; then
    SEAM=build/release/seam
    [ -x "$SEAM" ] || SEAM=build/release/src/cli/seam
fi
CC=${CC:-cc}
WASM_CC=${WASM_CC:-clang}
WASI_SYSROOT=${WASI_SYSROOT:-/usr}
OUT=${BENCH_OUT:-build/bench}
PROGRAMS=${*:-fib sieve matmul crc32 sort cipher apdu coremix}

if [ ! -x "$SEAM" ]; then
    echo "bench: $SEAM not found; build it first (make bench does)" >&2
    exit 1
fi
mkdir -p "$OUT"

# seconds CMD...: runs CMD with stdout to $OUT/last.out, prints the wall time in seconds.
seconds() {
    start=$(date +%s%N)
    if ! "$@" >"$OUT/last.out"; then
        echo "bench: '$*' failed" >&2
        return 1
    fi
    end=$(date +%s%N)
    awk -v ns=$((end - start)) 'BEGIN { printf "%.3f", ns / 1e9 }'
}

failed=0
ratios=""
# The goals table printed last: every bench adds rows as lines
#   ROW<TAB>what<TAB>measured<TAB>goal<TAB>reference<TAB>ratio
# ("-" where a column does not apply); bench programs print them on stdout,
# this script adds its own with row().
ROWS=$OUT/rows.tsv
: >"$ROWS"
row() { printf 'ROW\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$ROWS"; }
# keep_rows FILE: prints FILE but for its ROW lines, which go to $ROWS.
keep_rows() { grep -v '^ROW	' "$1" || true; grep '^ROW	' "$1" >>"$ROWS" || true; }
printf '%-9s %9s %9s %7s %12s %7s\n' program native_s seam_s ratio no_meter_s ratio
for name in $PROGRAMS; do
    src=bench/$name.c
    [ -f "$src" ] || { echo "bench: no $src" >&2; exit 1; }
    "$CC" -O2 -o "$OUT/$name" "$src"
    "$WASM_CC" --target=wasm32-wasi --sysroot="$WASI_SYSROOT" -O2 -o "$OUT/$name.wasm" "$src"

    native=""
    for _ in 1 2 3; do
        t=$(seconds "$OUT/$name")
        native=$(awk -v a="$t" -v b="${native:-$t}" 'BEGIN { print (a < b ? a : b) }')
    done
    expect=$(cat "$OUT/last.out")
    metered=$(seconds "$SEAM" wasm run "$OUT/$name.wasm") || metered=fail
    got_metered=$(cat "$OUT/last.out")
    unmetered=$(seconds "$SEAM" wasm run --no-metering "$OUT/$name.wasm") || unmetered=fail
    got_unmetered=$(cat "$OUT/last.out")

    if [ "$metered" = fail ] || [ "$unmetered" = fail ] ||
        [ "$got_metered" != "$expect" ] || [ "$got_unmetered" != "$expect" ]; then
        echo "bench: $name: results differ: native '$expect', seam '$got_metered'," \
            "seam --no-metering '$got_unmetered'" >&2
        failed=1
        continue
    fi
    ratio=$(awk -v s="$metered" -v n="$native" 'BEGIN { printf "%.1f", s / n }')
    ratio_off=$(awk -v s="$unmetered" -v n="$native" 'BEGIN { printf "%.1f", s / n }')
    ratios="$ratios $metered:$unmetered:$native"
    printf '%-9s %9s %9s %7s %12s %7s\n' "$name" "$native" "$metered" "$ratio" "$unmetered" \
        "$ratio_off"
done

if [ -n "$ratios" ]; then
    echo "$ratios" | tr ' ' '\n' | awk -F: 'NF == 3 {
        on += log($1 / $3); off += log($2 / $3); n++
    } END {
        printf "%-9s %9s %9s %7.1f %12s %7.1f\n", "geomean", "", "", exp(on / n), "", exp(off / n)
    }' | tee "$OUT/geomean.out"
    row "engine: geomean time, metered" "$(awk '{ print $2 "x" }' "$OUT/geomean.out")" "-" \
        "native gcc -O2, this run" "$(awk '{ print $2 "x native" }' "$OUT/geomean.out")"
fi

# The engine rows: fuel metering overhead, EEMBC CoreMark (bench/engine.sh).
echo
echo "engine: fuel metering overhead and EEMBC CoreMark (bench/engine.sh)"
meter_wasm=""
case " $PROGRAMS " in *" coremix "*) meter_wasm=$OUT/coremix.wasm ;; esac
if METER_WASM=$meter_wasm bench/engine.sh "$SEAM" "$OUT" >"$OUT/engine.out"; then
    keep_rows "$OUT/engine.out"
else
    keep_rows "$OUT/engine.out"
    echo "bench: the engine rows failed" >&2
    failed=1
fi

# The card bench: libseam.a and apps/purse.wasm sit in SEAM's build directory.
build_dir=$(dirname "$SEAM")
[ -f "$build_dir/libseam.a" ] || build_dir=$build_dir/../..
echo
echo "card: purse DEBIT and the update to 2.0 (bench/card_bench.c)"
if "$CC" -O2 -std=c11 -Wall -Wextra -Werror -Iinclude -o "$OUT/card_bench" bench/card_bench.c \
    "$build_dir/libseam.a" -lsqlite3 -lcrypto -lpthread -lm $(pkg-config --libs libpcsclite) &&
    "$OUT/card_bench" "$build_dir/apps/purse.wasm" "${CARD_DEBITS:-500}" \
        "$build_dir/apps/purse_v2.wasm" >"$OUT/card_bench.out"; then
    keep_rows "$OUT/card_bench.out"
    if [ -x bench/card_vpcd.sh ]; then
        bench/card_vpcd.sh "$SEAM" "$build_dir/apps/purse.wasm" 200 || failed=1
    fi
else
    echo "bench: the card bench failed" >&2
    failed=1
fi

# The card's hot paths (bench/card_paths.c): read-only APDUs, SELECT + one command, a
# migration of 2 SDs x 32 purses, the bytes of an update; each timing against the same
# loop with the card's RAM caches off, medians of CARD_PATHS_ROUNDS interleaved rounds.
echo
echo "card: hot paths, caches on against off (bench/card_paths.c)"
if "$CC" -O2 -std=c11 -Wall -Wextra -Werror -Iinclude -o "$OUT/card_paths" bench/card_paths.c \
    "$build_dir/libseam.a" -lsqlite3 -lcrypto -lpthread -lm $(pkg-config --libs libpcsclite) &&
    "$OUT/card_paths" "$build_dir/apps/purse.wasm" "$build_dir/apps/purse_v2.wasm" \
        "${CARD_PATHS_ROUNDS:-5}" >"$OUT/card_paths.out"; then
    keep_rows "$OUT/card_paths.out"
else
    echo "bench: the card paths bench failed" >&2
    failed=1
fi

# The NVM bench (bench/card_nvm.c): syncs and bytes written per purse DEBIT, counted by the
# nvm's I/O shim, and DEBIT/s beside the rollback journal and raw SQLite, in this run.
echo
echo "card: what a purse DEBIT costs on disk (bench/card_nvm.c)"
if "$CC" -O2 -std=c11 -Wall -Wextra -Werror -Iinclude -o "$OUT/card_nvm" bench/card_nvm.c \
    "$build_dir/libseam.a" -lsqlite3 -lcrypto -lpthread -lm $(pkg-config --libs libpcsclite) &&
    "$OUT/card_nvm" "$build_dir/apps/purse.wasm" >"$OUT/card_nvm.out"; then
    keep_rows "$OUT/card_nvm.out"
else
    echo "bench: the NVM bench failed" >&2
    failed=1
fi

# The sync bench (bench/sync_bench.c): the compact changeset protocol, 10,000 records two-way,
# bytes on the wire per changed record against the changed payload, SQLite changesets and a
# naive full copy, and the time against a refresh (203) through the same engine, in this run.
echo
echo "sync: the compact changeset protocol, 10,000 records (bench/sync_bench.c)"
if "$CC" -O2 -std=c11 -Wall -Wextra -Werror -Iinclude -o "$OUT/sync_bench" bench/sync_bench.c \
    "$build_dir/libseam.a" -lsqlite3 -lcrypto -lpthread -lm $(pkg-config --libs libpcsclite) &&
    "$OUT/sync_bench" "${SYNC_RECORDS:-10000}" >"$OUT/sync_bench.out"; then
    keep_rows "$OUT/sync_bench.out"
else
    echo "bench: the sync bench failed" >&2
    failed=1
fi

# The same protocol over HTTP (bench/sync_http.sh, bench/sync_http_bench.c): through `seam
# server` on SQLite and on PostgreSQL, the terminal's side over libcurl; the in-process figures
# of the sync bench above, from this run, are the reference.
echo
echo "sync over HTTP: the compact changeset protocol through seam server (bench/sync_http.sh)"
ref_s=$(awk -F '\t' '$2 ~ /^sync: two-way/ { sub(/ s$/, "", $3); print $3 }' "$OUT/sync_bench.out" 2>/dev/null || true)
ref_b=$(awk -F '\t' '$2 ~ /^sync: wire bytes \/ changed payload/ { sub(/ B\/record$/, "", $6); print $6 }' "$OUT/sync_bench.out" 2>/dev/null || true)
if "$CC" -O2 -std=c11 -Wall -Wextra -Werror -Iinclude -Isrc -o "$OUT/sync_http_bench" \
    bench/sync_http_bench.c "$build_dir/libseam.a" -lsqlite3 -lcrypto -lpthread -lm -lcurl -lpq \
    $(pkg-config --libs libmicrohttpd libpcsclite) -lcjson &&
    bench/sync_http.sh "$SEAM" "$OUT/sync_http_bench" "${ref_s:-0}" "${ref_b:-0}" \
        >"$OUT/sync_http.out"; then
    keep_rows "$OUT/sync_http.out"
else
    keep_rows "$OUT/sync_http.out"
    echo "bench: the sync over HTTP bench failed" >&2
    failed=1
fi

# The OMA DS bench (bench/sync_omads_bench.c): the same workload over OMA DS 1.2 through seam
# server's POST /sync/omads and seam_terminal_sync_omads, beside the changeset protocol measured
# again in the same process.
echo
echo "sync: OMA DS through seam server, 10,000 records (bench/sync_omads_bench.c)"
if "$CC" -O2 -std=c11 -Wall -Wextra -Werror -Iinclude -Isrc -o "$OUT/sync_omads_bench" \
    bench/sync_omads_bench.c "$build_dir/libseam.a" \
    $(pkg-config --libs libxml-2.0 libwbxml2 libcurl libmicrohttpd libpq libpcsclite) -lcjson \
    -lsqlite3 -lcrypto -lpthread -lm &&
    "$OUT/sync_omads_bench" "${SYNC_RECORDS:-10000}" >"$OUT/sync_omads_bench.out"; then
    keep_rows "$OUT/sync_omads_bench.out"
else
    echo "bench: the OMA DS sync bench failed" >&2
    failed=1
fi

# The perso bench (bench/perso_bench.c): an update personalized outside the card (P9 in the
# terminal, FIG. 10; the flash card's controller, FIG. 11; the terminal through the controller,
# FIG. 12) beside the card's own update through the same domain, measured in this run.
echo
echo "perso: updates personalized outside the card (bench/perso_bench.c)"
if "$CC" -O2 -std=c11 -Wall -Wextra -Werror -Iinclude -o "$OUT/perso_bench" bench/perso_bench.c \
    "$build_dir/libseam.a" -lsqlite3 -lcrypto -lpthread -lm $(pkg-config --libs libpcsclite) &&
    "$OUT/perso_bench" "$SEAM" "$build_dir/apps" "${PERSO_ROUNDS:-5}" >"$OUT/perso_bench.out"; then
    keep_rows "$OUT/perso_bench.out"
else
    echo "bench: the perso bench failed" >&2
    failed=1
fi

# The fleet (bench/fleet.sh): an update campaign across FLEET_CARDS cards (default 10,000)
# relayed by seam fleet, one server on SQLite, one on PostgreSQL, two on one PostgreSQL.
echo
echo "fleet: an update campaign across the fleet (bench/fleet.sh)"
if bench/fleet.sh "$SEAM" "$build_dir/apps" >"$OUT/fleet.out"; then
    keep_rows "$OUT/fleet.out"
else
    keep_rows "$OUT/fleet.out"
    echo "bench: the fleet bench failed" >&2
    failed=1
fi

# The operator's console (bench/console_bench.py): what each of its requests costs the
# server with CONSOLE_CARDS cards (default 200) and a campaign over all of them.
echo
echo "console: the operator's console's requests (bench/console_bench.py)"
if python3 bench/console_bench.py "$SEAM" "$build_dir/apps" "$OUT/console" "${CONSOLE_CARDS:-200}" \
    >"$OUT/console.out"; then
    keep_rows "$OUT/console.out"
else
    keep_rows "$OUT/console.out"
    echo "bench: the console bench failed" >&2
    failed=1
fi

if [ -s "$ROWS" ]; then
    echo
    echo "goals: what each measure is, what it should be, against a reference run here"
    awk -F '\t' 'BEGIN {
        printf "%-44s %14s %14s %-26s %s\n", "what", "measured", "goal", "reference", "ratio"
    } $1 == "ROW" {
        printf "%-44s %14s %14s %-26s %s\n", $2, $3, $4, $5, $6
    }' "$ROWS"
fi
exit $failed
