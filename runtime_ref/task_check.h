// Task-level checks of a model's output against the original model's: does the compressed model
// still give the same answer, not just similar numbers (verify --task, docs/cli.md#verify).
//
//   ctc:KEYS        CTC greedy text ([N, T, C] scores, runtime_ref/ctc_decode.h) must be identical
//   argmax          argmax over the last axis must be identical in every row (classifiers)
//   binary-map[:P]  thresholded map (value > P, default 0.3 = PaddleOCR DB) must agree on at
//                   least min_agreement of the elements (text detection probability maps)
//
// Each check reads one output tensor of each model (the caller picks it: the first graph output).
#pragma once
#include <string>

#include "core/status.h"
#include "core/tensor.h"
#include "runtime_ref/ctc_decode.h"

namespace edgepack {

enum class task_kind { ctc, argmax, binary_map };

struct task_spec {
  task_kind kind = task_kind::argmax;
  std::string text;            // as given, for reports
  ctc_charset charset;         // ctc
  double threshold = 0.3;      // binary_map: an element is "on" when its value > threshold
  double min_agreement = 0.99; // binary_map: fraction of elements that must agree
};

// "ctc:KEYS.txt" (reads the keys: bad_input on a bad file), "argmax", "binary-map" or
// "binary-map:P". Anything else is bad_usage.
Expected<task_spec> parse_task_spec(const std::string& text);
const char* task_kind_name(task_kind kind);

struct task_outcome {
  std::string model_answer;  // decoded text, class list, or "" for binary maps
  std::string base_answer;
  double agreement = 1.0;    // ctc/argmax: fraction of rows with the same answer; binary map: of elements
  bool kept = true;          // the check passed
};

// Outputs of equal shape; bad_input when the shape does not fit the task.
Expected<task_outcome> check_task(const task_spec& spec, const tensor& model_output, const tensor& base_output);

}  // namespace edgepack
