#!/usr/bin/env bash
# Builds and runs every test edist has, the way CI does (.ci/run execs this script):
#
#   1. default preset: build, ctest (unit tests, then the interop tests with a real erl)
#   2. asan preset (AddressSanitizer + UndefinedBehaviorSanitizer): build, the same ctest runs
#   3. fuzz preset (clang + libFuzzer): build, run every fuzz target (two at a time) for EDIST_FUZZ_SECONDS
#      (default 60) from its seeds: tests/data/golden/ for the ETF decoder, tests/data/<layer>/
#   4. the install test: `cmake --install` the default build, build a consumer against it
#
# On Debian 12 as root (or with sudo), installs the Debian packages it needs first. Every stage
# runs even when an earlier one failed; the exit status is 1 if anything failed. The last line
# of output is always "N passed, N failed": ctest results summed over the runs, plus one result
# per fuzz target, plus one failure for each build that did not complete.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
. scripts/deps.sh

fuzz_seconds=${EDIST_FUZZ_SECONDS:-60}
jobs=2
export CMAKE_BUILD_PARALLEL_LEVEL=$jobs
export DEBIAN_FRONTEND=noninteractive
# Sanitizer reports must fail the run and say where.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

logs=$root/build/test-logs
passed=0
failed=0
summary=()
start=$SECONDS

elapsed() { local s=$(($1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }
note() { summary+=("$(printf '  %-14s %s' "$1" "$2")"); }
banner() { printf '\n==> %s\n' "$*"; }

# Runs ctest with the given arguments, adds its results to the totals; $1 names the run.
run_ctest() {
    local name=$1 log="$logs/ctest-$1.log"
    shift
    banner "ctest ($name)"
    ctest --output-on-failure -j"$jobs" "$@" </dev/null 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
    local line p f total
    line=$(grep -E '[0-9]+ tests failed out of [0-9]+' "$log" | tail -n 1)
    if [ -n "$line" ]; then
        f=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
        total=$(sed -E 's/.* tests failed out of ([0-9]+).*/\1/' <<<"$line")
        p=$((total - f))
    elif grep -q 'No tests were found' "$log"; then
        p=0 f=0
    else
        p=0 f=1 # ctest itself failed before running anything
    fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p))
    failed=$((failed + f))
    note "$name" "$p passed, $f failed"
}

# configure + build a preset; returns non-zero (and counts a failure) when either fails.
build_preset() {
    local preset=$1 t0=$SECONDS
    banner "configure + build (preset: $preset)"
    if ! cmake --preset "$preset" </dev/null 2>&1 | tee "$logs/configure-$preset.log"; then
        failed=$((failed + 1))
        note "$preset" "configure FAILED (see $logs/configure-$preset.log)"
        return 1
    fi
    if ! cmake --build --preset "$preset" -j"$jobs" </dev/null 2>&1 | tee "$logs/build-$preset.log"; then
        failed=$((failed + 1))
        note "$preset" "build FAILED (see $logs/build-$preset.log)"
        return 1
    fi
    note "$preset" "built in $(elapsed $((SECONDS - t0)))"
}

# Unit tests in parallel; interop tests (real erl/elixir nodes) one at a time.
test_preset() {
    local preset=$1
    run_ctest "$preset" --preset "$preset" -LE interop -E '^install\.' --no-tests=error
    run_ctest "$preset-interop" --preset "$preset" -L interop -E '^install\.' --no-tests=ignore -j1
}

# Seeds for fuzz/<layer>_<what>_fuzz.cpp: the golden ETF files for ETF decoders, then
# tests/data/<layer>/ and tests/data/<layer>_<what>/ when they exist.
fuzz_seed_dirs() {
    local stem=${1%_fuzz} layer=${1%%_*}
    if [ "$layer" = etf ] && [[ $stem == *decode* ]] && [ -d tests/data/golden ]; then
        echo tests/data/golden
    fi
    [ -d "tests/data/$layer" ] && echo "tests/data/$layer"
    [ "$stem" != "$layer" ] && [ -d "tests/data/$stem" ] && echo "tests/data/$stem"
    return 0
}

# One fuzz target for $fuzz_seconds from its corpus and seeds; its exit status is the fuzzer's.
run_fuzzer() {
    local target=$1 name corpus
    name=$(basename "$target")
    corpus=build/fuzz/corpus/$name
    mkdir -p "$corpus" build/fuzz/artifacts
    local -a seeds
    mapfile -t seeds < <(fuzz_seed_dirs "$name")
    "$target" -max_total_time="$fuzz_seconds" -timeout=30 -print_final_stats=1 \
        -artifact_prefix="build/fuzz/artifacts/$name-" "$corpus" "${seeds[@]}" \
        </dev/null >"$logs/fuzz-$name.log" 2>&1
}

# Every fuzz target, $jobs at a time (each fuzzer is one thread), results in name order.
run_fuzzers() {
    local dir=build/fuzz/fuzz target name i
    local -a targets=() pids=()
    for target in "$dir"/*_fuzz; do [ -x "$target" ] && targets+=("$target"); done
    if [ ${#targets[@]} -eq 0 ]; then
        note fuzz "no fuzz targets built"
        return
    fi
    banner "fuzz: ${#targets[@]} targets for ${fuzz_seconds}s each, $jobs at a time"
    for i in "${!targets[@]}"; do
        if [ "$i" -ge "$jobs" ]; then wait "${pids[$((i - jobs))]}"; fi
        name=$(basename "${targets[$i]}")
        rm -f "$logs/fuzz-$name.status"
        { run_fuzzer "${targets[$i]}"; echo $? >"$logs/fuzz-$name.status"; } &
        pids[i]=$!
    done
    wait
    for target in "${targets[@]}"; do
        name=$(basename "$target")
        if [ "$(cat "$logs/fuzz-$name.status" 2>/dev/null)" = 0 ]; then
            passed=$((passed + 1))
            note fuzz "$name: ok ($(grep -Eo 'stat::number_of_executed_units: *[0-9]+' \
                "$logs/fuzz-$name.log" | grep -Eo '[0-9]+$' || echo '?') runs)"
        else
            failed=$((failed + 1))
            tail -n 60 "$logs/fuzz-$name.log"
            note fuzz "$name: FAILED (see $logs/fuzz-$name.log and build/fuzz/artifacts/)"
        fi
    done
}

mkdir -p "$logs"
banner "Debian packages"
if ! edist_install_packages "${EDIST_TEST_PACKAGES[@]}"; then
    echo "cannot install the packages the tests need"
    echo "0 passed, 1 failed"
    exit 1
fi
edist_use_ccache_if_present

t=$SECONDS
if build_preset default; then
    test_preset default
    default_built=1
else
    default_built=0
fi
note "default" "stage took $(elapsed $((SECONDS - t)))"

t=$SECONDS
build_preset asan && test_preset asan
note "asan" "stage took $(elapsed $((SECONDS - t)))"

t=$SECONDS
build_preset fuzz && run_fuzzers
note "fuzz" "stage took $(elapsed $((SECONDS - t)))"

if [ "$default_built" -eq 1 ]; then
    run_ctest install --test-dir build/default -R '^install\.' --no-tests=error
else
    failed=$((failed + 1))
    note install "not run: the default build failed"
fi

echo
echo "==================== edist test summary ===================="
printf '%s\n' "${summary[@]}"
echo "  total time $(elapsed $((SECONDS - start))); logs in $logs"
if [ "$failed" -eq 0 ]; then echo "RESULT: PASS"; else echo "RESULT: FAIL"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
