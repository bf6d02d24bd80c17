#include "tools/quantize_step.h"

#include <filesystem>

#include "passes/scheme.h"
#include "tools/progress.h"

namespace edgepack::cli {

Status check_quantize_args(const quantize_args& args) {
  EP_RETURN_IF_ERROR(check_calibration_args(args.method, args.gptq));
  EP_RETURN_IF_ERROR(parse_scheme_overrides(args.gptq.overrides).status());
  return parse_weight_scheme(args.scheme).status();
}

Expected<quantize_plan> plan_quantize(const model& m, const quantize_args& args) {
  quantize_plan plan;
  EP_ASSIGN_OR_RETURN(std::vector<scheme_override> overrides, parse_scheme_overrides(args.gptq.overrides));
  EP_ASSIGN_OR_RETURN(plan.encoding, parse_weight_scheme(args.scheme));
  plan.options.encoding = plan.encoding;
  plan.options.selection = {args.include, args.exclude, args.min_elements};
  plan.options.rows.scale_search_steps = args.scale_search;
  plan.options.threads = globals().threads;
  EP_ASSIGN_OR_RETURN(std::vector<selected_weight> selected, select_weights(m.g, plan.options.selection));
  if (selected.empty()) {
    if (m.g.nodes.empty())
      return bad_usage(args.input + ": a bare tensor file has no graph to find linear layers in; choose tensors with --include REGEX");
    return bad_usage(args.input + ": no tensor selected for quantization: no dense float weight of at least " + std::to_string(args.min_elements) +
                     " elements is read only as the weight of MatMul, Gemm, Conv, ConvTranspose, LSTM, GRU or RNN nodes "
                     "(check --include/--exclude/--min-elements)");
  }
  for (const auto& s : selected) plan.encodings[s.name] = encoding_for(scheme_for(s.name, plan.encoding, overrides), s.view);
  plan.pass_name = "quantize_rtn";
  if (args.method == "gptq") {
    EP_ASSIGN_OR_RETURN(plan.gptq, run_gptq(m, plan.encodings, args.gptq, args.scale_search));
    plan.pass_name = "quantize_gptq";
  }
  return plan;
}

model quantized_layout(const model& m, const quantize_plan& plan) {
  model out = m;
  for (const auto& [name, weight_encoding] : plan.encodings) {
    tensor layout;
    layout.type = dtype::f32;
    layout.shape = m.g.weights.at(name).shape;
    layout.kind = encoding_kind::quantized;
    layout.quant = weight_encoding;
    out.g.weights[name] = layout;
  }
  if (plan.gptq)
    for (const auto& [name, t] : plan.gptq->tuned_float) out.g.weights[name] = t;
  return out;
}

Expected<tensor> quantize_planned_weight(const model& m, const quantize_plan& plan, const std::string& name, nlohmann::json& tensor_stats) {
  if (plan.gptq) return plan.gptq->quantized.at(name);
  const tensor& original = m.g.weights.at(name);
  quantized_tensor_stats stats;
  quantize_rtn_options weight_options = plan.options;
  weight_options.encoding = plan.encodings.at(name);
  auto quantized = quantize_tensor_rtn(original, weight_options, &stats);
  release_file_pages(original.data.owner, original.data.data, original.data.size);  // done with the input bytes
  if (!quantized.ok()) return quantized.status();
  tensor_stats.push_back(quantized_tensor_stats_json(name, stats));
  return quantized;
}

nlohmann::json quantize_extra(const quantize_args& args, const quantize_plan& plan, const nlohmann::json& tensor_stats) {
  const std::string scheme = quant_encoding_name(plan.encoding);
  nlohmann::json recorded = {{"method", args.method}, {"scheme", scheme}, {"include", args.include}, {"exclude", args.exclude}, {"scale_search", args.scale_search}};
  // Recorded only when changed, so files written with the defaults keep their bytes.
  if (args.min_elements != default_min_quantized_elements) recorded["min_elements"] = args.min_elements;
  if (plan.gptq) {
    recorded["calibration"] = plan.gptq->calibration;
    recorded["gptq"] = plan.gptq->summary;
  }
  if (!args.gptq.overrides.empty()) recorded["overrides"] = args.gptq.overrides;
  return {{"pass", {{"pass", plan.pass_name}, {"scheme", scheme}, {"tensors", plan.gptq ? plan.gptq->tensors : tensor_stats}}}, {"options", recorded}};
}

Expected<step_output> run_quantize_step(const model& m, const quantize_args& args) {
  EP_ASSIGN_OR_RETURN(quantize_plan plan, plan_quantize(m, args));
  step_output result{quantized_layout(m, plan), nlohmann::json::object(), ""};
  nlohmann::json tensor_stats = nlohmann::json::array();
  progress_bar bar("quantizing " + std::to_string(plan.encodings.size()) + " tensors to " + quant_encoding_name(plan.encoding),
                   static_cast<int64_t>(plan.encodings.size()));
  int64_t done = 0;
  for (const auto& [name, weight_encoding] : plan.encodings) {
    auto quantized = quantize_planned_weight(m, plan, name, tensor_stats);
    if (!quantized.ok()) return quantized.status().with_context("tensor '" + name + "'");
    result.out.g.weights[name] = std::move(quantized).value();
    bar.update(++done);
  }
  bar.finish();
  result.extra = quantize_extra(args, plan, tensor_stats);
  result.summary = std::to_string(plan.encodings.size()) + " tensors quantized to " + quant_encoding_name(plan.encoding) + " (" + args.method + ")";
  return result;
}

}  // namespace edgepack::cli
