#include "tools/recipe_args.h"

#include "passes/recipe.h"

namespace edgepack::cli {

namespace {

std::string str(const nlohmann::json& step, const char* key) { return step[key].is_null() ? "" : step[key].get<std::string>(); }

// Calibration (recipe "calibration") and the solver options of the step (damp, block size, overrides).
gptq_cli_args solver_args_from(const recipe_source& recipe, const nlohmann::json& step) {
  gptq_cli_args a;
  if (recipe.resolved.contains("calibration")) {
    const auto& c = recipe.resolved["calibration"];
    a.calib = resolve_recipe_path(recipe.file, c["data"]);
    a.calib_windows = resolve_recipe_path(recipe.file, c["windows"]);
    a.calib_range = c["range"];
    a.calib_samples = c["samples"];
    a.calib_seq = c["seq"];
    a.calib_seed = c["seed"];
    a.calib_sampling = c["sampling"];
  }
  a.damp = step["damp"];
  a.block_size = step["block_size"];
  a.overrides = step["overrides"].get<std::vector<std::string>>();
  return a;
}

}  // namespace

prune_args prune_args_from(const recipe_source& recipe, const nlohmann::json& step) {
  prune_args a;
  a.method = step["method"];
  if (!step["sparsity"].is_null()) a.sparsity = step["sparsity"].dump();  // the shortest text that reads back as the same double
  a.pattern = str(step, "pattern");
  a.scheme = str(step, "scheme");
  a.global = step["global"];
  a.per_row = step["per_row"];
  a.per_tensor = step["per_tensor"];
  a.no_pack = true;  // a recipe packs in its pack step
  a.include = step["include"];
  a.exclude = step["exclude"];
  a.min_elements = step["min_elements"];
  a.scale_search = step["scale_search"];
  a.calib = solver_args_from(recipe, step);
  return a;
}

quantize_args quantize_args_from(const recipe_source& recipe, const nlohmann::json& step) {
  quantize_args a;
  a.method = step["method"];
  a.scheme = step["scheme"];
  a.include = step["include"];
  a.exclude = step["exclude"];
  a.min_elements = step["min_elements"];
  a.scale_search = step["scale_search"];
  a.gptq = solver_args_from(recipe, step);
  if (a.method != "gptq") a.gptq.calib = a.gptq.calib_windows = a.gptq.calib_range = "";  // calibration belongs to another step
  a.gptq.act_order = step["act_order"];
  a.gptq.static_groups = step["static_groups"];
  a.gptq.float_targets = step["float_targets"];
  a.gptq.refine = step["refine"];
  a.gptq.tune_epochs = step["tune_epochs"];
  a.gptq.tune_lr = step["tune_lr"];
  a.gptq.tune_code_lr = step["tune_code_lr"];
  a.gptq.tune_batch = step["tune_batch"];
  a.gptq.tune_norms = step["tune_norms"];
  return a;
}

pack_args pack_args_from(const nlohmann::json& step) {
  pack_args a;
  a.pattern = step["pattern"];
  a.no_bitmask = step["no_bitmask"];
  a.no_n_of_m = step["no_n_of_m"];
  a.min_elements = step["min_elements"];
  return a;
}

void verify_args_from(const recipe_source& recipe, const nlohmann::json& step, const std::function<bool(const std::string&)>& keep, eval_args& text,
                      llm_thresholds& limits, onnx_verify_args& graph) {
  auto take = [&](const char* key, auto& target, auto value) {
    if (step.contains(key) && !keep(key)) target = value;
  };
  auto number = [&](const char* key, double unset) { return step.contains(key) && !step[key].is_null() ? step[key].get<double>() : unset; };
  if (step.contains("data")) {
    take("data", text.data_path, resolve_recipe_path(recipe.file, step["data"]));
    take("range", text.range, step["range"].get<std::string>());
    take("ctx", text.ctx, step["ctx"].get<int64_t>());
    take("protocol", text.protocol, step["protocol"].get<std::string>());
    take("max_windows", text.max_windows, step["max_windows"].get<int64_t>());
    take("max_kld", limits.max_kld, number("max_kld", -1));
    take("max_ppl_increase", limits.max_ppl_increase, number("max_ppl_increase", -1));
    take("min_top1", limits.min_top1, number("min_top1", -1));
    return;
  }
  take("inputs", graph.inputs_dir, resolve_recipe_path(recipe.file, step["inputs"]));
  take("min_cosine", graph.min_cosine, number("min_cosine", -2));
  take("max_nmse", graph.max_nmse, number("max_nmse", -1));
  take("min_map_agreement", graph.min_map_agreement, step["min_map_agreement"].get<double>());
  std::vector<std::string> tasks;
  for (const auto& t : step["task"]) {
    std::string task = t;
    if (task.starts_with("ctc:")) task = "ctc:" + resolve_recipe_path(recipe.file, task.substr(4));  // the keys file
    tasks.push_back(task);
  }
  take("task", graph.tasks, tasks);
}

nlohmann::json recipe_thresholds(const nlohmann::json& step) {
  nlohmann::json t = nlohmann::json::object();
  for (const char* key : {"max_kld", "max_ppl_increase", "min_top1", "min_cosine", "max_nmse"})
    if (step.contains(key) && !step[key].is_null()) t[key] = step[key];
  if (step.contains("task") && !step["task"].empty()) {
    t["task"] = step["task"];
    t["min_map_agreement"] = step["min_map_agreement"];
  }
  return t;
}

}  // namespace edgepack::cli
