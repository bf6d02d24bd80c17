// Runs one ONNX Runtime golden case (../shared/models/GOLDENS.md) through runtime_ref and reports
// the worst error per output. Multi-step cases chain the state outputs back as the next inputs,
// as a deployed runtime would (state_carry), rather than replaying ORT's stored states.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace edgepack::testing {

struct golden_output_result {
  std::string name;
  int step = 0;
  double max_abs_err = 0;
  double ort_opt_level_diff = 0;  // |disabled - all| recorded by ORT for this output
  double tolerance = 0;
};

struct golden_case_result {
  std::string error;  // empty when the case ran
  std::vector<golden_output_result> outputs;
  int predicted_class = -1;  // argmax of the first output when the manifest has predicted_class
  int expected_class = -1;
};

// tolerance(output) = max(factor * ort_opt_level_diff, floor): ORT's own disagreement between
// optimisation levels is the scale of "float32 implementations differ here".
golden_case_result run_golden_case(const std::filesystem::path& model_path, const std::filesystem::path& case_dir, double factor, double floor);

}  // namespace edgepack::testing
