#!/usr/bin/env bash
# Same-machine latency: edgepack's reference runtime (runtime_ref) vs ONNX Runtime (onnxruntime-node,
# CPU execution provider, graph optimizations "all") on the shared ONNX models and their golden inputs.
# Each measurement is one process that loads the model, runs it once untimed (warm-up), then times
# REPEAT full runs and reports their median (`edgepack run --repeat`, `ort_run.js --repeat`); model
# loading is excluded on both sides. Each (model, runtime, threads) is measured ROUNDS times, the
# rounds alternating runtimes, and the median of the round medians is reported. Prints a Markdown
# table; ratio = edgepack / ORT (> 1 means edgepack is slower). Wall time per thread count, and for
# 1 thread also process CPU time, which is the steadier figure on a shared machine or one whose
# CPU quota throttles long runs (a 1-thread run's CPU time is its latency on an idle core). load1
# (1-minute load average) is printed because other work on the machine inflates wall times.
#
# Usage: bench/onnx_latency_vs_ort.sh [EDGEPACK_BIN]
#   EDGEPACK_BIN  default build-perf/tools/edgepack (a Release build)
# Environment: MODELS_DIR (../shared/models from the repo root), REPEAT (20), ROUNDS (3),
#   THREADS ("1 2"). Needs scripts/install_ort.sh to have been run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
edgepack=$(readlink -f "${1:-$root/build-perf/tools/edgepack}")
models=${MODELS_DIR:-$(cd "$root/.." && pwd)/shared/models}
repeat=${REPEAT:-20}
rounds=${ROUNDS:-3}
threads_list=${THREADS:-1 2}
ort_run="$root/scripts/ort/ort_run.js"
[ -x "$edgepack" ] || { echo "onnx_latency_vs_ort: no edgepack binary at $edgepack" >&2; exit 2; }
[ -d "$root/scripts/ort/node_modules/onnxruntime-node" ] || { echo "onnx_latency_vs_ort: run scripts/install_ort.sh first" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# name | model file | input specs (NAME=FILE ...)
ocr=$models/paddleocr
vad=$models/silero-vad/golden/legacy_speech/step_5
cases=(
  "mnist-8|$models/mnist-8/mnist-8.onnx|Input3=$models/mnist-8/golden/digit_3/input_0.npy"
  "PP-OCRv4 det 1x3x160x256|$ocr/ch_PP-OCRv4_det_infer.onnx|x=$ocr/golden/det_three_lines/input_0.npy"
  "PP-OCRv4 rec 1x3x48x320|$ocr/ch_PP-OCRv4_rec_infer.onnx|x=$ocr/golden/rec_hello_2026/input_0.npy"
  "PP-OCR mobile cls 1x3x48x192|$ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx|x=$ocr/golden/cls_upright/input_0.npy"
  "silero VAD legacy (1 step)|$models/silero-vad/silero_vad_legacy.onnx|input=$vad/input_0.npy sr=$vad/input_1.npy h=$vad/input_2.npy c=$vad/input_3.npy"
)

median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
json_median() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["median_ms"], d["median_cpu_ms"])'; }

time_edgepack() {  # model threads inputs...
  local model=$1 threads=$2; shift 2
  local args=()
  for spec in "$@"; do args+=(--input "$spec"); done
  "$edgepack" run "$model" "${args[@]}" -o "$work/ep" --threads "$threads" --repeat "$repeat" --json 2>/dev/null | json_median
}
time_ort() {
  local model=$1 threads=$2; shift 2
  local args=()
  for spec in "$@"; do args+=(--input "$spec"); done
  node "$ort_run" "$model" "${args[@]}" --threads "$threads" --opt all --repeat "$repeat" --json | json_median
}

ort_version=$(cd "$root/scripts/ort" && node -e 'console.log(require("onnxruntime-node").env.versions.common)')
echo "edgepack: $edgepack; ONNX Runtime $ort_version (onnxruntime-node, CPU EP, opt all); REPEAT=$repeat ROUNDS=$rounds; load1 before: $(cut -d' ' -f1 /proc/loadavg)"
echo
header="| model | edgepack 1T CPU ms | ORT 1T CPU ms | ratio 1T CPU |"
rule="|---|---:|---:|---:|"
for t in $threads_list; do
  header+=" edgepack ${t}T wall ms | ORT ${t}T wall ms | ratio ${t}T wall |"
  rule+="---:|---:|---:|"
done
echo "$header"
echo "$rule"
for c in "${cases[@]}"; do
  IFS='|' read -r name model inputs <<< "$c"
  read -r -a specs <<< "$inputs"
  if ! "$edgepack" run "$model" $(printf -- '--input %s ' "${specs[@]}") -o "$work/ep" >/dev/null 2>&1; then
    echo "| $name | edgepack cannot run it (skipped) |"
    continue
  fi
  row="" cpu_row=""
  for t in $threads_list; do
    ep=() ort=() ep_cpu=() ort_cpu=()
    for ((r = 0; r < rounds; ++r)); do
      read -r wall cpu <<< "$(time_edgepack "$model" "$t" "${specs[@]}")"
      ep+=("$wall") ep_cpu+=("$cpu")
      read -r wall cpu <<< "$(time_ort "$model" "$t" "${specs[@]}")"
      ort+=("$wall") ort_cpu+=("$cpu")
    done
    e=$(printf '%s\n' "${ep[@]}" | median)
    o=$(printf '%s\n' "${ort[@]}" | median)
    row+=$(awk -v e="$e" -v o="$o" 'BEGIN {printf " %.2f | %.2f | %.1fx |", e, o, e / o}')
    if [ "$t" = 1 ]; then
      e=$(printf '%s\n' "${ep_cpu[@]}" | median)
      o=$(printf '%s\n' "${ort_cpu[@]}" | median)
      cpu_row=$(awk -v e="$e" -v o="$o" 'BEGIN {printf " %.2f | %.2f | %.1fx |", e, o, e / o}')
    fi
  done
  row="| $name |${cpu_row:- | | |}$row"
  echo "$row"
done
echo
echo "load1 after: $(cut -d' ' -f1 /proc/loadavg)"
