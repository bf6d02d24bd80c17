// edgepack verify MODEL --against BASE --data TEXT [thresholds]           (language models: tools/verify_llm.cpp)
// edgepack verify MODEL --against BASE --inputs DIR [thresholds] [--task T]  (graph models: tools/verify_onnx.cpp)
// edgepack verify MODEL --recipe R.json [--against BASE]  (data and thresholds from R's verify step)
// Exit 0 when every threshold holds, 1 when one fails (printing which), for CI gates.
#include <cstdio>

#include "formats/epk.h"
#include "passes/recipe.h"
#include "tools/recipe_args.h"
#include "tools/verify_llm.h"
#include "tools/verify_onnx.h"

namespace edgepack::cli {

namespace {

struct verify_command {
  eval_args text;
  llm_thresholds limits;
  onnx_verify_args graph;
  std::string recipe;
};

// --recipe: data, inputs and thresholds of the recipe's verify step, unless given on the command line.
// Without --against, the base is the input recorded by `compress` in the .epk (extra.report.input.path).
Status apply_recipe(verify_command& c, CLI::App& cmd) {
  EP_ASSIGN_OR_RETURN(nlohmann::json resolved, load_recipe(c.recipe));
  const nlohmann::json* step = find_recipe_step(resolved, "verify");
  if (!step) return bad_usage(c.recipe + ": steps: no verify step to take data and thresholds from");
  auto keep = [&cmd](const std::string& key) {
    std::string flag = "--" + key;
    for (auto& ch : flag)
      if (ch == '_') ch = '-';
    return cmd.get_option(flag)->count() > 0;
  };
  verify_args_from({resolved, c.recipe}, *step, keep, c.text, c.limits, c.graph);
  if (c.text.base_path.empty()) {
    auto meta = read_epk_metadata(c.text.model_path);
    if (!meta.ok()) return bad_usage("--recipe without --against needs an .epk written by 'edgepack compress' (it records its input): " + meta.status().message());
    const nlohmann::json input = meta->at("metadata").value("extra", nlohmann::json::object()).value("report", nlohmann::json::object()).value("input", nlohmann::json::object());
    if (!input.contains("path") || !input["path"].is_string())
      return bad_usage(c.text.model_path + ": records no compress input to verify against; give --against BASE");
    c.text.base_path = input["path"];
  }
  return Status::ok_status();
}

int verify(verify_command& c, CLI::App& cmd, const std::vector<CLI::Option*>& graph_only) {
  if (!c.recipe.empty()) {
    if (Status s = apply_recipe(c, cmd); !s.ok()) return report(s);
  } else if (c.text.base_path.empty()) {
    return report(bad_usage("verify needs --against BASE (the original model), or --recipe R.json with an .epk written by compress"));
  }
  const bool llm_option = c.limits.max_kld >= 0 || c.limits.max_ppl_increase >= 0 || c.limits.min_top1 >= 0 || !c.text.data_path.empty();
  Expected<verify_outcome> outcome = bad_usage("verify needs --data TEXT (language models) or --inputs DIR (graph models)");
  if (!c.graph.inputs_dir.empty()) {
    if (llm_option)
      return report(bad_usage("--inputs (graph models) cannot be combined with --data, --max-kld, --max-ppl-increase or --min-top1 (language models)"));
    c.graph.model_path = c.text.model_path;
    c.graph.base_path = c.text.base_path;
    c.graph.text_output = !c.text.json;
    c.graph.load = c.text.load;
    outcome = verify_graph_outputs(c.graph);
  } else {
    for (const CLI::Option* o : graph_only)
      if (o->count() > 0) return report(bad_usage(o->get_name() + " needs --inputs DIR (graph models)"));
    if (!c.text.data_path.empty()) outcome = verify_language_model(c.text, c.limits, !c.text.json);
  }
  if (!outcome.ok()) return report(outcome.status());
  if (c.text.json) print_json(outcome->result);
  return outcome->passed ? 0 : 1;
}

}  // namespace

void register_verify(CLI::App& app, int& exit_code) {
  auto c = std::make_shared<verify_command>();
  CLI::App* cmd = app.add_subcommand("verify", "Check a compressed model against its original on text (--data) or .npy inputs (--inputs); exit 1 when a threshold fails");
  add_eval_options(*cmd, c->text, true);
  cmd->get_option("--against")->required(false);  // or from the .epk with --recipe, checked in verify()
  cmd->get_option("--data")->required(false);     // --data or --inputs, checked below
  cmd->add_option("--recipe", c->recipe, "Take data/inputs and thresholds from this recipe's verify step (flags given here win)");
  cmd->add_option("--inputs", c->graph.inputs_dir, "Graph models: folder of .npy input sets (<input>.npy or input_<k>.npy, or case subfolders)");
  auto* min_cosine = cmd->add_option("--min-cosine", c->graph.min_cosine, "With --inputs: fail when an output's cosine similarity to the original's falls below this");
  auto* max_nmse = cmd->add_option("--max-nmse", c->graph.max_nmse, "With --inputs: fail when an output's NMSE ||a-b||^2/||b||^2 exceeds this")
                       ->check(CLI::NonNegativeNumber);
  auto* task = cmd->add_option("--task", c->graph.tasks, "With --inputs: task check on the first output: ctc:KEYS.txt, argmax, binary-map[:P] (repeat the option for several)")
                   ->allow_extra_args(false);
  auto* map_agreement = cmd->add_option("--min-map-agreement", c->graph.min_map_agreement, "binary-map task: fraction of elements that must agree")
                            ->capture_default_str()
                            ->check(CLI::Range(0.0, 1.0));
  const std::vector<CLI::Option*> graph_only = {min_cosine, max_nmse, task, map_agreement};
  cmd->add_option("--max-kld", c->limits.max_kld, "Fail when the mean KL divergence exceeds this")->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-ppl-increase", c->limits.max_ppl_increase, "Fail when ppl / base ppl - 1 exceeds this ratio (0.03 = +3 %)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--min-top1", c->limits.min_top1, "Fail when top-1 agreement falls below this fraction")->check(CLI::Range(0.0, 1.0));
  cmd->callback([c, cmd, graph_only, &exit_code] { exit_code = verify(*c, *cmd, graph_only); });
}

}  // namespace edgepack::cli
