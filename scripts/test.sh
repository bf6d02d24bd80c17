#!/usr/bin/env bash
# The whole test suite: warnings-as-errors Release build + every CTest test, then an
# ASan/UBSan build running the core, formats, passes, runtime and fuzz-corpus tests.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
EDGEPACK_WERROR=ON ./scripts/build.sh
ctest --test-dir build --output-on-failure -j"$jobs"
if [ "${EDGEPACK_SKIP_SANITIZE:-0}" != "1" ]; then
  cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEDGEPACK_SANITIZE=ON -DEDGEPACK_BENCH=OFF -DEDGEPACK_WERROR=ON >&2
  cmake --build build-sanitize -j"$jobs" >&2
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-sanitize --output-on-failure -j"$jobs" -L 'core|formats|passes|runtime_ref|calibration|fuzz'
fi
