// The damped inverse-Hessian factor GPTQ works with: U upper triangular with U^T U = (H + lambda I)^-1
// (the "upper Cholesky factor of H^-1" of Frantar et al. 2022), lambda = damp * mean(diag H).
//
// Computed in double without forming H^-1: with J the index reversal, factor J H J = L L^T; then
// H^-1 = J L^-T L^-1 J, so U = J L^-1 J. Both steps work on blocks of 128 columns: a right-looking
// blocked Cholesky (Eigen LLT on each diagonal block, Eigen triangular solves for the panel, the
// trailing update's tile GEMMs on the dispatched f64 kernels of runtime_ref/gemm_kernels.h), and
// L^-1 one block column at a time from the diagonal blocks' inverses (independent block columns,
// largest first; their products on the same kernels). 2n^3/3 flops in all, nearly all of them in
// the GEMM kernels, run on `threads`. Every block is computed by the same call on the same shapes
// whichever thread runs it, and the GEMM kernels give the same bits on every ISA (one FMA chain per
// element), so the factor is byte-identical at any thread count and on AVX-512, AVX2 or neither.
//
// Escalation: if the factorisation fails, a pivot is numerically zero (L_ii^2 < 1e-12 * max diag,
// i.e. below double rounding noise) or the result is not finite, the damping fraction is multiplied
// by 10 (0 becomes 1e-6) and the factorisation retried, up to max_damp; each retry adds a warning.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace edgepack {

struct inverse_factor_options {
  double damp = 0.01;      // fraction of the mean diagonal added to the diagonal
  double max_damp = 1e4;   // escalation stops (with an error) beyond this fraction
  int threads = 0;         // 0: all cores; the result does not depend on it
};

struct inverse_factor {
  std::vector<float> upper;  // U, row-major [n, n]; entries below the diagonal are zero
  double damp_fraction = 0;  // the fraction finally used
  double damp_absolute = 0;  // lambda = damp_fraction * mean diag
  int escalations = 0;
  std::vector<std::string> warnings;
};

// h: full symmetric [n, n] row-major, finite, non-negative diagonal with no zero entries (GPTQ
// replaces dead columns' zero diagonals by 1 before calling this).
Expected<inverse_factor> damped_inverse_factor(std::span<const double> h, int64_t n, const inverse_factor_options& options);

// Moves the factor's damping record (fraction, absolute lambda, escalations, warnings) into a
// solver's stats (gptq_stats, sparsegpt_stats share these field names) and returns U.
template <class SolverStats>
std::vector<float> take_factor(inverse_factor&& factor, SolverStats& stats) {
  stats.damp_fraction = factor.damp_fraction;
  stats.damp_absolute = factor.damp_absolute;
  stats.damp_escalations = factor.escalations;
  for (auto& warning : factor.warnings) stats.warnings.push_back(std::move(warning));
  return std::move(factor.upper);
}

}  // namespace edgepack
