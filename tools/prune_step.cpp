#include "tools/prune_step.h"

#include <optional>

#include "calibration/calib_windows.h"
#include "core/sparsity.h"
#include "passes/pack_sparse.h"
#include "tools/progress.h"

namespace edgepack::cli {

Status check_prune_command(const prune_args& args) {
  EP_ASSIGN_OR_RETURN(prune_method method, parse_prune_method(args.method));
  EP_ASSIGN_OR_RETURN(compression_scheme scheme, parse_default_prune_scheme(args));
  EP_ASSIGN_OR_RETURN(std::vector<prune_override> overrides, parse_prune_overrides(args.calib.overrides));
  EP_RETURN_IF_ERROR(check_prune_args(args, method, scheme, overrides));
  if (method != prune_method::magnitude) EP_RETURN_IF_ERROR(parse_calib_sampling(args.calib.calib_sampling).status());
  return Status::ok_status();
}

Expected<prune_step_output> run_prune_step(const model& m, const prune_args& args) {
  EP_ASSIGN_OR_RETURN(prune_method method, parse_prune_method(args.method));
  EP_ASSIGN_OR_RETURN(compression_scheme scheme, parse_default_prune_scheme(args));
  EP_ASSIGN_OR_RETURN(std::vector<prune_override> overrides, parse_prune_overrides(args.calib.overrides));
  EP_ASSIGN_OR_RETURN(std::vector<selected_weight> selected, select_weights(m.g, {args.include, args.exclude, args.min_elements}));
  if (selected.empty()) {
    if (m.g.nodes.empty()) return bad_usage(args.input + ": a bare tensor file has no graph to find linear layers in; choose tensors with --include REGEX");
    return bad_usage(args.input + ": no tensor selected for pruning: no dense float weight of at least " + std::to_string(args.min_elements) +
                     " elements is read only as the weight of MatMul, Gemm, Conv, ConvTranspose, LSTM, GRU or RNN nodes (check --include/--exclude/--min-elements)");
  }
  prune_model_options options;
  options.method = method;
  options.magnitude_scope = options.calibrated_scope = prune_scope(args, method);
  options.global = args.global;
  options.damp = args.calib.damp;
  options.block_size = args.calib.block_size;
  options.scale_search_steps = args.scale_search;
  options.threads = globals().threads;
  for (const auto& s : selected) {
    compression_scheme chosen = scheme;
    for (const auto& o : overrides)
      if (std::regex_search(s.name, o.regex)) {
        chosen = o.scheme;
        break;
      }
    const sparsity_pattern& p = *chosen.sparsity;
    if (p.kind == sparsity_kind::unstructured && p.fraction == 0 && !chosen.weights) continue;  // s0: stays as it is
    prune_weight_plan plan;
    plan.view = encoding_for(chosen.weights.value_or(quant_encoding{}), s.view);
    plan.pattern = p;
    if (chosen.weights) plan.quantize = plan.view;
    const tensor& w = m.g.weights.at(s.name);
    const int64_t cols = quant_view_of(w.shape, plan.view).cols;
    if (p.kind == sparsity_kind::n_of_m && cols < p.m)
      return bad_usage("tensor '" + s.name + "' " + shape_to_string(w.shape) + " has " + std::to_string(cols) + " columns in its matrix view, fewer than M = " +
                       std::to_string(p.m) + " of " + sparsity_pattern_name(p) + "; exclude it (--exclude) or give it another pattern (--override)");
    if (args.global && p.kind != sparsity_kind::unstructured)
      return bad_usage("--global applies to unstructured sparsity; --override gives tensor '" + s.name + "' " + sparsity_pattern_name(p));
    options.weights[s.name] = plan;
  }
  if (options.weights.empty()) return bad_usage(args.input + ": every selected tensor was overridden to s0; nothing to prune");
  std::vector<tensor_map> windows;
  nlohmann::json calibration;
  if (method != prune_method::magnitude) {
    EP_ASSIGN_OR_RETURN(windows, calibration_inputs(m, args.calib, calibration));
  }
  const std::string scheme_text =
      !args.scheme.empty() ? args.scheme : sparsity_pattern_name(*scheme.sparsity);
  std::optional<progress_bar> bar;
  options.progress = [&](int64_t done, int64_t total, const std::string&) {
    if (!bar) bar.emplace(std::string(method == prune_method::magnitude ? "pruning " : "pruning, true sequential, ") + args.method + " " + scheme_text, total);
    bar->update(done);
    if (done == total) bar->finish();
  };
  EP_ASSIGN_OR_RETURN(prune_model_result r, prune_model(m, windows, options));
  if (method != prune_method::magnitude)
    info(args.method + ": " + std::to_string(r.stages) + " stages; forward " + std::to_string(r.seconds_forward) + " s, Hessians " +
         std::to_string(r.seconds_hessian) + " s, pruning " + std::to_string(r.seconds_prune) + " s");

  // Packing (unless --no-pack): each pruned weight in its matrix view, when the sparse layout is
  // smaller than the dense one (N:M always is; a bitmask pays off above ~1/32 sparsity for f32).
  std::map<std::string, std::string> layouts;
  if (!args.no_pack) {
    for (auto& [name, t] : r.weights) {
      const prune_weight_plan& plan = options.weights.at(name);
      tensor candidate = t;
      if (!candidate.is_quantized()) {
        candidate.quant.col_axis = plan.view.col_axis;
        candidate.quant.transposed = plan.view.transposed;
      }
      const std::optional<uint64_t> bytes = packed_sparse_bytes(candidate, plan.pattern);
      if (!bytes || *bytes >= t.stored_bytes()) continue;
      auto packed = pack_sparse_tensor(candidate, plan.pattern);
      if (!packed.ok()) return packed.status().with_context("packing tensor '" + name + "'");
      t = std::move(packed).value();
      layouts[name] = sparse_encoding_name(t.sparsity);
    }
  }
  for (auto& j : r.tensors) {
    const std::string name = j["name"];
    j["layout"] = layouts.count(name) ? layouts.at(name) : "dense";
    j["bytes_after"] = r.weights.at(name).stored_bytes();
  }
  prune_step_output result;
  result.step.out = m;
  for (auto& [name, t] : r.weights) result.step.out.g.weights[name] = std::move(t);
  nlohmann::json recorded = {{"method", args.method}, {"scheme", scheme_text}, {"include", args.include}, {"exclude", args.exclude},
                             {"scope", prune_scope_name(args, method, scheme)},
                             {"packed", !args.no_pack}};
  if (args.min_elements != default_min_quantized_elements) recorded["min_elements"] = args.min_elements;
  if (!args.calib.overrides.empty()) recorded["overrides"] = args.calib.overrides;
  if (method != prune_method::magnitude) {
    recorded["calibration"] = calibration;
    recorded["stages"] = r.stages;
    recorded["windows"] = r.windows;
  }
  if (method == prune_method::sparsegpt) {
    recorded["damp"] = args.calib.damp;
    recorded["block_size"] = args.calib.block_size;
  }
  result.step.extra = {{"pass", {{"pass", "prune"}, {"method", args.method}, {"scheme", scheme_text}, {"tensors", r.tensors}}}, {"options", recorded}};
  result.step.summary = std::to_string(r.tensors.size()) + " tensors pruned (" + args.method + ", " + scheme_text + ")";
  result.tensors = std::move(r.tensors);
  return result;
}

}  // namespace edgepack::cli
