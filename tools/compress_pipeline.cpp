#include "tools/compress_pipeline.h"

#include <sys/resource.h>

#include <chrono>
#include <fstream>

#include "tools/prune_step.h"

namespace edgepack::cli {

namespace {

// Peak resident memory of one step: Linux resets the high-water mark (VmHWM) when "5" is written to
// /proc/self/clear_refs, so each step's peak is its own. Elsewhere ru_maxrss (the process peak so far).
void reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  if (clear) clear << "5";
}

int64_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.starts_with("VmHWM:")) return std::stoll(line.substr(6)) * 1024;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

std::string step_label(size_t i) { return "steps[" + std::to_string(i) + "]"; }

// A command's check names its flag ("--override 'x' must ..."); the recipe key is the flag's name
// with '_' for '-' (".overrides" for --override), so the message points at the key to fix.
std::string flag_key(const std::string& message) {
  if (!message.starts_with("--")) return "";
  std::string key = message.substr(2, message.find_first_of(" /'") - 2);
  for (auto& c : key)
    if (c == '-') c = '_';
  if (key == "override") key = "overrides";
  if (key == "calib" || key.starts_with("calib_")) return "";  // calibration keys live in "calibration"
  return "." + key;
}

Expected<verify_outcome> run_verify(const recipe_source& recipe, const nlohmann::json& step, const model& input, const std::string& input_path,
                                    const model& current, const std::string& output_path) {
  eval_args text;
  llm_thresholds limits;
  onnx_verify_args graph;
  verify_args_from(recipe, step, [](const std::string&) { return false; }, text, limits, graph);
  if (!graph.inputs_dir.empty()) {
    graph.model_path = output_path;
    graph.base_path = input_path;
    graph.text_output = false;
    return verify_graph_outputs(graph, &current, &input);
  }
  text.model_path = output_path;
  text.base_path = input_path;
  return verify_language_model(text, limits, false, &current, &input);
}

}  // namespace

Status check_pipeline_args(const recipe_source& recipe) {
  const nlohmann::json& steps = recipe.resolved["steps"];
  for (size_t i = 0; i < steps.size(); ++i) {
    const nlohmann::json& step = steps[i];
    Status s;
    if (step["pass"] == "prune") s = check_prune_command(prune_args_from(recipe, step));
    else if (step["pass"] == "quantize") s = check_quantize_args(quantize_args_from(recipe, step));
    else if (step["pass"] == "pack") s = check_pack_args(pack_args_from(step));
    if (!s.ok()) return s.with_context(recipe.file + ": " + step_label(i) + flag_key(s.message()));
  }
  return Status::ok_status();
}

Expected<pipeline_result> run_pipeline(const recipe_source& recipe, const model& input, const std::string& input_path, const std::string& output_path) {
  pipeline_result result;
  result.out = input;
  const nlohmann::json& steps = recipe.resolved["steps"];
  for (size_t i = 0; i < steps.size(); ++i) {
    const nlohmann::json& step = steps[i];
    const std::string pass = step["pass"];
    info("step " + std::to_string(i + 1) + "/" + std::to_string(steps.size()) + ": " + pass);
    reset_peak_rss();
    const auto start = std::chrono::steady_clock::now();
    nlohmann::json entry = {{"name", pass}, {"summary", ""}, {"stats", nlohmann::json::object()}};
    if (pass == "verify") {
      auto outcome = run_verify(recipe, step, input, input_path, result.out, output_path);
      if (!outcome.ok()) return outcome.status().with_context(step_label(i) + " (verify)");
      result.passed = outcome->passed;
      result.quality = {{"metrics", outcome->metrics}, {"thresholds", recipe_thresholds(step)}, {"passed", outcome->passed}};
      entry["summary"] = outcome->passed ? "verification passed" : "verification FAILED";
      entry["stats"] = {{"checks", outcome->result["checks"]}};
    } else {
      Expected<step_output> done = internal_error("unreachable: the recipe was resolved");
      nlohmann::json pack_stats;
      if (pass == "prune") {
        auto pruned = run_prune_step(result.out, prune_args_from(recipe, step));
        if (pruned.ok()) done = std::move(pruned->step);
        else done = pruned.status();
      } else if (pass == "quantize") {
        done = run_quantize_step(result.out, quantize_args_from(recipe, step));
      } else if (pass == "pack") {
        done = run_pack_step(result.out, pack_args_from(step), pack_stats);
      }
      if (!done.ok()) return done.status().with_context(step_label(i) + " (" + pass + ")");
      result.out = std::move(done->out);
      entry["summary"] = done->summary;
      entry["stats"] = done->extra;
    }
    entry["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    entry["peak_rss_bytes"] = peak_rss_bytes();
    info("  " + entry["summary"].get<std::string>() + " (" + std::to_string(entry["seconds"].get<double>()) + " s, peak RSS " +
         std::to_string(entry["peak_rss_bytes"].get<int64_t>() >> 20) + " MiB)");
    result.passes.push_back(std::move(entry));
  }
  return result;
}

}  // namespace edgepack::cli
