#!/usr/bin/env bash
# Regenerates the ONNX rows of "Pruning stories260K" in docs/benchmarks.md: `edgepack prune`
# (magnitude, default weight selection, per tensor) at 50 % unstructured and 2:4 on mnist-8 and
# PP-OCRv4 rec, then `edgepack verify` against the .onnx on the ONNX Runtime golden inputs plus the
# deterministic extra inputs of bench/make_extra_inputs.py, with the model's task check (as
# bench/onnx_accuracy_table.sh does for quantization). Prints a Markdown table.
# Usage: bench/onnx_prune_table.sh [path/to/edgepack] [shared dir] [work dir]
set -euo pipefail
cd "$(dirname "$0")/.."
edgepack=$(realpath "${1:-build/tools/edgepack}")
shared=$(realpath "${2:-../shared}")
work=${3:-build/onnx-prune}
mkdir -p "$work"
work=$(realpath "$work")
python3 bench/make_extra_inputs.py "$shared" "$work/extra"
ocr=$shared/models/paddleocr
keys=$ocr/ppocr_keys_v1.txt
link_cases() {  # model, golden dir, case glob
  local dst=$work/inputs/$1
  rm -rf "$dst" && mkdir -p "$dst"
  for c in "$2"/$3; do ln -s "$c" "$dst/golden_$(basename "$c")"; done
  if [ -d "$work/extra/$1" ]; then
    for c in "$work/extra/$1"/*; do ln -s "$c" "$dst/extra_$(basename "$c")"; done
  fi
}
link_cases mnist-8 "$shared/models/mnist-8/golden" '*'
link_cases rec "$ocr/golden" 'rec_*'
models=(
  "mnist-8|$shared/models/mnist-8/mnist-8.onnx|--task argmax|class"
  "rec|$ocr/ch_PP-OCRv4_rec_infer.onnx|--task ctc:$keys|text"
)
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
