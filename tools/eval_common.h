// What eval and verify share: load model (+ base), read and tokenize text, run the evaluation.
#pragma once
#include <nlohmann/json.hpp>

#include "runtime_ref/perplexity.h"
#include "tools/cli_common.h"

namespace edgepack::cli {

struct eval_args {
  std::string model_path;
  std::string base_path;
  std::string data_path;
  std::string distill_targets;  // eval only: a distill-targets directory instead of --base/--data
  std::string range;
  std::string protocol = "edgepack";
  int64_t ctx = 256;
  int64_t max_windows = 0;
  bool json = false;
  load_options load;
};

void add_eval_options(CLI::App& cmd, eval_args& args, bool base_required);
// Loads args.model_path / args.base_path unless the models are given (compress verifies in memory).
Expected<eval_result> run_evaluation(const eval_args& args, const model* preloaded = nullptr, const model* preloaded_base = nullptr);
nlohmann::json eval_result_json(const eval_result& r, const eval_args& args);

// eval --distill-targets DIR (tools/eval_distill_targets.cpp): KL of the model to stored teacher
// targets; prints the result (human or --json).
Status run_distill_targets_evaluation(const eval_args& args);

}  // namespace edgepack::cli
