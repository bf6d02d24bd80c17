// The true-sequential calibration driver shared by GPTQ (passes/quantize_gptq.h) and the
// calibrated pruning methods, Wanda and SparseGPT (passes/prune_model.h): the selected weights are
// compressed stage by stage in graph order, each stage calibrated on the outputs of the
// already-compressed stages before it (docs/quantization.md, "GPTQ on a model").
//
// Stages. A weight is calibrated when passes/gptq_observers.h finds an observer for it (Gemm,
// 2-D MatMul B, group-1 Conv readers sharing one activation X); weights with the same observer
// key share one Hessian H = (2/n) sum x x^T over the cols of their matrix view and form one stage
// (q/k/v, then o, then gate/up, then down in a Llama block). Stages are ordered by their first
// reader in the graph.
//
// Driving. Every calibration window carries its state: the values live at the current node
// (runtime_ref/graph_segment.h). For each stage the nodes from the previous stage's first reader up
// to this stage's first reader run on every window (with the earlier stages' weights already
// compressed, decoded as the interpreter decodes them), X of each window is streamed into one
// hessian_accumulator (only this stage's Hessian is held), then `compress` is called for each
// weight of the stage and its result replaces the weight for the next stages. Each node runs once
// per window in total, as in one forward pass. Weights without an observer go to `fallback`.
//
// The callbacks are called in a fixed order (stages in order, weights in name order) from the
// calling thread; results do not depend on options.threads.
#pragma once
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model.h"
#include "runtime_ref/interpreter.h"

namespace edgepack {

// One weight of a stage, in its matrix view, with the stage's Hessian.
struct stage_weight {
  std::string name;
  const tensor* original = nullptr;  // as in the input model
  quant_encoding view;               // the matrix view (col_axis, transposed; other fields as the caller gave them)
  int64_t rows = 0, cols = 0;
  std::vector<float> matrix;         // [rows, cols] row-major, the weight in its view
  std::span<const double> hessian;   // [cols, cols] row-major
  int64_t hessian_rows = 0;          // calibration rows that went into the Hessian
  // With float targets only (passes/float_targets.h): W', the weight whose output on the compressed
  // model's inputs best matches the float model's output; empty otherwise (the target is `matrix`).
  std::vector<float> target;
};

// What replaces a weight: a tensor of the original shape (dense or encoded) and its stats entry.
struct compressed_weight {
  tensor weight;
  nlohmann::json stats = nlohmann::json::object();
};

struct calibrated_stages_options {
  // The weights to compress, each with its matrix view (quant_encoding layout fields).
  std::map<std::string, quant_encoding> weights;
  std::function<Expected<compressed_weight>(const stage_weight&)> compress;
  // Weights no observer fits: (name, original tensor, why).
  std::function<Expected<compressed_weight>(const std::string&, const tensor&, const std::string&)> fallback;
  int threads = 0;  // windows run in parallel, the Hessian too; results do not depend on it
  // Run the float model beside the compressed one and give each weight the float-output target W'
  // (passes/float_targets.h), ridge-damped with float_target_damp. Doubles the forward work.
  bool float_targets = false;
  double float_target_damp = 0.01;
  // Called after each stage: (stages done, stages in all, a line describing the stage).
  std::function<void(int64_t, int64_t, const std::string&)> progress;
};

struct calibrated_stages_result {
  std::map<std::string, tensor> weights;             // name -> replacement
  nlohmann::json tensors = nlohmann::json::array();  // per-tensor stats, name order
  int64_t stages = 0;
  int64_t windows = 0;
  double seconds_forward = 0, seconds_hessian = 0, seconds_compress = 0;
};

// `windows`: one map of graph inputs per calibration window. The model itself is not modified.
Expected<calibrated_stages_result> run_calibrated_stages(const model& m, const std::vector<tensor_map>& windows,
                                                         const calibrated_stages_options& options);

// The weight `w` (row-major in its tensor shape) in the matrix view of `view` ([rows, cols]; a
// transposed view reads columns), and back.
std::vector<float> to_view_matrix(const std::vector<float>& w, const std::vector<int64_t>& shape, const quant_encoding& view);
std::vector<float> from_view_matrix(const std::vector<float>& matrix, const std::vector<int64_t>& shape, const quant_encoding& view);

// ||W - Q|| / ||W||.
double relative_weight_error(std::span<const float> w, std::span<const float> q);

}  // namespace edgepack
