// Refinement of an already quantized linear weight against its layer objective
//   f(Q) = tr((W - Q) H (W - Q)^T) = sum over rows r of (w_r - q_r)^T H (w_r - q_r),
// the calibration output error GPTQ minimizes greedily (H = the layer's input Hessian plus the same
// damping GPTQ used). GPTQ fixes each code once, column by column, and each group's scale before any
// of its codes is known; both choices can be revisited once all codes exist:
//
// * Scale refit: with the codes fixed, q_r = A s (A[j, g] = code_j - zero_g for j in group g) is
//   linear in the row's scales s, so the H-weighted least-squares scales solve the small
//   [groups, groups] system (A^T H A) s = A^T H w. Groups whose codes are all at the zero point do
//   not enter (their values are zero whatever the scale). The solution is stored as f16; a refit
//   that does not lower f after the f16 rounding is discarded.
// * Code sweeps (coordinate descent, as in QuantEase): column by column, the code minimizing f with
//   every other entry fixed. Moving q_j by d changes f by -2 d (H e)_j + d^2 H_jj (e = w - q), a 1-D
//   convex quadratic whose minimum over the group's grid is the grid point nearest to
//   q_j + (H e)_j / H_jj (clamped to the code range); H e is kept up to date, so a sweep costs
//   O(cols) per changed code plus O(cols) to scan. f never increases.
// Rounds: one refit, then `sweeps` times (sweep, refit). Zero points (asymmetric encodings) stay.
// Rows are independent and computed in double in a fixed order: the result does not depend on the
// thread count.
#pragma once
#include <cstdint>
#include <span>

#include "core/status.h"
#include "core/tensor.h"

namespace edgepack {

struct quant_refine_options {
  bool refit_scales = true;  // H-weighted least-squares scales for the codes
  int sweeps = 1;            // coordinate-descent rounds over the codes (0: scales only)
  double damp = 0.01;        // lambda = damp * mean(diag H) added to the diagonal, as GPTQ does
  int threads = 0;           // 0: all cores; the result does not depend on it
};

struct quant_refine_stats {
  double error_before = 0;      // f at the input codes and scales (damped H), summed in row order
  double error_after = 0;       // f after refinement
  int64_t codes_changed = 0;    // codes that differ from the input
  int64_t scales_changed = 0;   // f16 scales that differ from the input
};

struct quant_refine_result {
  tensor weight;  // same shape and encoding as the input
  quant_refine_stats stats;
};

// weight: the float weight [rows, cols] row-major (what `quantized` approximates); quantized: its
// quantized tensor with a plain [rows, cols] matrix view; hessian: [cols, cols] row-major, symmetric.
// Columns with H_jj == 0 (never activated) are treated as GPTQ treats them: target value zero.
Expected<quant_refine_result> refine_quantized_weight(std::span<const float> weight, int64_t rows, int64_t cols,
                                                      std::span<const double> hessian, const tensor& quantized,
                                                      const quant_refine_options& options);

}  // namespace edgepack
