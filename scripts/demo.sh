#!/usr/bin/env bash
# The demo: quantize the bundled stories260K to w4g32, evaluate it against the float model on the
# held-out end of the bundled TinyStories text, show sizes, and tell a story from the quantized file.
set -euo pipefail
cd "$(dirname "$0")/.."
edgepack=${EDGEPACK_BIN:-build/tools/edgepack}
model=datasets/stories260K/stories260K.bin
text=datasets/tinystories/tinystories_val.txt
out=${EDGEPACK_DEMO_DIR:-out}
mkdir -p "$out"
echo "== quantize $model -> $out/stories260K-w4g32.epk"
"$edgepack" quantize "$model" -o "$out/stories260K-w4g32.epk" --scheme w4g32
echo "== size"
"$edgepack" -q inspect "$model" | sed -n '1,3p'
"$edgepack" -q inspect "$out/stories260K-w4g32.epk" | sed -n '1,3p'
echo "== evaluate on the last 60,000 characters of $text (ctx 256, llama.cpp protocol)"
"$edgepack" eval "$out/stories260K-w4g32.epk" --base "$model" --data "$text" --range=-60000: --ctx 256 --protocol llama.cpp
echo "== story from the quantized model"
"$edgepack" -q run "$out/stories260K-w4g32.epk" --prompt "Once upon a time" -n 120
