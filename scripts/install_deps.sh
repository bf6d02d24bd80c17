#!/usr/bin/env bash
# Installs the Debian 12 packages edgepack needs, then ONNX Runtime for Node.js (the test oracle
# for `edgepack export`, scripts/install_ort.sh). Idempotent: does nothing when all are present,
# runs `apt-get update` first only when something is missing. Needs root (or sudo).
set -euo pipefail
packages=(cmake ninja-build g++ clang libclang-rt-14-dev pkg-config
          libonnx-dev libprotobuf-dev protobuf-compiler libeigen3-dev libcli11-dev
          nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev libonnx-testdata
          zlib1g-dev chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages present" >&2
else
  echo "install_deps: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi
"$(dirname "$0")/install_ort.sh"
