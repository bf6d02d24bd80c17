#!/usr/bin/env bash
# Regenerates the end-to-end tuning table of docs/benchmarks.md: stories260K quantized with GPTQ
# (--float-targets --refine 2) and then --tune-epochs, against the same GPTQ without tuning, at each
# scheme, evaluated with the llama.cpp protocol at ctx 256 on the held-out last 60,000 characters
# of the bundled TinyStories text. Calibration: random 256-token windows from everything before the
# held-out part (--calib-range=:-60000, seed 0). Prints one markdown row per scheme, with the wall
# time of each quantize run.
# Usage: bench/stories260k_tune_table.sh [path/to/edgepack] [threads] [windows] [epochs]
set -euo pipefail
cd "$(dirname "$0")/.."
edgepack=${1:-build/tools/edgepack}
threads=${2:-0}
windows=${3:-512}
epochs=${4:-5}
model=datasets/stories260K/stories260K.bin
text=datasets/tinystories/tinystories_val.txt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
calib=(--method gptq --float-targets --refine 2 --calib "$text" --calib-range=:-60000 --calib-samples "$windows" --calib-seq 256 --calib-seed 0)
evaluate() {  # file -> "ppl kld"
  "$edgepack" -q --threads "$threads" eval "$1" --base "$model" --data "$text" --range=-60000: --ctx 256 --protocol llama.cpp --json |
    /usr/bin/env python3 -c "import json,sys; j=json.load(sys.stdin); print(j['ppl'], j['kld_mean'])"
}
timed() {  # command... -> seconds on stdout
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null
  end=$(date +%s.%N)
  /usr/bin/env python3 -c "print(f'{$end - $start:.0f}')"
}
echo "calibration: $windows random windows of 256 tokens from $text[:-60000]; tuning: $epochs epochs; $(nproc) cores, --threads $threads" >&2
echo "| scheme | GPTQ + float targets + refine PPL | KLD | time | + tune $epochs epochs PPL | KLD | time |"
echo "|---|---|---|---|---|---|---|"
for scheme in w8 w4g128 w4g32 w3g32 w2g32; do
  t0=$(timed "$edgepack" -q --threads "$threads" quantize "$model" -o "$work/plain.epk" --scheme "$scheme" "${calib[@]}")
  read -r p0 k0 < <(evaluate "$work/plain.epk")
  t1=$(timed "$edgepack" -q --threads "$threads" quantize "$model" -o "$work/tuned.epk" --scheme "$scheme" "${calib[@]}" --tune-epochs "$epochs")
  read -r p1 k1 < <(evaluate "$work/tuned.epk")
  printf "| %s | %.4f | %.4f | %s s | %.4f | **%.4f** | %s s |\n" "$scheme" "$p0" "$k0" "$t0" "$p1" "$k1" "$t1"
done
