// The option table of every recipe section: key, JSON type, default and allowed range. One list, used
// to validate recipes, fill defaults (--print-recipe) and written out in docs/recipes.md. The
// defaults are those of the CLI flags of the same name (tools/cmd_*.cpp).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace edgepack {

enum class recipe_value_type { string, integer, number, boolean, string_list };

struct recipe_option {
  std::string key;
  recipe_value_type type = recipe_value_type::string;
  nlohmann::json default_value;      // null: "not given" (optional thresholds, one-of choices)
  double min = -1e300;               // integer and number only
  double max = 1e300;
  bool max_exclusive = false;        // e.g. sparsity < 1
  std::vector<std::string> choices;  // strings only; empty = any
};

// "calibration", "prune", "quantize", "pack", "verify_text" (language models), "verify_inputs" (graph models).
const std::vector<recipe_option>& recipe_section_options(const std::string& section);

const char* recipe_value_type_name(recipe_value_type type);

}  // namespace edgepack
