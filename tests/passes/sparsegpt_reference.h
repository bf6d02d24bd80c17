// The slow, obvious SparseGPT reference of prune_sparsegpt_test.cpp: the paper's algorithm column
// by column (all rows, then the next column), no lazy batching, all in double, with a Gauss-Jordan
// inverse and a plain Cholesky (prune_test_util.h); per-row or per-tensor unstructured masks.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "passes/rtn_quantizer.h"
#include "passes/sparsegpt.h"
#include "tests/passes/prune_test_util.h"

namespace edgepack::prune_test {

struct reference_output {
  std::vector<double> values;
  std::vector<uint8_t> mask;
};

// Straight from the paper's algorithm, one column at a time (all rows, then the next column), all in
// double. Unstructured masks are chosen when a block starts: per row, or (per_tensor) over all rows
// of the block at once, pruned_count(s, rows * end) - pruned_count(s, rows * k) weights.
reference_output reference_sparsegpt(const std::vector<float>& weight, int64_t rows, int64_t cols, matrix h, const sparsegpt_options& o,
                                     mask_scope scope) {
  const sparsity_pattern& p = o.pattern;
  int64_t block = o.block_size;
  if (p.kind == sparsity_kind::n_of_m) block = (block + p.m - 1) / p.m * p.m;
  std::vector<double> x(weight.begin(), weight.end());  // current weights, all rows
  for (int64_t i = 0; i < cols; ++i)
    if (h[static_cast<size_t>(i * cols + i)] == 0) {
      h[static_cast<size_t>(i * cols + i)] = 1;
      for (int64_t r = 0; r < rows; ++r) x[static_cast<size_t>(r * cols + i)] = 0;
    }
  double mean = 0;
  for (int64_t i = 0; i < cols; ++i) mean += h[static_cast<size_t>(i * cols + i)] / static_cast<double>(cols);
  for (int64_t i = 0; i < cols; ++i) h[static_cast<size_t>(i * cols + i)] += o.damp * mean;
  const matrix u = reference_upper_cholesky(reference_inverse(h, cols), cols);
  const auto U = [&](int64_t i, int64_t j) { return u[static_cast<size_t>(i * cols + j)]; };
  const auto X = [&](int64_t r, int64_t c) -> double& { return x[static_cast<size_t>(r * cols + c)]; };
  const auto count = [&](int64_t n) { return static_cast<int64_t>(std::floor(p.fraction * static_cast<double>(n) + 0.5)); };
  reference_output out{std::vector<double>(x.size(), 0.0), std::vector<uint8_t>(x.size(), 1)};
  const quant_encoding enc = o.quantize.value_or(quant_encoding{});
  const int64_t group = enc.effective_group(cols);
  const int levels = 1 << enc.bits;
  std::vector<double> scale(static_cast<size_t>(rows), 0.0);
  std::vector<int> zero(static_cast<size_t>(rows), 0);
  for (int64_t k = 0; k < cols; ++k) {
    if (p.kind == sparsity_kind::unstructured && k % block == 0) {
      const int64_t end = std::min(cols, k + block);
      if (scope == mask_scope::per_tensor) {
        // Scores of the block's [rows, end - k] sub-matrix in row-major order: ties go to the lower
        // flat index of the tensor.
        std::vector<double> s;
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = k; c < end; ++c) s.push_back(X(r, c) * X(r, c) / (U(c, c) * U(c, c)));
        std::vector<uint8_t> block_mask(s.size(), 1);
        reference_prune_lowest(s, count(rows * end) - count(rows * k), block_mask, 0);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = k; c < end; ++c) out.mask[static_cast<size_t>(r * cols + c)] = block_mask[static_cast<size_t>(r * (end - k) + c - k)];
      } else {
        for (int64_t r = 0; r < rows; ++r) {
          std::vector<double> s;
          for (int64_t c = k; c < end; ++c) s.push_back(X(r, c) * X(r, c) / (U(c, c) * U(c, c)));
          reference_prune_lowest(s, count(end) - count(k), out.mask, r * cols + k);
        }
      }
    }
    for (int64_t r = 0; r < rows; ++r) {
      if (p.kind == sparsity_kind::n_of_m && k % p.m == 0) {
        const int64_t width = std::min(p.m, cols - k);
        const int64_t keep = width == p.m ? p.n : p.n * width / p.m;
        std::vector<double> s;
        for (int64_t c = k; c < k + width; ++c) s.push_back(X(r, c) * X(r, c) / (U(c, c) * U(c, c)));
        reference_prune_lowest(s, width - keep, out.mask, r * cols + k);
      }
      if (o.quantize && k % group == 0) {
        const int64_t end = std::min(cols, k + group);
        std::vector<float> g(x.begin() + r * cols + k, x.begin() + r * cols + end);
        std::vector<uint8_t> codes(g.size());
        quant_encoding single = enc;
        single.group_size = 0;
        uint16_t s16 = 0;
        uint8_t z = static_cast<uint8_t>(enc.implicit_zero());
        (void)quantize_row_rtn(g.data(), static_cast<int64_t>(g.size()), single, rtn_row_options{.scale_search_steps = o.scale_search_steps}, codes.data(),
                               &s16, &z);
        scale[static_cast<size_t>(r)] = f16_to_f32(s16);
        zero[static_cast<size_t>(r)] = enc.symmetric ? static_cast<int>(enc.implicit_zero()) : z;
      }
      const double value = X(r, k), sc = scale[static_cast<size_t>(r)];
      const int zp = zero[static_cast<size_t>(r)];
      double kept = 0;
      if (out.mask[static_cast<size_t>(r * cols + k)]) {
        if (o.quantize) {
          const int q = sc == 0 ? zp : std::clamp(static_cast<int>(std::nearbyint(value / sc)) + zp, 0, levels - 1);
          kept = sc * (q - zp);
        } else {
          kept = value;
        }
      }
      out.values[static_cast<size_t>(r * cols + k)] = kept;
      const double err = (value - kept) / U(k, k);
      for (int64_t j = k + 1; j < cols; ++j) X(r, j) -= err * U(k, j);
    }
  }
  return out;
}

}  // namespace edgepack::prune_test
