// The round-to-nearest quantization pass: selected weights get a quantized encoding.
#pragma once
#include "core/model.h"
#include "passes/pass.h"
#include "passes/rtn_quantizer.h"
#include "passes/weight_selection.h"

namespace edgepack {

struct quantize_rtn_options {
  quant_encoding encoding;  // the scheme; quantize_rtn applies each selected weight's matrix view to it
  weight_selection_options selection;
  rtn_row_options rows;
  int threads = 0;  // 0: all cores; results are identical at any count
};

struct quantized_tensor_stats {
  double relative_error = 0;  // ||W - Q||_F / ||W||_F
  uint64_t bytes_before = 0;
  uint64_t bytes_after = 0;
};

// The per-tensor entry of the pass statistics (stored in .epk "extra" and printed by --json).
nlohmann::json quantized_tensor_stats_json(const std::string& name, const quantized_tensor_stats& stats);

// Quantizes one float tensor (f32/f16/bf16) in the matrix view options.encoding describes.
Expected<tensor> quantize_tensor_rtn(const tensor& weight, const quantize_rtn_options& options, quantized_tensor_stats* stats);

Expected<pass_result> quantize_rtn(const model& in, const quantize_rtn_options& options);

}  // namespace edgepack
