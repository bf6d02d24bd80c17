// Float-output targets for true-sequential calibration ("asymmetric calibration").
//
// True-sequential GPTQ fits each layer to its own float weight on the inputs the already-quantized
// layers produce: it minimises ||W x~ - Q x~|| over calibration rows x~, so the error the earlier
// layers left in x~ is passed on untouched. What the model needs is the float model's output,
// ||W x - Q x~|| (x = the float model's input to the same layer on the same window). With
// H = sum x~ x~^T and C = sum x x~^T that objective is, up to a constant,
//   tr((Q - W') H (Q - W')^T),   W' H = W C,
// i.e. plain GPTQ of the weight W' on the same Hessian. W' is found as a ridge regression toward W,
// minimising ||W x - W' x~||^2 + lambda ||W' - W||^2 (lambda = damp * mean diag H, the damping GPTQ
// uses), which gives
//   W' = W + W (C - H) (H + lambda I)^-1,
// exactly W when the inputs are not perturbed (x = x~, the first stage) and bounded when H is
// singular. H and C come from one accumulator over the concatenated rows [x~, x] (2 dim values per
// row): its Hessian holds H in the top-left block and C in the bottom-left one.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "passes/gptq_observers.h"

namespace edgepack {

// [x~, x] along the axis a Hessian row is read from (the last axis for matrix readers, the channel
// axis 1 for Conv, whose patches run (c, ky, kx) so the patch of the pair is [patch x~, patch x]).
// Both must be dense f32 of the same shape (bad_input otherwise).
Expected<tensor> paired_activation(const gptq_observer& observer, const tensor& quantized_input, const tensor& float_input);

// The observer that reads rows of a paired activation (twice the dimension).
gptq_observer paired_observer(const gptq_observer& observer);

struct split_hessian {
  std::vector<double> h;      // [dim, dim] from x~ alone
  std::vector<double> cross;  // C [dim, dim]: C[i][j] = (2/n) sum x_i x~_j
};

// Splits the [2 dim, 2 dim] Hessian of paired rows.
split_hessian split_paired_hessian(std::span<const double> paired, int64_t dim);

// W' = W + W (C - H) (H + lambda I)^-1 for W [rows, cols] row-major, lambda = damp * mean diag H
// (a zero diagonal counts as 1, as in GPTQ). Computed in double; independent of threads.
Expected<std::vector<float>> float_target_weight(std::span<const float> w, int64_t rows, int64_t cols, std::span<const double> h,
                                                 std::span<const double> cross, double damp);

}  // namespace edgepack
