// Mask selection shared by the pruning methods (magnitude, Wanda, SparseGPT) and their common
// result type. A score says how much removing a weight costs; the lowest scores are pruned.
//
// Ties are broken by position: among equal scores the lower index is pruned first, so every
// selection is a pure function of the scores (no dependence on sort algorithm or thread count).
// NaN scores are not expected (callers reject non-finite weights first).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "passes/sparsity_pattern.h"

namespace edgepack {

// Clears mask[i] for the `count` lowest scores among n (ties: lower index first); other entries
// are left as they are. count is clamped to [0, n].
void prune_lowest(const float* scores, int64_t n, int64_t count, uint8_t* mask);

// One row of `cols` scores under the pattern: unstructured prunes pruned_count(fraction, cols);
// N:M prunes the M - N lowest of every group and t - floor(N t / M) of the tail. The mask row is
// first set to all-kept.
void select_row_mask(const float* scores, int64_t cols, const sparsity_pattern& pattern, uint8_t* mask);

// Output of every pruning method for one weight [rows, cols].
struct pruned_weight {
  std::vector<float> values;  // the pruned weight, row-major; values[i] == 0 wherever mask[i] == 0
  std::vector<uint8_t> mask;  // 1 = kept, 0 = pruned
  int64_t rows = 0, cols = 0;
  int64_t pruned = 0;         // zeros in the mask
  std::vector<std::string> warnings;
};

// Zeroes the masked-out entries of values and counts them into `pruned`.
void apply_mask(pruned_weight& out);

// Validation shared by the methods: non-empty shape, sizes, finite weights, a valid pattern.
Status check_prune_inputs(std::span<const float> weight, int64_t rows, int64_t cols, const sparsity_pattern& pattern);

}  // namespace edgepack
