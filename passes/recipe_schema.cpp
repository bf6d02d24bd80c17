#include "passes/recipe_schema.h"

#include <map>
#include <stdexcept>

#include "passes/weight_selection.h"

namespace edgepack {

namespace {

using t = recipe_value_type;
constexpr double big = static_cast<double>(int64_t{1} << 20);

recipe_option opt(std::string key, t type, nlohmann::json def, double min = -1e300, double max = 1e300) {
  recipe_option o;
  o.key = std::move(key);
  o.type = type;
  o.default_value = std::move(def);
  o.min = min;
  o.max = max;
  return o;
}

recipe_option choice(std::string key, std::string def, std::vector<std::string> choices) {
  recipe_option o = opt(std::move(key), t::string, def);
  o.choices = std::move(choices);
  return o;
}

// Options shared by prune and quantize: weight selection and the calibrated solver.
void add_selection_and_solver(std::vector<recipe_option>& v) {
  v.push_back(opt("include", t::string, ""));
  v.push_back(opt("exclude", t::string, ""));
  v.push_back(opt("min_elements", t::integer, default_min_quantized_elements, 0, 4.6e18));
  v.push_back(opt("scale_search", t::integer, 4, 0, 64));
  v.push_back(opt("damp", t::number, 0.01, 0, 1e4));
  v.push_back(opt("block_size", t::integer, 128, 1, big));
  v.push_back(opt("overrides", t::string_list, nlohmann::json::array()));
}

std::map<std::string, std::vector<recipe_option>> build_tables() {
  std::map<std::string, std::vector<recipe_option>> tables;
  tables["calibration"] = {opt("data", t::string, ""),          opt("range", t::string, ""),
                           opt("windows", t::string, ""),       opt("samples", t::integer, 128, 1, big),
                           opt("seq", t::integer, 256, 2, big), opt("seed", t::integer, 0, 0, 9.0e15),
                           choice("sampling", "random", {"random", "sequential"})};
  auto& prune = tables["prune"];
  prune.push_back(choice("method", "magnitude", {"magnitude", "wanda", "sparsegpt"}));
  recipe_option sparsity = opt("sparsity", t::number, nullptr, 0, 1);
  sparsity.max_exclusive = true;
  prune.push_back(sparsity);
  prune.push_back(opt("pattern", t::string, nullptr));
  prune.push_back(opt("scheme", t::string, nullptr));
  prune.push_back(opt("global", t::boolean, false));
  prune.push_back(opt("per_row", t::boolean, false));
  prune.push_back(opt("per_tensor", t::boolean, false));
  add_selection_and_solver(prune);
  auto& quantize = tables["quantize"];
  quantize.push_back(choice("method", "rtn", {"rtn", "gptq"}));
  quantize.push_back(opt("scheme", t::string, "w4g32"));
  quantize.push_back(opt("act_order", t::boolean, false));
  quantize.push_back(opt("static_groups", t::boolean, false));
  quantize.push_back(opt("float_targets", t::boolean, false));  // quantize --float-targets
  quantize.push_back(opt("refine", t::integer, -1, -1, 100));   // quantize --refine N; -1 = off
  quantize.push_back(opt("tune_epochs", t::integer, 0, 0, 10000));  // quantize --tune-epochs N; 0 = off
  quantize.push_back(opt("tune_lr", t::number, 2e-3, 1e-6, 1));
  quantize.push_back(opt("tune_code_lr", t::number, 10, 0, 1000));
  quantize.push_back(opt("tune_batch", t::integer, 8, 1, 1 << 20));
  quantize.push_back(opt("tune_norms", t::boolean, true));
  add_selection_and_solver(quantize);
  tables["pack"] = {opt("pattern", t::string, "auto"), opt("no_bitmask", t::boolean, false), opt("no_n_of_m", t::boolean, false),
                    opt("min_elements", t::integer, 1024, 0, 4.6e18)};
  tables["verify_text"] = {opt("data", t::string, ""),
                           opt("range", t::string, ""),
                           opt("ctx", t::integer, 256, 2, big),
                           choice("protocol", "edgepack", {"edgepack", "llama.cpp"}),
                           opt("max_windows", t::integer, 0, 0, 4.6e18),
                           opt("max_kld", t::number, nullptr, 0),
                           opt("max_ppl_increase", t::number, nullptr, 0),
                           opt("min_top1", t::number, nullptr, 0, 1)};
  tables["verify_inputs"] = {opt("inputs", t::string, ""), opt("min_cosine", t::number, nullptr, -1, 1), opt("max_nmse", t::number, nullptr, 0),
                             opt("task", t::string_list, nlohmann::json::array()), opt("min_map_agreement", t::number, 0.99, 0, 1)};
  return tables;
}

}  // namespace

const std::vector<recipe_option>& recipe_section_options(const std::string& section) {
  static const std::map<std::string, std::vector<recipe_option>> tables = build_tables();
  const auto found = tables.find(section);
  if (found == tables.end()) throw std::logic_error("no recipe section " + section);  // our bug: callers pass literals
  return found->second;
}

const char* recipe_value_type_name(recipe_value_type type) {
  switch (type) {
    case t::string: return "a string";
    case t::integer: return "an integer";
    case t::number: return "a number";
    case t::boolean: return "true or false";
    case t::string_list: return "a list of strings";
  }
  return "?";
}

}  // namespace edgepack
