#include "passes/quantize_gptq.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/parallel.h"

#include "passes/calibrated_stages.h"
#include "passes/quantize_rtn.h"
#include "runtime_ref/gemm_kernels.h"

namespace edgepack {

namespace {

nlohmann::json gptq_stats_json(const gptq_stats& s) {
  return {{"damp", s.damp_fraction},         {"damp_lambda", s.damp_absolute}, {"damp_escalations", s.damp_escalations},
          {"dead_columns", s.dead_columns},  {"loss", s.total_error},          {"static_groups", s.static_groups},
          {"warnings", s.warnings}};
}

}  // namespace

double relative_output_error(std::span<const float> w, std::span<const float> q, int64_t rows, int64_t cols, std::span<const double> hessian,
                             int threads) {
  // Per row r: e_r^T H e_r and w_r^T H w_r, from the products [e_r; w_r] H on the dispatched f64
  // GEMM, a chunk of rows per item (a 5632-column down projection would otherwise cost 2.6e11
  // single-threaded flops). Each row's two sums are independent of the split; the totals add rows
  // in order, so the result does not depend on `threads`.
  constexpr int64_t chunk_rows = 32;
  std::vector<double> row_error(static_cast<size_t>(rows)), row_signal(static_cast<size_t>(rows));
  const int64_t chunks = (rows + chunk_rows - 1) / chunk_rows;
  parallel_for(chunks, threads, [&](int64_t begin, int64_t end) {
    std::vector<double> stacked, product;
    for (int64_t chunk = begin; chunk < end; ++chunk) {
      const int64_t r0 = chunk * chunk_rows, rn = std::min(chunk_rows, rows - r0);
      stacked.resize(static_cast<size_t>(2 * rn * cols));
      product.resize(stacked.size());
      for (int64_t r = 0; r < rn; ++r)
        for (int64_t c = 0; c < cols; ++c) {
          const size_t i = static_cast<size_t>((r0 + r) * cols + c);
          stacked[static_cast<size_t>(r * cols + c)] = static_cast<double>(w[i]) - q[i];
          stacked[static_cast<size_t>((rn + r) * cols + c)] = w[i];
        }
      gemm_f64(2 * rn, cols, cols, gemm_view_f64{stacked.data(), cols, 1}, gemm_view_f64{hessian.data(), cols, 1}, product.data(), cols);
      for (int64_t r = 0; r < 2 * rn; ++r) {
        double dot = 0;
        for (int64_t c = 0; c < cols; ++c) dot += stacked[static_cast<size_t>(r * cols + c)] * product[static_cast<size_t>(r * cols + c)];
        (r < rn ? row_error : row_signal)[static_cast<size_t>(r0 + r % rn)] = dot;
      }
    }
  });
  double num = 0, den = 0;
  for (int64_t r = 0; r < rows; ++r) {
    num += row_error[static_cast<size_t>(r)];
    den += row_signal[static_cast<size_t>(r)];
  }
  return den > 0 ? std::sqrt(std::max(0.0, num) / den) : 0.0;
}

Expected<quantize_gptq_result> quantize_gptq_model(const model& m, const std::vector<tensor_map>& windows, const quantize_gptq_options& options) {
  if (windows.empty()) return bad_usage("GPTQ needs at least one calibration window");
  calibrated_stages_options stages;
  stages.weights = options.weights;
  stages.threads = options.threads;
  stages.float_targets = options.float_targets;
  stages.float_target_damp = options.layer.damp;
  stages.progress = options.progress;
  stages.fallback = [&](const std::string& name, const tensor& w, const std::string& why) -> Expected<compressed_weight> {
    // Not a layer GPTQ can calibrate: RTN.
    quantize_rtn_options rtn;
    rtn.encoding = options.weights.at(name);
    rtn.rows.scale_search_steps = options.layer.scale_search_steps;
    rtn.threads = options.threads;
    quantized_tensor_stats s;
    EP_ASSIGN_OR_RETURN(tensor q, quantize_tensor_rtn(w, rtn, &s));
    compressed_weight c{std::move(q), quantized_tensor_stats_json(name, s)};
    c.stats["method"] = "rtn";
    c.stats["scheme"] = quant_encoding_name(rtn.encoding);
    c.stats["note"] = "round-to-nearest: " + why;
    return c;
  };
  stages.compress = [&](const stage_weight& sw) -> Expected<compressed_weight> {
    const quant_encoding& view_encoding = sw.view;
    gptq_options layer = options.layer;
    layer.encoding = view_encoding;  // gptq_quantize works on the [rows, cols] matrix itself
    layer.encoding.col_axis = -1;
    layer.encoding.transposed = false;
    layer.threads = options.threads;
    // The weight GPTQ approximates: W itself, or with float targets W' (passes/float_targets.h).
    const std::vector<float>& target = sw.target.empty() ? sw.matrix : sw.target;
    auto q = gptq_quantize(target, sw.rows, sw.cols, sw.hessian, layer);
    if (!q.ok()) return q.status().with_context("GPTQ of tensor '" + sw.name + "'");
    nlohmann::json refine_json;
    if (options.refine) {
      quant_refine_options refine = *options.refine;
      refine.damp = layer.damp;
      refine.threads = options.threads;
      auto refined = refine_quantized_weight(target, sw.rows, sw.cols, sw.hessian, q->weight, refine);
      if (!refined.ok()) return refined.status().with_context("refinement of tensor '" + sw.name + "'");
      q->weight = std::move(refined->weight);
      const quant_refine_stats& rs = refined->stats;
      refine_json = {{"sweeps", refine.sweeps},           {"refit_scales", refine.refit_scales},   {"error_before", rs.error_before},
                     {"error_after", rs.error_after},     {"codes_changed", rs.codes_changed},     {"scales_changed", rs.scales_changed}};
    }
    EP_ASSIGN_OR_RETURN(std::vector<float> decoded, to_float_vector(q->weight));
    // Codes and scales are already in view order: only the tensor's shape and view change.
    q->weight.shape = sw.original->shape;
    q->weight.quant = view_encoding;
    nlohmann::json j = {{"name", sw.name},
                        {"method", "gptq"},
                        {"scheme", quant_encoding_name(view_encoding)},
                        {"relative_error", relative_weight_error(sw.matrix, decoded)},
                        {"calib_output_error", relative_output_error(target, decoded, sw.rows, sw.cols, sw.hessian, options.threads)},
                        {"hessian_rows", sw.hessian_rows},
                        {"bytes_before", sw.original->stored_bytes()},
                        {"bytes_after", q->weight.stored_bytes()}};
    j.update(gptq_stats_json(q->stats));
    if (!refine_json.is_null()) j["refine"] = std::move(refine_json);
    if (!sw.target.empty()) j["float_target_shift"] = relative_weight_error(sw.matrix, sw.target);  // ||W' - W|| / ||W||
    return compressed_weight{std::move(q->weight), std::move(j)};
  };
  EP_ASSIGN_OR_RETURN(calibrated_stages_result r, run_calibrated_stages(m, windows, stages));
  quantize_gptq_result result;
  result.quantized = std::move(r.weights);
  result.tensors = std::move(r.tensors);
  result.stages = r.stages;
  result.windows = r.windows;
  result.seconds_forward = r.seconds_forward;
  result.seconds_hessian = r.seconds_hessian;
  result.seconds_quantize = r.seconds_compress;
  return result;
}

}  // namespace edgepack
