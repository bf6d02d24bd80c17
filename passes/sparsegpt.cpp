#include "passes/sparsegpt.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/dtype.h"
#include "core/parallel.h"
#include "core/quant_codes.h"
#include "passes/gptq_inverse.h"
#include "passes/lazy_batch.h"
#include "passes/rtn_quantizer.h"

namespace edgepack {

namespace {

struct plan {
  int64_t rows = 0, cols = 0, block = 128;
  sparsity_pattern pattern;
  bool quantize = false;
  quant_encoding enc;
  int64_t groups = 1, group = 1;
  rtn_row_options rtn;
  std::vector<float> u;  // [cols, cols]
};

struct outputs {
  std::vector<float> values;     // [rows, cols]
  std::vector<uint8_t> mask;     // [rows, cols]
  std::vector<uint8_t> codes;    // [rows, cols] (quantizing only)
  std::vector<uint16_t> scales;  // [rows, groups]
  std::vector<uint8_t> zeros;    // [rows, groups] (asymmetric only)
  std::vector<double> row_error;
};

// OBS saliency of column c of the current row: w_c^2 / U_cc^2.
float saliency(const lazy_row& x, int64_t c) { return x.value(c) * x.value(c) / (x.diagonal(c) * x.diagonal(c)); }

void run_tile(const plan& p, const float* w, int64_t r0, int64_t t, outputs& out) {
  const int64_t cols = p.cols;
  const int levels = 1 << p.enc.bits;
  std::vector<float> tile(w + r0 * cols, w + (r0 + t) * cols);  // current weights, row-major [t, cols]
  std::vector<float> score(static_cast<size_t>(std::max(p.block, p.pattern.m)));
  lazy_batch_sweep sweep(p.u.data(), cols, p.block);
  sweep.run(tile.data(), t, [&](int64_t r, lazy_row& x) {
    const int64_t row = r0 + r, i1 = x.begin(), i2 = x.end();
    uint8_t* mask = out.mask.data() + row * cols;
    if (p.pattern.kind == sparsity_kind::unstructured) {
      for (int64_t c = i1; c < i2; ++c) score[static_cast<size_t>(c - i1)] = saliency(x, c);
      prune_lowest(score.data(), i2 - i1, pruned_count(p.pattern.fraction, i2) - pruned_count(p.pattern.fraction, i1), mask + i1);
    }
    double loss = 0;
    float scale = 0, inv = 0;
    int zero = 0;
    for (int64_t k = i1; k < i2; ++k) {
      if (p.pattern.kind == sparsity_kind::n_of_m && k % p.pattern.m == 0) {
        const int64_t width = std::min(p.pattern.m, cols - k);
        for (int64_t c = k; c < k + width; ++c) score[static_cast<size_t>(c - k)] = saliency(x, c);
        prune_lowest(score.data(), width, width - kept_in_group(p.pattern, width), mask + k);
      }
      if (p.quantize && (k % p.group == 0 || k == i1)) {
        const int64_t g = k / p.group;
        uint16_t* stored_scale = out.scales.data() + row * p.groups + g;
        uint8_t* stored_zero = p.enc.symmetric ? nullptr : out.zeros.data() + row * p.groups + g;
        if (k % p.group == 0) {
          uint8_t z = 0;
          pending_group_params(x, k, std::min(p.group, cols - k), p.enc, p.rtn, stored_scale, &z);
          if (stored_zero != nullptr) *stored_zero = z;
        }
        scale = f16_to_f32(*stored_scale);
        inv = scale == 0.0f ? 0.0f : 1.0f / scale;
        zero = stored_zero != nullptr ? *stored_zero : static_cast<int>(p.enc.implicit_zero());
      }
      const float value = x.value(k);
      float kept = 0.0f;
      int q = zero;
      if (mask[k] != 0) {
        if (p.quantize) {
          q = std::clamp(static_cast<int>(std::nearbyint(value * inv)) + zero, 0, levels - 1);
          kept = scale * static_cast<float>(q - zero);
        } else {
          kept = value;
        }
      }
      if (p.quantize) out.codes[static_cast<size_t>(row * cols + k)] = static_cast<uint8_t>(q);
      out.values[static_cast<size_t>(row * cols + k)] = kept;
      const float e_k = x.settle(k, kept);
      loss += static_cast<double>(e_k) * e_k;
    }
    out.row_error[static_cast<size_t>(row)] += loss / 2;
  });
}

}  // namespace

Expected<sparsegpt_result> sparsegpt_prune(std::span<const float> weight, int64_t rows, int64_t cols, std::span<const double> hessian,
                                           const sparsegpt_options& options) {
  EP_RETURN_IF_ERROR(check_prune_inputs(weight, rows, cols, options.pattern));
  if (static_cast<int64_t>(hessian.size()) != cols * cols) return bad_usage("Hessian is not [in, in] for this weight");
  if (options.block_size < 1) return bad_usage("SparseGPT block size must be at least 1");
  if (options.row_tile < 1) return bad_usage("SparseGPT row tile must be at least 1");
  if (options.damp < 0 || !std::isfinite(options.damp)) return bad_usage("damping must be a non-negative number");
  plan p;
  p.rows = rows;
  p.cols = cols;
  p.pattern = options.pattern;
  p.block = options.block_size;
  if (p.pattern.kind == sparsity_kind::n_of_m) p.block = (p.block + p.pattern.m - 1) / p.pattern.m * p.pattern.m;
  if (options.quantize) {
    const quant_encoding& enc = *options.quantize;
    if (enc.bits < 2 || enc.bits > 8) return bad_usage("SparseGPT quantizes to 2..8 bits");
    if (!quant_layout_problem(2, enc).empty()) return bad_usage(quant_layout_problem(2, enc));
    const quant_matrix_view view = quant_view_of({rows, cols}, enc);
    if (view.rows != rows || view.cols != cols) return bad_usage("SparseGPT quantizes the [out, in] view of a 2-D weight (groups along in)");
    p.quantize = true;
    p.enc = enc;
    p.groups = enc.groups_per_row(cols);
    p.group = enc.effective_group(cols);
    p.rtn.scale_search_steps = options.scale_search_steps;
  }

  sparsegpt_result result;
  sparsegpt_stats& stats = result.stats;
  stats.block_size = p.block;
  std::vector<double> h(hessian.begin(), hessian.end());
  std::vector<float> w(weight.begin(), weight.end());
  for (int64_t i = 0; i < cols; ++i) {
    double& d = h[static_cast<size_t>(i * cols + i)];
    if (!std::isfinite(d) || d < 0) return bad_input("Hessian diagonal entry " + std::to_string(i) + " is negative or not finite");
    if (d != 0.0) continue;
    ++stats.dead_columns;
    d = 1.0;
    for (int64_t r = 0; r < rows; ++r) w[static_cast<size_t>(r * cols + i)] = 0.0f;
  }
  {
    auto factor = damped_inverse_factor(h, cols, inverse_factor_options{.damp = options.damp, .max_damp = options.max_damp});
    if (!factor.ok()) return factor.status();
    p.u = std::move(factor->upper);
    stats.damp_fraction = factor->damp_fraction;
    stats.damp_absolute = factor->damp_absolute;
    stats.damp_escalations = factor->escalations;
    for (auto& warning : factor->warnings) stats.warnings.push_back(std::move(warning));
  }
  std::vector<double>().swap(h);

  outputs out;
  out.values.assign(static_cast<size_t>(rows * cols), 0.0f);
  out.mask.assign(static_cast<size_t>(rows * cols), uint8_t{1});
  if (p.quantize) {
    out.codes.assign(static_cast<size_t>(rows * cols), 0);
    out.scales.assign(static_cast<size_t>(rows * p.groups), 0);
    if (!p.enc.symmetric) out.zeros.assign(static_cast<size_t>(rows * p.groups), 0);
  }
  out.row_error.assign(static_cast<size_t>(rows), 0.0);
  const int64_t tiles = (rows + options.row_tile - 1) / options.row_tile;
  parallel_for(tiles, options.threads, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t r0 = i * options.row_tile;
      run_tile(p, w.data(), r0, std::min(options.row_tile, rows - r0), out);
    }
  });
  for (const double e : out.row_error) stats.total_error += e;
  stats.row_error = std::move(out.row_error);
  if (p.quantize) result.quantized = make_quantized_tensor({rows, cols}, p.enc, out.codes, out.scales, out.zeros);
  result.pruned.rows = rows;
  result.pruned.cols = cols;
  result.pruned.values = std::move(out.values);
  result.pruned.mask = std::move(out.mask);
  apply_mask(result.pruned);
  result.pruned.warnings = stats.warnings;
  return result;
}

}  // namespace edgepack
