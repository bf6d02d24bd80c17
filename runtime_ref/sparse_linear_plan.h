// Internals shared by the packed sparse linear kernels (sparse_linear.cpp, sparse_linear_avx512.cpp,
// sparse_linear_avx2.cpp): the weight's encoding resolved once per call, and the scalar per-row
// chain that defines the summation order (runtime_ref/sparse_linear.h) for every variant.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace edgepack::sparse_linear_detail {

struct plan {
  const tensor* w = nullptr;
  int64_t rows = 0, cols = 0;
  bool quantized = false;
  int bits = 0;           // quantized: code width (codes of 2..4 bits pack as a bitstream)
  int64_t groups = 1;     // quantization groups per row
  int64_t group = 0;      // their width (the last may be shorter)
  bool symmetric = true;
  int implicit_zero = 0;  // symmetric zero point
  sparsity_layout layout = sparsity_layout::none;
  int n = 0, m = 0, index_bits = 0;  // n_of_m
  int64_t per_row = 0;               // n_of_m: stored values per row
  // SIMD windows (n_of_m with m in {2, 4, 8}; f32 values or codes of <= 4 bits): a window is
  // window_groups whole N:M groups = window_slots (<= 16) stored values per row and window_cols
  // columns, inside one quantization group. simd is false when the encoding does not fit.
  bool simd = false;
  int window_groups = 0, window_slots = 0;
  int64_t window_cols = 0;
};

plan make_plan(const tensor& w);

// Full SIMD windows that rows up to `last_row` can run: the kernels read 8 bytes at the start of each
// half window's codes and indices, so windows whose reads would pass a blob's end run as tail.
int64_t simd_windows(const plan& p, int64_t last_row);

// Per-thread scratch of the scalar chain and the SIMD kernels' decoded window tile.
struct scratch {
  std::vector<int32_t> column;
  std::vector<float> value;
  std::vector<float> acc;
};

// Continues acc[b * acc_stride] (b < batch) along row r's stored values in columns >= col_begin
// (a multiple of m for n_of_m, 0 for bitmask): acc = fma(x[b, c], value, acc) in column order.
void row_chain(const plan& p, int64_t r, int64_t col_begin, const float* x, int64_t batch, float* acc, int64_t acc_stride, scratch& s);

// Scales and zero points of every quantization group of rows [r0, r0 + lanes), lane-interleaved:
// scale[g * lanes + l], zero[g * lanes + l] (vectors sized here).
void group_tables(const plan& p, int64_t r0, int lanes, std::vector<float>& scale, std::vector<int32_t>& zero);

// Runs `windows` SIMD windows of rows [r0, r0 + 16) (AVX-512F) or [r0, r0 + 8) (AVX2), chains
// acc[b * acc_stride + l] for lane l. Compiled with target attributes; call only where available.
void block_avx512(const plan& p, int64_t r0, int64_t windows, const float* x, int64_t batch, float* acc, int64_t acc_stride);
void block_avx2(const plan& p, int64_t r0, int64_t windows, const float* x, int64_t batch, float* acc, int64_t acc_stride);

}  // namespace edgepack::sparse_linear_detail
