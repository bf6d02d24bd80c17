#!/usr/bin/env bash
# The whole test suite: warnings-as-errors Release build + every CTest test, then an
# ASan/UBSan build running the core, formats, passes, runtime, report and fuzz-corpus tests.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
EDGEPACK_WERROR=ON ./scripts/build.sh
ctest --test-dir build --output-on-failure -j"$jobs"
if [ "${EDGEPACK_SKIP_SANITIZE:-0}" != "1" ]; then
  # Only the sanitized test targets (tests/CMakeLists.txt: sanitized_tests, the labels below).
  cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEDGEPACK_SANITIZE=ON -DEDGEPACK_BENCH=OFF -DEDGEPACK_WERROR=ON \
    -DCMAKE_UNITY_BUILD="${EDGEPACK_UNITY:-ON}" -DCMAKE_UNITY_BUILD_BATCH_SIZE=8 >&2
  cmake --build build-sanitize -j"$jobs" --target sanitized_tests >&2
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-sanitize --output-on-failure -j"$jobs" -L 'core|formats|passes|runtime_ref|calibration|report|fuzz'
fi
