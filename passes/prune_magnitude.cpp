#include "passes/prune_magnitude.h"

#include <cmath>

#include "core/parallel.h"

namespace edgepack {

namespace {

std::vector<float> magnitudes(std::span<const float> w) {
  std::vector<float> a(w.size());
  for (size_t i = 0; i < w.size(); ++i) a[i] = std::fabs(w[i]);
  return a;
}

pruned_weight empty_result(std::span<const float> weight, int64_t rows, int64_t cols) {
  pruned_weight out;
  out.values.assign(weight.begin(), weight.end());
  out.mask.assign(weight.size(), uint8_t{1});
  out.rows = rows;
  out.cols = cols;
  return out;
}

}  // namespace

Expected<pruned_weight> prune_magnitude(std::span<const float> weight, int64_t rows, int64_t cols, const magnitude_options& options) {
  EP_RETURN_IF_ERROR(check_prune_inputs(weight, rows, cols, options.pattern));
  pruned_weight out = empty_result(weight, rows, cols);
  const std::vector<float> score = magnitudes(weight);
  if (options.pattern.kind == sparsity_kind::unstructured && options.scope == mask_scope::per_tensor) {
    prune_lowest(score.data(), rows * cols, pruned_count(options.pattern.fraction, rows * cols), out.mask.data());
  } else {
    parallel_for(rows, options.threads, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) select_row_mask(score.data() + r * cols, cols, options.pattern, out.mask.data() + r * cols);
    });
  }
  apply_mask(out);
  return out;
}

Expected<std::vector<pruned_weight>> prune_magnitude_global(std::span<const weight_matrix_ref> weights, const magnitude_options& options) {
  if (options.pattern.kind != sparsity_kind::unstructured)
    return bad_usage("a global magnitude threshold needs an unstructured pattern (N:M is decided inside each group of a row)");
  if (weights.empty()) return bad_usage("global magnitude pruning needs at least one tensor");
  std::vector<float> score;
  for (const weight_matrix_ref& w : weights) {
    Status s = check_prune_inputs(w.values, w.rows, w.cols, options.pattern);
    if (!s.ok()) return s.with_context(w.name);
    const std::vector<float> a = magnitudes(w.values);
    score.insert(score.end(), a.begin(), a.end());
  }
  std::vector<uint8_t> mask(score.size(), uint8_t{1});
  prune_lowest(score.data(), static_cast<int64_t>(score.size()), pruned_count(options.pattern.fraction, static_cast<int64_t>(score.size())),
               mask.data());
  std::vector<pruned_weight> out;
  size_t offset = 0;
  for (const weight_matrix_ref& w : weights) {
    pruned_weight p = empty_result(w.values, w.rows, w.cols);
    std::copy(mask.begin() + static_cast<std::ptrdiff_t>(offset), mask.begin() + static_cast<std::ptrdiff_t>(offset + w.values.size()), p.mask.begin());
    offset += w.values.size();
    apply_mask(p);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace edgepack
