// Pruning over a whole model (`edgepack prune`, docs/pruning.md "Pruning a model"): each selected
// weight is pruned in its matrix view [rows, cols] (the view quantization uses: Gemm/MatMul B with
// rows = outputs and cols = the reduction dim, Conv [O, C*k...]), so N:M groups run along the
// reduction dimension.
//
// * magnitude: no calibration; per tensor (default) or per row for unstructured patterns, or
//   global (one threshold over all weights with the same unstructured pattern).
// * wanda / sparsegpt (unstructured: per row by default, or per tensor): true sequential through passes/calibrated_stages.h: each stage's Hessian is
//   accumulated on the outputs of the already-pruned stages before it; Wanda takes its column
//   norms from the Hessian diagonal, SparseGPT the whole Hessian (optionally joint with
//   quantization, `s2:4+w4g32`). Weights no calibration observer fits (grouped Conv,
//   ConvTranspose, LSTM, ...) fall back to magnitude with the same scope and say so ("method":
//   "magnitude", "note": why).
//
// Results keep the original tensor's shape and dense dtype (f32, f16, bf16; others become f32);
// joint pruning + quantization gives a quantized tensor whose pruned weights hold the zero-point
// code. Per-tensor stats (JSON, name order): method, pattern, scheme, scope, elements, pruned, sparsity,
// relative_error ||W - W'|| / ||W||, for calibrated weights calib_output_error, hessian_rows and
// (SparseGPT) damp, damp_lambda, damp_escalations, dead_columns, loss, warnings; bytes_before/after.
// Byte-identical results at any thread count.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model.h"
#include "passes/prune_mask.h"
#include "runtime_ref/interpreter.h"

namespace edgepack {

enum class prune_method : uint8_t { magnitude, wanda, sparsegpt };
const char* prune_method_name(prune_method method);

struct prune_weight_plan {
  quant_encoding view;                       // matrix view (layout fields only matter)
  sparsity_pattern pattern;
  std::optional<quant_encoding> quantize;    // SparseGPT only: joint quantization (in this view)
};

struct prune_model_options {
  prune_method method = prune_method::magnitude;
  std::map<std::string, prune_weight_plan> weights;
  mask_scope magnitude_scope = mask_scope::per_tensor;  // unstructured magnitude
  mask_scope calibrated_scope = mask_scope::per_row;    // unstructured wanda / sparsegpt (and their magnitude fallback)
  bool global = false;         // magnitude, unstructured: one threshold per pattern over all weights
  double damp = 0.01;          // SparseGPT
  int64_t block_size = 128;    // SparseGPT lazy-batch width
  int scale_search_steps = 4;  // joint quantization: RTN scale search
  int threads = 0;
  std::function<void(int64_t, int64_t, const std::string&)> progress;  // (done, total, what)
};

struct prune_model_result {
  std::map<std::string, tensor> weights;             // name -> pruned tensor
  nlohmann::json tensors = nlohmann::json::array();  // per-tensor stats, name order
  int64_t stages = 0, windows = 0;
  double seconds_forward = 0, seconds_hessian = 0, seconds_prune = 0;
};

// `windows`: calibration inputs (one graph-input map each); unused (may be empty) for magnitude.
Expected<prune_model_result> prune_model(const model& m, const std::vector<tensor_map>& windows, const prune_model_options& options);

}  // namespace edgepack
