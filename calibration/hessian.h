// Streaming accumulation of the GPTQ Hessian H = (2/n) * sum_x x x^T of a linear layer's inputs.
//
// Rows x (length `dim` = the layer's input/reduction size) arrive in chunks of any size. Only the
// lower triangle is computed: it is split into square tiles of `tile` columns, and each tile
// H[I, J] (J <= I) is computed over at most `flush_rows` rows in f32 by a packed SYRK micro-kernel
// (calibration/syrk_kernels.h: AVX-512F, AVX2+FMA or portable, chosen at run time; all give the
// same bits), then added into a double sum. Tiles are independent and always computed the same way,
// whichever thread runs them (threads take tiles from a shared counter, largest first, for balance),
// so the result is byte-identical at any thread count and on any CPU.
//
// Precision: every entry is one f32 fused multiply-add chain over m <= flush_rows rows; its error is
// at most ~ m * 2^-24 * sum |x_i x_j| (one rounding per step; sqrt(m) typical): with the default
// 2048 that is ~1.2e-4 worst case / ~3e-6 typical, comparable to the inputs' own f32 rounding, and
// the double sum across chunks does not grow with n: a run of millions of rows is as accurate as
// one chunk. Memory: dim x dim doubles (the sum) plus, per thread, one f32 tile and two packed
// panels of 256 rows; inputs are not kept.
#pragma once
#include <cstdint>
#include <vector>

#include "calibration/syrk_kernels.h"
#include "core/status.h"

namespace edgepack {

struct hessian_options {
  int threads = 0;           // 0: all cores; the result does not depend on it
  int64_t tile = 256;        // tile edge in columns
  int64_t flush_rows = 2048; // rows summed in f32 before flushing into the double sum
  syrk_isa kernel = syrk_isa::automatic;  // a variant this CPU lacks falls back to the best available
};

class hessian_accumulator {
 public:
  explicit hessian_accumulator(int64_t dim, hessian_options options = {});

  // Adds `rows` rows of `dim` floats each (row-major). Rejects NaN/Inf (nothing is added then).
  [[nodiscard]] Status add_rows(const float* x, int64_t rows);

  int64_t dim() const { return dim_; }
  int64_t count() const { return count_; }  // n: rows added so far
  syrk_isa kernel() const { return kernel_; }  // the variant that runs (never automatic)
  // Full symmetric H = (2/n) * sum x x^T as row-major [dim, dim] doubles; all zeros when n == 0.
  std::vector<double> hessian() const;
  // The raw lower-triangle sum sum x x^T (row-major [dim, dim]; the upper triangle is not kept).
  const std::vector<double>& raw_sum() const { return sum_; }

 private:
  void add_block(const float* x, int64_t rows);

  int64_t dim_;
  hessian_options options_;
  syrk_isa kernel_;
  int64_t count_ = 0;
  std::vector<double> sum_;
};

}  // namespace edgepack
