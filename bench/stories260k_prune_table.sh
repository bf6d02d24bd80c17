#!/usr/bin/env bash
# Regenerates the "Pruning stories260K" table of docs/benchmarks.md: magnitude, Wanda and SparseGPT at
# 50 % unstructured, 2:4 and 4:8, plus joint SparseGPT s2:4+w4g32, evaluated with the llama.cpp
# protocol at ctx 256 on the held-out last 60,000 characters of the bundled TinyStories text against
# the float model (PPL and KLD), with the file size and bits per weight from `edgepack inspect`.
# Calibration (wanda, sparsegpt): the reference windows (../shared/peers/stories260K-calib-windows.json,
# 128 windows of 256 tokens from the first 200,000 characters) when present, else 128 random windows
# of 256 tokens from --calib-range :200000 (seed 0).
# Unstructured comparison group: "default" (magnitude per tensor, Wanda and SparseGPT per row: the
# table in docs/benchmarks.md), or "row" / "tensor" for all three methods (--per-row / --per-tensor).
# EDGEPACK_PRUNE_SCHEMES limits the schemes (default "s50 s2:4 s4:8 s2:4+w4g32").
# Usage: bench/stories260k_prune_table.sh [path/to/edgepack] [threads] [scope: default|row|tensor]
set -euo pipefail
cd "$(dirname "$0")/.."
edgepack=${1:-build/tools/edgepack}
threads=${2:-0}
scope=${3:-default}
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
case "$scope" in
  default) scope_flag=() ;; row) scope_flag=(--per-row) ;; tensor) scope_flag=(--per-tensor) ;;
  *) echo "scope must be default, row or tensor (got '$scope')" >&2; exit 2 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
json_field() { /usr/bin/env python3 -c "import json,sys; j=json.load(sys.stdin); print(j$1)"; }
evaluate() {  # file -> "ppl kld"
  "$edgepack" -q --threads "$threads" eval "$1" --base "$model" --data "$text" --range=-60000: --ctx 256 --protocol llama.cpp --json |
    json_field '["ppl"], j["kld_mean"]'
}
size() {  # file -> "file-bytes bits-per-weight-overall bits-per-pruned-weight"
  echo "$(stat -c %s "$1") $("$edgepack" -q inspect "$1" --json |
    json_field '["bits_per_weight"], j.get("sparse_bits_per_weight") or j.get("quantized_bits_per_weight") or 32.0')"
}
peer() {
  case "$1-$2" in
    s50-magnitude) echo "2.35 (52.2)" ;; s50-wanda) echo "1.59 (24.7)" ;; s50-sparsegpt) echo "1.54 (23.5)" ;;
    s2:4-magnitude) echo "3.34 (138)" ;; s2:4-wanda) echo "2.80 (78.3)" ;; s2:4-sparsegpt) echo "2.13 (40.7)" ;;
    *) echo "—" ;;
  esac
}
read -r ppl kld < <(evaluate "$model")
read -r bytes bpw pbpw < <(size "$model")
echo "| pattern | method | PPL | KLD vs f32 | file bytes | bits/weight (all) | bits/weight (pruned tensors) | peer KLD (PPL) |"
echo "|---|---|---|---|---|---|---|---|"
printf "| dense f32 | — | %.4f | %.4f | %s | %.2f | %.2f | — (5.8167) |\n" "$ppl" "$kld" "$bytes" "$bpw" "$pbpw"
for scheme in ${EDGEPACK_PRUNE_SCHEMES:-s50 s2:4 s4:8 s2:4+w4g32}; do
  for method in magnitude wanda sparsegpt; do
    [ "$scheme" = s2:4+w4g32 ] && [ "$method" != sparsegpt ] && continue
    file=$work/${scheme//[:+]/_}-$method.epk
    args=(--scheme "$scheme" --method "$method" "${scope_flag[@]}")
    [ "$method" = magnitude ] || args+=("${calib[@]}")
    "$edgepack" -q --threads "$threads" prune "$model" -o "$file" "${args[@]}" >/dev/null
    read -r ppl kld < <(evaluate "$file")
    read -r bytes bpw pbpw < <(size "$file")
    printf "| %s | %s | %.4g | %.4f | %s | %.2f | %.2f | %s |\n" "$scheme" "$method" "$ppl" "$kld" "$bytes" "$bpw" "$pbpw" "$(peer "$scheme" "$method")"
  done
done
