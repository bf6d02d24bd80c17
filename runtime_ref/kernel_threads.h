// How many threads the GEMM-shaped kernels (MatMul, Gemm, Conv, ConvTranspose, LSTM) may use.
// Process-wide, default 1. Work is split by output blocks with core/parallel.h and every output
// element is computed by one thread in a fixed order, so results are byte-identical at any count.
// Eigen's own threading stays off (no OpenMP): each block's GEMM runs single-threaded.
#pragma once
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>

#include "core/parallel.h"

namespace edgepack {

// threads <= 0 means std::thread::hardware_concurrency().
void set_kernel_threads(int threads);
int kernel_threads();

// Output columns per GEMM block. Fixed (a multiple of Eigen's 4-column micro-kernel), and the
// remainder joins the last block instead of forming a narrow one, so every block takes Eigen's GEBP
// path with the same k blocking as the whole product: each output column is summed in the same
// order as by one unsplit product, at any thread count. (A 1-column block would take GEMV, which
// sums in another order.)
inline constexpr int64_t gemm_column_block = 512;
// Below this many multiply-adds a product runs on the calling thread (thread start-up dominates).
inline constexpr int64_t gemm_parallel_min_work = int64_t{1} << 18;

// y = a · b, computed in fixed blocks of gemm_column_block output columns that kernel_threads()
// threads share. Y, A, B are Eigen expressions (maps); y must not alias a or b.
template <class Y, class A, class B>
void blocked_product(Y& y, const A& a, const B& b) {
  const int64_t cols = y.cols();
  const int64_t blocks = std::max<int64_t>(1, cols / gemm_column_block);
  const bool worth_threads = static_cast<int64_t>(y.rows()) * a.cols() * cols >= gemm_parallel_min_work;
  parallel_for(blocks, worth_threads ? kernel_threads() : 1, [&](int64_t begin, int64_t end) {
    for (int64_t blk = begin; blk < end; ++blk) {
      const int64_t c0 = blk * gemm_column_block, width = blk + 1 == blocks ? cols - c0 : gemm_column_block;
      y.middleCols(c0, width).noalias() = a * b.middleCols(c0, width);
    }
  });
}

}  // namespace edgepack
