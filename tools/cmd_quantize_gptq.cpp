#include "tools/cmd_quantize_gptq.h"

#include <chrono>
#include <filesystem>

#include "calibration/calib_windows.h"
#include "calibration/text_source.h"
#include "passes/quant_tune.h"
#include "passes/quantize_gptq.h"
#include "passes/scheme.h"
#include "runtime_ref/input_sets.h"
#include "runtime_ref/llm_session.h"
#include "tools/progress.h"

namespace edgepack::cli {

void add_gptq_options(CLI::App& cmd, gptq_cli_args& args) {
  cmd.add_option("--calib", args.calib,
                 "GPTQ: LLMs: UTF-8 calibration text, cut into token windows with the model's tokenizer; ONNX models: a folder of "
                 ".npy input sets (the verify --inputs layout)");
  cmd.add_option("--calib-range", args.calib_range, "GPTQ: character range BEGIN:END of --calib (e.g. :200000); keep it disjoint from eval --range");
  cmd.add_option("--calib-windows", args.calib_windows, "GPTQ: JSON file with explicit token windows {\"windows\": [[ids...], ...]} instead of --calib");
  cmd.add_option("--calib-samples", args.calib_samples, "GPTQ: calibration windows")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd.add_option("--calib-seq", args.calib_seq, "GPTQ: tokens per window, BOS first")->capture_default_str()->check(CLI::Range(int64_t{2}, int64_t{1} << 20));
  cmd.add_option("--calib-seed", args.calib_seed, "GPTQ: seed of the random window starts")->capture_default_str();
  cmd.add_option("--calib-sampling", args.calib_sampling, "GPTQ: random (seeded starts) or sequential (consecutive windows)")->capture_default_str();
  cmd.add_option("--damp", args.damp, "GPTQ: dampening, fraction of the mean Hessian diagonal")->capture_default_str()->check(CLI::Range(0.0, 1e4));
  cmd.add_option("--block-size", args.block_size, "GPTQ: lazy-batch block width in columns")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd.add_flag("--act-order", args.act_order, "GPTQ: quantize columns by decreasing Hessian diagonal (implies --static-groups)");
  cmd.add_flag("--static-groups", args.static_groups, "GPTQ: group scales from the original weights");
  cmd.add_option("--override", args.overrides, "REGEX=SCHEME: tensors whose name matches use SCHEME (repeatable; the first match wins)");
}

void add_gptq_quantize_options(CLI::App& cmd, gptq_cli_args& args) {
  cmd.add_option("--refine", args.refine,
                 "GPTQ: afterwards refit each group's scale by Hessian-weighted least squares and run N coordinate-descent sweeps "
                 "over the codes against the layer's calibration error (0 = scales only; default: off)")
      ->check(CLI::Range(0, 100));
  cmd.add_flag("--float-targets", args.float_targets,
               "GPTQ: fit each layer to the float model's outputs (run beside the quantized one) instead of to its own float weight "
               "on the quantized model's inputs");
  cmd.add_option("--tune-epochs", args.tune_epochs,
                 "GPTQ, LLMs: afterwards tune the group scales, the codes (straight-through) and the RMSNorm gains end to end for N "
                 "passes over the calibration windows, minimising KL(float || quantized) of the next-token distributions; the "
                 "bits stay (default 0: off)")
      ->check(CLI::Range(int64_t{0}, int64_t{10000}));
  cmd.add_option("--tune-lr", args.tune_lr, "GPTQ: --tune-epochs initial Adam step on the log-scales (cosine decay to 0)")
      ->capture_default_str()
      ->check(CLI::Range(1e-6, 1.0));
  cmd.add_option("--tune-code-lr", args.tune_code_lr, "GPTQ: --tune-epochs step of the latent codes relative to --tune-lr (0: codes stay)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1000.0));
  cmd.add_option("--tune-batch", args.tune_batch, "GPTQ: --tune-epochs windows per step")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd.add_flag("!--tune-no-norms", args.tune_norms, "GPTQ: --tune-epochs leaves the RMSNorm gains as they are");
}

Expected<std::vector<scheme_override>> parse_scheme_overrides(const std::vector<std::string>& rules) {
  std::vector<scheme_override> result;
  for (const auto& rule : rules) {
    const auto eq = rule.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == rule.size())
      return bad_usage("--override '" + rule + "' must look like REGEX=SCHEME (e.g. 'down_proj=w8')");
    scheme_override o;
    o.pattern = rule.substr(0, eq);
    try {
      o.regex = std::regex(o.pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return bad_usage("--override '" + rule + "': invalid regular expression '" + o.pattern + "': " + e.what());
    }
    auto enc = parse_weight_scheme(rule.substr(eq + 1));
    if (!enc.ok()) return bad_usage("--override '" + rule + "': " + enc.status().message());
    o.encoding = *enc;
    result.push_back(std::move(o));
  }
  return result;
}

quant_encoding scheme_for(const std::string& name, const quant_encoding& fallback, const std::vector<scheme_override>& overrides) {
  for (const auto& o : overrides)
    if (std::regex_search(name, o.regex)) return o.encoding;
  return fallback;
}

Status check_calibration_args(const std::string& method, const gptq_cli_args& args) {
  const bool any_calib = !args.calib.empty() || !args.calib_windows.empty();
  if (method == "rtn") {
    if (any_calib) return bad_usage("--calib/--calib-windows need --method gptq (rtn uses no calibration data)");
    if (args.float_targets) return bad_usage("--float-targets needs --method gptq");
    if (args.refine >= 0) return bad_usage("--refine needs --method gptq (it refines GPTQ's codes against calibration data)");
    if (args.tune_epochs > 0) return bad_usage("--tune-epochs needs --method gptq (it tunes against calibration data)");
    return Status::ok_status();
  }
  if (method != "gptq") return bad_usage("--method '" + method + "' is not available (available: rtn, gptq)");
  if (!any_calib) return bad_usage("--method gptq needs calibration data: --calib TEXT (or --calib-windows FILE.json) for LLMs, --calib DIR of .npy input sets for ONNX models");
  if (!args.calib.empty() && !args.calib_windows.empty()) return bad_usage("give either --calib or --calib-windows, not both");
  if (!args.calib_windows.empty() && !args.calib_range.empty()) return bad_usage("--calib-range applies to --calib text, not to --calib-windows");
  EP_RETURN_IF_ERROR(parse_calib_sampling(args.calib_sampling).status());
  return Status::ok_status();
}

namespace {

Expected<gptq_cli_result> run_gptq_on(const model& m, const std::map<std::string, quant_encoding>& weights, const gptq_cli_args& args,
                                      int scale_search_steps, std::vector<tensor_map> inputs, gptq_cli_result out);

// --calib DIR for graph models: every case of DIR (read_input_cases: name order, so the samples
// are the same on every machine) is one calibration sample; at most --calib-samples of them.
Expected<std::vector<tensor_map>> graph_calibration_inputs(const model& m, const gptq_cli_args& args, nlohmann::json& calibration) {
  if (!args.calib_windows.empty()) return bad_usage("--calib-windows holds token ids for LLMs; calibrate this graph model with --calib DIR of .npy input sets");
  if (!args.calib_range.empty()) return bad_usage("--calib-range applies to --calib text of LLMs; this graph model calibrates on --calib DIR");
  std::error_code ec;
  if (!std::filesystem::is_directory(args.calib, ec))
    return bad_input(args.calib + ": --calib of a graph (ONNX) model must be a folder of .npy input sets (<input>.npy or input_<k>.npy, or case subfolders)");
  EP_ASSIGN_OR_RETURN(std::vector<input_case> cases, read_input_cases(args.calib, m.g));
  std::vector<tensor_map> inputs;
  nlohmann::json names = nlohmann::json::array();
  for (auto& c : cases) {
    if (c.steps.size() != 1)
      return bad_input(args.calib + "/" + c.name + ": multi-step (stateful) cases are not supported for calibration; give one input set per case");
    if (static_cast<int64_t>(inputs.size()) == args.calib_samples) break;
    inputs.push_back(std::move(c.steps.front()));
    names.push_back(c.name);
  }
  calibration = {{"inputs", args.calib}, {"samples", inputs.size()}, {"cases", names}};
  info("calibrating on " + std::to_string(inputs.size()) + " input sets from " + args.calib);
  return inputs;
}

}  // namespace

Expected<std::vector<tensor_map>> calibration_inputs(const model& m, const gptq_cli_args& args, nlohmann::json& calibration) {
  if (!m.llm) return graph_calibration_inputs(m, args, calibration);
  std::vector<tensor_map> inputs;
  calib_windows windows;
  if (!args.calib_windows.empty()) {
    EP_ASSIGN_OR_RETURN(windows, read_calibration_windows_json(args.calib_windows, m.llm->vocab_size));
    calibration = {{"windows_file", args.calib_windows}};
  } else {
    if (m.vocab.empty()) return bad_usage("the model has no tokenizer to cut --calib text with; pass --tokenizer tok.bin");
    EP_ASSIGN_OR_RETURN(std::string text, read_text_file(args.calib, {args.calib_range}));
    calib_window_options o;
    o.samples = args.calib_samples;
    o.seq = args.calib_seq;
    o.seed = args.calib_seed;
    EP_ASSIGN_OR_RETURN(o.sampling, parse_calib_sampling(args.calib_sampling));
    EP_ASSIGN_OR_RETURN(windows, make_calibration_windows(text, m.vocab, o, args.calib + (args.calib_range.empty() ? "" : " [" + args.calib_range + "]")));
    calibration = {{"file", args.calib},     {"range", args.calib_range}, {"samples", args.calib_samples}, {"seq", args.calib_seq},
                       {"seed", args.calib_seed}, {"sampling", args.calib_sampling}, {"stream_tokens", windows.stream_tokens}};
  }
  const int64_t seq = static_cast<int64_t>(windows.windows.front().size());
  if (seq > m.llm->max_seq_len)
    return bad_usage("calibration windows of " + std::to_string(seq) + " tokens exceed the model's context of " + std::to_string(m.llm->max_seq_len));
  calibration["windows"] = windows.windows.size();
  calibration["window_tokens"] = seq;
  inputs.resize(windows.windows.size());
  for (size_t k = 0; k < inputs.size(); ++k) {
    inputs[k]["input_ids"] = tensor::from_values<int64_t>(dtype::i64, {1, seq}, std::span<const int64_t>(windows.windows[k]));
    EP_RETURN_IF_ERROR(fill_llm_default_inputs(m, inputs[k]));
  }
  info("calibrating on " + std::to_string(inputs.size()) + " windows of " + std::to_string(seq) + " tokens");
  return inputs;
}

Expected<gptq_cli_result> run_gptq(const model& m, const std::map<std::string, quant_encoding>& weights, const gptq_cli_args& args,
                                   int scale_search_steps) {
  gptq_cli_result out;
  EP_ASSIGN_OR_RETURN(std::vector<tensor_map> inputs, calibration_inputs(m, args, out.calibration));
  return run_gptq_on(m, weights, args, scale_search_steps, std::move(inputs), std::move(out));
}

namespace {

// --tune-epochs: passes/quant_tune.h on GPTQ's result.
Status tune_end_to_end(const model& m, const std::vector<tensor_map>& inputs, const gptq_cli_args& args, gptq_cli_result& out) {
  quant_tune_options options;
  options.epochs = args.tune_epochs;
  options.learning_rate = args.tune_lr;
  options.batch_windows = args.tune_batch;
  options.norms = args.tune_norms;
  options.code_rate_factor = args.tune_code_lr;
  options.threads = globals().threads;
  std::optional<progress_bar> bar;
  options.progress = [&](int64_t done, int64_t total, double) {
    if (!bar) bar.emplace("tuning scales end to end", total);
    bar->update(done);
    if (done == total) bar->finish();
  };
  auto tuned = tune_quantized_model(m, out.quantized, inputs, options);
  if (!tuned.ok()) return tuned.status().with_context("--tune-epochs");
  quant_tune_result& r = *tuned;
  for (auto& [name, t] : r.weights) {
    if (out.quantized.count(name)) out.quantized[name] = std::move(t);
    else out.tuned_float[name] = std::move(t);
  }
  out.summary["tune"] = {{"epochs", args.tune_epochs},   {"learning_rate", args.tune_lr}, {"code_learning_rate", args.tune_code_lr},
                         {"batch_windows", args.tune_batch}, {"norms", options.norms},     {"steps", r.steps},
                         {"scales", r.scales},           {"gains", r.gains},             {"kl_first_epoch", r.kl_first_epoch},
                         {"kl_last_epoch", r.kl_last_epoch}};
  info("end-to-end tuning: calibration KL " + std::to_string(r.kl_first_epoch) + " (first epoch) -> " + std::to_string(r.kl_last_epoch) + " (last)");
  return Status::ok_status();
}

Expected<gptq_cli_result> run_gptq_on(const model& m, const std::map<std::string, quant_encoding>& weights, const gptq_cli_args& args,
                                      int scale_search_steps, std::vector<tensor_map> inputs, gptq_cli_result out) {
  quantize_gptq_options options;
  options.weights = weights;
  options.layer.damp = args.damp;
  options.layer.block_size = args.block_size;
  options.layer.act_order = args.act_order;
  options.layer.static_groups = args.static_groups || args.act_order;
  options.layer.scale_search_steps = scale_search_steps;
  options.float_targets = args.float_targets;
  if (args.refine >= 0) options.refine = quant_refine_options{.refit_scales = true, .sweeps = args.refine};
  options.threads = globals().threads;
  std::optional<progress_bar> bar;
  options.progress = [&](int64_t done, int64_t total, const std::string&) {
    if (!bar) bar.emplace("GPTQ, true sequential", total);
    bar->update(done);
    if (done == total) bar->finish();
  };
  EP_ASSIGN_OR_RETURN(quantize_gptq_result r, quantize_gptq_model(m, inputs, options));
  out.quantized = std::move(r.quantized);
  out.tensors = std::move(r.tensors);
  out.summary = {{"stages", r.stages},
                 {"windows", r.windows},
                 {"damp", args.damp},
                 {"block_size", args.block_size},
                 {"act_order", args.act_order},
                 {"static_groups", options.layer.static_groups}};
  if (args.refine >= 0) out.summary["refine_sweeps"] = args.refine;
  if (args.float_targets) out.summary["float_targets"] = true;
  if (args.tune_epochs > 0) EP_RETURN_IF_ERROR(tune_end_to_end(m, inputs, args, out));
  info("GPTQ: " + std::to_string(r.stages) + " stages; forward " + std::to_string(r.seconds_forward) + " s, Hessians " +
       std::to_string(r.seconds_hessian) + " s, quantization " + std::to_string(r.seconds_quantize) + " s");
  return out;
}

}  // namespace

}  // namespace edgepack::cli
