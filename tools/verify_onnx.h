// verify --inputs DIR: a graph model (e.g. a quantized .epk) against its original (e.g. the .onnx)
// on .npy input sets: per-output cosine / NMSE / max-abs thresholds and task checks.
#pragma once
#include <string>
#include <vector>

#include "tools/cli_common.h"
#include "tools/verify_llm.h"

namespace edgepack::cli {

struct onnx_verify_args {
  std::string model_path;
  std::string base_path;
  std::string inputs_dir;
  double min_cosine = -2;          // < -1: not checked
  double max_nmse = -1;            // < 0: not checked
  std::vector<std::string> tasks;  // runtime_ref/task_check.h grammar
  double min_map_agreement = 0.99; // binary-map tasks
  bool text_output = true;          // the per-case table and check lines on stdout
  load_options load;
};

// result.passed: every threshold and task check held (exit 0), or one failed (exit 1). Loads the
// models from the args paths unless given (compress verifies in memory).
Expected<verify_outcome> verify_graph_outputs(const onnx_verify_args& args, const model* preloaded = nullptr, const model* preloaded_base = nullptr);

}  // namespace edgepack::cli
