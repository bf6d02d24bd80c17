#!/usr/bin/env bash
# Regenerates "ONNX models: size and accuracy per scheme" in docs/benchmarks.md. For each shared
# ONNX model and scheme: `edgepack quantize` (default weight selection), then `edgepack verify`
# against the .onnx on the ONNX Runtime golden inputs plus the deterministic extra inputs of
# bench/make_extra_inputs.py, with the model's task check. Prints a Markdown table.
# The float row runs the .onnx itself (there is no float .epk writer command) and gives its bytes.
# Usage: bench/onnx_accuracy_table.sh [path/to/edgepack] [shared dir] [work dir]
set -euo pipefail
cd "$(dirname "$0")/.."
default_work=build/onnx-accuracy
source bench/onnx_table_common.sh "$@"

link_cases mnist-8 "$shared/models/mnist-8/golden" '*'
link_cases rec "$ocr/golden" 'rec_*'
link_cases cls "$ocr/golden" 'cls_*'
link_cases det "$ocr/golden" 'det_*'
link_cases silero "$shared/models/silero-vad/golden" '*'

models=()
for m in mnist-8 rec cls det silero; do models+=("$(onnx_model_row "$m")"); done
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
steps = len(j["cases"])
print("| %.6f | %.3e | %d | %s |" % (first["min_cosine"], first["max_nmse"], steps, what))
'
echo "| model | scheme | bytes | first output: min cosine | max NMSE | runs | task check |"
echo "|---|---|---:|---:|---:|---:|---|"
for entry in "${models[@]}"; do
  IFS='|' read -r name onnx task kind <<<"$entry"
  for scheme in float w8 w4g128 w4g32; do
    if [ "$scheme" = float ]; then
      file=$onnx
    else
      file=$work/$name-$scheme.epk
      if ! "$edgepack" -q quantize "$onnx" -o "$file" --scheme "$scheme" >/dev/null 2>"$work/err.txt"; then
        echo "| $name | $scheme | - | quantize failed: $(head -c 160 "$work/err.txt" | tr '\n|' '  ') | | | |"
        continue
      fi
    fi
    bytes=$(stat -c %s "$file")
    # Exit 1 (a task not kept) still prints the JSON report; 2-5 are errors.
    # shellcheck disable=SC2086  # $task holds several words
    rc=0
    out=$("$edgepack" -q verify "$file" --against "$onnx" --inputs "$work/inputs/$name" --min-cosine -1 $task --json 2>"$work/err.txt") || rc=$?
    if [ "$rc" -le 1 ]; then
      echo "| $name | $scheme | $bytes $(echo "$out" | python3 -c "$summarise" "$kind")"
    else
      echo "| $name | $scheme | $bytes | verify failed: $(head -c 160 "$work/err.txt" | tr '\n|' '  ') | | | |"
    fi
  done
done
