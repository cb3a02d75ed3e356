#!/usr/bin/env bash
# Configures (once) and builds the release tree in build/.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d build ] || meson setup build >&2
ninja -C build >&2
