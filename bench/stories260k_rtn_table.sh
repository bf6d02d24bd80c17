#!/usr/bin/env bash
# Regenerates the stories260K RTN table of docs/benchmarks.md: for each scheme, quantize the bundled
# model, then evaluate on the held-out last 60,000 characters of the bundled TinyStories text at
# ctx 256 under both protocols, against the float model. Prints a Markdown table.
# Usage: bench/stories260k_rtn_table.sh [path/to/edgepack]
set -euo pipefail
cd "$(dirname "$0")/.."
edgepack=${1:-build/tools/edgepack}
model=datasets/stories260K/stories260K.bin
text=datasets/tinystories/tinystories_val.txt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
json_field() { /usr/bin/env python3 -c "import json,sys; j=json.load(sys.stdin); print(j$1)"; }
echo "| scheme | file bytes | bits/weight (quantized tensors) | PPL | KLD mean | KLD p99 | top-1 | PPL (llama.cpp protocol) | KLD (llama.cpp protocol) |"
echo "|---|---|---|---|---|---|---|---|---|"
for scheme in f32 w8 w4g128 w4g64 w4g32 w4g32_asym w3g32 w3g32_asym w2g32 w2g32_asym; do
  if [ "$scheme" = f32 ]; then
    file=$model
    bits=32
  else
    file=$work/$scheme.epk
    "$edgepack" -q quantize "$model" -o "$file" --scheme "$scheme" >/dev/null
    bits=$("$edgepack" -q inspect "$file" --json | json_field '["quantized_bits_per_weight"]')
  fi
  bytes=$(stat -c %s "$file")
  ours=$("$edgepack" -q eval "$file" --base "$model" --data "$text" --range=-60000: --ctx 256 --json)
  llama=$("$edgepack" -q eval "$file" --base "$model" --data "$text" --range=-60000: --ctx 256 --protocol llama.cpp --json)
  printf "| %s | %s | %.3f | %.4f | %.5f | %.4f | %.2f%% | %.4f | %.5f |\n" "$scheme" "$bytes" "$bits" \
    "$(echo "$ours" | json_field '["ppl"]')" "$(echo "$ours" | json_field '["kld_mean"]')" "$(echo "$ours" | json_field '["kld_p99"]')" \
    "$(echo "$ours" | json_field '["top1_agreement"]*100')" "$(echo "$llama" | json_field '["ppl"]')" "$(echo "$llama" | json_field '["kld_mean"]')"
done
