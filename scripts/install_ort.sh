#!/usr/bin/env bash
# Installs ONNX Runtime for Node.js (onnxruntime-node, version pinned in scripts/ort/package.json and
# package-lock.json) into scripts/ort/node_modules. It is a test oracle and latency baseline only
# (scripts/ort/ort_run.js, bench/onnx_latency_vs_ort.sh); nothing in edgepack links it.
# Idempotent: installs Debian's nodejs/npm only when missing, reruns `npm ci` only when the
# lock file changed since the last install (a stamp in node_modules). The CPU binaries ship inside the npm package; the
# package's install hook would also fetch CUDA binaries from GitHub, which we skip.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "install_ort: installing nodejs npm" >&2
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y --no-install-recommends nodejs npm
fi
cd "$here/ort"
stamp=node_modules/.edgepack-lock-sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "install_ort: scripts/ort/node_modules matches package-lock.json" >&2
else
  echo "install_ort: npm ci in scripts/ort" >&2
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi
node -e 'console.error("install_ort: onnxruntime-node " + require("onnxruntime-node").env.versions.common)'
