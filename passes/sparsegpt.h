// SparseGPT (Frantar & Alistarh 2023, "SparseGPT: Massive Language Models Can Be Accurately Pruned
// in One-Shot") for one linear weight W [rows = out, cols = in], given the Hessian
// H = (2/n) sum x x^T of the layer's inputs (calibration/hessian.h). Optionally joint with
// quantization of the kept weights (scheme `s2:4+w4g32`).
//
// Same machinery as GPTQ (passes/gptq.h): the damped inverse-Hessian factor U, U^T U = (H + lambda I)^-1
// (passes/gptq_inverse.h, escalation included), columns processed in order in lazy blocks of
// block_size columns (the sweep of passes/lazy_batch.h, shared with GPTQ), each column's error (w - w_hat) / U_cc
// pushed onto the later columns. Blocks are the outer loop; within a block, fixed tiles of row_tile
// rows run in parallel (rows are independent given U and the block's mask), so results are
// byte-identical at any thread count.
//
// Mask (chosen adaptively, on the CURRENT weights, i.e. with the error of earlier columns applied),
// by the OBS saliency w_c^2 / U_cc^2:
// * unstructured, scope per_row (default): when a block [i1, i2) starts, each row prunes the
//   pruned_count(s, i2) - pruned_count(s, i1) weights of the block with the smallest saliency. Row
//   totals are exactly pruned_count(s, cols): every row gets the same sparsity, as Wanda found
//   better for LLMs (and better in stories260K's whole-model KLD, docs/pruning.md).
// * unstructured, scope per_tensor (the reference code's choice): when a block starts, its
//   pruned_count(s, rows * i2) - pruned_count(s, rows * i1) weights of smallest saliency over ALL
//   rows of the block are pruned (ties: lower flat index). The shares telescope, so the tensor
//   total is exactly pruned_count(s, rows * cols), as magnitude's per-tensor scope; rows may differ.
// * N:M: when column c with c % M == 0 comes up, the group [c, c + M) keeps its N columns of largest
//   w^2 / U^2 (the tail group keeps floor(N t / M), sparsity_pattern.h). The effective block size is
//   rounded up to a multiple of M so a group never straddles two blocks.
// Ties: lower column pruned first. Pruned weights become exactly 0.
//
// Joint quantization: kept weights are rounded GPTQ-style with group scales/zero points from the
// project's RTN quantizer (passes/rtn_quantizer.h) on the group's current weights when its first
// column comes up (pruned-to-be weights included, as in the reference; zero always lies inside the
// range). A pruned weight takes the zero-point code, which decodes to exactly 0: symmetric codes
// have the implicit zero 2^(b-1); asymmetric zero points are integer codes in [0, 2^b) because the
// RTN range always contains 0. A kept weight may still round to 0 (mask 1, value 0).
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/encoding.h"
#include "core/tensor.h"
#include "passes/prune_mask.h"

namespace edgepack {

struct sparsegpt_options {
  sparsity_pattern pattern = {};              // default 50 % unstructured
  mask_scope scope = mask_scope::per_row;     // unstructured only: per-row counts or per-tensor blocks
  std::optional<quant_encoding> quantize = std::nullopt;  // joint quantization of the kept weights ([out, in] view)
  double damp = 0.01;                    // lambda = damp * mean(diag H)
  double max_damp = 1e4;                 // escalation cap (fraction of the mean diagonal)
  int64_t block_size = 128;              // lazy-batch width (rounded up to a multiple of M for N:M)
  int scale_search_steps = 4;            // symmetric scale search of the RTN quantizer
  int64_t row_tile = 128;                // rows per task within a block (the result does not depend on it)
  int threads = 0;                       // 0: all cores; the result does not depend on it
};

struct sparsegpt_stats {
  // Per row: sum over columns of (w - w_hat)^2 / U_cc^2 / 2, the OBS loss proxy (first-order
  // increase of the row's output error); same definition as gptq_stats::row_error.
  std::vector<double> row_error;
  double total_error = 0;  // sum of row_error in row order
  double damp_fraction = 0;
  double damp_absolute = 0;
  int damp_escalations = 0;
  int64_t dead_columns = 0;  // H_ii == 0: weights set to 0 (and pruned first: their saliency is 0)
  int64_t block_size = 0;    // effective block size used
  std::vector<std::string> warnings;
};

struct sparsegpt_result {
  pruned_weight pruned;              // final weights (dequantized when quantizing), mask, counts
  std::optional<tensor> quantized;   // {rows, cols} with options.quantize's encoding, when set
  sparsegpt_stats stats;
};

// weight: row-major [rows, cols] f32; hessian: full symmetric [cols, cols] row-major (double).
Expected<sparsegpt_result> sparsegpt_prune(std::span<const float> weight, int64_t rows, int64_t cols, std::span<const double> hessian,
                                           const sparsegpt_options& options);

}  // namespace edgepack
