// edgepack verify MODEL --against BASE --data TEXT [thresholds]           (language models)
// edgepack verify MODEL --against BASE --inputs DIR [thresholds] [--task T]  (graph models: tools/verify_onnx.cpp)
// Exit 0 when every threshold holds, 1 when one fails (printing which), for CI gates.
#include <cstdio>

#include "tools/eval_common.h"
#include "tools/verify_onnx.h"

namespace edgepack::cli {

namespace {
struct verify_thresholds {
  double max_kld = -1;
  double max_ppl_increase = -1;
  double min_top1 = -1;
};
}  // namespace

void register_verify(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<eval_args>();
  auto limits = std::make_shared<verify_thresholds>();
  auto graph_args = std::make_shared<onnx_verify_args>();
  CLI::App* cmd = app.add_subcommand("verify", "Check a compressed model against its original on text (--data) or .npy inputs (--inputs); exit 1 when a threshold fails");
  add_eval_options(*cmd, *args, true);
  cmd->get_option("--data")->required(false);  // --data or --inputs, checked below
  auto* inputs = cmd->add_option("--inputs", graph_args->inputs_dir, "Graph models: folder of .npy input sets (<input>.npy or input_<k>.npy, or case subfolders)");
  auto* min_cosine = cmd->add_option("--min-cosine", graph_args->min_cosine, "With --inputs: fail when an output's cosine similarity to the original's falls below this");
  auto* max_nmse = cmd->add_option("--max-nmse", graph_args->max_nmse, "With --inputs: fail when an output's NMSE ||a-b||^2/||b||^2 exceeds this")
                       ->check(CLI::NonNegativeNumber);
  auto* task = cmd->add_option("--task", graph_args->tasks, "With --inputs: task check on the first output: ctc:KEYS.txt, argmax, binary-map[:P] (repeat the option for several)")
                   ->allow_extra_args(false);
  auto* map_agreement = cmd->add_option("--min-map-agreement", graph_args->min_map_agreement, "binary-map task: fraction of elements that must agree")
                            ->capture_default_str()
                            ->check(CLI::Range(0.0, 1.0));
  const std::vector<CLI::Option*> graph_only = {min_cosine, max_nmse, task, map_agreement};
  cmd->add_option("--max-kld", limits->max_kld, "Fail when the mean KL divergence exceeds this")->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-ppl-increase", limits->max_ppl_increase, "Fail when ppl / base ppl - 1 exceeds this ratio (0.03 = +3 %)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--min-top1", limits->min_top1, "Fail when top-1 agreement falls below this fraction")->check(CLI::Range(0.0, 1.0));
  cmd->callback([args, limits, graph_args, inputs, graph_only, &exit_code] {
    const bool llm_option = limits->max_kld >= 0 || limits->max_ppl_increase >= 0 || limits->min_top1 >= 0 || !args->data_path.empty();
    if (inputs->count() > 0) {
      if (llm_option) {
        exit_code = report(bad_usage("--inputs (graph models) cannot be combined with --data, --max-kld, --max-ppl-increase or --min-top1 (language models)"));
        return;
      }
      graph_args->model_path = args->model_path;
      graph_args->base_path = args->base_path;
      graph_args->json = args->json;
      graph_args->load = args->load;
      auto passed = verify_graph_outputs(*graph_args);
      exit_code = passed.ok() ? (*passed ? 0 : 1) : report(passed.status());
      return;
    }
    for (const CLI::Option* o : graph_only)
      if (o->count() > 0) {
        exit_code = report(bad_usage(o->get_name() + " needs --inputs DIR (graph models)"));
        return;
      }
    if (args->data_path.empty()) {
      exit_code = report(bad_usage("verify needs --data TEXT (language models) or --inputs DIR (graph models)"));
      return;
    }
    if (limits->max_kld < 0 && limits->max_ppl_increase < 0 && limits->min_top1 < 0) {
      exit_code = report(bad_usage("verify needs at least one threshold: --max-kld, --max-ppl-increase or --min-top1"));
      return;
    }
    auto result = run_evaluation(*args);
    if (!result.ok()) {
      exit_code = report(result.status());
      return;
    }
    const double ppl_increase = result->ppl / *result->base_ppl - 1.0;
    nlohmann::json checks = nlohmann::json::array();
    bool passed = true;
    auto check = [&](const char* name, double value, double limit, bool upper) {
      if (limit < 0) return;
      const bool ok = upper ? value <= limit : value >= limit;
      passed = passed && ok;
      checks.push_back({{"check", name}, {"value", value}, {"limit", limit}, {"passed", ok}});
      if (!args->json)
        std::printf("%-4s %s = %.6f (%s %.6f)\n", ok ? "ok" : "FAIL", name, value, upper ? "max" : "min", limit);
    };
    check("kld_mean", *result->kld_mean, limits->max_kld, true);
    check("ppl_increase", ppl_increase, limits->max_ppl_increase, true);
    check("top1_agreement", *result->top1_agreement, limits->min_top1, false);
    if (args->json) {
      nlohmann::json out = eval_result_json(*result, *args);
      out["ppl_increase"] = ppl_increase;
      out["checks"] = checks;
      out["passed"] = passed;
      print_json(out);
    } else {
      std::printf("%s: %s\n", args->model_path.c_str(), passed ? "verification passed" : "verification FAILED");
    }
    exit_code = passed ? 0 : 1;
  });
}

}  // namespace edgepack::cli
