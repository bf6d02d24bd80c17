// Magnitude pruning: the weights of smallest |W| are set to zero (docs/pruning.md).
//
// Scope of the unstructured count (common practice, e.g. torch.nn.utils.prune.l1_unstructured
// and the magnitude baseline of the Wanda/SparseGPT papers, is per tensor):
// * per_tensor (default): pruned_count(s, rows * cols) weights of the whole tensor;
// * per_row: pruned_count(s, cols) in each output row (what Wanda does; the rows of a layer then
//   keep equal sizes, which packed formats like).
// N:M always works per group along the input dimension (sparsity_pattern.h, tail rule included).
// prune_magnitude_global applies ONE threshold across several tensors (unstructured only):
// pruned_count(s, sum of sizes) weights in all, wherever they are.
// Ties: lower tensor index, then lower flat index, is pruned first. Deterministic at any thread count.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "passes/prune_mask.h"

namespace edgepack {

struct magnitude_options {
  sparsity_pattern pattern = {};                 // default 50 % unstructured
  mask_scope scope = mask_scope::per_tensor;  // unstructured only
  int threads = 0;                          // 0: all cores; the result does not depend on it
};

// weight: row-major [rows, cols] f32.
Expected<pruned_weight> prune_magnitude(std::span<const float> weight, int64_t rows, int64_t cols, const magnitude_options& options);

struct weight_matrix_ref {
  std::string name;  // for messages
  std::span<const float> values;
  int64_t rows = 0, cols = 0;
};

// One global threshold over all tensors (unstructured pattern; options.scope is ignored).
Expected<std::vector<pruned_weight>> prune_magnitude_global(std::span<const weight_matrix_ref> weights, const magnitude_options& options);

}  // namespace edgepack
