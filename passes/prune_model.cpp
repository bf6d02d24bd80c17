#include "passes/prune_model.h"

#include <chrono>

#include "core/dtype.h"
#include "passes/calibrated_stages.h"
#include "passes/prune_magnitude.h"
#include "passes/prune_wanda.h"
#include "passes/quantize_gptq.h"
#include "passes/sparsegpt.h"

namespace edgepack {

const char* prune_method_name(prune_method method) {
  switch (method) {
    case prune_method::magnitude: return "magnitude";
    case prune_method::wanda: return "wanda";
    case prune_method::sparsegpt: return "sparsegpt";
  }
  return "?";
}

namespace {

// A dense tensor of the original's shape and float dtype holding `values` (original layout).
tensor dense_like(const tensor& original, const std::vector<float>& values) {
  const dtype type = original.kind == encoding_kind::dense && (original.type == dtype::f16 || original.type == dtype::bf16) ? original.type : dtype::f32;
  tensor t = tensor::allocate(type, original.shape);
  if (type == dtype::f32) {
    std::copy(values.begin(), values.end(), t.mutable_data_as<float>());
  } else {
    uint16_t* out = t.mutable_data_as<uint16_t>();
    for (size_t i = 0; i < values.size(); ++i) out[i] = type == dtype::f16 ? f32_to_f16(values[i]) : f32_to_bf16(values[i]);
  }
  return t;
}

std::string scheme_name(const prune_weight_plan& plan) {
  std::string s = sparsity_pattern_name(plan.pattern);
  if (plan.quantize) s += "+" + quant_encoding_name(*plan.quantize);
  return s;
}

nlohmann::json base_stats(const std::string& name, const char* method, const prune_weight_plan& plan, const pruned_weight& p,
                          std::span<const float> w, const tensor& original, const tensor& result) {
  const int64_t elements = p.rows * p.cols;
  return {{"name", name},
          {"method", method},
          {"pattern", sparsity_pattern_name(plan.pattern)},
          {"scheme", scheme_name(plan)},
          {"elements", elements},
          {"pruned", p.pruned},
          {"sparsity", elements > 0 ? static_cast<double>(p.pruned) / static_cast<double>(elements) : 0.0},
          {"relative_error", relative_weight_error(w, p.values)},
          {"bytes_before", original.stored_bytes()},
          {"bytes_after", result.stored_bytes()}};
}

// The comparison group recorded in the stats: N:M is always decided per group of a row.
const char* scope_name(const prune_weight_plan& plan, mask_scope scope) {
  return plan.pattern.kind == sparsity_kind::n_of_m ? "group" : scope == mask_scope::per_row ? "row" : "tensor";
}

// Magnitude pruning of one weight in its view.
Expected<compressed_weight> magnitude_one(const std::string& name, const tensor& original, const prune_weight_plan& plan, mask_scope scope, int threads) {
  EP_ASSIGN_OR_RETURN(std::vector<float> dense, to_float_vector(original));
  const quant_matrix_view v = quant_view_of(original.shape, plan.view);
  const std::vector<float> w = to_view_matrix(dense, original.shape, plan.view);
  magnitude_options o;
  o.pattern = plan.pattern;
  o.scope = scope;
  o.threads = threads;
  EP_ASSIGN_OR_RETURN(pruned_weight p, prune_magnitude(w, v.rows, v.cols, o));
  compressed_weight c;
  c.weight = dense_like(original, from_view_matrix(p.values, original.shape, plan.view));
  c.stats = base_stats(name, "magnitude", plan, p, w, original, c.weight);
  c.stats["scope"] = scope_name(plan, scope);
  if (!p.warnings.empty()) c.stats["warnings"] = p.warnings;
  return c;
}

Expected<prune_model_result> prune_magnitude_model(const model& m, const prune_model_options& options) {
  prune_model_result result;
  std::map<std::string, nlohmann::json> stats;
  const int64_t total = static_cast<int64_t>(options.weights.size());
  int64_t done = 0;
  if (options.global) {
    // One threshold per distinct unstructured pattern (overrides may give several).
    std::map<std::string, std::vector<std::string>> by_pattern;
    for (const auto& [name, plan] : options.weights) {
      if (plan.pattern.kind != sparsity_kind::unstructured) return bad_usage("--global applies to unstructured sparsity only (tensor '" + name + "' is N:M)");
      by_pattern[sparsity_pattern_name(plan.pattern)].push_back(name);
    }
    for (const auto& [pattern_name, names] : by_pattern) {
      std::vector<std::vector<float>> views;
      std::vector<weight_matrix_ref> refs;
      views.reserve(names.size());
      for (const auto& name : names) {
        const tensor& original = m.g.weights.at(name);
        EP_ASSIGN_OR_RETURN(std::vector<float> dense, to_float_vector(original));
        views.push_back(to_view_matrix(dense, original.shape, options.weights.at(name).view));
        const quant_matrix_view v = quant_view_of(original.shape, options.weights.at(name).view);
        refs.push_back({name, views.back(), v.rows, v.cols});
      }
      magnitude_options o;
      o.pattern = options.weights.at(names.front()).pattern;
      o.threads = options.threads;
      EP_ASSIGN_OR_RETURN(std::vector<pruned_weight> pruned, prune_magnitude_global(refs, o));
      for (size_t i = 0; i < names.size(); ++i) {
        const tensor& original = m.g.weights.at(names[i]);
        const prune_weight_plan& plan = options.weights.at(names[i]);
        tensor t = dense_like(original, from_view_matrix(pruned[i].values, original.shape, plan.view));
        nlohmann::json j = base_stats(names[i], "magnitude", plan, pruned[i], views[i], original, t);
        j["scope"] = "global";
        stats[names[i]] = std::move(j);
        result.weights[names[i]] = std::move(t);
        if (options.progress) options.progress(++done, total, names[i]);
      }
    }
  } else {
    for (const auto& [name, plan] : options.weights) {
      auto c = magnitude_one(name, m.g.weights.at(name), plan, options.magnitude_scope, options.threads);
      if (!c.ok()) return c.status().with_context("tensor '" + name + "'");
      stats[name] = std::move(c->stats);
      result.weights[name] = std::move(c->weight);
      if (options.progress) options.progress(++done, total, name);
    }
  }
  for (auto& [name, j] : stats) result.tensors.push_back(std::move(j));
  return result;
}

nlohmann::json sparsegpt_stats_json(const sparsegpt_stats& s) {
  return {{"damp", s.damp_fraction},        {"damp_lambda", s.damp_absolute}, {"damp_escalations", s.damp_escalations},
          {"dead_columns", s.dead_columns}, {"loss", s.total_error},          {"warnings", s.warnings}};
}

// Wanda or SparseGPT on one weight of a stage.
Expected<compressed_weight> calibrated_one(const stage_weight& sw, const prune_weight_plan& plan, const prune_model_options& options) {
  compressed_weight c;
  pruned_weight p;
  std::optional<sparsegpt_stats> sg;
  if (options.method == prune_method::wanda) {
    EP_ASSIGN_OR_RETURN(std::vector<double> norms, activation_norms_from_hessian(sw.hessian, sw.cols, std::max<int64_t>(1, sw.hessian_rows)));
    wanda_options o;
    o.pattern = plan.pattern;
    o.scope = options.calibrated_scope;
    o.threads = options.threads;
    EP_ASSIGN_OR_RETURN(p, prune_wanda(sw.matrix, sw.rows, sw.cols, norms, o));
    c.weight = dense_like(*sw.original, from_view_matrix(p.values, sw.original->shape, plan.view));
  } else {
    sparsegpt_options o;
    o.pattern = plan.pattern;
    o.scope = options.calibrated_scope;
    if (plan.quantize) {
      quant_encoding q = *plan.quantize;  // sparsegpt_prune works on the [rows, cols] matrix itself
      q.col_axis = -1;
      q.transposed = false;
      o.quantize = q;
    }
    o.damp = options.damp;
    o.block_size = options.block_size;
    o.scale_search_steps = options.scale_search_steps;
    o.threads = options.threads;
    EP_ASSIGN_OR_RETURN(sparsegpt_result r, sparsegpt_prune(sw.matrix, sw.rows, sw.cols, sw.hessian, o));
    if (r.quantized) {
      // Codes and scales are already in view order: only the tensor's shape and view change.
      c.weight = std::move(*r.quantized);
      c.weight.shape = sw.original->shape;
      c.weight.quant = *plan.quantize;
    } else {
      c.weight = dense_like(*sw.original, from_view_matrix(r.pruned.values, sw.original->shape, plan.view));
    }
    p = std::move(r.pruned);
    sg = std::move(r.stats);
  }
  c.stats = base_stats(sw.name, prune_method_name(options.method), plan, p, sw.matrix, *sw.original, c.weight);
  c.stats["scope"] = scope_name(plan, options.calibrated_scope);
  c.stats["calib_output_error"] = relative_output_error(sw.matrix, p.values, sw.rows, sw.cols, sw.hessian, options.threads);
  c.stats["hessian_rows"] = sw.hessian_rows;
  if (sg) c.stats.update(sparsegpt_stats_json(*sg));
  else if (!p.warnings.empty()) c.stats["warnings"] = p.warnings;
  return c;
}

}  // namespace

Expected<prune_model_result> prune_model(const model& m, const std::vector<tensor_map>& windows, const prune_model_options& options) {
  for (const auto& [name, plan] : options.weights) {
    if (m.g.find_weight(name) == nullptr) return bad_usage("tensor '" + name + "' is not a weight of the model");
    EP_RETURN_IF_ERROR(validate_sparsity_pattern(plan.pattern));
    if (plan.quantize && options.method != prune_method::sparsegpt)
      return bad_usage("tensor '" + name + "': joint pruning and quantization (" + scheme_name(plan) + ") needs --method sparsegpt");
  }
  if (options.method == prune_method::magnitude) return prune_magnitude_model(m, options);
  if (options.global) return bad_usage("--global applies to --method magnitude only");
  calibrated_stages_options s;
  for (const auto& [name, plan] : options.weights) s.weights[name] = plan.view;
  s.threads = options.threads;
  s.progress = options.progress;
  s.compress = [&](const stage_weight& sw) { return calibrated_one(sw, options.weights.at(sw.name), options); };
  s.fallback = [&](const std::string& name, const tensor& original, const std::string& why) -> Expected<compressed_weight> {
    const prune_weight_plan& plan = options.weights.at(name);
    if (plan.quantize) return bad_usage("joint " + scheme_name(plan) + " needs calibration, which this weight cannot get: " + why + " (exclude it or override it with a plain sparsity term)");
    EP_ASSIGN_OR_RETURN(compressed_weight c, magnitude_one(name, original, plan, options.calibrated_scope, options.threads));
    c.stats["note"] = std::string("magnitude per ") + (options.calibrated_scope == mask_scope::per_row ? "row" : "tensor") + " instead of " +
                      prune_method_name(options.method) + ": " + why;
    return c;
  };
  EP_ASSIGN_OR_RETURN(calibrated_stages_result r, run_calibrated_stages(m, windows, s));
  prune_model_result result;
  result.weights = std::move(r.weights);
  result.tensors = std::move(r.tensors);
  result.stages = r.stages;
  result.windows = r.windows;
  result.seconds_forward = r.seconds_forward;
  result.seconds_hessian = r.seconds_hessian;
  result.seconds_prune = r.seconds_compress;
  return result;
}

}  // namespace edgepack
