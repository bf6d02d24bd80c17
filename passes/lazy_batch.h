// The lazy-batch column sweep GPTQ (passes/gptq.h) and SparseGPT (passes/sparsegpt.h) share
// (Frantar et al. 2022, "lazy batch updates"): columns are settled one at a time, in order; column
// k's scaled rounding error e_k = (w_k - w_hat_k) / U_kk is pushed onto the later columns as
// w_j -= e_k U[k, j]. Within a block [i1, i2) of `block` columns that happens at once, row by row;
// the rest of the matrix gets the block's errors as one GEMM per block,
// W[:, i2:] -= E[:, i1:i2] · U[i1:i2, i2:], on the runtime's dispatched kernels
// (runtime_ref/gemm_kernels.h, gemm_update::subtract: every element is one FMA chain over the
// block's columns in order, the same bits on AVX-512, AVX2 and the portable variant).
//
// Rows are independent given U: a row tile's result depends only on its rows, never on which thread
// runs it or on the other tiles. What a method does with a column (round it, prune it, both) is the
// caller's row_block callback; the shared part is the bookkeeping of current values and errors.
#pragma once
#include <cstdint>
#include <vector>

#include "core/encoding.h"
#include "passes/rtn_quantizer.h"

namespace edgepack {

// One row's view of the current block [i1, i2) while the caller settles its columns in order.
class lazy_row {
 public:
  lazy_row(float* x, float* e, const float* u, int64_t cols, int64_t i1, int64_t i2) : x_(x), e_(e), u_(u), cols_(cols), i1_(i1), i2_(i2) {}

  int64_t begin() const { return i1_; }
  int64_t end() const { return i2_; }
  // Current value of column k: exact for the next column to settle (every earlier error applied).
  float value(int64_t k) const { return x_[k]; }
  // U_kk, the inverse factor's diagonal at column k.
  float diagonal(int64_t k) const { return u_[k * cols_ + k]; }
  // Value column j (>= k) will have once the block's columns before k are applied everywhere: in-block
  // columns are up to date, columns past the block still owe sum_{i1 <= c < k} e_c U[c, j] (what a
  // group starting at k inside the block sees when its scale is chosen).
  float pending(int64_t j, int64_t k) const;
  // Settles column k at `kept`: records e_k = (x_k - kept) / U_kk, applies it to the block's later
  // columns of this row and returns e_k.
  float settle(int64_t k, float kept);

 private:
  float* x_;
  float* e_;
  const float* u_;
  int64_t cols_, i1_, i2_;
};

// Scale (f16 bits) and zero point of the quantization group [k, k + n) chosen when column k comes
// up: the project's RTN quantizer (one group, enc's bits and symmetry) on the group's pending
// values (lazy_row::pending). *zero is the implicit zero for symmetric encodings.
void pending_group_params(const lazy_row& x, int64_t k, int64_t n, const quant_encoding& enc, const rtn_row_options& rtn, uint16_t* scale,
                          uint8_t* zero);

// Sweeps a row tile: x holds t rows of current weights, row-major [t, cols] (updated in place), u
// the inverse factor row-major [cols, cols] (both in processing order). For every block, in order,
// calls row_block(r, row) for r = 0 .. t-1 (which must settle every column of the block, in order),
// then applies the block's errors to the later columns of all t rows.
class lazy_batch_sweep {
 public:
  lazy_batch_sweep(const float* u, int64_t cols, int64_t block) : u_(u), cols_(cols), block_(block < 1 ? 1 : block) {}

  template <class RowBlock>
  void run(float* x, int64_t t, RowBlock&& row_block) {
    for (int64_t i1 = 0; i1 < cols_; i1 += block_) run_block(x, t, i1, row_block);
  }

  // One step of run(): the block [i1, min(i1 + block, cols)) of the t rows, then its errors onto
  // the later columns. Blocks must come in order (i1 = 0, block, 2 block, ...). For callers that
  // look at all rows between blocks (SparseGPT's per-tensor mask): one sweep per row tile, blocks
  // outer, tiles inner.
  template <class RowBlock>
  void run_block(float* x, int64_t t, int64_t i1, RowBlock&& row_block) {
    const int64_t i2 = i1 + block_ < cols_ ? i1 + block_ : cols_;
    err_.resize(static_cast<size_t>(t * block_));
    for (int64_t r = 0; r < t; ++r) {
      lazy_row row(x + r * cols_, err_.data() + r * block_, u_, cols_, i1, i2);
      row_block(r, row);
    }
    apply_block(x, t, i1, i2);
  }

 private:
  // x[:, i2:] -= err[:, :i2 - i1] · U[i1:i2, i2:].
  void apply_block(float* x, int64_t t, int64_t i1, int64_t i2) const;

  const float* u_;
  int64_t cols_, block_;
  std::vector<float> err_;  // [t, block]: scaled errors of the current block
};

}  // namespace edgepack
