#!/usr/bin/env bash
# Regenerates "ONNX models: RTN vs GPTQ" in docs/benchmarks.md: the rows of "ONNX models: size and
# accuracy per scheme" (bench/onnx_accuracy_table.sh: same models, tasks and verify inputs = the
# ONNX Runtime goldens plus bench/make_extra_inputs.py) with a method column, GPTQ calibrated with
# `--calib DIR` on bench/make_calib_inputs.py's sets (other perturbations of the goldens, disjoint
# from the verify inputs). silero-vad is left out (stateful steps; its LSTM falls back to RTN anyway).
# Usage: [MODELS="rec det"] bench/onnx_gptq_table.sh [path/to/edgepack] [shared dir] [work dir]
set -euo pipefail
cd "$(dirname "$0")/.."
default_work=build/onnx-gptq
source bench/onnx_table_common.sh "$@"
python3 bench/make_calib_inputs.py "$shared" "$work/calib"

link_cases mnist-8 "$shared/models/mnist-8/golden" '*'
link_cases rec "$ocr/golden" 'rec_*'
link_cases cls "$ocr/golden" 'cls_*'
link_cases det "$ocr/golden" 'det_*'

models=()
for m in mnist-8 rec cls det; do models+=("$(onnx_model_row "$m")"); done
summarise='
import json, sys
j = json.load(sys.stdin)
kind = sys.argv[1]
first = j["outputs"][0]
tasks = [t for c in j["cases"] for t in c["tasks"]]
golden = [t for c, t in ((c, t) for c in j["cases"] for t in c["tasks"]) if c["case"].startswith("golden_")]
kept = sum(t["kept"] for t in tasks)
if kind in ("class", "text"):
    g = sum(t["kept"] for t in golden)
    what = "%s kept %d/%d (golden %d/%d)" % (kind, kept, len(tasks), g, len(golden))
    if kind == "text":
        what += ": " + ", ".join("\x27%s\x27" % t["model"] for t in golden)
else:
    agree = [t["agreement"] for t in tasks]
    g = [t["agreement"] for t in golden]
    what = "%s agreement min %.2f%% (golden %.2f%%)" % (kind, 100 * min(agree), 100 * min(g))
print("| %.6f | %.3e | %s |" % (first["min_cosine"], first["max_nmse"], what))
'
stats='
import json, sys
t = json.load(sys.stdin)["provenance"]["extra"]["pass"]["tensors"]
print("%d/%d" % (sum(x.get("method") == "gptq" for x in t), len(t)))
'
echo "| model | scheme | method | GPTQ tensors | quantize s | first output: min cosine | max NMSE | task check |"
echo "|---|---|---|---:|---:|---:|---:|---|"
for entry in "${models[@]}"; do
  IFS='|' read -r name onnx task kind <<<"$entry"
  # MODELS="rec cls" limits the run to those models.
  if [ -n "${MODELS:-}" ] && [[ " $MODELS " != *" $name "* ]]; then continue; fi
  for scheme in w8 w4g128 w4g32; do
    for method in rtn gptq; do
      file=$work/$name-$scheme-$method.epk
      extra=()
      [ "$method" = gptq ] && extra=(--method gptq --calib "$work/calib/$name")
      start=$(date +%s.%N)
      if ! "$edgepack" -q quantize "$onnx" -o "$file" --scheme "$scheme" "${extra[@]}" >/dev/null 2>"$work/err.txt"; then
        echo "| $name | $scheme | $method | quantize failed: $(head -c 160 "$work/err.txt" | tr '\n|' '  ') | | | | |"
        continue
      fi
      seconds=$(echo "$(date +%s.%N) - $start" | bc)
      calibrated=-
      if [ "$method" = gptq ]; then
        calibrated=$("$edgepack" -q inspect "$file" --json | python3 -c "$stats" 2>/dev/null || echo "?")
      fi
      rc=0
      # shellcheck disable=SC2086  # $task holds several words
      out=$("$edgepack" -q verify "$file" --against "$onnx" --inputs "$work/inputs/$name" --min-cosine -1 $task --json 2>"$work/err.txt") || rc=$?
      if [ "$rc" -le 1 ]; then
        printf '| %s | %s | %s | %s | %.1f %s\n' "$name" "$scheme" "$method" "$calibrated" "$seconds" "$(echo "$out" | python3 -c "$summarise" "$kind")"
      else
        echo "| $name | $scheme | $method | verify failed: $(head -c 160 "$work/err.txt" | tr '\n|' '  ') | | | | |"
      fi
    done
  done
done
