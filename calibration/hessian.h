// Streaming accumulation of the GPTQ Hessian H = (2/n) * sum_x x x^T of a linear layer's inputs.
//
// Rows x (length `dim` = the layer's input/reduction size) arrive in chunks of any size. Only the
// lower triangle is computed: it is split into square tiles of `tile` columns, and each tile
// H[I, J] (J <= I) is one Eigen GEMM X[:, I]^T X[:, J] over at most `flush_rows` rows in f32,
// then added into a double sum. Tiles are independent and always computed the same way, whichever
// thread runs them, so the result is byte-identical at any thread count.
//
// Precision: an f32 dot product of m terms has relative error ~ m * 2^-24 in the worst case
// (sqrt(m) typical); capping m at flush_rows (default 2048) keeps that below ~1e-4 worst case /
// ~3e-6 typical, comparable to the inputs' own f32 rounding, and the double sum across chunks does
// not grow with n: a run of millions of rows is as accurate as one chunk. Memory: dim x dim doubles
// (the sum) plus one f32 tile per thread; inputs are not kept.
#pragma once
#include <cstdint>
#include <vector>

#include "core/status.h"

namespace edgepack {

struct hessian_options {
  int threads = 0;           // 0: all cores; the result does not depend on it
  int64_t tile = 256;        // tile edge in columns
  int64_t flush_rows = 2048; // rows summed in f32 before flushing into the double sum
};

class hessian_accumulator {
 public:
  explicit hessian_accumulator(int64_t dim, hessian_options options = {});

  // Adds `rows` rows of `dim` floats each (row-major). Rejects NaN/Inf (nothing is added then).
  [[nodiscard]] Status add_rows(const float* x, int64_t rows);

  int64_t dim() const { return dim_; }
  int64_t count() const { return count_; }  // n: rows added so far
  // Full symmetric H = (2/n) * sum x x^T as row-major [dim, dim] doubles; all zeros when n == 0.
  std::vector<double> hessian() const;
  // The raw lower-triangle sum sum x x^T (row-major [dim, dim]; the upper triangle is not kept).
  const std::vector<double>& raw_sum() const { return sum_; }

 private:
  void add_block(const float* x, int64_t rows);

  int64_t dim_;
  hessian_options options_;
  int64_t count_ = 0;
  std::vector<double> sum_;
};

}  // namespace edgepack
