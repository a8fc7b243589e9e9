#!/usr/bin/env bash
# Builds the `edist` command (default preset) and runs `edist demo`.
# On Debian 12 as root (or with sudo), installs the Debian packages it needs first.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
. scripts/deps.sh

edist_install_packages "${EDIST_DEMO_PACKAGES[@]}"
edist_use_ccache_if_present

echo "==> Configuring (preset: default)"
cmake --preset default >/dev/null
echo "==> Building the edist command"
cmake --build --preset default --target edist_cli -j2
echo "==> build/default/src/cli/edist demo"
echo
exec build/default/src/cli/edist demo "$@"
