// Wanda (Sun, Liu, Bair, Kolter 2023, "A Simple and Effective Pruning Approach for Large Language
// Models"): score S_ij = |W_ij| * ||X_j||_2, where ||X_j||_2 is the L2 norm of input feature j over
// all calibration tokens. No weight update. Comparison group of an unstructured pattern
// (wanda_options::scope):
// * per_row (default, the paper's "per output" group, its finding for LLMs): every row prunes
//   pruned_count(s, cols) weights;
// * per_tensor (the paper's "per layer" ablation): one threshold over all rows * cols scores,
//   pruned_count(s, rows * cols) weights in all, as magnitude's per-tensor scope
//   (passes/prune_magnitude.h). It lets quiet output rows be pruned harder than loud ones, which
//   wins on models whose rows differ a lot in norm (stories260K, docs/pruning.md).
// N:M always follows the pattern per group of a row (tail rule of sparsity_pattern.h).
//
// Column norms: from the GPTQ Hessian H = (2/n) sum x x^T (calibration/hessian.h),
// ||X_j||^2 = sum_x x_j^2 = H_jj * n / 2, so no separate accumulator is needed. A constant factor
// on all norms changes no comparison (per row or per tensor), so callers without n may pass any n > 0.
// Ties: lower column (per tensor: lower flat index) first (prune_mask.h). Deterministic at any thread count.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "passes/prune_mask.h"

namespace edgepack {

struct wanda_options {
  sparsity_pattern pattern = {};          // default 50 % unstructured
  mask_scope scope = mask_scope::per_row;  // unstructured only: comparison group
  int threads = 0;                         // 0: all cores; the result does not depend on it
};

// ||X_j||_2 = sqrt(H_jj * samples / 2) for j < cols; h is the full [cols, cols] Hessian.
Expected<std::vector<double>> activation_norms_from_hessian(std::span<const double> hessian, int64_t cols, int64_t samples);

// weight: row-major [rows, cols] f32; norms: cols non-negative finite values.
Expected<pruned_weight> prune_wanda(std::span<const float> weight, int64_t rows, int64_t cols, std::span<const double> norms,
                                    const wanda_options& options);

}  // namespace edgepack
