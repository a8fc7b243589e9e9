#!/usr/bin/env bash
# ThreadSanitizer run of the tests that use threads: tests/node, tests/dist, tests/services, and
# with --interop the interop tests that run nodes (real erl peers). Not part of scripts/test.sh
# (CI): building the library under TSan alone takes longer than what CI's budget has left.
#
#   scripts/tsan.sh [--interop]
#
# Builds only those test programs in the tsan preset (build/tsan), one compile at a time
# (EDIST_JOBS to change that), and runs them with the tsan test preset's TSAN_OPTIONS
# (tests/tsan.supp for tool limitations). A test with a TSan report fails (TSan exits 66).
# The last line is ctest's "N tests failed out of M" for each run.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1

interop=0
for arg in "$@"; do
    case $arg in
    --interop) interop=1 ;;
    *) echo "usage: scripts/tsan.sh [--interop]" >&2; exit 2 ;;
    esac
done

# tests/<dir>/<name>_test.cpp is the target <dir>_<name>_test (tests/CMakeLists.txt).
targets=()
for f in tests/node/*_test.cpp tests/dist/*_test.cpp tests/services/*_test.cpp; do
    d=${f#tests/}
    targets+=("${d%%/*}_$(basename "$f" .cpp)")
done
# Interop tests that run edist nodes (the codec's property tests use no threads of ours).
interop_re='^interop\.(Node|Process|Rpc|GenServer|Supervisor|IoGroupLeader|Handshake)'
if [ "$interop" -eq 1 ]; then
    for f in tests/interop/{node,process,rpc,gen_server,supervisor,io_group_leader,handshake}_*test.cpp; do
        [ -f "$f" ] && targets+=("interop_$(basename "$f" .cpp)")
    done
fi

cmake --preset tsan </dev/null || exit 1
ninja -C build/tsan -j"${EDIST_JOBS:-1}" "${targets[@]}" </dev/null || exit 1

status=0
ctest --preset tsan -j1 -R '^(node|dist|services)\.' --no-tests=error </dev/null || status=1
if [ "$interop" -eq 1 ]; then
    ctest --preset tsan -j1 -L interop -R "$interop_re" --no-tests=error </dev/null || status=1
fi
exit $status
