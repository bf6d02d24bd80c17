// GPTQ (Frantar, Ashkboos, Hoefler, Alistarh 2022, "GPTQ: Accurate Post-Training Quantization for
// Generative Pre-trained Transformers") for one linear weight W [rows = out, cols = in], given the
// Hessian H = (2/n) sum x x^T of the layer's inputs (calibration/hessian.h).
//
// Columns are quantized one at a time (in order, or by decreasing H_ii with act_order); each
// column's rounding error, scaled by the inverse-Hessian factor (passes/gptq_inverse.h), is pushed
// onto the columns not yet quantized. Updates are applied lazily: within a block of block_size
// columns immediately, to the rest of the matrix as one GEMM per block (passes/lazy_batch.h, shared
// with SparseGPT; the GEMM runs on the dispatched kernels, same bits on every ISA). Rows are
// independent given U: they are processed in fixed tiles of row_tile rows (one tile per task), so
// the output is byte-identical at any thread count.
//
// Groups (the project encoding, core/encoding.h): group g holds columns [g*G, (g+1)*G) in the
// ORIGINAL column order, the tail group is shorter, group_size 0 = one group per row. Scale and
// zero point of a group come from the project's RTN quantizer (passes/rtn_quantizer.h: symmetric
// with the signed-absmax base scale and optional scale search, or asymmetric min/max) applied to
// * the group's CURRENT weights (all error updates so far applied) when its first column comes up
//   (default, static_groups = false; the reference code reads the not-yet-block-updated W here,
//   which differs slightly when a group starts inside a block), or
// * the original weights, before any update (static_groups = true).
// With act_order, group membership in processing order would be scattered over the original
// columns, which our encoding cannot express (the reference GPTQ stores a g_idx per column for
// this); act_order therefore always uses static groups (a note is added to the warnings when the
// caller did not ask for them).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/encoding.h"
#include "core/status.h"
#include "core/tensor.h"

namespace edgepack {

struct gptq_options {
  quant_encoding encoding;      // bits, group_size, symmetric; the weight is viewed as [out, in]
  double damp = 0.01;           // lambda = damp * mean(diag H) added to the diagonal
  double max_damp = 1e4;        // damping escalation cap (fraction of the mean diagonal)
  int64_t block_size = 128;     // lazy-batch width in columns
  bool act_order = false;       // process columns by decreasing H_ii (implies static groups)
  bool static_groups = false;   // group scales from the original weights
  int scale_search_steps = 4;   // symmetric scale search of the RTN quantizer (0 = plain absmax)
  int64_t row_tile = 128;       // rows per task; part of the result's definition, not of the speed only
  int threads = 0;              // 0: all cores; the result does not depend on it
};

struct gptq_stats {
  // Per row: sum over columns of (w - q)^2 / U_cc^2 / 2, the reference GPTQ's loss proxy
  // (the increase of the layer's output error this row's rounding causes, to first order).
  std::vector<double> row_error;
  double total_error = 0;       // sum of row_error, added in row order
  double damp_fraction = 0;     // damping used (after escalation), fraction of the mean diagonal
  double damp_absolute = 0;     // the lambda added to the diagonal
  int damp_escalations = 0;
  int64_t dead_columns = 0;     // columns with H_ii == 0 (never activated): quantized as zero
  bool static_groups = false;   // whether static groups were used
  std::vector<std::string> warnings;
};

struct gptq_result {
  tensor weight;  // quantized, shape {rows, cols}, encoding = options.encoding
  gptq_stats stats;
};

// weight: row-major [rows, cols] f32; hessian: full symmetric [cols, cols] row-major (double).
Expected<gptq_result> gptq_quantize(std::span<const float> weight, int64_t rows, int64_t cols, std::span<const double> hessian,
                                    const gptq_options& options);

}  // namespace edgepack
