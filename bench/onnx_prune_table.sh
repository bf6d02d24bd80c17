#!/usr/bin/env bash
# Regenerates the ONNX rows of "Pruning stories260K" in docs/benchmarks.md: `edgepack prune`
# (magnitude, default weight selection, per tensor) at 50 % unstructured and 2:4 on mnist-8 and
# PP-OCRv4 rec, then `edgepack verify` against the .onnx on the ONNX Runtime golden inputs plus the
# deterministic extra inputs of bench/make_extra_inputs.py, with the model's task check (as
# bench/onnx_accuracy_table.sh does for quantization). Prints a Markdown table.
# Usage: bench/onnx_prune_table.sh [path/to/edgepack] [shared dir] [work dir]
set -euo pipefail
cd "$(dirname "$0")/.."
default_work=build/onnx-prune
source bench/onnx_table_common.sh "$@"
link_cases mnist-8 "$shared/models/mnist-8/golden" '*'
link_cases rec "$ocr/golden" 'rec_*'
models=()
for m in mnist-8 rec; do models+=("$(onnx_model_row "$m")"); done
summarise='
import json, sys
j = json.load(sys.stdin)
kind = sys.argv[1]
first = j["outputs"][0]
tasks = [t for c in j["cases"] for t in c["tasks"]]
golden = [t for c in j["cases"] for t in c["tasks"] if c["case"].startswith("golden_")]
kept = sum(t["kept"] for t in tasks)
g = sum(t["kept"] for t in golden)
what = "%s kept %d/%d (golden %d/%d)" % (kind, kept, len(tasks), g, len(golden))
if kind == "text":
    what += ": " + ", ".join("\x27%s\x27" % t["model"] for t in golden)
print("| %.6f | %.3e | %s |" % (first["min_cosine"], first["max_nmse"], what))
'
echo "| model | pattern | method | pruned weights | file bytes | first output: min cosine | max NMSE | task check |"
echo "|---|---|---|---:|---:|---:|---:|---|"
for entry in "${models[@]}"; do
  IFS='|' read -r name onnx task kind <<<"$entry"
  for scheme in s50 s2:4; do
    file=$work/$name-${scheme//:/_}.epk
    if ! summary=$("$edgepack" -q prune "$onnx" -o "$file" --scheme "$scheme" --json 2>"$work/err.txt"); then
      echo "| $name | $scheme | magnitude | prune failed: $(head -c 160 "$work/err.txt" | tr '\n|' '  ') | | | | |"
      continue
    fi
    pruned=$(echo "$summary" | python3 -c 'import json,sys; j=json.load(sys.stdin); print("%d/%d" % (j["pruned"], j["elements"]))')
    rc=0
    # shellcheck disable=SC2086  # $task holds several words
    out=$("$edgepack" -q verify "$file" --against "$onnx" --inputs "$work/inputs/$name" --min-cosine -1 $task --json 2>"$work/err.txt") || rc=$?
    if [ "$rc" -le 1 ]; then
      echo "| $name | $scheme | magnitude | $pruned | $(stat -c %s "$file") $(echo "$out" | python3 -c "$summarise" "$kind")"
    else
      echo "| $name | $scheme | magnitude | $pruned | $(stat -c %s "$file") | verify failed: $(head -c 160 "$work/err.txt" | tr '\n|' '  ') | | |"
    fi
  done
done
