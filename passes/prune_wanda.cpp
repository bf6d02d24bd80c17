#include "passes/prune_wanda.h"

#include <cmath>

#include "core/parallel.h"

namespace edgepack {

Expected<std::vector<double>> activation_norms_from_hessian(std::span<const double> hessian, int64_t cols, int64_t samples) {
  if (cols <= 0 || static_cast<int64_t>(hessian.size()) != cols * cols) return bad_usage("Hessian is not [in, in]");
  if (samples <= 0) return bad_usage("activation norms need a positive sample count");
  std::vector<double> norms(static_cast<size_t>(cols));
  for (int64_t j = 0; j < cols; ++j) {
    const double d = hessian[static_cast<size_t>(j * cols + j)];
    if (!std::isfinite(d) || d < 0) return bad_input("Hessian diagonal entry " + std::to_string(j) + " is negative or not finite");
    norms[static_cast<size_t>(j)] = std::sqrt(d * static_cast<double>(samples) / 2.0);
  }
  return norms;
}

Expected<pruned_weight> prune_wanda(std::span<const float> weight, int64_t rows, int64_t cols, std::span<const double> norms,
                                    const wanda_options& options) {
  EP_RETURN_IF_ERROR(check_prune_inputs(weight, rows, cols, options.pattern));
  if (static_cast<int64_t>(norms.size()) != cols)
    return bad_usage("Wanda needs one activation norm per input column (" + std::to_string(cols) + "), got " + std::to_string(norms.size()));
  for (const double v : norms)
    if (!std::isfinite(v) || v < 0) return bad_input("activation norms must be finite and non-negative");
  pruned_weight out;
  out.values.assign(weight.begin(), weight.end());
  out.mask.assign(weight.size(), uint8_t{1});
  out.rows = rows;
  out.cols = cols;
  // Products in double, rounded once: the same value whichever way a reference computes it.
  const auto score_row = [&](int64_t r, float* score) {
    for (int64_t j = 0; j < cols; ++j)
      score[j] = static_cast<float>(std::fabs(static_cast<double>(weight[static_cast<size_t>(r * cols + j)])) * norms[static_cast<size_t>(j)]);
  };
  if (options.pattern.kind == sparsity_kind::unstructured && options.scope == mask_scope::per_tensor) {
    std::vector<float> score(weight.size());
    parallel_for(rows, options.threads, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) score_row(r, score.data() + r * cols);
    });
    prune_lowest(score.data(), rows * cols, pruned_count(options.pattern.fraction, rows * cols), out.mask.data());
  } else {
    parallel_for(rows, options.threads, [&](int64_t begin, int64_t end) {
      std::vector<float> score(static_cast<size_t>(cols));
      for (int64_t r = begin; r < end; ++r) {
        score_row(r, score.data());
        select_row_mask(score.data(), cols, options.pattern, out.mask.data() + r * cols);
      }
    });
  }
  apply_mask(out);
  return out;
}

}  // namespace edgepack
