#include "tools/verify_onnx.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "runtime_ref/input_sets.h"
#include "runtime_ref/interpreter.h"
#include "runtime_ref/metrics.h"
#include "runtime_ref/task_check.h"

namespace edgepack::cli {

namespace {

// Float view of any numeric output (int64 outputs are compared as numbers too).
Expected<std::vector<float>> output_values(const tensor& t) {
  if (t.type == dtype::i64 && !t.is_quantized()) {
    std::vector<float> v(static_cast<size_t>(t.numel()));
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(t.data_as<int64_t>()[i]);
    return v;
  }
  return to_float_vector(t);
}

struct output_summary {
  std::string name;
  output_comparison worst{1.0, 0.0, 0.0};  // min cosine, max NMSE, max max-abs
  std::string worst_cosine_case;
  std::string worst_nmse_case;
};

struct task_summary {
  task_spec spec;
  int64_t checked = 0;
  int64_t kept = 0;
  double min_agreement = 1.0;
};

// Worst-case aggregation that keeps NaN visible (a NaN output must fail every check).
void take_worst(output_summary& s, const output_comparison& c, const std::string& where) {
  if (!(c.cosine >= s.worst.cosine)) {
    s.worst.cosine = c.cosine;
    s.worst_cosine_case = where;
  }
  if (!(c.nmse <= s.worst.nmse)) {
    s.worst.nmse = c.nmse;
    s.worst_nmse_case = where;
  }
  if (!(c.max_abs <= s.worst.max_abs)) s.worst.max_abs = c.max_abs;
}

std::string single_quoted(const std::string& s) { return "'" + s + "'"; }

}  // namespace

Expected<verify_outcome> verify_graph_outputs(const onnx_verify_args& args, const model* preloaded, const model* preloaded_base) {
  const bool check_cosine = args.min_cosine >= -1.0;
  const bool check_nmse = args.max_nmse >= 0.0;
  if (!check_cosine && !check_nmse && args.tasks.empty())
    return bad_usage("verify --inputs needs at least one check: --min-cosine, --max-nmse or --task");
  std::vector<task_summary> tasks;
  for (const auto& text : args.tasks) {
    EP_ASSIGN_OR_RETURN(task_spec spec, parse_task_spec(text));
    spec.min_agreement = args.min_map_agreement;
    tasks.push_back({std::move(spec)});
  }
  std::optional<model> loaded_base, loaded;
  if (!preloaded_base) {
    EP_ASSIGN_OR_RETURN(loaded_base, load(args.base_path, args.load));
  }
  if (!preloaded) {
    EP_ASSIGN_OR_RETURN(loaded, load(args.model_path, args.load));
  }
  const model& base = preloaded_base ? *preloaded_base : *loaded_base;
  const model& m = preloaded ? *preloaded : *loaded;
  if (base.g.outputs.empty()) return bad_input(args.base_path + ": the model has no graph outputs to compare");
  for (const auto& in : base.g.inputs)
    if (std::none_of(m.g.inputs.begin(), m.g.inputs.end(), [&](const value_info& v) { return v.name == in.name; }))
      return bad_input(args.model_path + ": graph input '" + in.name + "' of " + args.base_path + " is not an input of this model");
  for (const auto& out : base.g.outputs)
    if (std::none_of(m.g.outputs.begin(), m.g.outputs.end(), [&](const value_info& v) { return v.name == out.name; }))
      return bad_input(args.model_path + ": graph output '" + out.name + "' of " + args.base_path + " is not an output of this model");
  EP_ASSIGN_OR_RETURN(std::vector<input_case> cases, read_input_cases(args.inputs_dir, base.g));
  auto base_run = interpreter::create(base.g);
  if (!base_run.ok()) return base_run.status().with_context(args.base_path);
  auto model_run = interpreter::create(m.g);
  if (!model_run.ok()) return model_run.status().with_context(args.model_path);

  std::vector<output_summary> outputs;
  for (const auto& out : base.g.outputs) {
    outputs.emplace_back();
    outputs.back().name = out.name;
  }
  nlohmann::json case_reports = nlohmann::json::array();
  if (args.text_output) std::printf("%-28s %-24s %12s %12s %12s\n", "case", "output", "cosine", "nmse", "max_abs");
  for (const auto& c : cases) {
    info("verifying case " + c.name + " (" + std::to_string(c.steps.size()) + " step(s))");
    tensor_map base_state, model_state;  // previous step's outputs, for state_carry
    for (size_t s = 0; s < c.steps.size(); ++s) {
      tensor_map base_inputs = c.steps[s], model_inputs = c.steps[s];
      if (s > 0)
        for (const auto& [input, output] : c.state_carry) {
          base_inputs[input] = base_state.at(output);
          model_inputs[input] = model_state.at(output);
        }
      auto base_out = base_run->run(base_inputs);
      if (!base_out.ok()) return base_out.status().with_context(args.base_path + ": case " + c.name);
      auto model_out = model_run->run(model_inputs);
      if (!model_out.ok()) return model_out.status().with_context(args.model_path + ": case " + c.name);
      const std::string where = c.steps.size() == 1 ? c.name : c.name + "/step_" + std::to_string(s);
      nlohmann::json report = {{"case", c.name}, {"outputs", nlohmann::json::array()}, {"tasks", nlohmann::json::array()}};
      if (c.steps.size() > 1) report["step"] = s;
      for (auto& summary : outputs) {
        const tensor& ref = base_out->at(summary.name);
        const auto found = model_out->find(summary.name);
        if (found == model_out->end()) return bad_input(args.model_path + ": case " + where + ": output '" + summary.name + "' was not produced");
        if (found->second.shape != ref.shape)
          return bad_input(args.model_path + ": case " + where + ": output '" + summary.name + "' has shape " + shape_to_string(found->second.shape) + ", " +
                           args.base_path + " gives " + shape_to_string(ref.shape));
        EP_ASSIGN_OR_RETURN(std::vector<float> expected, output_values(ref));
        EP_ASSIGN_OR_RETURN(std::vector<float> actual, output_values(found->second));
        const output_comparison cmp = compare_outputs(expected, actual);
        take_worst(summary, cmp, where);
        report["outputs"].push_back({{"name", summary.name}, {"shape", ref.shape}, {"cosine", cmp.cosine}, {"nmse", cmp.nmse}, {"max_abs", cmp.max_abs}});
        if (args.text_output) std::printf("%-28s %-24s %12.8f %12.4e %12.4e\n", where.c_str(), summary.name.c_str(), cmp.cosine, cmp.nmse, cmp.max_abs);
      }
      const std::string& first = base.g.outputs.front().name;
      for (auto& task : tasks) {
        auto outcome = check_task(task.spec, model_out->at(first), base_out->at(first));
        if (!outcome.ok()) return outcome.status().with_context(args.model_path + ": case " + where + ": output '" + first + "': --task " + task.spec.text);
        ++task.checked;
        task.kept += outcome->kept;
        task.min_agreement = std::min(task.min_agreement, outcome->agreement);
        nlohmann::json t = {{"task", task.spec.text}, {"output", first}, {"agreement", outcome->agreement}, {"kept", outcome->kept}};
        if (task.spec.kind != task_kind::binary_map) {
          t["model"] = outcome->model_answer;
          t["against"] = outcome->base_answer;
        }
        report["tasks"].push_back(t);
        if (args.text_output) {
          if (task.spec.kind == task_kind::binary_map)
            std::printf("  %-4s %s: %.4f%% of elements agree\n", outcome->kept ? "ok" : "FAIL", task_kind_name(task.spec.kind), 100.0 * outcome->agreement);
          else
            std::printf("  %-4s %s: %s (against %s)\n", outcome->kept ? "ok" : "FAIL", task_kind_name(task.spec.kind), single_quoted(outcome->model_answer).c_str(),
                        single_quoted(outcome->base_answer).c_str());
        }
      }
      case_reports.push_back(report);
      base_state = std::move(base_out).value();
      model_state = std::move(model_out).value();
    }
  }

  bool passed = true;
  nlohmann::json checks = nlohmann::json::array();
  auto record = [&](const std::string& check, const std::string& output, double value, double limit, bool ok, const std::string& where) {
    passed = passed && ok;
    nlohmann::json j = {{"check", check}, {"value", value}, {"limit", limit}, {"passed", ok}};
    if (!output.empty()) j["output"] = output;
    if (!where.empty()) j["case"] = where;
    checks.push_back(j);
  };
  for (const auto& s : outputs) {
    if (check_cosine) {
      const bool ok = s.worst.cosine >= args.min_cosine;
      record("min_cosine", s.name, s.worst.cosine, args.min_cosine, ok, s.worst_cosine_case);
      if (args.text_output) std::printf("%-4s %s: min cosine %.8f (min %.8f)\n", ok ? "ok" : "FAIL", s.name.c_str(), s.worst.cosine, args.min_cosine);
    }
    if (check_nmse) {
      const bool ok = s.worst.nmse <= args.max_nmse;
      record("max_nmse", s.name, s.worst.nmse, args.max_nmse, ok, s.worst_nmse_case);
      if (args.text_output) std::printf("%-4s %s: max nmse %.4e (max %.4e)\n", ok ? "ok" : "FAIL", s.name.c_str(), s.worst.nmse, args.max_nmse);
    }
  }
  for (const auto& t : tasks) {
    const bool ok = t.kept == t.checked;
    const double limit = t.spec.kind == task_kind::binary_map ? t.spec.min_agreement : 1.0;
    record("task:" + t.spec.text, base.g.outputs.front().name, t.min_agreement, limit, ok, "");
    if (args.text_output)
      std::printf("%-4s task %s: kept in %lld of %lld runs (min agreement %.6f)\n", ok ? "ok" : "FAIL", t.spec.text.c_str(), static_cast<long long>(t.kept),
                  static_cast<long long>(t.checked), t.min_agreement);
  }
  verify_outcome outcome;
  outcome.passed = passed;
  nlohmann::json summary = nlohmann::json::array();
  double cosine_min = 1.0, nmse_max = 0.0;
  for (const auto& s : outputs) {
    summary.push_back({{"name", s.name}, {"min_cosine", s.worst.cosine}, {"max_nmse", s.worst.nmse}, {"max_abs", s.worst.max_abs}});
    if (!(s.worst.cosine >= cosine_min)) cosine_min = s.worst.cosine;
    if (!(s.worst.nmse <= nmse_max)) nmse_max = s.worst.nmse;
  }
  outcome.result = {{"model", args.model_path}, {"against", args.base_path}, {"inputs", args.inputs_dir}, {"cases", case_reports},
                    {"outputs", summary},        {"checks", checks},          {"passed", passed}};
  outcome.metrics = {{"cosine_min", cosine_min}, {"nmse_max", nmse_max}, {"cases", cases.size()}};
  for (const auto& t : tasks) outcome.metrics["task_agreement_min"] = std::min(outcome.metrics.value("task_agreement_min", 1.0), t.min_agreement);
  if (args.text_output)
    std::printf("%s: %s (%zu case(s) against %s)\n", args.model_path.c_str(), passed ? "verification passed" : "verification FAILED", cases.size(),
                args.base_path.c_str());
  return outcome;
}

}  // namespace edgepack::cli
