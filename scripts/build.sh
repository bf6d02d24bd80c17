#!/usr/bin/env bash
# Configures and builds edgepack into build/ (Release, warnings as errors when EDGEPACK_WERROR=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${EDGEPACK_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGEPACK_WERROR="${EDGEPACK_WERROR:-ON}" "$@" >&2
cmake --build "$build_dir" -j"$(nproc)" >&2
