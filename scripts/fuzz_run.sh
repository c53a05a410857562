#!/bin/sh
# Runs one libFuzzer target of `make fuzz` for SECONDS on a scratch copy of its checked-in
# corpus (fuzz/corpus/<name>/ stays as it is); crashing inputs land in
# FUZZ_DIR/run/<name>/artifacts/. Prints one line (and, on failure, the log's tail) in one
# write, so that targets run side by side (make fuzz runs JOBS of them at once) do not
# interleave their reports. Exits non-zero when the target failed.
#
# usage: scripts/fuzz_run.sh FUZZ_DIR SECONDS FUZZER
set -u
dir=$1
seconds=$2
fuzzer=$3
name=${fuzzer##*/seam-fuzz-}
run=$dir/run/$name
rm -rf "$run/artifacts"
mkdir -p "$run/corpus" "$run/artifacts"
if [ -d "fuzz/corpus/$name" ]; then cp -R "fuzz/corpus/$name/." "$run/corpus/"; fi
if UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$fuzzer" -max_total_time="$seconds" \
    -timeout=30 -artifact_prefix="$run/artifacts/" "$run/corpus" >"$run/log" 2>&1; then
    runs=$(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$run/log" | tail -n 1 | sed 's/^Done //')
    echo "$name: ok, $runs, corpus $(ls "$run/corpus" | wc -l) inputs"
else
    report=$(printf '%s: FAILED; log %s, inputs in %s/artifacts/:\n%s' "$name" "$run/log" "$run" \
        "$(tail -n 40 "$run/log")")
    echo "$report"
    exit 1
fi
