// GPTQ over a whole model, "true sequential": the selected linear weights are quantized stage by
// stage in graph order, each stage calibrated on the outputs of the already-quantized stages before
// it (docs/quantization.md, "GPTQ on a model").
//
// Stages. A selected weight is calibrated when passes/gptq_observers.h finds an observer for it:
// it is the weight of Gemm (transA = 0, transB 0 or 1), 2-D MatMul B or group-1 Conv nodes that
// all multiply it with the same activation X in the same way; weights with the same observer key
// share one Hessian over the cols of their matrix view and form one stage (q/k/v, then o, then
// gate/up, then down in a Llama block). Stages are ordered by their first reader in the graph.
// GPTQ runs on the weight's matrix view (B^T for a transposed view, [O, C*k...] for Conv); the
// codes it returns are already in view order, so only shape and view are put back.
//
// The stage driver itself is passes/calibrated_stages.h (shared with Wanda/SparseGPT pruning);
// this file supplies the per-weight step (gptq_quantize) and the RTN fallback.
//
// Driving. Every calibration window carries its state: the values live at the current node
// (runtime_ref/graph_segment.h). For each stage the nodes from the previous stage's first Gemm up to
// this stage's first Gemm run on every window (with the earlier stages' weights already
// quantized, decoded as the interpreter decodes them), X of each window is streamed into one
// hessian_accumulator (only this stage's Hessian is held), then each weight of the stage is
// quantized by gptq_quantize and replaces the float weight for the next stages. Each node runs
// once per window in total, as in one forward pass.
//
// Other weights (grouped/depthwise Conv, ConvTranspose, LSTM/GRU/RNN, --include'd embeddings)
// are quantized by RTN and say so in their stats ("method": "rtn", "note": why).
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model.h"
#include "passes/gptq.h"
#include "passes/quant_refine.h"
#include "runtime_ref/interpreter.h"

namespace edgepack {

struct quantize_gptq_options {
  // The weights to quantize and the encoding of each (already in the weight's matrix view).
  std::map<std::string, quant_encoding> weights;
  gptq_options layer;        // damp, block_size, act_order, static_groups, scale_search_steps; encoding is per weight
  // After GPTQ, refit scales / sweep codes against the layer objective (passes/quant_refine.h);
  // absent: plain GPTQ. Its damp and threads are taken from `layer` and `threads`.
  std::optional<quant_refine_options> refine;
  // Fit each weight to the float model's outputs instead of its own float weight on the quantized
  // model's inputs (passes/float_targets.h); runs the float model beside it.
  bool float_targets = false;
  int threads = 0;           // windows run in parallel, Hessian and GPTQ tiles too; results do not depend on it
  // Called after each stage: (stages done, stages in all, a line describing the stage).
  std::function<void(int64_t, int64_t, const std::string&)> progress;
};

struct quantize_gptq_result {
  std::map<std::string, tensor> quantized;  // name -> quantized tensor
  nlohmann::json tensors = nlohmann::json::array();  // per-tensor stats, name order
  int64_t stages = 0;
  int64_t windows = 0;
  double seconds_forward = 0, seconds_hessian = 0, seconds_quantize = 0;
};

// `windows`: one map of graph inputs per calibration window (for LLMs: input_ids, position_ids and
// empty KV caches, see fill_llm_default_inputs; for ONNX models: the input sets of --calib DIR). The model itself is not modified.
Expected<quantize_gptq_result> quantize_gptq_model(const model& m, const std::vector<tensor_map>& windows, const quantize_gptq_options& options);

// The relative output error ||(W - Q) X|| / ||W X|| over rows x of a Hessian H = c * sum x x^T
// (the constant cancels): sqrt(tr(E H E^T) / tr(W H W^T)). Runs on `threads`; the result does not depend on them.
double relative_output_error(std::span<const float> w, std::span<const float> q, int64_t rows, int64_t cols, std::span<const double> hessian,
                             int threads);

}  // namespace edgepack
