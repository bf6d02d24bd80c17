#!/usr/bin/env bash
# Same-machine baseline: llama.cpp's llama-quantize vs edgepack quantize on one F16 Llama model.
# Pairs: Q8_0 vs w8, Q4_0 vs w4g32. After a warm-up (input read into the page cache, one untimed run
# of each command), each command is timed RUNS times in rounds that alternate llama-quantize and
# edgepack (Q8_0, w8, Q4_0, w4g32), with THREADS threads; then one round with 1 thread. Times are
# wall seconds and peak RSS from /usr/bin/time; load1 is the 1-minute load average just before the
# run (other work on the machine shows up there). Prints a Markdown table of every run and a
# summary with medians and ratios (edgepack / llama-quantize; > 1 means edgepack is slower).
#
# Usage: bench/llama_quantize_baseline.sh LLAMA_BUILD_DIR EDGEPACK_BIN MODEL_DIR [MODEL_F16.gguf]
#   LLAMA_BUILD_DIR  llama.cpp CMake build dir holding bin/llama-quantize
#   EDGEPACK_BIN     edgepack binary (e.g. build-bench/tools/edgepack)
#   MODEL_DIR        Hugging Face Llama directory (config.json + F16 safetensors)
#   MODEL_F16.gguf   the same model as GGUF F16 (default: MODEL_DIR-f16.gguf). Made if missing with
#                    bench/make_gguf_f16.py, importing gguf-py from the llama.cpp source tree of
#                    LLAMA_BUILD_DIR (LLAMA_CPP_SRC overrides) and $PYTHON (default python3, else
#                    /usr/bin/python3), which needs numpy, yaml and sentencepiece.
# Environment: RUNS (3), THREADS (2), WORK (dir for outputs; default beside MODEL_DIR, removed after),
#   EXTRA=1 adds edgepack with --scale-search 0 and with the embedding and lm_head included (closer
#   to the work llama-quantize does).
set -euo pipefail
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
llama_build=$(cd "$1" && pwd)
edgepack=$(readlink -f "$2")
model=$(cd "$3" && pwd)
gguf=${4:-$model-f16.gguf}
runs=${RUNS:-3}
threads=${THREADS:-2}
quant=$llama_build/bin/llama-quantize
[ -x "$quant" ] || { echo "no llama-quantize at $quant" >&2; exit 2; }
[ -x "$edgepack" ] || { echo "no edgepack at $edgepack" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

if [ ! -f "$gguf" ]; then
  src=${LLAMA_CPP_SRC:-$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$llama_build/CMakeCache.txt")}
  echo "writing $gguf with gguf-py from $src" >&2
  py=${PYTHON:-python3}
  "$py" -c 'import numpy' 2>/dev/null || py=/usr/bin/python3
  PYTHONPATH=$src/gguf-py "$py" "$here/make_gguf_f16.py" "$model" "$gguf" >&2
fi

work=$(mktemp -d "${WORK:-$(dirname "$model")}/lqbench.XXXXXX")
trap 'rm -rf "$work"' EXIT
rows=$work/rows.tsv
: > "$rows"

# run KIND LABEL THREADS RUN: times one command, appends a row (tool scheme threads run s kb bytes load1)
run() {
  local kind=$1 label=$2 nt=$3 r=$4 out load
  load=$(cut -d' ' -f1 /proc/loadavg)
  if [ "$kind" = llama ]; then
    out=$work/out.gguf
    /usr/bin/time -f "%e %M" -o "$work/time" "$quant" "$gguf" "$out" "$label" "$nt" > "$work/log" 2>&1 ||
      { cat "$work/log" >&2; exit 1; }
  else
    out=$work/out.epk
    local extra=()
    case $label in
      *+ss0) extra=(--scale-search 0) ;;
      *+embed) extra=(--include 'embed_tokens|lm_head') ;;
    esac
    /usr/bin/time -f "%e %M" -o "$work/time" "$edgepack" -q --threads "$nt" quantize "$model" -o "$out" \
      --scheme "${label%%+*}" "${extra[@]}" > "$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
  fi
  read -r secs kb < <(tail -n 1 "$work/time")
  [ "$r" = warm ] || printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$kind" "$label" "$nt" "$r" "$secs" "$kb" "$(stat -c %s "$out")" "$load" >> "$rows"
  rm -f "$out"
}

# groups: a llama-quantize type, then the edgepack schemes compared with it
groups=("Q8_0 w8" "Q4_0 w4g32")
[ "${EXTRA:-0}" = 1 ] && groups=("Q8_0 w8 w8+ss0 w8+embed" "Q4_0 w4g32 w4g32+ss0 w4g32+embed")
round() {  # one pass over the groups with $threads_now threads, labelled run $run_now
  local g s
  for g in "${groups[@]}"; do
    set -- $g
    run llama "$1" "$threads_now" "$run_now"
    shift
    for s in "$@"; do run edgepack "$s" "$threads_now" "$run_now"; done
  done
}

cat "$gguf" "$model"/*.safetensors > /dev/null   # page cache
threads_now=$threads run_now=warm round
for r in $(seq 1 "$runs"); do threads_now=$threads run_now=$r round; done
[ "$threads" = 1 ] || { threads_now=1 run_now=1 round; }

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), nproc $(nproc)"
echo "llama.cpp: $(git -C "$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$llama_build/CMakeCache.txt")" \
  describe --tags --always 2>/dev/null || echo unknown); edgepack: $("$edgepack" --version 2>/dev/null | head -n 1)"
echo "input: $gguf ($(stat -c %s "$gguf") bytes) / $model"
echo
echo "| tool | scheme | threads | run | wall s | peak RSS MiB | output bytes | load1 before |"
echo "|---|---|---|---|---|---|---|---|"
awk -F'\t' '{ printf "| %s | %s | %s | %s | %.2f | %.0f | %s | %s |\n", ($1=="llama"?"llama-quantize":"edgepack"), $2, $3, $4, $5, $6/1024, $7, $8 }' "$rows"
echo
echo "| pair | threads | llama-quantize median s | edgepack median s | edgepack / llama-quantize |"
echo "|---|---|---|---|---|"
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for nt in "$threads" 1; do
  for g in "${groups[@]}"; do
    set -- $g
    l=$(awk -F'\t' -v s="$1" -v t="$nt" '$1=="llama" && $2==s && $3==t { print $5 }' "$rows" | median)
    lq=$1
    shift
    for s in "$@"; do
      e=$(awk -F'\t' -v s="$s" -v t="$nt" '$1=="edgepack" && $2==s && $3==t { print $5 }' "$rows" | median)
      awk -v a="$lq" -v b="$s" -v t="$nt" -v l="$l" -v e="$e" \
        'BEGIN { printf "| %s vs %s | %s | %.2f | %.2f | %.2f |\n", b, a, t, l, e, e / l }'
    done
  done
  [ "$threads" = 1 ] && break
done
