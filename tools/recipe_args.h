// A resolved recipe's steps as the argument structs of the single commands, so a recipe step runs
// exactly the code (and defaults) of `prune`, `quantize`, `pack` and `verify` with those flags.
// Paths in the recipe are relative to the recipe file.
#pragma once
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "tools/cmd_prune_args.h"
#include "tools/pack_step.h"
#include "tools/verify_onnx.h"

namespace edgepack::cli {

struct recipe_source {
  nlohmann::json resolved;  // passes/recipe.h resolve_recipe
  std::string file;         // where it was read from ("" for the default recipe)
};

prune_args prune_args_from(const recipe_source& recipe, const nlohmann::json& step);
quantize_args quantize_args_from(const recipe_source& recipe, const nlohmann::json& step);
pack_args pack_args_from(const nlohmann::json& step);

// The verify step into verify's arguments; `keep(key)` says a value was given on the command line
// and wins over the recipe (key = the recipe key, e.g. "max_kld", "data", "task").
void verify_args_from(const recipe_source& recipe, const nlohmann::json& step, const std::function<bool(const std::string&)>& keep, eval_args& text,
                      llm_thresholds& limits, onnx_verify_args& graph);

// The thresholds of a verify step that are set (report "quality.thresholds").
nlohmann::json recipe_thresholds(const nlohmann::json& step);

}  // namespace edgepack::cli
