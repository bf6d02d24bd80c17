# Shared setup of the ONNX table scripts (bench/onnx_accuracy_table.sh, onnx_gptq_table.sh,
# onnx_prune_table.sh); sourced after `cd` to the repository root with the script's arguments
# [path/to/edgepack] [shared dir] [work dir] and `default_work` set. Defines edgepack, shared, work,
# ocr, keys, makes the deterministic extra inputs (bench/make_extra_inputs.py) and provides
# link_cases and onnx_model_row.
edgepack=$(realpath "${1:-build/tools/edgepack}")
shared=$(realpath "${2:-../shared}")
work=${3:-$default_work}
mkdir -p "$work"
work=$(realpath "$work")
python3 bench/make_extra_inputs.py "$shared" "$work/extra"
ocr=$shared/models/paddleocr
keys=$ocr/ppocr_keys_v1.txt

# inputs/<model>/: symlinks to the model's golden case folders and its extra cases.
link_cases() {  # model, golden dir, case glob
  local dst=$work/inputs/$1
  rm -rf "$dst" && mkdir -p "$dst"
  for c in "$2"/$3; do ln -s "$c" "$dst/golden_$(basename "$c")"; done
  if [ -d "$work/extra/$1" ]; then
    for c in "$work/extra/$1"/*; do ln -s "$c" "$dst/extra_$(basename "$c")"; done
  fi
}

# "name|onnx|verify task options|what the task column reports" for one model.
onnx_model_row() {
  case "$1" in
    mnist-8) echo "mnist-8|$shared/models/mnist-8/mnist-8.onnx|--task argmax|class" ;;
    rec) echo "rec|$ocr/ch_PP-OCRv4_rec_infer.onnx|--task ctc:$keys|text" ;;
    cls) echo "cls|$ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx|--task argmax|class" ;;
    det) echo "det|$ocr/ch_PP-OCRv4_det_infer.onnx|--task binary-map:0.3 --min-map-agreement 0|map" ;;
    silero) echo "silero|$shared/models/silero-vad/silero_vad_legacy.onnx|--task binary-map:0.5 --min-map-agreement 0|speech" ;;
    *) echo "onnx_model_row: unknown model $1" >&2; return 1 ;;
  esac
}
