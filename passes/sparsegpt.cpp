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
  mask_scope scope = mask_scope::per_row;
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

// OBS saliency of a current weight w in column c: w^2 / U_cc^2 (in float, the same expression for
// both scopes).
float saliency(float w, float u_cc) { return w * w / (u_cc * u_cc); }

// Settles one row's columns of the current block: the per-row mask (unstructured per row: when the
// block starts; N:M: when a group starts), joint quantization, the error pushed onward.
void settle_row_block(const plan& p, int64_t row, lazy_row& x, outputs& out) {
  const int64_t cols = p.cols, i1 = x.begin(), i2 = x.end();
  const int levels = 1 << p.enc.bits;
  thread_local std::vector<float> score;
  score.resize(static_cast<size_t>(std::max(p.block, p.pattern.m)));
  uint8_t* mask = out.mask.data() + row * cols;
  if (p.pattern.kind == sparsity_kind::unstructured && p.scope == mask_scope::per_row) {
    for (int64_t c = i1; c < i2; ++c) score[static_cast<size_t>(c - i1)] = saliency(x.value(c), x.diagonal(c));
    prune_lowest(score.data(), i2 - i1, pruned_count(p.pattern.fraction, i2) - pruned_count(p.pattern.fraction, i1), mask + i1);
  }
  double loss = 0;
  float scale = 0, inv = 0;
  int zero = 0;
  for (int64_t k = i1; k < i2; ++k) {
    if (p.pattern.kind == sparsity_kind::n_of_m && k % p.pattern.m == 0) {
      const int64_t width = std::min(p.pattern.m, cols - k);
      for (int64_t c = k; c < k + width; ++c) score[static_cast<size_t>(c - k)] = saliency(x.value(c), x.diagonal(c));
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
}

// Per-tensor unstructured mask of block [i1, i2): its share of the tensor's count,
// pruned_count(s, rows * i2) - pruned_count(s, rows * i1), taken over the saliencies of all rows at
// once on the current weights (every earlier block's errors applied); ties: lower flat index.
void choose_tensor_block_mask(const plan& p, const float* x, int64_t i1, int64_t i2, int threads, uint8_t* mask) {
  const int64_t rows = p.rows, cols = p.cols, width = i2 - i1;
  std::vector<float> score(static_cast<size_t>(rows * width));
  std::vector<uint8_t> keep(score.size(), uint8_t{1});
  parallel_for(rows, threads, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      for (int64_t c = i1; c < i2; ++c)
        score[static_cast<size_t>(r * width + c - i1)] = saliency(x[r * cols + c], p.u[static_cast<size_t>(c * cols + c)]);
  });
  const double s = p.pattern.fraction;
  prune_lowest(score.data(), rows * width, pruned_count(s, rows * i2) - pruned_count(s, rows * i1), keep.data());
  for (int64_t r = 0; r < rows; ++r) std::copy_n(keep.data() + r * width, width, mask + r * cols + i1);
}

// Blocks in order; within a block the row tiles run in parallel, each with its own lazy errors.
// A tile's rows depend only on themselves and on the mask, which is fixed before the block's tiles
// start, so the result does not depend on the thread count (nor on row_tile).
void sweep_blocks(const plan& p, float* x, int64_t row_tile, int threads, outputs& out) {
  const int64_t tiles = (p.rows + row_tile - 1) / row_tile;
  std::vector<lazy_batch_sweep> sweeps(static_cast<size_t>(tiles), lazy_batch_sweep(p.u.data(), p.cols, p.block));
  for (int64_t i1 = 0; i1 < p.cols; i1 += p.block) {
    if (p.pattern.kind == sparsity_kind::unstructured && p.scope == mask_scope::per_tensor)
      choose_tensor_block_mask(p, x, i1, std::min(i1 + p.block, p.cols), threads, out.mask.data());
    parallel_for(tiles, threads, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const int64_t r0 = i * row_tile;
        sweeps[static_cast<size_t>(i)].run_block(x + r0 * p.cols, std::min(row_tile, p.rows - r0), i1,
                                                 [&](int64_t r, lazy_row& row) { settle_row_block(p, r0 + r, row, out); });
      }
    });
  }
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
  p.scope = options.scope;
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
    auto factor = damped_inverse_factor(h, cols, inverse_factor_options{.damp = options.damp, .max_damp = options.max_damp, .threads = options.threads});
    if (!factor.ok()) return factor.status();
    p.u = take_factor(std::move(*factor), stats);
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
  sweep_blocks(p, w.data(), options.row_tile, options.threads, out);
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
