#include "passes/recipe.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/sha256.h"
#include "formats/strict_json.h"
#include "passes/pass.h"
#include "passes/recipe_schema.h"
#include "passes/scheme.h"
#include "passes/sparsity_pattern.h"

namespace edgepack {

namespace {

// Messages are "<label>: <json path>: <what>" so a CI log points at the key to fix.
Status problem(const std::string& label, const std::string& path, const std::string& what) {
  return bad_usage(label + ": " + path + ": " + what);
}

std::string keys_of(const std::vector<recipe_option>& table) {
  std::string s;
  for (const auto& o : table) s += (s.empty() ? "" : ", ") + o.key;
  return s;
}

Status check_value(const recipe_option& o, const nlohmann::json& v, const std::string& label, const std::string& path) {
  if (v.is_null() && o.default_value.is_null()) return Status::ok_status();  // an optional value spelled out as null
  const std::string expected = std::string("must be ") + recipe_value_type_name(o.type) + ", not " + v.dump();
  switch (o.type) {
    case recipe_value_type::string:
      if (!v.is_string()) return problem(label, path, expected);
      if (!o.choices.empty() && std::find(o.choices.begin(), o.choices.end(), v.get<std::string>()) == o.choices.end()) {
        std::string list;
        for (const auto& c : o.choices) list += (list.empty() ? "" : ", ") + c;
        return problem(label, path, "'" + v.get<std::string>() + "' is not available (available: " + list + ")");
      }
      return Status::ok_status();
    case recipe_value_type::boolean:
      return v.is_boolean() ? Status::ok_status() : problem(label, path, expected);
    case recipe_value_type::string_list:
      if (!v.is_array()) return problem(label, path, expected);
      for (size_t k = 0; k < v.size(); ++k)
        if (!v[k].is_string()) return problem(label, path + "[" + std::to_string(k) + "]", "must be a string, not " + v[k].dump());
      return Status::ok_status();
    case recipe_value_type::integer:
      if (!v.is_number_integer()) return problem(label, path, expected);
      break;
    case recipe_value_type::number:
      if (!v.is_number()) return problem(label, path, expected);
      break;
  }
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < o.min || x > o.max || (o.max_exclusive && x >= o.max)) {
    std::ostringstream range;
    range << "must be in [" << o.min << ", " << o.max << (o.max_exclusive ? ")" : "]");
    if (o.max >= 1e300) range.str(""), range << "must be at least " << o.min;
    return problem(label, path, v.dump() + " is out of range: " + range.str());
  }
  return Status::ok_status();
}

// Checks every key of `given` against the tables and returns it with the missing defaults filled.
Expected<nlohmann::json> resolve_section(const nlohmann::json& given, const std::vector<const std::vector<recipe_option>*>& tables,
                                         const std::string& label, const std::string& path, const std::vector<std::string>& extra_keys) {
  if (!given.is_object()) return problem(label, path, "must be an object, not " + given.dump());
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : given.items()) {
    if (std::find(extra_keys.begin(), extra_keys.end(), key) != extra_keys.end()) {
      out[key] = value;
      continue;
    }
    const recipe_option* found = nullptr;
    for (const auto* table : tables)
      for (const auto& o : *table)
        if (o.key == key) found = &o;
    if (!found) {
      std::string known;
      for (const auto* table : tables) known += (known.empty() ? "" : ", ") + keys_of(*table);
      return problem(label, path + "." + key, "unknown key (known: " + known + ")");
    }
    EP_RETURN_IF_ERROR(check_value(*found, value, label, path + "." + key));
    out[key] = value;
  }
  for (const auto* table : tables)
    for (const auto& o : *table)
      if (!out.contains(o.key)) out[o.key] = o.default_value;
  return out;
}

bool given(const nlohmann::json& step, const char* key) {
  const auto it = step.find(key);
  if (it == step.end() || it->is_null()) return false;
  if (it->is_string()) return !it->get<std::string>().empty();
  if (it->is_array()) return !it->empty();
  return true;
}

Expected<nlohmann::json> resolve_prune(const nlohmann::json& step, const std::string& label, const std::string& path) {
  EP_ASSIGN_OR_RETURN(nlohmann::json s, resolve_section(step, {&recipe_section_options("prune")}, label, path, {"pass"}));
  const int count = (given(s, "sparsity") ? 1 : 0) + (given(s, "pattern") ? 1 : 0) + (given(s, "scheme") ? 1 : 0);
  if (count != 1) return problem(label, path, "say how much to prune with exactly one of sparsity (e.g. 0.5), pattern (e.g. \"2:4\") or scheme (e.g. \"s2:4+w4g32\")");
  if (given(s, "pattern")) {
    const std::string p = s["pattern"];
    auto parsed = parse_sparsity_term("s" + p);
    if (p.find(':') == std::string::npos || !parsed.ok())
      return problem(label, path + ".pattern", "'" + p + "' must be N:M (e.g. 2:4)" + (parsed.ok() ? "" : ": " + parsed.status().message()));
  }
  if (given(s, "scheme")) {
    auto parsed = parse_compression_scheme(s["scheme"]);
    if (!parsed.ok()) return problem(label, path + ".scheme", parsed.status().message());
    if (!parsed->sparsity) return problem(label, path + ".scheme", "'" + s["scheme"].get<std::string>() + "' has no sparsity term (s50, s2:4, ...); quantize-only schemes belong to a quantize step");
    if (parsed->weights && s["method"] != "sparsegpt")
      return problem(label, path + ".scheme", "'" + s["scheme"].get<std::string>() + "' prunes and quantizes in one pass, which needs method sparsegpt");
  }
  if (s["global"] == true && s["method"] != "magnitude") return problem(label, path + ".global", "applies to method magnitude only");
  if (s["global"] == true && !given(s, "sparsity")) return problem(label, path + ".global", "applies to unstructured sparsity (sparsity), not to N:M patterns");
  if (s["global"] == true && s["per_row"] == true) return problem(label, path + ".per_row", "give either global or per_row, not both");
  if (s["global"] == true && s["per_tensor"] == true) return problem(label, path + ".per_tensor", "give either global or per_tensor, not both");
  if (s["per_row"] == true && s["per_tensor"] == true) return problem(label, path + ".per_tensor", "give either per_row or per_tensor, not both");
  return s;
}

Expected<nlohmann::json> resolve_quantize(const nlohmann::json& step, const std::string& label, const std::string& path) {
  EP_ASSIGN_OR_RETURN(nlohmann::json s, resolve_section(step, {&recipe_section_options("quantize")}, label, path, {"pass"}));
  auto scheme = parse_weight_scheme(s["scheme"]);
  if (!scheme.ok()) return problem(label, path + ".scheme", scheme.status().message());
  if (s["method"] == "rtn") {
    for (const char* key : {"act_order", "static_groups", "float_targets"})
      if (s[key] == true) return problem(label, path + "." + key, "is a GPTQ option; set method to gptq or drop it");
    if (s["refine"] != -1) return problem(label, path + ".refine", "is a GPTQ option; set method to gptq or drop it");
    if (s["tune_epochs"] != 0) return problem(label, path + ".tune_epochs", "is a GPTQ option; set method to gptq or drop it");
  }
  return s;
}

Expected<nlohmann::json> resolve_verify(const nlohmann::json& step, const std::string& label, const std::string& path) {
  const auto& text = recipe_section_options("verify_text");
  const auto& inputs = recipe_section_options("verify_inputs");
  EP_ASSIGN_OR_RETURN(nlohmann::json all, resolve_section(step, {&text, &inputs}, label, path, {"pass"}));
  const bool by_text = given(all, "data"), by_inputs = given(all, "inputs");
  if (by_text == by_inputs)
    return problem(label, path, by_text ? "give data (language models) or inputs (graph models), not both"
                                        : "needs data (a text file, language models) or inputs (a folder of .npy input sets, graph models)");
  // Keys of the other kind of verification are impossible here: name the first one given.
  for (const auto& o : by_text ? inputs : text)
    if (step.contains(o.key))
      return problem(label, path + "." + o.key, std::string("applies to ") + (by_text ? "graph models (verify with inputs)" : "language models (verify with data)") +
                                                    "; this step verifies " + (by_text ? "on text (data)" : "graph outputs (inputs)"));
  EP_ASSIGN_OR_RETURN(nlohmann::json s, resolve_section(step, {by_text ? &text : &inputs}, label, path, {"pass"}));
  const bool any = by_text ? given(s, "max_kld") || given(s, "max_ppl_increase") || given(s, "min_top1")
                           : given(s, "min_cosine") || given(s, "max_nmse") || given(s, "task");
  if (!any) return problem(label, path, by_text ? "needs at least one threshold: max_kld, max_ppl_increase or min_top1" : "needs at least one check: min_cosine, max_nmse or task");
  return s;
}

bool needs_calibration(const nlohmann::json& step) {
  if (step["pass"] == "quantize") return step["method"] == "gptq";
  if (step["pass"] == "prune") return step["method"] != "magnitude";
  return false;
}

// Order and combinations across steps: prune, quantize, pack, verify, each at most once, in this order.
Status check_step_order(const nlohmann::json& steps, const std::string& label) {
  const std::vector<std::string> order = {"prune", "quantize", "pack", "verify"};
  int last = -1;
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < steps.size(); ++i) {
    const std::string pass = steps[i]["pass"];
    const std::string path = "steps[" + std::to_string(i) + "].pass";
    const int rank = static_cast<int>(std::find(order.begin(), order.end(), pass) - order.begin());
    if (seen.count(pass)) return problem(label, path, "a second '" + pass + "' step (steps[" + std::to_string(seen[pass]) + "] is one already)");
    if (rank < last) return problem(label, path, "'" + pass + "' cannot come after '" + order[static_cast<size_t>(last)] + "' (steps run in the order prune, quantize, pack, verify)");
    seen[pass] = i;
    last = rank;
  }
  if (seen.count("prune") && seen.count("quantize")) {
    const nlohmann::json& prune = steps[seen["prune"]];
    const std::string qpath = "steps[" + std::to_string(seen["quantize"]) + "].pass";
    if (given(prune, "scheme") && parse_compression_scheme(prune["scheme"])->weights)
      return problem(label, qpath, "steps[" + std::to_string(seen["prune"]) + "].scheme '" + prune["scheme"].get<std::string>() +
                                       "' already quantizes the pruned weights; drop the quantize step or prune with a sparsity-only scheme");
    if (steps[seen["quantize"]]["method"] == "gptq")
      return problem(label, "steps[" + std::to_string(seen["quantize"]) + "].method",
                     "gptq after prune would fill the pruned weights in again; prune and quantize in one step with a joint scheme (e.g. \"s2:4+w4g32\", method sparsegpt)");
  }
  return Status::ok_status();
}

}  // namespace

Expected<nlohmann::json> resolve_recipe(const nlohmann::json& doc, const std::string& label) {
  if (!doc.is_object()) return problem(label, "(top level)", "a recipe is a JSON object {\"edgepack_recipe\": 1, \"steps\": [...]}");
  for (const auto& [key, value] : doc.items())
    if (key != "edgepack_recipe" && key != "description" && key != "calibration" && key != "steps")
      return problem(label, key, "unknown key (known: edgepack_recipe, description, calibration, steps)");
  if (!doc.contains("edgepack_recipe")) return problem(label, "edgepack_recipe", "missing: a recipe starts with \"edgepack_recipe\": 1");
  const nlohmann::json& version = doc["edgepack_recipe"];
  if (!version.is_number_integer()) return problem(label, "edgepack_recipe", "must be the integer format version, not " + version.dump());
  if (version.get<int64_t>() != recipe_format_version)
    return problem(label, "edgepack_recipe", "version " + version.dump() + " is not supported (this edgepack reads version " + std::to_string(recipe_format_version) + ")");
  nlohmann::json out = {{"edgepack_recipe", recipe_format_version}, {"description", doc.value("description", nlohmann::json(""))}};
  if (!out["description"].is_string()) return problem(label, "description", "must be a string, not " + out["description"].dump());
  if (!doc.contains("steps") || !doc["steps"].is_array() || doc["steps"].empty())
    return problem(label, "steps", "must be a non-empty list of steps, e.g. [{\"pass\": \"quantize\", \"scheme\": \"w4g32\"}]");
  std::string passes;
  for (const auto& p : pass_table) passes += std::string(passes.empty() ? "" : ", ") + p.command;
  passes += ", verify";
  out["steps"] = nlohmann::json::array();
  for (size_t i = 0; i < doc["steps"].size(); ++i) {
    const nlohmann::json& step = doc["steps"][i];
    const std::string path = "steps[" + std::to_string(i) + "]";
    if (!step.is_object()) return problem(label, path, "must be an object with a \"pass\" key, not " + step.dump());
    if (!step.contains("pass") || !step["pass"].is_string()) return problem(label, path + ".pass", "missing or not a string (one of: " + passes + ")");
    const std::string pass = step["pass"];
    Expected<nlohmann::json> resolved = problem(label, path + ".pass", "'" + pass + "' is not a pass (available: " + passes + ")");
    if (pass == "prune") resolved = resolve_prune(step, label, path);
    else if (pass == "quantize") resolved = resolve_quantize(step, label, path);
    else if (pass == "pack") resolved = resolve_section(step, {&recipe_section_options("pack")}, label, path, {"pass"});
    else if (pass == "verify") resolved = resolve_verify(step, label, path);
    if (!resolved.ok()) return resolved.status();
    out["steps"].push_back(std::move(resolved).value());
  }
  EP_RETURN_IF_ERROR(check_step_order(out["steps"], label));
  bool calibrated = false;
  for (size_t i = 0; i < out["steps"].size(); ++i)
    if (needs_calibration(out["steps"][i])) {
      calibrated = true;
      if (!doc.contains("calibration"))
        return problem(label, "steps[" + std::to_string(i) + "].method",
                       "'" + out["steps"][i]["method"].get<std::string>() + "' needs calibration data: add \"calibration\": {\"data\": TEXT or .npy folder}");
    }
  if (doc.contains("calibration")) {
    if (!calibrated) return problem(label, "calibration", "no step uses calibration data (quantize method gptq, prune method wanda or sparsegpt need it)");
    EP_ASSIGN_OR_RETURN(nlohmann::json c, resolve_section(doc["calibration"], {&recipe_section_options("calibration")}, label, "calibration", {}));
    if (given(c, "data") == given(c, "windows"))
      return problem(label, "calibration", given(c, "data") ? "give data or windows, not both" : "needs data (a text file, or a folder of .npy input sets) or windows (JSON token windows)");
    if (given(c, "windows") && given(c, "range")) return problem(label, "calibration.range", "applies to data text, not to windows");
    out["calibration"] = c;
  }
  return out;
}

Expected<nlohmann::json> load_recipe(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return bad_usage(path + ": cannot read the recipe file");
  std::stringstream text;
  text << in.rdbuf();
  auto doc = parse_strict_json(text.str(), {});
  if (!doc.ok()) return bad_usage(path + ": not valid JSON: " + doc.status().message());
  return resolve_recipe(*doc, path);
}

nlohmann::json default_recipe() {
  auto resolved = resolve_recipe({{"edgepack_recipe", recipe_format_version}, {"steps", {{{"pass", "quantize"}}, {{"pass", "pack"}}}}}, "default recipe");
  return resolved.value();
}

Status check_recipe_for_model(const nlohmann::json& resolved, recipe_model_kind kind, const std::string& label) {
  const bool lm = kind == recipe_model_kind::language_model;
  const std::string model_kind = lm ? "a language model" : "a graph (ONNX) model";
  if (resolved.contains("calibration")) {
    const auto& c = resolved["calibration"];
    if (!lm && given(c, "windows")) return problem(label, "calibration.windows", "token windows calibrate language models; the model is " + model_kind + ": give data, a folder of .npy input sets");
    if (!lm && given(c, "range")) return problem(label, "calibration.range", "applies to calibration text of language models; the model is " + model_kind);
  }
  for (size_t i = 0; i < resolved["steps"].size(); ++i) {
    const auto& s = resolved["steps"][i];
    if (s["pass"] != "verify") continue;
    const std::string path = "steps[" + std::to_string(i) + "]";
    if (lm && given(s, "inputs"))
      return problem(label, path + ".inputs", "the model is " + model_kind + ": verify it on text with data and max_kld / max_ppl_increase / min_top1");
    if (!lm && given(s, "data"))
      return problem(label, path + ".data", "the model is " + model_kind + ": verify it with inputs (.npy input sets) and min_cosine / max_nmse / task");
  }
  return Status::ok_status();
}

std::string canonical_recipe_text(const nlohmann::json& resolved) { return resolved.dump(); }

std::string recipe_sha256(const nlohmann::json& resolved) {
  const std::string text = canonical_recipe_text(resolved);
  return sha256::hex(std::as_bytes(std::span(text.data(), text.size())));
}

std::string resolve_recipe_path(const std::string& recipe_file, const std::string& path) {
  const std::filesystem::path p(path);
  if (path.empty() || p.is_absolute() || recipe_file.empty()) return path;
  return (std::filesystem::path(recipe_file).parent_path() / p).lexically_normal().string();
}

const nlohmann::json* find_recipe_step(const nlohmann::json& resolved, const std::string& pass) {
  for (const auto& s : resolved["steps"])
    if (s["pass"] == pass) return &s;
  return nullptr;
}

}  // namespace edgepack
