#include "passes/gptq.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "core/dtype.h"
#include "core/parallel.h"
#include "core/quant_codes.h"
#include "passes/gptq_inverse.h"
#include "passes/lazy_batch.h"
#include "passes/rtn_quantizer.h"

namespace edgepack {

namespace {

// Everything shared by the row tiles (read-only while they run).
struct gptq_plan {
  int64_t rows = 0, cols = 0, groups = 0, group = 0;
  quant_encoding enc;
  rtn_row_options rtn;
  bool static_groups = false;
  int64_t block = 128;
  std::vector<int64_t> perm;  // processing position -> original column
  std::vector<float> u;       // inverse factor in processing order, row-major [cols, cols]
};

// Outputs, indexed in original order.
struct gptq_outputs {
  std::vector<uint8_t> codes;   // [rows, cols]
  std::vector<uint16_t> scales; // [rows, groups]
  std::vector<uint8_t> zeros;   // [rows, groups] (asymmetric only)
  std::vector<double> row_error;
};

// GPTQ on rows [r0, r0 + t) of w (original column order, dead columns already zeroed).
void run_tile(const gptq_plan& plan, const float* w, int64_t r0, int64_t t, gptq_outputs& out) {
  const int64_t cols = plan.cols;
  const int levels = 1 << plan.enc.bits;
  std::vector<float> tile(static_cast<size_t>(t * cols));  // permuted current weights, row-major [t, cols]
  for (int64_t r = 0; r < t; ++r)
    for (int64_t k = 0; k < cols; ++k) tile[static_cast<size_t>(r * cols + k)] = w[(r0 + r) * cols + plan.perm[static_cast<size_t>(k)]];
  if (plan.static_groups) {
    std::vector<uint8_t> scratch(static_cast<size_t>(cols));
    std::vector<uint8_t> sym_zeros(static_cast<size_t>(plan.groups));
    for (int64_t r = 0; r < t; ++r) {
      const int64_t row = r0 + r;
      uint8_t* zeros = plan.enc.symmetric ? sym_zeros.data() : out.zeros.data() + row * plan.groups;
      (void)quantize_row_rtn(w + row * cols, cols, plan.enc, plan.rtn, scratch.data(), out.scales.data() + row * plan.groups, zeros);
    }
  }
  lazy_batch_sweep sweep(plan.u.data(), cols, plan.block);
  sweep.run(tile.data(), t, [&](int64_t r, lazy_row& x) {
    const int64_t row = r0 + r;
    double loss = 0;
    float scale = 0, inv = 0;
    int zero = 0;
    int64_t active_group = -1;
    for (int64_t k = x.begin(); k < x.end(); ++k) {
      const int64_t column = plan.perm[static_cast<size_t>(k)];
      const int64_t g = column / plan.group;
      uint16_t* stored_scale = out.scales.data() + row * plan.groups + g;
      uint8_t* stored_zero = plan.enc.symmetric ? nullptr : out.zeros.data() + row * plan.groups + g;
      if (!plan.static_groups && k % plan.group == 0) {
        uint8_t z = 0;
        pending_group_params(x, k, std::min(plan.group, cols - k), plan.enc, plan.rtn, stored_scale, &z);
        if (stored_zero != nullptr) *stored_zero = z;
      }
      if (g != active_group) {
        active_group = g;
        scale = f16_to_f32(*stored_scale);
        inv = scale == 0.0f ? 0.0f : 1.0f / scale;
        zero = stored_zero != nullptr ? *stored_zero : static_cast<int>(plan.enc.implicit_zero());
      }
      const int q = std::clamp(static_cast<int>(std::nearbyint(x.value(k) * inv)) + zero, 0, levels - 1);
      const float e_k = x.settle(k, scale * static_cast<float>(q - zero));
      loss += static_cast<double>(e_k) * e_k;
      out.codes[static_cast<size_t>(row * cols + column)] = static_cast<uint8_t>(q);
    }
    out.row_error[static_cast<size_t>(row)] += loss / 2;
  });
}

}  // namespace

Expected<gptq_result> gptq_quantize(std::span<const float> weight, int64_t rows, int64_t cols, std::span<const double> hessian,
                                    const gptq_options& options) {
  const quant_encoding& enc = options.encoding;
  if (rows <= 0 || cols <= 0) return bad_usage("GPTQ needs a non-empty [out, in] weight");
  if (static_cast<int64_t>(weight.size()) != rows * cols) return bad_usage("weight size does not match rows x cols");
  if (static_cast<int64_t>(hessian.size()) != cols * cols) return bad_usage("Hessian is not [in, in] for this weight");
  if (enc.bits < 2 || enc.bits > 8) return bad_usage("GPTQ supports 2..8 bits");
  if (!quant_layout_problem(2, enc).empty()) return bad_usage(quant_layout_problem(2, enc));
  const quant_matrix_view view = quant_view_of({rows, cols}, enc);
  if (view.rows != rows || view.cols != cols) return bad_usage("GPTQ quantizes the [out, in] view of a 2-D weight (groups along in)");
  if (options.damp < 0 || !std::isfinite(options.damp)) return bad_usage("damping must be a non-negative number");
  for (const float v : weight)
    if (!std::isfinite(v)) return bad_input("weight holds NaN or Inf; refusing to quantize");

  gptq_result result;
  gptq_stats& stats = result.stats;
  gptq_plan plan;
  plan.rows = rows;
  plan.cols = cols;
  plan.enc = enc;
  plan.groups = enc.groups_per_row(cols);
  plan.group = enc.effective_group(cols);
  plan.rtn.scale_search_steps = options.scale_search_steps;
  plan.block = std::max<int64_t>(options.block_size, 1);
  plan.static_groups = options.static_groups || options.act_order;
  if (options.act_order && !options.static_groups && plan.groups > 1)
    stats.warnings.push_back("act_order uses static groups (group scales from the original weights): the encoding cannot express permuted groups");
  stats.static_groups = plan.static_groups;

  // Dead columns: never activated, so any value is free; GPTQ sets them to zero with H_ii = 1.
  std::vector<double> h(hessian.begin(), hessian.end());
  std::vector<float> w(weight.begin(), weight.end());
  for (int64_t i = 0; i < cols; ++i) {
    if (h[static_cast<size_t>(i * cols + i)] != 0.0) continue;
    ++stats.dead_columns;
    h[static_cast<size_t>(i * cols + i)] = 1.0;
    for (int64_t r = 0; r < rows; ++r) w[static_cast<size_t>(r * cols + i)] = 0.0f;
  }
  plan.perm.resize(static_cast<size_t>(cols));
  std::iota(plan.perm.begin(), plan.perm.end(), int64_t{0});
  if (options.act_order) {
    std::stable_sort(plan.perm.begin(), plan.perm.end(),
                     [&](int64_t a, int64_t b) { return h[static_cast<size_t>(a * cols + a)] > h[static_cast<size_t>(b * cols + b)]; });
    std::vector<double> permuted(h.size());
    for (int64_t i = 0; i < cols; ++i)
      for (int64_t j = 0; j < cols; ++j)
        permuted[static_cast<size_t>(i * cols + j)] = h[static_cast<size_t>(plan.perm[static_cast<size_t>(i)] * cols + plan.perm[static_cast<size_t>(j)])];
    h.swap(permuted);
  }
  {
    auto factor = damped_inverse_factor(h, cols, inverse_factor_options{.damp = options.damp, .max_damp = options.max_damp, .threads = options.threads});
    if (!factor.ok()) return factor.status();
    plan.u = take_factor(std::move(*factor), stats);
  }
  std::vector<double>().swap(h);

  gptq_outputs out;
  out.codes.assign(static_cast<size_t>(rows * cols), 0);
  out.scales.assign(static_cast<size_t>(rows * plan.groups), 0);
  if (!enc.symmetric) out.zeros.assign(static_cast<size_t>(rows * plan.groups), 0);
  out.row_error.assign(static_cast<size_t>(rows), 0.0);
  const int64_t row_tile = std::max<int64_t>(options.row_tile, 1);
  const int64_t tiles = (rows + row_tile - 1) / row_tile;
  parallel_for(tiles, options.threads, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t r0 = i * row_tile;
      run_tile(plan, w.data(), r0, std::min(row_tile, rows - r0), out);
    }
  });
  for (const double e : out.row_error) stats.total_error += e;
  stats.row_error = std::move(out.row_error);
  result.weight = make_quantized_tensor({rows, cols}, enc, out.codes, out.scales, out.zeros);
  return result;
}

}  // namespace edgepack
