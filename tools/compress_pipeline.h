// The step runner of `edgepack compress`: a resolved recipe's prune / quantize / pack / verify steps run
// in memory on one model, each with the single command's own code (tools/*_step.h, verify_*.h), timed
// and measured (peak RSS) for the report's "passes".
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "tools/recipe_args.h"

namespace edgepack::cli {

struct pipeline_result {
  model out;
  nlohmann::json passes = nlohmann::json::array();  // report "passes" (with seconds and peak_rss_bytes)
  nlohmann::json quality;                           // report "quality" (absent: no verify step)
  bool passed = true;                               // every verify threshold held
};

// Checks every step's options against its command's rules before the model is loaded (exit 2).
Status check_pipeline_args(const recipe_source& recipe);
// `input` is the loaded model; `output_path` names the result in verify messages.
Expected<pipeline_result> run_pipeline(const recipe_source& recipe, const model& input, const std::string& input_path, const std::string& output_path);

}  // namespace edgepack::cli
