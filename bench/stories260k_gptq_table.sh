#!/usr/bin/env bash
# Regenerates the stories260K GPTQ table of docs/benchmarks.md: RTN vs GPTQ vs GPTQ + act-order
# (static groups) vs GPTQ + --refine 2 vs GPTQ + --float-targets --refine 2 at w8, w4g128, w4g32,
# w3g32, w2g32, evaluated with the llama.cpp protocol at ctx 256
# on the held-out last 60,000 characters of the bundled TinyStories text, against the float model.
# Calibration: the reference windows (../shared/peers/stories260K-calib-windows.json: 128 windows of
# 256 tokens from the first 200,000 characters) when present, else 128 random windows of 256 tokens
# from --calib-range :200000 (seed 0). Also prints the whole-model GPTQ time (w4g32, --threads given).
# Usage: bench/stories260k_gptq_table.sh [path/to/edgepack] [threads]
set -euo pipefail
cd "$(dirname "$0")/.."
edgepack=${1:-build/tools/edgepack}
threads=${2:-0}
model=datasets/stories260K/stories260K.bin
text=datasets/tinystories/tinystories_val.txt
windows=${EDGEPACK_CALIB_WINDOWS:-../shared/peers/stories260K-calib-windows.json}
if [ -f "$windows" ]; then
  calib=(--calib-windows "$windows")
  echo "calibration: $windows" >&2
else
  calib=(--calib "$text" --calib-range :200000 --calib-samples 128 --calib-seq 256 --calib-seed 0)
  echo "calibration: 128 random windows of $text[:200000]" >&2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
json_field() { /usr/bin/env python3 -c "import json,sys; j=json.load(sys.stdin); print(j$1)"; }
evaluate() {  # file -> "ppl kld"
  "$edgepack" -q --threads "$threads" eval "$1" --base "$model" --data "$text" --range=-60000: --ctx 256 --protocol llama.cpp --json |
    json_field '["ppl"], j["kld_mean"]'
}
echo "| scheme | RTN PPL | RTN KLD | GPTQ PPL | GPTQ KLD | GPTQ act-order PPL | GPTQ act-order KLD | GPTQ + refine PPL | GPTQ + refine KLD | GPTQ + float targets + refine PPL | GPTQ + float targets + refine KLD |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for scheme in w8 w4g128 w4g32 w3g32 w2g32; do
  row="| $scheme"
  for method in rtn gptq gptq-act gptq-refine gptq-float-refine; do
    file=$work/$scheme-$method.epk
    case $method in
      rtn) "$edgepack" -q --threads "$threads" quantize "$model" -o "$file" --scheme "$scheme" >/dev/null ;;
      gptq) "$edgepack" -q --threads "$threads" quantize "$model" -o "$file" --scheme "$scheme" --method gptq "${calib[@]}" >/dev/null ;;
      gptq-act) "$edgepack" -q --threads "$threads" quantize "$model" -o "$file" --scheme "$scheme" --method gptq --act-order "${calib[@]}" >/dev/null ;;
      gptq-refine) "$edgepack" -q --threads "$threads" quantize "$model" -o "$file" --scheme "$scheme" --method gptq --refine 2 "${calib[@]}" >/dev/null ;;
      gptq-float-refine) "$edgepack" -q --threads "$threads" quantize "$model" -o "$file" --scheme "$scheme" --method gptq --float-targets --refine 2 "${calib[@]}" >/dev/null ;;
    esac
    read -r ppl kld < <(evaluate "$file")
    row+=$(printf " | %.4f | %.4f" "$ppl" "$kld")
  done
  echo "$row |"
done
start=$(date +%s.%N)
"$edgepack" -q --threads "$threads" quantize "$model" -o "$work/time.epk" --scheme w4g32 --method gptq "${calib[@]}" >/dev/null
end=$(date +%s.%N)
echo
echo "whole-model GPTQ (w4g32, 35 tensors, $(nproc) cores, --threads $threads): $(python3 -c "print(f'{$end - $start:.2f}')") s"
start=$(date +%s.%N)
"$edgepack" -q --threads "$threads" quantize "$model" -o "$work/time.epk" --scheme w4g32 --method gptq --float-targets --refine 2 "${calib[@]}" >/dev/null
end=$(date +%s.%N)
echo "whole-model GPTQ + float targets + refine 2 (same): $(python3 -c "print(f'{$end - $start:.2f}')") s"
