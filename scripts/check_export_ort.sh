#!/usr/bin/env bash
# Checks `edgepack export` with ONNX Runtime on one model and one set of named .npy inputs:
#   float:     ORT(original .onnx)  vs ORT(edgepack export original.onnx)   -> expect identical bits
#   quantized: ORT(edgepack export Q.epk) vs `edgepack run Q.epk`            -> kernel-order differences only
# Usage: scripts/check_export_ort.sh EDGEPACK_BINARY MODEL.onnx [Q.epk] -- NAME=FILE.npy [NAME=FILE.npy ...]
# Needs scripts/install_ort.sh to have run. Prints max-abs and cosine per output; exit 0 unless a step fails.
# The e2e test tests/e2e/export_ort_test.cpp runs the same comparisons with bounds on the shared models.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ $# -ge 3 ] || { sed -n '2,7p' "$0" >&2; exit 2; }
edgepack="$1"; model="$2"; shift 2
epk=""
if [ "$1" != "--" ]; then epk="$1"; shift; fi
[ "$1" = "--" ] || { echo "check_export_ort: expected -- before the inputs" >&2; exit 2; }
shift
inputs=(); for spec in "$@"; do inputs+=(--input "$spec"); done
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
ort() { node "$here/ort/ort_run.js" "$1" "${inputs[@]}" -o "$2" --json >/dev/null; }
compare() {  # dir_a dir_b label
  node -e '
const fs = require("fs"), path = require("path");
function npy(f) { const b = fs.readFileSync(f); const hl = b[6] === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8); const off = (b[6] === 1 ? 10 : 12) + hl;
  const h = b.toString("latin1", 0, off); if (!h.includes("<f4")) throw new Error(f + ": not float32");
  const out = new Float32Array((b.length - off) / 4); for (let i = 0; i < out.length; ++i) out[i] = b.readFloatLE(off + 4 * i); return out; }
const [a, b, label] = process.argv.slice(1);
for (const f of fs.readdirSync(a).filter((x) => x.endsWith(".npy"))) {
  const fb = path.join(b, f); if (!fs.existsSync(fb)) { console.log(label + " " + f + ": missing in " + b); process.exitCode = 1; continue; }
  const x = npy(path.join(a, f)), y = npy(fb); let m = 0, ab = 0, aa = 0, bb = 0, r = 0;
  for (let i = 0; i < x.length; ++i) { m = Math.max(m, Math.abs(x[i] - y[i])); r = Math.max(r, Math.abs(x[i])); ab += x[i] * y[i]; aa += x[i] * x[i]; bb += y[i] * y[i]; }
  console.log(`${label} ${f}: max_abs ${m.toExponential(3)} (|max| ${r.toPrecision(4)}) cosine ${(ab / Math.sqrt(aa * bb)).toFixed(9)}`);
}' "$1" "$2" "$3"
}
"$edgepack" export "$model" -o "$work/float.onnx"
ort "$model" "$work/ort_orig"
ort "$work/float.onnx" "$work/ort_float"
compare "$work/ort_orig" "$work/ort_float" "float round trip"
echo "sizes: original $(stat -c %s "$model"), float export $(stat -c %s "$work/float.onnx")"
if [ -n "$epk" ]; then
  "$edgepack" export "$epk" -o "$work/q.onnx"
  ort "$work/q.onnx" "$work/ort_q"
  "$edgepack" run "$epk" "${inputs[@]}" -o "$work/ep_q" -q
  compare "$work/ort_q" "$work/ep_q" "quantized ORT vs edgepack"
  echo "sizes: epk $(stat -c %s "$epk"), quantized export $(stat -c %s "$work/q.onnx")"
fi
