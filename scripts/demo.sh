#!/usr/bin/env bash
# The demo, i.e. the main job on the bundled stories260K: compress it with the shipped recipe
# (GPTQ w4g32 plus end-to-end tuning, calibrated on the bundled TinyStories text before its last
# 60,000 characters, verified on those), write the HTML/JSON report, compare it with plain
# round-to-nearest on the full held-out text, and tell a story from the compressed file.
set -euo pipefail
cd "$(dirname "$0")/.."
edgepack=${EDGEPACK_BIN:-build/tools/edgepack}
model=datasets/stories260K/stories260K.bin
text=datasets/tinystories/tinystories_val.txt
out=${EDGEPACK_DEMO_DIR:-out}
mkdir -p "$out"
echo "== compress $model with recipes/stories260k-w4-tuned.json -> $out/stories260K-tuned-w4g32.epk"
"$edgepack" compress "$model" --recipe recipes/stories260k-w4-tuned.json -o "$out/stories260K-tuned-w4g32.epk" \
  --report "$out/stories260K-tuned-w4g32.html"
"$edgepack" -q report "$out/stories260K-tuned-w4g32.epk" --base "$model" -o "$out/stories260K-tuned-w4g32.json"
echo "   report: $out/stories260K-tuned-w4g32.html (open in a browser), $out/stories260K-tuned-w4g32.json"
echo "== size"
"$edgepack" -q inspect "$model" | sed -n '1,3p'
"$edgepack" -q inspect "$out/stories260K-tuned-w4g32.epk" | sed -n '1,3p'
echo "== held-out text: the last 60,000 characters of $text (ctx 256, llama.cpp protocol)"
echo "-- GPTQ w4g32 + end-to-end tuning (the recipe)"
"$edgepack" -q eval "$out/stories260K-tuned-w4g32.epk" --base "$model" --data "$text" --range=-60000: --ctx 256 --protocol llama.cpp
echo "-- round-to-nearest w4g32, same bits"
"$edgepack" -q quantize "$model" -o "$out/stories260K-rtn-w4g32.epk" --scheme w4g32
"$edgepack" -q eval "$out/stories260K-rtn-w4g32.epk" --base "$model" --data "$text" --range=-60000: --ctx 256 --protocol llama.cpp
echo "== story from the compressed model"
"$edgepack" -q run "$out/stories260K-tuned-w4g32.epk" --prompt "Once upon a time" -n 120
