#include "runtime_ref/sparse_linear.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/half_convert.h"
#include "core/quant_codes.h"
#include "core/sparsity.h"
#include "runtime_ref/kernel_threads.h"
#include "runtime_ref/sparse_linear_plan.h"

namespace edgepack {

bool sparse_linear_supported(const tensor& w) {
  return w.is_sparse() && w.shape.size() == 2 && w.quant.col_axis == -1 && !w.quant.transposed && w.numel() > 0 &&
         (w.is_quantized() || w.type == dtype::f32);
}

namespace sparse_linear_detail {

plan make_plan(const tensor& w) {
  plan p;
  p.w = &w;
  p.rows = w.shape[0];
  p.cols = w.shape[1];
  p.quantized = w.is_quantized();
  p.layout = w.sparsity.layout;
  if (p.quantized) {
    p.bits = w.quant.bits;
    p.groups = w.quant.groups_per_row(p.cols);
    p.group = w.quant.effective_group(p.cols);
    p.symmetric = w.quant.symmetric;
    p.implicit_zero = static_cast<int>(w.quant.implicit_zero());
  }
  if (p.layout != sparsity_layout::n_of_m) return p;
  p.n = w.sparsity.n;
  p.m = w.sparsity.m;
  p.index_bits = w.sparsity.index_bits();
  p.per_row = w.sparsity.kept_per_row(p.cols);
  // Float values are gathered with 32-bit element offsets; codes are read as bitstreams of <= 4 bits.
  const bool values_fit = p.quantized ? packed_code_bits(p.bits) <= 4 : p.rows * p.per_row < (int64_t{1} << 31);
  if (!values_fit || (p.m != 2 && p.m != 4 && p.m != 8)) return p;
  // The most whole N:M groups (at most 16 stored values) that never straddle a quantization group.
  for (int g = 16 / p.n; g >= 1; --g)
    if (p.groups == 1 || p.group % (int64_t{g} * p.m) == 0) {
      p.window_groups = g;
      break;
    }
  p.simd = p.window_groups > 0;
  p.window_slots = p.window_groups * p.n;
  p.window_cols = int64_t{p.window_groups} * p.m;
  return p;
}

int64_t simd_windows(const plan& p, int64_t last_row) {
  if (!p.simd) return 0;
  int64_t windows = p.cols / p.window_cols;
  const int64_t k0 = last_row * p.per_row;
  const int64_t last_half = (p.window_slots - 1) / 8 * 8;
  auto fits = [&](int64_t t) {
    const int64_t slot = k0 + t * p.window_slots + last_half;
    return (!p.quantized || static_cast<uint64_t>((slot * p.bits) >> 3) + 8 <= p.w->data.size) &&
           static_cast<uint64_t>((slot * p.index_bits) >> 3) + 8 <= p.w->indices.size;
  };
  while (windows > 0 && !fits(windows - 1)) --windows;
  return windows;
}

void group_tables(const plan& p, int64_t r0, int lanes, std::vector<float>& scale, std::vector<int32_t>& zero) {
  const auto* scales = reinterpret_cast<const uint16_t*>(p.w->scales.data);
  const size_t count = static_cast<size_t>(p.groups * lanes);
  scale.resize(count + static_cast<size_t>(p.groups));  // the tail holds one row's conversion
  zero.resize(count);
  float* row = scale.data() + count;
  for (int l = 0; l < lanes; ++l) {
    const int64_t first = (r0 + l) * p.groups;
    f16_to_f32_bulk(scales + first, row, static_cast<size_t>(p.groups));
    for (int64_t g = 0; g < p.groups; ++g) {
      scale[static_cast<size_t>(g * lanes + l)] = row[g];
      zero[static_cast<size_t>(g * lanes + l)] = p.symmetric ? p.implicit_zero : read_code(p.w->zeros.data, p.bits, static_cast<uint64_t>(first + g));
    }
  }
}

void row_chain(const plan& p, int64_t r, int64_t col_begin, const float* x, int64_t batch, float* acc, int64_t acc_stride, scratch& s) {
  const tensor& w = *p.w;
  // 1. The row's stored entries from col_begin on: columns, and the first stored value's index.
  s.column.clear();
  uint64_t k0 = 0;
  if (p.layout == sparsity_layout::n_of_m) {
    const int64_t first_group = col_begin / p.m;
    k0 = static_cast<uint64_t>(r * p.per_row + first_group * p.n);
    uint64_t k = k0;
    const auto* idx = reinterpret_cast<const uint8_t*>(w.indices.data);
    for (int64_t g0 = first_group * p.m; g0 < p.cols; g0 += p.m) {
      const int64_t kept = w.sparsity.kept_in_group(std::min<int64_t>(p.m, p.cols - g0));
      for (int64_t j = 0; j < kept; ++j, ++k) {
        const uint32_t local = p.index_bits == 2 ? (idx[k >> 2] >> ((k & 3) * 2)) & 3 : read_bit_field(w.indices.data, p.index_bits, k);
        s.column.push_back(static_cast<int32_t>(g0 + local));
      }
    }
  } else {  // bitmask: col_begin is 0
    uint32_t first = 0;
    std::memcpy(&first, w.row_offsets.data + 4 * r, 4);
    k0 = first;
    const auto* mask = reinterpret_cast<const uint8_t*>(w.mask.data);
    const uint64_t base = static_cast<uint64_t>(r * p.cols);
    for (int64_t c = 0; c < p.cols; ++c)
      if ((mask[(base + c) >> 3] >> ((base + c) & 7)) & 1) s.column.push_back(static_cast<int32_t>(c));
  }
  // 2. Their values, decoded exactly as dequantize_rows / decode_sparse_rows do.
  const size_t count = s.column.size();
  s.value.resize(count);
  if (p.quantized) {
    const auto* scales = reinterpret_cast<const uint16_t*>(w.scales.data);
    int64_t group = -1;
    float scale = 0.0f;
    int zero = 0;
    for (size_t j = 0; j < count; ++j) {
      if (const int64_t g = s.column[j] / p.group; g != group) {
        group = g;
        const uint64_t gi = static_cast<uint64_t>(r * p.groups + g);
        f16_to_f32_bulk(scales + gi, &scale, 1);
        zero = p.symmetric ? p.implicit_zero : read_code(w.zeros.data, p.bits, gi);
      }
      s.value[j] = scale * static_cast<float>(read_code(w.data.data, p.bits, k0 + j) - zero);
    }
  } else if (count > 0) {
    std::memcpy(s.value.data(), w.data.data + 4 * k0, count * 4);
  }
  // 3. One chain per batch row, in column order.
  for (int64_t b = 0; b < batch; ++b) {
    const float* xb = x + b * p.cols;
    float a = acc[b * acc_stride];
    for (size_t j = 0; j < count; ++j) a = std::fma(xb[s.column[j]], s.value[j], a);
    acc[b * acc_stride] = a;
  }
}

}  // namespace sparse_linear_detail

using namespace sparse_linear_detail;

namespace {
constexpr int64_t block_rows = 16;  // rows per work item: one AVX-512 register of lanes, two AVX2
}

void sparse_linear(const tensor& w, const float* x, int64_t batch, float* y, const sparse_linear_options& options) {
  const plan p = make_plan(w);
  if (batch <= 0) return;
  const gemm_isa isa = resolve_gemm_isa(options.isa);
  const int threads = options.threads > 0 ? options.threads : kernel_threads();
  const int64_t blocks = (p.rows + block_rows - 1) / block_rows;
  const bool worth_threads = p.rows * p.cols * batch / 2 >= gemm_parallel_min_work;
  parallel_for(blocks, worth_threads ? threads : 1, [&](int64_t begin, int64_t end) {
    thread_local scratch s;
    s.acc.resize(static_cast<size_t>(batch * block_rows));
    float* acc = s.acc.data();
    for (int64_t blk = begin; blk < end; ++blk) {
      const int64_t r0 = blk * block_rows, lanes = std::min(block_rows, p.rows - r0);
      std::fill(acc, acc + batch * block_rows, 0.0f);  // every chain starts from +0, like the dense GEMM
      // Whether a row runs SIMD windows depends only on its block, never on the thread split.
      int64_t windows = lanes == block_rows && isa != gemm_isa::portable ? simd_windows(p, r0 + block_rows - 1) : 0;
#if defined(__x86_64__)
      if (windows > 0 && isa == gemm_isa::avx512) {
        block_avx512(p, r0, windows, x, batch, acc, block_rows);
      } else if (windows > 0 && isa == gemm_isa::avx2) {
        block_avx2(p, r0, windows, x, batch, acc, block_rows);
        block_avx2(p, r0 + 8, windows, x, batch, acc + 8, block_rows);
      }
#else
      windows = 0;
#endif
      const int64_t col_begin = windows * p.window_cols;
      for (int64_t l = 0; l < lanes; ++l) {
        if (col_begin < p.cols) row_chain(p, r0 + l, col_begin, x, batch, acc + l, block_rows, s);
        for (int64_t b = 0; b < batch; ++b) y[b * p.rows + r0 + l] = acc[b * block_rows + l];
      }
    }
  });
}

void sparse_linear_reference(const tensor& w, const float* x, int64_t batch, float* y) {
  const int64_t rows = w.shape[0], cols = w.shape[1];
  std::vector<float> dense(static_cast<size_t>(rows * cols));
  decode_sparse_rows(w, 0, rows, dense.data());
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t r = 0; r < rows; ++r) {
      float acc = 0.0f;
      for (int64_t c = 0; c < cols; ++c) acc = std::fma(x[b * cols + c], dense[static_cast<size_t>(r * cols + c)], acc);
      y[b * rows + r] = acc;
    }
}

}  // namespace edgepack
