# Sourced by scripts/bench.sh and scripts/bench_node.sh.

# Prints the machine facts every benchmark report starts with (key=value lines), for the
# compiler of the CMake build in $1.
bench_machine_facts() {
    local cxx
    cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$1/CMakeCache.txt")
    echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
    echo "cores=$(nproc)"
    echo "kernel=$(uname -sr)"
    echo "cxx=$("${cxx:-c++}" --version | head -1)"
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
}
