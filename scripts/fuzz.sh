#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang, ASan and
# UBSan into build-fuzz/ and runs each for SECONDS (default 20; CI runs
# 10 on every change), FUZZ_JOBS (default: the cores) at a time:
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]    e.g. scripts/fuzz.sh 1800 fuzz_request
#   scripts/fuzz.sh --build-only
#
# FUZZ_RUNS=N also stops a target after N executions (the issue's bar is
# 10 million or 30 minutes: FUZZ_RUNS=10000000 scripts/fuzz.sh 1800).
# FUZZ_NICE=1 runs the fuzzers under `nice -n 19` (a shared machine).
# FUZZ_COVERAGE=1 also builds the targets with clang's source-based coverage
# (build-fuzz/coverage/), replays each target's corpus after its run and
# prints, per product source file it reaches (internal/, api/), the lines and
# branches covered (llvm-cov, from Debian's llvm-14).
#
# Each target starts from its seeds (tests/fuzz/corpus/<target>/, read
# only) and from what earlier runs found (build-fuzz/corpus/<target>/, where
# new inputs go). Crash, leak and timeout inputs go to
# build-fuzz/artifacts/<target>/ and libFuzzer's output to
# build-fuzz/logs/<target>.log; nothing is written into the repository. A
# target passes when it ran its time with no crash, leak, timeout or
# out-of-memory. Per target the script prints executions, seconds,
# coverage (libFuzzer's final cov and ft), corpus size and crashes; its
# last line is `N passed, N failed`, and it exits non-zero when one failed.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${FUZZ_BUILD_DIR:-build-fuzz}
build_only=0
seconds=20
if [ "${1:-}" = "--build-only" ]; then
    build_only=1
    shift
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi

cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DSUPPLYSEC_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target fuzz -j"$(nproc)" >/dev/null
[ "$build_only" -eq 1 ] && exit 0

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for f in tests/fuzz/fuzz_*.c; do
        targets+=("$(basename "$f" .c)")
    done
fi

# Replays a target's corpus in the coverage build and prints, per product source file it
# reaches (internal/, api/), the lines and branches covered (llvm-cov's report).
coverage() {
    local t=$1 corpus=$2 cov="$build/coverage"
    rm -f "$cov/$t".*.profraw
    LLVM_PROFILE_FILE="$cov/$t.%p.profraw" "$cov/$t" -runs=0 "$corpus" "tests/fuzz/corpus/$t" \
        >/dev/null 2>&1 || true
    llvm-profdata merge -sparse "$cov/$t".*.profraw -o "$cov/$t.profdata"
    llvm-cov report "$cov/$t" -instr-profile="$cov/$t.profdata" "$PWD/internal" "$PWD/api" |
        awk '$1 ~ /\.c$/ && $10 != "0.00%" {
                printf "    coverage %-26s lines %7s of %-5d branches %7s of %d\n",
                       $1, $10, $8, $13, $11 }' | sort
}

if [ "${FUZZ_COVERAGE:-0}" = 1 ]; then
    cmake -S . -B "$build/coverage" -DCMAKE_C_COMPILER=clang -DSUPPLYSEC_FUZZ=ON \
        -DSUPPLYSEC_FUZZ_COVERAGE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$build/coverage" --target fuzz -j"$(nproc)" >/dev/null
fi

nice=()
[ "${FUZZ_NICE:-0}" = 1 ] && nice=(nice -n 19)

# Runs one target for its time and writes its line (PASS or FAIL, with its
# figures and, on a failure, what went wrong) to build-fuzz/logs/<target>.result.
fuzz_one() {
    local t=$1
    local corpus="$build/corpus/$t" artifacts="$build/artifacts/$t" log="$build/logs/$t.log"
    local result="$build/logs/$t.result"
    mkdir -p "$corpus" "$artifacts" "$build/logs" "tests/fuzz/corpus/$t"
    local opts=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2560 -print_final_stats=1
                -artifact_prefix="$artifacts/")
    [ -n "${FUZZ_RUNS:-}" ] && opts+=(-runs="$FUZZ_RUNS")
    [ -f "tests/fuzz/dict/$t.dict" ] && opts+=(-dict="tests/fuzz/dict/$t.dict")
    local before start rc=0 took crashes execs last cov ft corp line
    before=$(find "$artifacts" -type f | wc -l)
    start=$(date +%s)
    "${nice[@]}" "$build/$t" "${opts[@]}" "$corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
    took=$(($(date +%s) - start))
    crashes=$(($(find "$artifacts" -type f | wc -l) - before))

    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' <<<"$last")
    [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
    line=$(printf '%-18s execs %-10s secs %-5s cov %-5s ft %-6s corpus %-10s crashes %s' \
        "$t" "${execs:-?}" "$took" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes")
    if [ "$rc" -eq 0 ] && [ "$crashes" -eq 0 ]; then
        echo "PASS $line" >"$result"
    else
        {
            echo "FAIL $line (exit $rc; $log)"
            grep -E 'ERROR: |SUMMARY: |oracle failed|runtime error' "$log" | head -5 | sed 's/^/    /'
            find "$artifacts" -type f -newer "$build/$t" | head -5 | sed 's/^/    artifact: /'
        } >"$result"
    fi
}

# FUZZ_JOBS targets at once (default: one per core); each libFuzzer process
# is single-threaded, so the wall time is the sum of the targets' divided by it.
jobs=${FUZZ_JOBS:-$(nproc)}
running=0
for t in "${targets[@]}"; do
    rm -f "$build/logs/$t.result"
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
    fuzz_one "$t" &
    running=$((running + 1))
done
wait || true

passed=0
failed=0
for t in "${targets[@]}"; do
    result="$build/logs/$t.result"
    if [ -f "$result" ] && head -1 "$result" | grep -q '^PASS '; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        [ -f "$result" ] || echo "FAIL $t (no result: the run of the target itself failed)" >"$result"
    fi
    cat "$result"
    if [ "${FUZZ_COVERAGE:-0}" = 1 ]; then
        coverage "$t" "$build/corpus/$t"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
