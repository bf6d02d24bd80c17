// AVX2+FMA kernel of the packed sparse linear (runtime_ref/sparse_linear.h): 8 output rows, one per
// lane; the same scheme as the AVX-512F kernel (sparse_linear_avx512.cpp, which explains it), with
// 4-lane 64-bit gathers, vpermilps on a 128-bit broadcast of x (N:M groups of 2 and 4 columns) or
// vpermps on 8 columns.
#include "runtime_ref/sparse_linear_plan.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstring>
#include <vector>

namespace edgepack::sparse_linear_detail {
// Named per ISA: the unity build compiles the AVX2 and AVX-512 files as one unit.
namespace avx2_kernel {
namespace {

constexpr int lanes = 8;

struct alignas(64) window_tile {
  float w[16][lanes];        // slot j: the weights of the 8 rows' j-th stored values in the window
  int32_t column[16][lanes];  // their columns within the N:M group (low index bits; higher bits ignored)
};

// x[0 .. M) of one N:M group in every lane block the permute below reads.
template <int M>
__attribute__((target("avx2,fma"))) inline __m256 load_group(const float* xg) {
  if constexpr (M == 2) {
    double d;
    std::memcpy(&d, xg, sizeof d);
    return _mm256_castpd_ps(_mm256_set1_pd(d));  // x0 x1 x0 x1 ...: index bit 1 is don't-care
  } else if constexpr (M == 4) {
    return _mm256_broadcast_ps(reinterpret_cast<const __m128*>(xg));
  } else {
    return _mm256_loadu_ps(xg);
  }
}

template <int M>
__attribute__((target("avx2,fma"))) inline __m256 pick(__m256 xg, __m256i column) {
  if constexpr (M == 8) return _mm256_permutevar8x32_ps(xg, column);  // low 3 bits
  else return _mm256_permutevar_ps(xg, column);                        // low 2 bits, within each 128-bit half
}

// NB batch rows through one decoded window starting at column c0. The batch loops are unrolled
// so the accumulators and x groups stay in registers.
template <int M, int NB>
__attribute__((target("avx2,fma"))) void run_window(const window_tile& t, int groups, int n, const float* x, int64_t cols, int64_t c0,
                                                   float* acc, int64_t acc_stride) {
  __m256 a[NB];
#pragma GCC unroll 4
  for (int b = 0; b < NB; ++b) a[b] = _mm256_loadu_ps(acc + b * acc_stride);
  for (int g = 0; g < groups; ++g) {
    __m256 xg[NB];
#pragma GCC unroll 4
    for (int b = 0; b < NB; ++b) xg[b] = load_group<M>(x + b * cols + c0 + g * M);
    for (int s = 0; s < n; ++s) {
      const int j = g * n + s;
      const __m256 wv = _mm256_load_ps(t.w[j]);
      const __m256i cv = _mm256_load_si256(reinterpret_cast<const __m256i*>(t.column[j]));
#pragma GCC unroll 4
      for (int b = 0; b < NB; ++b) a[b] = _mm256_fmadd_ps(pick<M>(xg[b], cv), wv, a[b]);
    }
  }
#pragma GCC unroll 4
  for (int b = 0; b < NB; ++b) _mm256_storeu_ps(acc + b * acc_stride, a[b]);
}

// 32 bits of 4 rows' bitstreams at bit positions `bit` (the 8-byte read may cover later fields).
__attribute__((target("avx2,fma"))) inline __m128i gather_fields(const std::byte* data, __m256i bit) {
  const __m256i q = _mm256_i64gather_epi64(reinterpret_cast<const long long*>(data), _mm256_srli_epi64(bit, 3), 1);
  const __m256i shifted = _mm256_srlv_epi64(q, _mm256_and_si256(bit, _mm256_set1_epi64x(7)));
  return _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(shifted, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6)));
}

__attribute__((target("avx2,fma"))) inline __m256i gather_8(const std::byte* data, __m256i bit_lo, __m256i bit_hi, int64_t add) {
  const __m256i step = _mm256_set1_epi64x(add);
  const __m128i lo = gather_fields(data, _mm256_add_epi64(bit_lo, step)), hi = gather_fields(data, _mm256_add_epi64(bit_hi, step));
  return _mm256_set_m128i(hi, lo);
}

template <int M>
__attribute__((target("avx2,fma"))) void block(const plan& p, int64_t r0, int64_t windows, const float* x, int64_t batch, float* acc,
                                              int64_t acc_stride) {
  const tensor& w = *p.w;
  const int slots = p.window_slots;
  // Bit position of each row's first stored value in the code and index streams (lanes 0-3, 4-7).
  alignas(32) int64_t code_bit[lanes], index_bit[lanes];
  for (int l = 0; l < lanes; ++l) {
    code_bit[l] = (r0 + l) * p.per_row * p.bits;
    index_bit[l] = (r0 + l) * p.per_row * p.index_bits;
  }
  const __m256i code_lo = _mm256_load_si256(reinterpret_cast<const __m256i*>(code_bit)), code_hi = _mm256_load_si256(reinterpret_cast<const __m256i*>(code_bit + 4));
  const __m256i index_lo = _mm256_load_si256(reinterpret_cast<const __m256i*>(index_bit)), index_hi = _mm256_load_si256(reinterpret_cast<const __m256i*>(index_bit + 4));
  const __m128i code_shift = _mm_cvtsi32_si128(p.bits), index_shift = _mm_cvtsi32_si128(p.index_bits);
  const __m256i code_mask = _mm256_set1_epi32((1 << p.bits) - 1);
  thread_local std::vector<float> scale;
  thread_local std::vector<int32_t> zero;
  if (p.quantized) group_tables(p, r0, lanes, scale, zero);
  alignas(64) int32_t value_first[lanes];  // f32 values: element index of each row's first stored value
  for (int l = 0; l < lanes; ++l) value_first[l] = static_cast<int32_t>((r0 + l) * p.per_row);
  const bool one_code_read = slots * p.bits <= 32, one_index_read = slots * p.index_bits <= 32;
  window_tile tile;
  for (int64_t t = 0; t < windows; ++t) {
    const int64_t c0 = t * p.window_cols;
    const size_t g = static_cast<size_t>(p.groups == 1 ? 0 : c0 / p.group) * lanes;
    const __m256 sv = p.quantized ? _mm256_loadu_ps(scale.data() + g) : _mm256_setzero_ps();
    const __m256i zv = p.quantized ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(zero.data() + g)) : _mm256_setzero_si256();
    const __m256i vfirst = _mm256_load_si256(reinterpret_cast<const __m256i*>(value_first));
    // A window's fields take one 8-byte read per row when they fit in 32 bits (after the <= 7-bit
    // shift), else one per half window; the shift registers run on across halves.
    __m256i codes = p.quantized ? gather_8(w.data.data, code_lo, code_hi, t * slots * p.bits) : _mm256_setzero_si256();
    __m256i columns = gather_8(w.indices.data, index_lo, index_hi, t * slots * p.index_bits);
    for (int h = 0; h * 8 < slots; ++h) {
      const int64_t slot = t * slots + h * 8;
      if (h > 0 && !one_code_read && p.quantized) codes = gather_8(w.data.data, code_lo, code_hi, slot * p.bits);
      if (h > 0 && !one_index_read) columns = gather_8(w.indices.data, index_lo, index_hi, slot * p.index_bits);
      for (int j = h * 8; j < slots && j < h * 8 + 8; ++j) {
        if (p.quantized) {
          const __m256i code = _mm256_sub_epi32(_mm256_and_si256(codes, code_mask), zv);
          _mm256_store_ps(tile.w[j], _mm256_mul_ps(sv, _mm256_cvtepi32_ps(code)));
        } else {
          const __m256i element = _mm256_add_epi32(vfirst, _mm256_set1_epi32(static_cast<int32_t>(t * slots + j)));
          _mm256_store_ps(tile.w[j], _mm256_i32gather_ps(reinterpret_cast<const float*>(w.data.data), element, 4));
        }
        _mm256_store_si256(reinterpret_cast<__m256i*>(tile.column[j]), columns);
        codes = _mm256_srl_epi32(codes, code_shift);
        columns = _mm256_srl_epi32(columns, index_shift);
      }
    }
    int64_t b = 0;
    for (; b + 4 <= batch; b += 4) run_window<M, 4>(tile, p.window_groups, p.n, x + b * p.cols, p.cols, c0, acc + b * acc_stride, acc_stride);
    const float* xb = x + b * p.cols;
    float* ab = acc + b * acc_stride;
    switch (batch - b) {
      case 3: run_window<M, 3>(tile, p.window_groups, p.n, xb, p.cols, c0, ab, acc_stride); break;
      case 2: run_window<M, 2>(tile, p.window_groups, p.n, xb, p.cols, c0, ab, acc_stride); break;
      case 1: run_window<M, 1>(tile, p.window_groups, p.n, xb, p.cols, c0, ab, acc_stride); break;
      default: break;
    }
  }
}

}  // namespace
}  // namespace avx2_kernel

void block_avx2(const plan& p, int64_t r0, int64_t windows, const float* x, int64_t batch, float* acc, int64_t acc_stride) {
  switch (p.m) {
    case 2: avx2_kernel::block<2>(p, r0, windows, x, batch, acc, acc_stride); break;
    case 4: avx2_kernel::block<4>(p, r0, windows, x, batch, acc, acc_stride); break;
    default: avx2_kernel::block<8>(p, r0, windows, x, batch, acc, acc_stride); break;
  }
}

}  // namespace edgepack::sparse_linear_detail
#endif
