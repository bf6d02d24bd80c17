// verify --inputs DIR: a graph model (e.g. a quantized .epk) against its original (e.g. the .onnx)
// on .npy input sets: per-output cosine / NMSE / max-abs thresholds and task checks.
#pragma once
#include <string>
#include <vector>

#include "tools/cli_common.h"

namespace edgepack::cli {

struct onnx_verify_args {
  std::string model_path;
  std::string base_path;
  std::string inputs_dir;
  double min_cosine = -2;          // < -1: not checked
  double max_nmse = -1;            // < 0: not checked
  std::vector<std::string> tasks;  // runtime_ref/task_check.h grammar
  double min_map_agreement = 0.99; // binary-map tasks
  bool json = false;
  load_options load;
};

// True when every threshold and task check held (exit 0), false when one failed (exit 1).
Expected<bool> verify_graph_outputs(const onnx_verify_args& args);

}  // namespace edgepack::cli
