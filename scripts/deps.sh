# shellcheck shell=bash disable=SC2034 # the package lists are used by the scripts that source this
# Debian packages for building and testing edist. Sourced by scripts/demo.sh and scripts/test.sh:
#
#   . scripts/deps.sh
#   edist_install_packages "${EDIST_DEMO_PACKAGES[@]}"
#
# Installs only what is missing (apt is skipped when dpkg shows every package installed), as
# root, or through sudo when not root. Debian 12 (bookworm) is what this is written for.

# Building the library, the CLI, the tests and the benchmarks (the default preset builds them
# all), and erl for the demo's round trip.
EDIST_DEMO_PACKAGES=(
    g++ cmake ninja-build pkg-config
    libasio-dev libssl-dev zlib1g-dev libfmt-dev libcli11-dev
    libgtest-dev libbenchmark-dev
    erlang-nox erlang-dev
)
# Additionally for scripts/test.sh: clang and its sanitizer/libFuzzer runtimes for the fuzz
# preset, elixir for the interop tests with Elixir nodes.
EDIST_TEST_PACKAGES=(
    "${EDIST_DEMO_PACKAGES[@]}"
    clang libclang-rt-14-dev
    elixir
)

edist_missing_packages() {
    local p missing=()
    for p in "$@"; do
        dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
    done
    echo "${missing[*]}"
}

edist_install_packages() {
    local missing
    missing=$(edist_missing_packages "$@")
    if [ -z "$missing" ]; then
        echo "==> Debian packages: all $# present"
        return 0
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "error: missing packages ($missing) and no apt-get; this script expects Debian 12" >&2
        return 1
    fi
    local -a as_root=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            as_root=(sudo)
        else
            echo "error: missing packages ($missing); run as root or install them:" >&2
            echo "  apt-get install -y --no-install-recommends $missing" >&2
            return 1
        fi
    fi
    echo "==> Installing Debian packages: $missing"
    # shellcheck disable=SC2086 # $missing is a list of package names
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
        "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends $missing
}

# ccache when installed (it is not a dependency): exported for CMake to pick up.
edist_use_ccache_if_present() {
    if command -v ccache >/dev/null 2>&1; then
        export CMAKE_CXX_COMPILER_LAUNCHER=ccache
        echo "==> Using ccache"
    fi
}
