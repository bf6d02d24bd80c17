// How many threads the GEMM-shaped kernels (MatMul, Gemm, Conv, ConvTranspose, LSTM) may use.
// Process-wide, default 1. Work is split by output blocks with core/parallel.h and every output
// element is computed by one thread in a fixed order, so results are byte-identical at any count.
// Each block's GEMM (runtime_ref/gemm_kernels.h) runs single-threaded.
#pragma once
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/parallel.h"
#include "runtime_ref/gemm_kernels.h"

namespace edgepack {

// threads <= 0 means std::thread::hardware_concurrency().
void set_kernel_threads(int threads);
int kernel_threads();

// Output columns per GEMM block. Fixed, and the remainder joins the last block instead of forming
// a narrow one. Each block is one gemm_f32 call (runtime_ref/gemm_kernels.h), where every output
// element is a single FMA chain over k in order, so blocks and threads never change a bit: the
// blocked product equals one unsplit gemm_f32 call at any thread count.
inline constexpr int64_t gemm_column_block = 512;
// Below this many multiply-adds a product runs on the calling thread (thread start-up dominates).
inline constexpr int64_t gemm_parallel_min_work = int64_t{1} << 18;

// y = a · b, computed in fixed blocks of gemm_column_block output columns that kernel_threads()
// threads share. Y, A, B are Eigen expressions with direct access (matrices, maps, their transposes
// and blocks); y must not alias a or b. Eigen only describes the operands: the arithmetic is
// gemm_f32's packed SIMD kernels, chosen at run time.
template <class Y, class A, class B>
void blocked_product(Y& y, const A& a, const B& b) {
  const int64_t rows = y.rows(), cols = y.cols(), depth = a.cols();
  if (rows == 0 || cols == 0) return;
  const gemm_view va{a.data(), static_cast<int64_t>(a.rowStride()), static_cast<int64_t>(a.colStride())};
  const gemm_view vb{b.data(), static_cast<int64_t>(b.rowStride()), static_cast<int64_t>(b.colStride())};
  const bool direct = y.colStride() == 1;
  // A column-major y is computed into a row-major scratch and copied (no caller does this today).
  std::vector<float> scratch(direct ? 0 : static_cast<size_t>(rows * cols));
  float* out = direct ? y.data() : scratch.data();
  const int64_t ldc = direct ? static_cast<int64_t>(y.rowStride()) : cols;
  const int64_t blocks = std::max<int64_t>(1, cols / gemm_column_block);
  const bool worth_threads = rows * depth * cols >= gemm_parallel_min_work;
  parallel_for(blocks, worth_threads ? kernel_threads() : 1, [&](int64_t begin, int64_t end) {
    for (int64_t blk = begin; blk < end; ++blk) {
      const int64_t c0 = blk * gemm_column_block, width = blk + 1 == blocks ? cols - c0 : gemm_column_block;
      gemm_f32(rows, width, depth, va, {vb.data + c0 * vb.col_stride, vb.row_stride, vb.col_stride}, out + c0, ldc);
    }
  });
  if (!direct)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) y(i, j) = scratch[static_cast<size_t>(i * cols + j)];
}

}  // namespace edgepack
