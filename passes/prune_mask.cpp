#include "passes/prune_mask.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace edgepack {

void prune_lowest(const float* scores, int64_t n, int64_t count, uint8_t* mask) {
  count = std::clamp<int64_t>(count, 0, n);
  if (count == 0) return;
  if (count == n) {
    std::fill(mask, mask + n, uint8_t{0});
    return;
  }
  thread_local std::vector<int64_t> order;
  order.resize(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  const auto less = [scores](int64_t a, int64_t b) { return scores[a] < scores[b] || (scores[a] == scores[b] && a < b); };
  std::nth_element(order.begin(), order.begin() + (count - 1), order.end(), less);
  for (int64_t i = 0; i < count; ++i) mask[order[static_cast<size_t>(i)]] = 0;
}

void select_row_mask(const float* scores, int64_t cols, const sparsity_pattern& pattern, uint8_t* mask) {
  std::fill(mask, mask + cols, uint8_t{1});
  if (pattern.kind == sparsity_kind::unstructured) {
    prune_lowest(scores, cols, pruned_count(pattern.fraction, cols), mask);
    return;
  }
  for (int64_t g = 0; g < cols; g += pattern.m) {
    const int64_t width = std::min(pattern.m, cols - g);
    prune_lowest(scores + g, width, width - kept_in_group(pattern, width), mask + g);
  }
}

void apply_mask(pruned_weight& out) {
  out.pruned = 0;
  for (size_t i = 0; i < out.mask.size(); ++i)
    if (out.mask[i] == 0) {
      out.values[i] = 0.0f;
      ++out.pruned;
    }
}

Status check_prune_inputs(std::span<const float> weight, int64_t rows, int64_t cols, const sparsity_pattern& pattern) {
  if (rows <= 0 || cols <= 0) return bad_usage("pruning needs a non-empty [out, in] weight");
  if (cols > (int64_t{1} << 30)) return bad_usage("rows longer than 2^30 columns are not supported");
  if (static_cast<int64_t>(weight.size()) != rows * cols) return bad_usage("weight size does not match rows x cols");
  EP_RETURN_IF_ERROR(validate_sparsity_pattern(pattern));
  for (const float v : weight)
    if (!std::isfinite(v)) return bad_input("weight holds NaN or Inf; refusing to prune");
  return {};
}

}  // namespace edgepack
