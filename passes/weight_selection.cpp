#include "passes/weight_selection.h"

#include <map>
#include <regex>
#include <set>

namespace edgepack {

static Expected<std::regex> compile(const std::string& pattern, const char* flag) {
  try {
    return std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return bad_usage(std::string(flag) + " '" + pattern + "' is not a valid regular expression: " + e.what());
  }
}

Expected<std::vector<std::string>> select_linear_weights(const graph& g, const weight_selection_options& options) {
  std::map<std::string, std::set<std::string>> readers;  // weight -> "Op:slot" uses
  for (const auto& n : g.nodes) {
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      if (!g.weights.count(n.inputs[i])) continue;
      const bool linear_b = n.op_type == "Gemm" && i == 1 && n.int_attr("transB", 0) == 1 && n.int_attr("transA", 0) == 0;
      readers[n.inputs[i]].insert(linear_b ? "linear" : n.op_type);
    }
  }
  std::optional<std::regex> include, exclude;
  if (!options.include_regex.empty()) {
    EP_ASSIGN_OR_RETURN(include, compile(options.include_regex, "--include"));
  }
  if (!options.exclude_regex.empty()) {
    EP_ASSIGN_OR_RETURN(exclude, compile(options.exclude_regex, "--exclude"));
  }
  std::vector<std::string> selected;
  for (const auto& [name, weight] : g.weights) {
    const bool is_float_matrix = weight.shape.size() == 2 && !weight.is_quantized() && dtype_is_float(weight.type);
    const auto it = readers.find(name);
    bool chosen = is_float_matrix && it != readers.end() && it->second == std::set<std::string>{"linear"};
    if (include && std::regex_search(name, *include)) {
      if (!is_float_matrix) return bad_usage("--include matches '" + name + "', which is not a 2-D float weight");
      chosen = true;
    }
    if (exclude && std::regex_search(name, *exclude)) chosen = false;
    if (chosen) selected.push_back(name);
  }
  return selected;
}

}  // namespace edgepack
